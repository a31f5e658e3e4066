package tokens_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/andes-bank/andes/platform/tokens"
)

// BenchmarkVerifyCold verifies a token never seen before: parse, signature
// (Ed25519), claims, revocation set. Target: ≤ 100 µs (DESIGN.md section 14).
func BenchmarkVerifyCold(b *testing.B) {
	k := newIssuer(b)
	rs := tokens.NewRevocationSet(nil)
	rs.MarkSynced()
	v, err := tokens.NewVerifier(tokens.Options{Issuer: issuer, Audience: audience, Keys: k.static, Revocations: rs, CacheSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	tok := k.sign(b, jwt.SigningMethodEdDSA, nil, claims(time.Now()))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCached verifies a token seen before: a cache hit plus the expiry
// and revocation checks that are never skipped. Target: ≤ 5 µs.
func BenchmarkVerifyCached(b *testing.B) {
	k := newIssuer(b)
	rs := tokens.NewRevocationSet(nil)
	rs.MarkSynced()
	v, err := tokens.NewVerifier(tokens.Options{Issuer: issuer, Audience: audience, Keys: k.static, Revocations: rs})
	if err != nil {
		b.Fatal(err)
	}
	tok := k.sign(b, jwt.SigningMethodEdDSA, nil, claims(time.Now()))
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
