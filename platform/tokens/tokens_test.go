package tokens_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/andes-bank/andes/platform/tokens"
)

const (
	issuer   = "http://127.0.0.1:8083"
	audience = "https://api.andes.bank"
)

// issuerKeys is a stand-in for auth: an Ed25519 and a P-256 key with their JWKs.
type issuerKeys struct {
	ed     ed25519.PrivateKey
	ec     *ecdsa.PrivateKey
	edJWK  tokens.JWK
	ecJWK  tokens.JWK
	static tokens.StaticKeys
}

func newIssuer(t testing.TB) *issuerKeys {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k := &issuerKeys{ed: priv, ec: ec, static: tokens.StaticKeys{}}
	var err error
	if k.edJWK, err = tokens.NewJWK(pub); err != nil {
		t.Fatal(err)
	}
	if k.ecJWK, err = tokens.NewJWK(&ec.PublicKey); err != nil {
		t.Fatal(err)
	}
	for _, j := range []tokens.JWK{k.edJWK, k.ecJWK} {
		pk, err := j.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		k.static[j.Kid] = pk
	}
	return k
}

func claims(now time.Time) *tokens.Claims {
	return &tokens.Claims{Issuer: issuer, Subject: "0b3e1a52-3c4d-5e6f-8a9b-0c1d2e3f4a5b", Audience: tokens.Audience{audience},
		IssuedAt: tokens.At(now), ExpiresAt: tokens.At(now.Add(10 * time.Minute)), ID: "jti-" + now.Format(time.RFC3339Nano),
		ClientID: "bff-web", Scope: "accounts:read transfers:write", PartnerID: ""}
}

