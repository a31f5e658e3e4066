// Package signing holds auth's access-token signing keys: Ed25519 keys kept sealed
// in PostgreSQL, rotated on a schedule, the current one signing and the previous
// ones published in the JWKS for as long as tokens they signed may be alive.
//
// The next key is published Prepublish before it starts signing, so verifiers,
// which cache the JWKS and refetch it at most every few seconds on an unknown
// kid, already know it when the first token signed with it arrives. A key's
// created_at is the time it starts signing.
package signing

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/services/auth/domain"
)

// KeyStore is where keys are kept (the PostgreSQL adapter).
type KeyStore interface {
	SigningKeys(ctx context.Context) ([]domain.SigningKeyRecord, error)
	AddSigningKey(ctx context.Context, k domain.SigningKeyRecord, notBefore time.Time) (bool, error)
	DeleteSigningKeysBefore(ctx context.Context, t time.Time, keep string) (int64, error)
}

// Options configure a Keyring.
type Options struct {
	// Rotation is the life of a key as the current one; default 24 hours.
	Rotation time.Duration
	// Retain is how long a retired key stays published: the longest access-token
	// lifetime plus clock skew.
	Retain time.Duration
	// Prepublish is how long before it signs a key is published; default 10
	// minutes, more than verifiers cache the JWKS (platform/tokens: 5 minutes).
	Prepublish time.Duration
	// SealKey (32 bytes) seals private keys at rest with AES-256-GCM.
	SealKey []byte
	Now     func() time.Time
}

// Keyring signs access tokens with the current key and publishes the JWKS.
type Keyring struct {
	store KeyStore
	opts  Options
	snap  atomic.Pointer[snapshot]
	aead  cipher.AEAD
}

type snapshot struct {
	kid     string
	private ed25519.PrivateKey
	created time.Time
	public  tokens.StaticKeys
	jwks    []byte
}

// ErrNoKey means Load has not succeeded yet.
var ErrNoKey = errors.New("signing: no signing key loaded")

// NewKeyring returns a keyring; call Load before signing.
func NewKeyring(store KeyStore, opts Options) (*Keyring, error) {
	if opts.Rotation <= 0 {
		opts.Rotation = 24 * time.Hour
	}
	if opts.Retain <= 0 {
		opts.Retain = time.Hour
	}
	if opts.Prepublish <= 0 {
		opts.Prepublish = 10 * time.Minute
	}
	opts.Prepublish = min(opts.Prepublish, opts.Rotation/2)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	block, err := aes.NewCipher(opts.SealKey)
	if err != nil {
		return nil, fmt.Errorf("signing: seal key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keyring{store: store, opts: opts, aead: aead}, nil
}

// Load reads the keys, creating the first one, publishing the next one ahead of
// its time, or replacing a current key older than Rotation (the service was down
// through its rotation), and forgets keys no live token can need.
func (k *Keyring) Load(ctx context.Context) error {
	now := k.opts.Now()
	recs, err := k.store.SigningKeys(ctx)
	if err != nil {
		return err
	}
	cur := current(recs, now)
	switch {
	case cur < 0:
		// No key signs yet: one now (several instances starting at once add one).
		_, err = k.add(ctx, now, now.Add(-k.opts.Rotation))
	case cur == 0 && now.Sub(recs[0].CreatedAt) >= k.opts.Rotation:
		_, err = k.add(ctx, now, recs[0].CreatedAt)
	case cur == 0 && now.After(recs[0].CreatedAt.Add(k.opts.Rotation-k.opts.Prepublish)):
		_, err = k.add(ctx, recs[0].CreatedAt.Add(k.opts.Rotation), recs[0].CreatedAt)
	default:
		return k.install(ctx, recs, now)
	}
	if err != nil {
		return err
	}
	if recs, err = k.store.SigningKeys(ctx); err != nil {
		return err
	}
	return k.install(ctx, recs, now)
}

// current is the index of the key that signs at now: the newest one whose time
// has come (recs are newest first); -1 when none.
func current(recs []domain.SigningKeyRecord, now time.Time) int {
	for i, r := range recs {
		if !r.CreatedAt.After(now) {
			return i
		}
	}
	return -1
}

// Rotate makes a new current key now, whatever the schedule says (a suspected
// leak): verifiers learn it on their next JWKS fetch, at most seconds later.
func (k *Keyring) Rotate(ctx context.Context) error {
	now := k.opts.Now()
	if _, err := k.add(ctx, now, now.Add(k.opts.Rotation)); err != nil {
		return err
	}
	recs, err := k.store.SigningKeys(ctx)
	if err != nil {
		return err
	}
	return k.install(ctx, recs, now)
}

// Run reloads the keys every interval until ctx ends, so every instance picks up
// a key another one made, and rotation happens on time.
func (k *Keyring) Run(ctx context.Context, interval time.Duration, onError func(error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := k.Load(ctx); err != nil && onError != nil && ctx.Err() == nil {
				onError(err)
			}
		}
	}
}

// add stores a key that signs from at, unless a key newer than notBefore exists.
func (k *Keyring) add(ctx context.Context, at, notBefore time.Time) (bool, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return false, err
	}
	jwk, err := tokens.NewJWK(pub)
	if err != nil {
		return false, err
	}
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := k.aead.Seal(nonce, nonce, priv.Seed(), []byte(jwk.Kid))
	// The database keeps microseconds; so does the key's time here, so that
	// the schedule computed before and after a reload agrees.
	rec := domain.SigningKeyRecord{KID: jwk.Kid, Alg: tokens.AlgEdDSA, SealedKey: sealed, PublicKey: pub, CreatedAt: at.Truncate(time.Microsecond)}
	return k.store.AddSigningKey(ctx, rec, notBefore)
}

