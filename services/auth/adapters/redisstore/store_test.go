package redisstore_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-oauth2/oauth2/v4/models"

	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/services/auth/adapters/redisstore"
	"github.com/andes-bank/andes/services/auth/app"
)

type fixture struct {
	store  *redisstore.TokenStore
	now    time.Time
	reuses []redisstore.Reuse
	mu     sync.Mutex
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{now: time.Now()}
	f.store = redisstore.NewTokenStore(testenv.Redis(t), redisstore.Options{
		FamilyLifetime:    time.Hour,
		MaxAccessLifetime: 10 * time.Minute,
		Now:               func() time.Time { return f.now },
		OnReuse: func(_ context.Context, r redisstore.Reuse) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.reuses = append(f.reuses, r)
		},
	})
	return f
}

// code builds a code record the way the authorize endpoint does.
func (f *fixture) code(code, family string) *models.Token {
	t := models.NewToken()
	t.ClientID, t.UserID, t.Scope, t.RedirectURI = "andes-mobile", "0b3e1a52-3c4d-5e6f-8a9b-0c1d2e3f4a5b", "accounts:read offline_access", "pe.andes.mobile:/cb"
	t.Code, t.CodeCreateAt, t.CodeExpiresIn = code, f.now, time.Minute
	t.Extension.Set(app.ExtFamily, family)
	t.Extension.Set(app.ExtFamilyCreated, strconv.FormatInt(f.now.UnixMilli(), 10))
	return t
}

// tokens builds the access (and refresh) token record of a grant, as the token
// endpoint does after the signer ran.
func (f *fixture) tokens(from *models.Token, jti, refresh string) *models.Token {
	t := models.NewToken()
	t.ClientID, t.UserID, t.Scope = from.ClientID, from.UserID, from.Scope
	t.Extension = from.Extension
	t.Extension.Set(app.ExtJTI, jti)
	t.Extension.Set(app.ExtExpires, strconv.FormatInt(f.now.Add(10*time.Minute).Unix(), 10))
	t.Access, t.AccessCreateAt, t.AccessExpiresIn = "jwt."+jti, f.now, 10*time.Minute
	if refresh != "" {
		t.Refresh, t.RefreshCreateAt, t.RefreshExpiresIn = refresh, f.now, time.Hour
	}
	return t
}

func exchange(client string) context.Context {
	ctx, _ := app.WithExchange(context.Background(), client)
	return ctx
}

func (f *fixture) revoked(t *testing.T, jti string) bool {
	t.Helper()
	r, err := f.store.Revoked(context.Background(), jti, "someone", f.now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCodeRedeemedOnceAndReuseRevokesItsTokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.store.Create(ctx, f.code("code-1", "fam-1")); err != nil {
		t.Fatal(err)
	}
	got, err := f.store.GetByCode(ctx, "code-1")
	if err != nil || got == nil || got.GetCode() != "code-1" || got.GetClientID() != "andes-mobile" {
		t.Fatalf("first redemption: %+v, %v", got, err)
	}
	if err := f.store.Create(ctx, f.tokens(got.(*models.Token), "jti-1", "rt-1")); err != nil {
		t.Fatal(err)
	}
	if f.revoked(t, "jti-1") {
		t.Fatal("fresh token revoked")
	}
	again, err := f.store.GetByCode(ctx, "code-1")
	if err != nil || again != nil {
		t.Fatalf("second redemption: %+v, %v", again, err)
	}
	if !f.revoked(t, "jti-1") {
		t.Fatal("reusing the code left its access token valid")
	}
	if _, err := f.store.GetByRefresh(exchange("andes-mobile"), "rt-1"); err != nil {
		t.Fatal(err)
	} else if info, _ := f.store.PeekRefresh(ctx, "rt-1"); info == nil || info.Active {
		t.Fatalf("reusing the code left its refresh token active: %+v", info)
	}
	if len(f.reuses) != 1 || f.reuses[0].Kind != "code" || f.reuses[0].FamilyID != "fam-1" || f.reuses[0].Revoked != 1 {
		t.Fatalf("reuses %+v", f.reuses)
	}
	// A grant revoked meanwhile takes no new tokens.
	if err := f.store.Create(ctx, f.tokens(got.(*models.Token), "jti-2", "")); !errors.Is(err, redisstore.ErrFamilyRevoked) {
		t.Fatalf("token into a revoked family: %v", err)
	}
	if got, _ := f.store.GetByCode(ctx, "never-issued"); got != nil {
		t.Fatal("an unknown code redeemed")
	}
}

func TestCodeRedeemedOnceUnderRace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.store.Create(ctx, f.code("code-race", "fam-race")); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got, err := f.store.GetByCode(ctx, "code-race")
			if err != nil {
				t.Error(err)
			}
			if got != nil {
				wins.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d redemptions succeeded", wins.Load())
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	code := f.code("c", "fam-r")
	if err := f.store.Create(ctx, f.tokens(code, "jti-a", "rt-a")); err != nil {
		t.Fatal(err)
	}
	// Another client cannot use it, and trying changes nothing.
	if got, err := f.store.GetByRefresh(exchange("bff-web"), "rt-a"); err != nil || got != nil {
		t.Fatalf("another client's refresh: %+v, %v", got, err)
	}
	if got, _ := f.store.GetByRefresh(context.Background(), "rt-a"); got != nil {
		t.Fatal("a refresh token claimed outside an authenticated exchange")
	}
	// Its own client rotates it; within the request the claim is repeatable.
	x := exchange("andes-mobile")
	got, err := f.store.GetByRefresh(x, "rt-a")
	if err != nil || got == nil || got.GetRefresh() != "rt-a" || got.GetScope() != "accounts:read offline_access" {
		t.Fatalf("rotation: %+v, %v", got, err)
	}
	if again, _ := f.store.GetByRefresh(x, "rt-a"); again != got {
		t.Fatal("the same request saw a different claim")
	}
	if err := f.store.Create(ctx, f.tokens(got.(*models.Token), "jti-b", "rt-b")); err != nil {
		t.Fatal(err)
	}
	if info, _ := f.store.PeekRefresh(ctx, "rt-b"); info == nil || !info.Active || info.FamilyID != "fam-r" {
		t.Fatalf("rotated token %+v", info)
	}
	// Reuse of the first one, by anyone of its client, revokes the whole family.
	if got, err := f.store.GetByRefresh(exchange("andes-mobile"), "rt-a"); err != nil || got != nil {
		t.Fatalf("reuse: %+v, %v", got, err)
	}
	for _, jti := range []string{"jti-a", "jti-b"} {
		if !f.revoked(t, jti) {
			t.Errorf("%s survived the family's revocation", jti)
		}
	}
	if got, _ := f.store.GetByRefresh(exchange("andes-mobile"), "rt-b"); got != nil {
		t.Fatal("the family's newest refresh token survived reuse of an older one")
	}
	if len(f.reuses) != 1 || f.reuses[0].Kind != "refresh_token" || f.reuses[0].ClientID != "andes-mobile" {
		t.Fatalf("reuses %+v", f.reuses)
	}
}

func TestConcurrentRefreshRotatesOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.store.Create(ctx, f.tokens(f.code("c", "fam-c"), "jti-c", "rt-c")); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got, _ := f.store.GetByRefresh(exchange("andes-mobile"), "rt-c"); got != nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d rotations of one refresh token", wins.Load())
	}
}

