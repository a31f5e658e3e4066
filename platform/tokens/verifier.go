package tokens

import (
	"context"
	"errors"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Options configure a Verifier.
type Options struct {
	// Issuer is auth's issuer URL; tokens from any other are refused.
	Issuer string
	// Audience is the one audience accepted (andes.auth.v1.AUDIENCE_PLATFORM).
	Audience string
	// Keys finds verification keys: a *JWKS in every process but auth.
	Keys KeySource
	// Revocations is consulted on every verification; nil checks none (auth itself
	// checks its own store instead). When set and not yet synced, Verify answers
	// ErrUnavailable rather than accept a token that might be revoked.
	Revocations *RevocationSet
	// Algorithms is the allow-list; DefaultAlgorithms when empty.
	Algorithms []string
	// Leeway absorbs clock skew on exp, nbf and iat; default 5 seconds.
	Leeway time.Duration
	// CacheSize bounds the verified-token cache (entries); default 65536, negative
	// disables it.
	CacheSize int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Verifier checks access tokens locally. It is safe for concurrent use.
type Verifier struct {
	opts   Options
	parser *jwt.Parser
	cache  *cache
}

// NewVerifier returns a verifier; Issuer, Audience and Keys are required.
func NewVerifier(opts Options) (*Verifier, error) {
	if opts.Issuer == "" || opts.Audience == "" || opts.Keys == nil {
		return nil, errors.New("tokens: a verifier needs an issuer, an audience and keys")
	}
	if len(opts.Algorithms) == 0 {
		opts.Algorithms = DefaultAlgorithms
	}
	for _, a := range opts.Algorithms {
		if a != AlgEdDSA && a != AlgES256 {
			return nil, errors.New("tokens: only EdDSA and ES256 may be allowed")
		}
	}
	if opts.Leeway == 0 {
		opts.Leeway = 5 * time.Second
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = 1 << 16
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	v := &Verifier{
		opts: opts,
		// Claims are validated below with the verifier's own clock and rules.
		parser: jwt.NewParser(jwt.WithValidMethods(opts.Algorithms), jwt.WithoutClaimsValidation()),
	}
	if opts.CacheSize > 0 {
		v.cache = newCache(opts.CacheSize)
	}
	return v, nil
}

// Verify checks a compact JWS access token and returns its principal. Refusals
// match ErrInvalidToken (their *Error says why); ErrUnavailable means the
// revocation set is not ready.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Principal, error) {
	if raw == "" {
		return nil, ErrNoToken
	}
	if rs := v.opts.Revocations; rs != nil && !rs.Synced() {
		return nil, ErrUnavailable
	}
	now := v.opts.Now()
	if v.cache != nil {
		if p, ok := v.cache.get(raw); ok {
			if !now.Before(p.ExpiresAt.Add(v.opts.Leeway)) {
				v.cache.drop(raw)
				return nil, refuse(ReasonExpired, nil)
			}
			if v.revoked(p) {
				return nil, refuse(ReasonRevoked, nil)
			}
			return p, nil
		}
	}
	claims, err := v.parse(ctx, raw)
	if err != nil {
		return nil, err
	}
	if err := v.check(claims, now); err != nil {
		return nil, err
	}
	p := claims.Principal()
	if v.revoked(p) {
		return nil, refuse(ReasonRevoked, nil)
	}
	if v.cache != nil {
		v.cache.put(raw, p)
	}
	return p, nil
}

// Claims verifies the token like Verify and returns its claims, without the cache
// and without the revocation set: for auth's introspection, which applies its own.
func (v *Verifier) Claims(ctx context.Context, raw string) (*Claims, error) {
	if raw == "" {
		return nil, ErrNoToken
	}
	claims, err := v.parse(ctx, raw)
	if err != nil {
		return nil, err
	}
	if err := v.check(claims, v.opts.Now()); err != nil {
		return nil, err
	}
	return claims, nil
}

func (v *Verifier) revoked(p *Principal) bool {
	rs := v.opts.Revocations
	return rs != nil && rs.Revoked(p.TokenID, p.Subject, p.IssuedAt)
}

func (v *Verifier) parse(ctx context.Context, raw string) (*Claims, error) {
	var claims Claims
	var keyErr error
	tok, err := v.parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		typ, _ := t.Header["typ"].(string)
		if !strings.EqualFold(typ, TokenType) && !strings.EqualFold(typ, "application/"+TokenType) {
			keyErr = refuse(ReasonType, nil)
			return nil, keyErr
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			keyErr = refuse(ReasonUnknownKey, nil)
			return nil, keyErr
		}
		k, err := v.opts.Keys.Key(ctx, kid)
		if err != nil {
			keyErr = refuse(ReasonUnknownKey, err)
			return nil, keyErr
		}
		if k.Alg != t.Method.Alg() {
			keyErr = refuse(ReasonAlgorithm, nil)
			return nil, keyErr
		}
		return k.Key, nil
	})
	switch {
	case err == nil:
		return &claims, nil
	case keyErr != nil:
		return nil, keyErr
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, refuse(ReasonMalformed, err)
	case tok == nil || tok.Method == nil || !slices.Contains(v.opts.Algorithms, tok.Method.Alg()):
		// "none", HMAC and unknown algorithms end here, before any key is used.
		return nil, refuse(ReasonAlgorithm, nil)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, refuse(ReasonSignature, nil)
	default:
		return nil, refuse(ReasonMalformed, err)
	}
}