func (k *Keyring) install(ctx context.Context, recs []domain.SigningKeyRecord, now time.Time) error {
	ci := current(recs, now)
	if ci < 0 {
		return ErrNoKey
	}
	cur := recs[ci]
	ns := k.aead.NonceSize()
	if len(cur.SealedKey) < ns {
		return fmt.Errorf("signing: key %s: sealed key too short", cur.KID)
	}
	seed, err := k.aead.Open(nil, cur.SealedKey[:ns], cur.SealedKey[ns:], []byte(cur.KID))
	if err != nil || len(seed) != ed25519.SeedSize {
		return fmt.Errorf("signing: key %s cannot be unsealed (was ANDES_AUTH_PEPPER changed?)", cur.KID)
	}
	s := &snapshot{kid: cur.KID, private: ed25519.NewKeyFromSeed(seed), created: cur.CreatedAt, public: tokens.StaticKeys{}}
	var set tokens.JWKSet
	var oldest time.Time
	for i, r := range recs {
		// Keys to come are published; a retired key retired when its successor
		// began signing, and its tokens live at most Retain after that. The
		// current and the previous key are always published.
		if i > ci+1 && now.Sub(recs[i-1].CreatedAt) > k.opts.Retain {
			break
		}
		if r.Alg != tokens.AlgEdDSA || len(r.PublicKey) != ed25519.PublicKeySize {
			continue
		}
		jwk, err := tokens.NewJWK(ed25519.PublicKey(r.PublicKey))
		if err != nil || jwk.Kid != r.KID {
			continue
		}
		pk, _ := jwk.PublicKey()
		s.public[r.KID] = pk
		set.Keys = append(set.Keys, jwk)
		oldest = r.CreatedAt
	}
	if s.jwks, err = json.Marshal(set); err != nil {
		return err
	}
	k.snap.Store(s)
	// Keys older than every published one can go; failing to delete them is
	// harmless and retried at the next load.
	if !oldest.IsZero() {
		_, _ = k.store.DeleteSigningKeysBefore(ctx, oldest, cur.KID)
	}
	return nil
}

// KID is the current key's id.
func (k *Keyring) KID() string {
	if s := k.snap.Load(); s != nil {
		return s.kid
	}
	return ""
}

// Key implements tokens.KeySource with the published keys.
func (k *Keyring) Key(ctx context.Context, kid string) (tokens.PublicKey, error) {
	s := k.snap.Load()
	if s == nil {
		return tokens.PublicKey{}, ErrNoKey
	}
	return s.public.Key(ctx, kid)
}

// JWKS is the JWK Set document of the published keys.
func (k *Keyring) JWKS() []byte {
	if s := k.snap.Load(); s != nil {
		return s.jwks
	}
	return []byte(`{"keys":[]}`)
}

// Sign signs claims as an RFC 9068 access token with the current key.
func (k *Keyring) Sign(c *tokens.Claims) (string, error) {
	return k.SignJWT(map[string]any{"typ": tokens.TokenType}, c)
}

// SignJWT signs any claims with the current key; header adds to (or overrides)
// alg and kid. Access tokens use Sign; this is for other JWTs auth may issue and
// for tests that need a validly signed token of the wrong kind.
func (k *Keyring) SignJWT(header map[string]any, c jwt.Claims) (string, error) {
	s := k.snap.Load()
	if s == nil {
		return "", ErrNoKey
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = s.kid
	for name, v := range header {
		t.Header[name] = v
	}
	return t.SignedString(s.private)
}