func TestRevocationsAreQueuedAndDrained(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	exp := f.now.Add(5 * time.Minute)
	if ok, err := f.store.RevokeJTI(ctx, "jti-x", exp); err != nil || !ok {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if ok, _ := f.store.RevokeJTI(ctx, "jti-x", exp); ok {
		t.Fatal("revoked twice")
	}
	if ok, _ := f.store.RevokeJTI(ctx, "jti-old", f.now.Add(-time.Second)); ok {
		t.Fatal("an expired token was queued")
	}
	if !f.revoked(t, "jti-x") {
		t.Fatal("not revoked")
	}

	sub := "0b3e1a52-3c4d-5e6f-8a9b-0c1d2e3f4a5b"
	if err := f.store.Create(ctx, f.tokens(f.code("c", "fam-s"), "jti-s", "rt-s")); err != nil {
		t.Fatal(err)
	}
	issuedBefore := f.now
	f.now = f.now.Add(time.Millisecond)
	before, err := f.store.RevokeSubject(ctx, sub)
	if err != nil || !before.Equal(time.UnixMilli(f.now.UnixMilli())) {
		t.Fatalf("revoke subject: %v %v", before, err)
	}
	if r, _ := f.store.Revoked(ctx, "jti-s", sub, issuedBefore); !r {
		t.Fatal("a token issued before the subject's revocation is not revoked")
	}
	if r, _ := f.store.Revoked(ctx, "jti-new", sub, f.now.Add(time.Millisecond)); r {
		t.Fatal("a token issued after the subject's revocation is revoked")
	}
	if got, _ := f.store.GetByRefresh(exchange("andes-mobile"), "rt-s"); got != nil {
		t.Fatal("a refresh token of a revoked subject rotated")
	}

	var published []redisstore.Revocation
	n, err := f.store.DrainOnce(ctx, func(_ context.Context, revs []redisstore.Revocation) error {
		published = append(published, revs...)
		return nil
	})
	if err != nil || n != 2 || len(published) != 2 {
		t.Fatalf("drained %d: %+v, %v", n, published, err)
	}
	if published[0].JTI != "jti-x" || !published[0].Expires.Equal(time.Unix(exp.Unix(), 0)) ||
		published[1].Subject != sub || !published[1].Before.Equal(before) {
		t.Fatalf("published %+v", published)
	}
	// A failed publish keeps the queue for the next attempt.
	f.store.RevokeJTI(ctx, "jti-y", exp)
	if _, err := f.store.DrainOnce(ctx, func(context.Context, []redisstore.Revocation) error { return errors.New("down") }); err == nil {
		t.Fatal("a failed publish reported success")
	}
	n, _ = f.store.DrainOnce(ctx, func(context.Context, []redisstore.Revocation) error { return nil })
	if n != 1 {
		t.Fatalf("after a failure, drained %d", n)
	}
}

func TestRevokeRefreshByItsClient(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.store.Create(ctx, f.tokens(f.code("c", "fam-v"), "jti-v", "rt-v")); err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.store.RevokeRefresh(ctx, "rt-v", "bff-web"); ok {
		t.Fatal("another client revoked the token")
	}
	if ok, err := f.store.RevokeRefresh(ctx, "rt-v", "andes-mobile"); err != nil || !ok {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if !f.revoked(t, "jti-v") {
		t.Fatal("revoking the refresh token left its access token valid")
	}
	if info, _ := f.store.PeekRefresh(ctx, "rt-v"); info == nil || info.Active {
		t.Fatalf("after revocation: %+v", info)
	}
}