func (v *Verifier) check(c *Claims, now time.Time) error {
	l := v.opts.Leeway
	switch {
	case c.Issuer != v.opts.Issuer:
		return refuse(ReasonIssuer, nil)
	case !slices.Contains(c.Audience, v.opts.Audience):
		return refuse(ReasonAudience, nil)
	case c.ExpiresAt.IsZero() || c.IssuedAt.IsZero() || c.ID == "" || c.Subject == "" || c.ClientID == "":
		return refuse(ReasonMissingClaim, nil)
	case !now.Before(c.ExpiresAt.Add(l)):
		return refuse(ReasonExpired, nil)
	case c.NotBefore != nil && now.Add(l).Before(c.NotBefore.Time):
		return refuse(ReasonNotYetValid, nil)
	case now.Add(l).Before(c.IssuedAt.Time):
		return refuse(ReasonNotYetValid, nil)
	}
	return nil
}

// cache maps a token's compact form to its principal. Sharded so that
// concurrent requests rarely share a lock; each shard is bounded and sheds
// entries (expired ones first) when full.
type cache struct {
	seed   maphash.Seed
	shards [16]cacheShard
	max    int // per shard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]*Principal
}

func newCache(size int) *cache {
	c := &cache{seed: maphash.MakeSeed(), max: max(size/16, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*Principal)
	}
	return c
}

func (c *cache) shard(raw string) *cacheShard {
	// The tail of a JWS is its signature: uniformly random, cheap to hash.
	tail := raw
	if len(tail) > 16 {
		tail = tail[len(tail)-16:]
	}
	return &c.shards[maphash.String(c.seed, tail)%uint64(len(c.shards))]
}

func (c *cache) get(raw string) (*Principal, bool) {
	s := c.shard(raw)
	s.mu.RLock()
	p, ok := s.m[raw]
	s.mu.RUnlock()
	return p, ok
}

func (c *cache) put(raw string, p *Principal) {
	s := c.shard(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= c.max {
		now := time.Now()
		for k, v := range s.m {
			if v.ExpiresAt.Before(now) {
				delete(s.m, k)
			}
		}
		// Still full: drop a random quarter (map iteration order is random).
		for k := range s.m {
			if len(s.m) < c.max*3/4 {
				break
			}
			delete(s.m, k)
		}
	}
	s.m[raw] = p
}

func (c *cache) drop(raw string) {
	s := c.shard(raw)
	s.mu.Lock()
	delete(s.m, raw)
	s.mu.Unlock()
}
