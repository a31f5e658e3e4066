package tokens

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// Signature algorithms verifiers accept (JWA names). Anything else, "none" and the
// HMAC family above all, is refused before a key is even looked up.
const (
	AlgEdDSA = "EdDSA"
	AlgES256 = "ES256"
)

// DefaultAlgorithms is the allow-list of algorithms.
var DefaultAlgorithms = []string{AlgEdDSA, AlgES256}

// ErrUnknownKey means no key with the token's kid is known, even after a refresh.
var ErrUnknownKey = errors.New("tokens: unknown signing key")

// PublicKey is a verification key with the algorithm it is for; a token signed
// with another algorithm does not verify with it (no algorithm confusion).
type PublicKey struct {
	KID string
	Alg string
	Key crypto.PublicKey // ed25519.PublicKey or *ecdsa.PublicKey
}

// KeySource finds verification keys by kid.
type KeySource interface {
	Key(ctx context.Context, kid string) (PublicKey, error)
}

// JWK is one key of a JWK Set (RFC 7517), as auth publishes it.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKSet is a JWK Set document.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// NewJWK describes a public key as a JWK whose kid is its RFC 7638 thumbprint.
func NewJWK(pub crypto.PublicKey) (JWK, error) {
	var j JWK
	switch k := pub.(type) {
	case ed25519.PublicKey:
		j = JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k), Alg: AlgEdDSA}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return JWK{}, errors.New("tokens: only P-256 EC keys")
		}
		raw, err := k.Bytes()
		if err != nil {
			return JWK{}, err
		}
		j = JWK{Kty: "EC", Crv: "P-256", X: base64.RawURLEncoding.EncodeToString(raw[1:33]),
			Y: base64.RawURLEncoding.EncodeToString(raw[33:]), Alg: AlgES256}
	default:
		return JWK{}, fmt.Errorf("tokens: unsupported key type %T", pub)
	}
	j.Use = "sig"
	j.Kid = j.Thumbprint()
	return j, nil
}

// Thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url): the members of
// the key in lexical order, no spaces.
func (j JWK) Thumbprint() string {
	var canon string
	switch j.Kty {
	case "OKP":
		canon = fmt.Sprintf(`{"crv":%q,"kty":%q,"x":%q}`, j.Crv, j.Kty, j.X)
	case "EC":
		canon = fmt.Sprintf(`{"crv":%q,"kty":%q,"x":%q,"y":%q}`, j.Crv, j.Kty, j.X, j.Y)
	}
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// PublicKey decodes the JWK.
func (j JWK) PublicKey() (PublicKey, error) {
	if j.Use != "" && j.Use != "sig" {
		return PublicKey{}, errors.New("tokens: JWK is not for signatures")
	}
	switch {
	case j.Kty == "OKP" && j.Crv == "Ed25519" && (j.Alg == "" || j.Alg == AlgEdDSA):
		x, err := base64.RawURLEncoding.DecodeString(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return PublicKey{}, errors.New("tokens: bad Ed25519 JWK")
		}
		return PublicKey{KID: j.Kid, Alg: AlgEdDSA, Key: ed25519.PublicKey(x)}, nil
	case j.Kty == "EC" && j.Crv == "P-256" && (j.Alg == "" || j.Alg == AlgES256):
		x, err1 := base64.RawURLEncoding.DecodeString(j.X)
		y, err2 := base64.RawURLEncoding.DecodeString(j.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			return PublicKey{}, errors.New("tokens: bad P-256 JWK")
		}
		// Checking the point is on the curve: crypto/ecdh refuses one that is not.
		if _, err := ecdh.P256().NewPublicKey(append(append([]byte{4}, x...), y...)); err != nil {
			return PublicKey{}, errors.New("tokens: P-256 JWK is not on the curve")
		}
		pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
		return PublicKey{KID: j.Kid, Alg: AlgES256, Key: pub}, nil
	}
	return PublicKey{}, fmt.Errorf("tokens: unsupported JWK %s/%s/%s", j.Kty, j.Crv, j.Alg)
}

// StaticKeys is a fixed key set; for auth itself, which holds its keys, and tests.
type StaticKeys map[string]PublicKey

// Key implements KeySource.
func (s StaticKeys) Key(_ context.Context, kid string) (PublicKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return PublicKey{}, ErrUnknownKey
}

// JWKSOptions tune a JWKS.
type JWKSOptions struct {
	// Client fetches the set; http.DefaultClient's transport with a 5 s timeout
	// when nil.
	Client *http.Client
	// MaxAge is how long a fetched set is used before it is fetched again
	// (retired keys disappear); default 5 minutes.
	MaxAge time.Duration
	// MinRefresh is the least time between fetches caused by unknown kids, so a
	// stream of tokens with made-up kids cannot make the verifier hammer auth;
	// default 2 seconds (auth publishes keys ahead of use, so only an emergency
	// rotation relies on this).
	MinRefresh time.Duration
	Now        func() time.Time
}

// JWKS is a KeySource reading auth's /.well-known/jwks.json over HTTP, cached.
type JWKS struct {
	url  string
	opts JWKSOptions

	mu        sync.Mutex
	keys      map[string]PublicKey
	fetchedAt time.Time
	fetching  chan struct{} // closed when the fetch in flight ends
	fetchErr  error
}

// NewJWKS returns a key source for the JWK Set at url. Nothing is fetched until a
// key is needed (or Refresh is called).
func NewJWKS(url string, opts JWKSOptions) *JWKS {
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 5 * time.Minute
	}
	if opts.MinRefresh <= 0 {
		opts.MinRefresh = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &JWKS{url: url, opts: opts}
}

// Key returns the key with kid, fetching the set when it is stale or, at most once
// per MinRefresh, when kid is unknown (auth rotated its key).
func (j *JWKS) Key(ctx context.Context, kid string) (PublicKey, error) {
	j.mu.Lock()
	k, ok := j.keys[kid]
	age := j.opts.Now().Sub(j.fetchedAt)
	stale := j.keys == nil || age >= j.opts.MaxAge
	mayRefresh := stale || age >= j.opts.MinRefresh
	j.mu.Unlock()
	if ok && !stale {
		return k, nil
	}
	if !mayRefresh {
		if ok {
			return k, nil
		}
		return PublicKey{}, ErrUnknownKey
	}
	if err := j.Refresh(ctx); err != nil {
		if ok {
			return k, nil // a stale set is better than none while auth is unreachable
		}
		return PublicKey{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if k, ok := j.keys[kid]; ok {
		return k, nil
	}
	return PublicKey{}, ErrUnknownKey
}

// Refresh fetches the set now; concurrent callers share one fetch.
func (j *JWKS) Refresh(ctx context.Context) error {
	j.mu.Lock()
	if ch := j.fetching; ch != nil {
		j.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.fetchErr
	}
	ch := make(chan struct{})
	j.fetching = ch
	j.mu.Unlock()

	keys, err := j.fetch(ctx)
	j.mu.Lock()
	defer j.mu.Unlock()
	if err == nil {
		j.keys = keys
	}
	// A failed fetch also counts, so that a down auth is not asked on every request.
	j.fetchedAt = j.opts.Now()
	j.fetchErr = err
	j.fetching = nil
	close(ch)
	return err
}

func (j *JWKS) fetch(ctx context.Context) (map[string]PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return nil, fmt.Errorf("tokens: JWKS: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := j.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("tokens: JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tokens: JWKS: %s answered %s", j.url, resp.Status)
	}
	var set JWKSet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("tokens: JWKS: %w", err)
	}
	keys := make(map[string]PublicKey, len(set.Keys))
	for _, jwk := range set.Keys {
		k, err := jwk.PublicKey()
		if err != nil || jwk.Kid == "" {
			continue // a key of a kind we do not use is not an error for the others
		}
		keys[jwk.Kid] = k
	}
	return keys, nil
}
