package signing_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/platform/tokens"
	authpg "github.com/andes-bank/andes/services/auth/adapters/postgres"
	"github.com/andes-bank/andes/services/auth/adapters/signing"
)

func published(t *testing.T, k *signing.Keyring) []string {
	t.Helper()
	var set tokens.JWKSet
	if err := json.Unmarshal(k.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, j := range set.Keys {
		kids = append(kids, j.Kid)
	}
	return kids
}

func TestScheduledRotationPublishesAheadAndRetiresLate(t *testing.T) {
	ctx := context.Background()
	pool, err := postgres.Open(ctx, postgres.Config{URL: testenv.PostgresURL(t), Schema: "auth"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := postgres.Migrate(ctx, pool, "auth", authpg.Migrations()); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	opts := signing.Options{Rotation: 24 * time.Hour, Retain: 11 * time.Minute, Prepublish: 10 * time.Minute,
		SealKey: make([]byte, 32), Now: func() time.Time { return now }}
	k, err := signing.NewKeyring(authpg.New(pool), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Load(ctx); err != nil {
		t.Fatal(err)
	}
	first := k.KID()
	if kids := published(t, k); len(kids) != 1 || kids[0] != first {
		t.Fatalf("start: %v", kids)
	}
	// A second instance loads the same key rather than making its own.
	other, _ := signing.NewKeyring(authpg.New(pool), opts)
	if err := other.Load(ctx); err != nil || other.KID() != first {
		t.Fatalf("second instance: %s %v", other.KID(), err)
	}

	now = now.Add(24*time.Hour - 9*time.Minute)
	if err := k.Load(ctx); err != nil {
		t.Fatal(err)
	}
	kids := published(t, k)
	if k.KID() != first || len(kids) != 2 || kids[1] != first {
		t.Fatalf("ahead of rotation: signing with %s, published %v", k.KID(), kids)
	}
	next := kids[0]

	now = now.Add(10 * time.Minute)
	if err := k.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if k.KID() != next || len(published(t, k)) != 2 {
		t.Fatalf("after rotation: signing with %s, published %v", k.KID(), published(t, k))
	}
	// A token of the first key verifies until it cannot be alive any more.
	if _, err := k.Key(ctx, first); err != nil {
		t.Fatalf("retired key unpublished too early: %v", err)
	}
	now = now.Add(12 * time.Minute)
	if err := k.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if kids := published(t, k); len(kids) != 2 {
		t.Fatalf("the previous key is always published: %v", kids)
	}
	// After the next rotation the first key goes for good.
	now = now.Add(24 * time.Hour)
	for range 2 {
		if err := k.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := k.Key(ctx, first); err == nil {
		t.Fatalf("the first key is still published: %v", published(t, k))
	}
	// A token signed now verifies with the published key.
	c := &tokens.Claims{Issuer: "i", Subject: "s", Audience: tokens.Audience{"a"}, IssuedAt: tokens.At(now), ExpiresAt: tokens.At(now.Add(time.Minute)), ID: "j", ClientID: "c"}
	s, err := k.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := tokens.NewVerifier(tokens.Options{Issuer: "i", Audience: "a", Keys: k, Now: func() time.Time { return now }})
	if _, err := v.Verify(ctx, s); err != nil {
		t.Fatalf("verify: %v", err)
	}
	// A wrong seal key cannot unseal.
	bad := opts
	bad.SealKey = []byte("0123456789abcdef0123456789abcdef")
	kb, _ := signing.NewKeyring(authpg.New(pool), bad)
	if err := kb.Load(ctx); err == nil {
		t.Fatal("a wrong seal key unsealed the key")
	}
}