func (k *issuerKeys) sign(t testing.TB, method jwt.SigningMethod, header map[string]any, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	tok.Header["typ"] = "at+jwt"
	switch method {
	case jwt.SigningMethodEdDSA:
		tok.Header["kid"] = k.edJWK.Kid
	case jwt.SigningMethodES256:
		tok.Header["kid"] = k.ecJWK.Kid
	}
	for name, v := range header {
		if v == nil {
			delete(tok.Header, name)
		} else {
			tok.Header[name] = v
		}
	}
	var key any
	switch method {
	case jwt.SigningMethodEdDSA:
		key = k.ed
	case jwt.SigningMethodES256:
		key = k.ec
	case jwt.SigningMethodNone:
		key = jwt.UnsafeAllowNoneSignatureType
	default:
		key = []byte(k.ed.Public().(ed25519.PublicKey))
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newVerifier(t testing.TB, keys tokens.KeySource, rs *tokens.RevocationSet, now func() time.Time) *tokens.Verifier {
	t.Helper()
	v, err := tokens.NewVerifier(tokens.Options{Issuer: issuer, Audience: audience, Keys: keys, Revocations: rs, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyRules(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	k := newIssuer(t)
	other := newIssuer(t)
	v := newVerifier(t, k.static, nil, clock)
	mut := func(f func(c *tokens.Claims)) *tokens.Claims {
		c := claims(now)
		f(c)
		return c
	}
	for _, tc := range []struct {
		name   string
		token  string
		reason string
	}{
		{"EdDSA", k.sign(t, jwt.SigningMethodEdDSA, nil, claims(now)), ""},
		{"ES256", k.sign(t, jwt.SigningMethodES256, nil, claims(now)), ""},
		{"typ application/at+jwt", k.sign(t, jwt.SigningMethodEdDSA, map[string]any{"typ": "application/at+jwt"}, claims(now)), ""},
		{"aud as an array", k.sign(t, jwt.SigningMethodEdDSA, nil, mut(func(c *tokens.Claims) { c.Audience = tokens.Audience{"x", audience} })), ""},
		{"within leeway", k.sign(t, jwt.SigningMethodEdDSA, nil, mut(func(c *tokens.Claims) { c.ExpiresAt = tokens.At(now.Add(-time.Second)) })), ""},
		{"alg none", k.sign(t, jwt.SigningMethodNone, nil, claims(now)), tokens.ReasonAlgorithm},
		{"alg HS256", k.sign(t, jwt.SigningMethodHS256, nil, claims(now)), tokens.ReasonAlgorithm},
		{"alg of another key", k.sign(t, jwt.SigningMethodES256, map[string]any{"kid": k.edJWK.Kid}, claims(now)), tokens.ReasonAlgorithm},
		{"typ JWT", k.sign(t, jwt.SigningMethodEdDSA, map[string]any{"typ": "JWT"}, claims(now)), tokens.ReasonType},
		{"no typ", k.sign(t, jwt.SigningMethodEdDSA, map[string]any{"typ": nil}, claims(now)), tokens.ReasonType},
		{"wrong iss", k.sign(t, jwt.SigningMethodEdDSA, nil, mut(func(c *tokens.Claims) { c.Issuer = "https://evil" })), tokens.ReasonIssuer},
		{"wrong aud", k.sign(t, jwt.SigningMethodEdDSA, nil, mut(func(c *tokens.Claims) { c.Audience = tokens.Audience{"https://evil"} })), tokens.ReasonAudience},
		{"expired", k.sign(t, jwt.SigningMethodEdDSA, nil, mut(func(c *tokens.Claims) { c.ExpiresAt = tokens.At(now.Add(-10 * time.Second)) })), tokens.ReasonExpired},
		{"not yet valid", k.sign(t, jwt.SigningMethodEdDSA, nil, mut(func(c *tokens.Claims) { n := tokens.At(now.Add(time.Minute)); c.NotBefore = &n })), tokens.ReasonNotYetValid},
		{"issued in the future", k.sign(t, jwt.SigningMethodEdDSA, nil, mut(func(c *tokens.Claims) { c.IssuedAt = tokens.At(now.Add(time.Minute)) })), tokens.ReasonNotYetValid},
		{"no jti", k.sign(t, jwt.SigningMethodEdDSA, nil, mut(func(c *tokens.Claims) { c.ID = "" })), tokens.ReasonMissingClaim},
		{"no client_id", k.sign(t, jwt.SigningMethodEdDSA, nil, mut(func(c *tokens.Claims) { c.ClientID = "" })), tokens.ReasonMissingClaim},
		{"unknown kid", k.sign(t, jwt.SigningMethodEdDSA, map[string]any{"kid": "nope"}, claims(now)), tokens.ReasonUnknownKey},
		{"no kid", k.sign(t, jwt.SigningMethodEdDSA, map[string]any{"kid": nil}, claims(now)), tokens.ReasonUnknownKey},
		{"another issuer's key under our kid", other.sign(t, jwt.SigningMethodEdDSA, map[string]any{"kid": k.edJWK.Kid}, claims(now)), tokens.ReasonSignature},
		{"garbage", "a.b.c", tokens.ReasonMalformed},
		{"two parts", "a.b", tokens.ReasonMalformed},
	} {
		p, err := v.Verify(context.Background(), tc.token)
		switch {
		case tc.reason == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.reason == "" && (p.Subject != "0b3e1a52-3c4d-5e6f-8a9b-0c1d2e3f4a5b" || !p.HasScope("transfers:write")):
			t.Errorf("%s: principal %+v", tc.name, p)
		case tc.reason != "" && (!errors.Is(err, tokens.ErrInvalidToken) || tokens.ReasonOf(err) != tc.reason):
			t.Errorf("%s: %v, want reason %s", tc.name, err, tc.reason)
		}
	}
	if _, err := v.Verify(context.Background(), ""); !errors.Is(err, tokens.ErrNoToken) {
		t.Errorf("empty: %v", err)
	}
}

func TestIssuedAtKeepsMilliseconds(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 345_000_000, time.UTC)
	c := claims(at)
	raw, _ := json.Marshal(c)
	if !strings.Contains(string(raw), `"iat":1795341600.345`) {
		t.Fatalf("claims %s", raw)
	}
	var back tokens.Claims
	if err := json.Unmarshal(raw, &back); err != nil || !back.IssuedAt.Equal(at) || back.Audience[0] != audience {
		t.Fatalf("round trip %+v %v", back, err)
	}
	if !strings.Contains(string(raw), `"aud":"https://api.andes.bank"`) {
		t.Fatalf("single audience not a string: %s", raw)
	}
}

func TestCacheStillChecksExpiryAndRevocation(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	k := newIssuer(t)
	rs := tokens.NewRevocationSet(clock)
	rs.MarkSynced()
	v := newVerifier(t, k.static, rs, clock)
	c := claims(now)
	tok := k.sign(t, jwt.SigningMethodEdDSA, nil, c)
	for range 2 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	rs.RevokeToken(tokens.RevokedToken{JTI: c.ID, Expires: c.ExpiresAt.Time})
	if _, err := v.Verify(context.Background(), tok); tokens.ReasonOf(err) != tokens.ReasonRevoked {
		t.Fatalf("cached token after revocation: %v", err)
	}
	tok2 := k.sign(t, jwt.SigningMethodEdDSA, nil, claims(now.Add(time.Millisecond)))
	if _, err := v.Verify(context.Background(), tok2); err != nil {
		t.Fatal(err)
	}
	now = now.Add(11 * time.Minute)
	if _, err := v.Verify(context.Background(), tok2); tokens.ReasonOf(err) != tokens.ReasonExpired {
		t.Fatalf("cached token after expiry: %v", err)
	}
}

func TestRevocationSetRules(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	rs := tokens.NewRevocationSet(func() time.Time { return now })
	rs.RevokeToken(tokens.RevokedToken{JTI: "a", Expires: now.Add(time.Minute)})
	rs.RevokeToken(tokens.RevokedToken{JTI: "old", Expires: now.Add(-time.Minute)})
	rs.RevokeSubject(tokens.RevokedSubject{Subject: "s", Before: now, Expires: now.Add(10 * time.Minute)})
	rs.RevokeSubject(tokens.RevokedSubject{Subject: "s", Before: now.Add(-time.Hour), Expires: now.Add(5 * time.Minute)})
	switch {
	case !rs.Revoked("a", "x", now):
		t.Error("revoked jti accepted")
	case rs.Revoked("old", "x", now):
		t.Error("an already expired entry was kept")
	case !rs.Revoked("b", "s", now.Add(-time.Millisecond)):
		t.Error("a token of the subject issued before is accepted")
	case rs.Revoked("b", "s", now):
		t.Error("a token of the subject issued at the revocation is refused")
	case rs.Len() != 2:
		t.Errorf("len %d", rs.Len())
	}
	now = now.Add(11 * time.Minute)
	rs.Sweep()
	if rs.Len() != 0 {
		t.Errorf("after sweep: %d", rs.Len())
	}
	// Not synced: a verifier refuses to decide.
	v := newVerifier(t, tokens.StaticKeys{}, tokens.NewRevocationSet(nil), nil)
	if _, err := v.Verify(context.Background(), "x.y.z"); !errors.Is(err, tokens.ErrUnavailable) {
		t.Errorf("unsynced: %v", err)
	}
}

func TestJWKSFetchesOnUnknownKidAtMostSoOften(t *testing.T) {
	k1, k2 := newIssuer(t), newIssuer(t)
	var serve atomic.Pointer[tokens.JWKSet]
	serve.Store(&tokens.JWKSet{Keys: []tokens.JWK{k1.edJWK}})
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		json.NewEncoder(w).Encode(serve.Load())
	}))
	defer srv.Close()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	j := tokens.NewJWKS(srv.URL, tokens.JWKSOptions{Now: func() time.Time { return now }, MinRefresh: 10 * time.Second, MaxAge: time.Minute})
	ctx := context.Background()
	if _, err := j.Key(ctx, k1.edJWK.Kid); err != nil || fetches.Load() != 1 {
		t.Fatalf("first key: %v, %d fetches", err, fetches.Load())
	}
	// Made-up kids do not cause a fetch each.
	for range 5 {
		if _, err := j.Key(ctx, "made-up"); !errors.Is(err, tokens.ErrUnknownKey) {
			t.Fatal(err)
		}
	}
	if fetches.Load() != 1 {
		t.Fatalf("%d fetches for unknown kids within MinRefresh", fetches.Load())
	}
	// auth rotated: after MinRefresh the new kid is fetched.
	serve.Store(&tokens.JWKSet{Keys: []tokens.JWK{k2.edJWK, k1.edJWK}})
	now = now.Add(11 * time.Second)
	if _, err := j.Key(ctx, k2.edJWK.Kid); err != nil || fetches.Load() != 2 {
		t.Fatalf("rotated key: %v, %d fetches", err, fetches.Load())
	}
	// A retired key disappears once the set is stale and fetched again.
	serve.Store(&tokens.JWKSet{Keys: []tokens.JWK{k2.edJWK}})
	now = now.Add(2 * time.Minute)
	if _, err := j.Key(ctx, k1.edJWK.Kid); !errors.Is(err, tokens.ErrUnknownKey) {
		t.Fatalf("retired key: %v", err)
	}
	// While auth is unreachable a known key keeps working.
	srv.Close()
	now = now.Add(2 * time.Minute)
	if _, err := j.Key(ctx, k2.edJWK.Kid); err != nil {
		t.Fatalf("auth down: %v", err)
	}
}

func TestJWKRoundTripAndThumbprint(t *testing.T) {
	// RFC 8037 appendix A.3's Ed25519 thumbprint example.
	j := tokens.JWK{Kty: "OKP", Crv: "Ed25519", X: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
	if got := j.Thumbprint(); got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Fatalf("thumbprint %s", got)
	}
	k := newIssuer(t)
	for _, jwk := range []tokens.JWK{k.edJWK, k.ecJWK} {
		if _, err := jwk.PublicKey(); err != nil {
			t.Errorf("%s: %v", jwk.Kty, err)
		}
	}
	bad := k.ecJWK
	bad.Y = bad.X
	if _, err := bad.PublicKey(); err == nil {
		t.Error("a point off the curve was accepted")
	}
}
