package app_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andes-bank/andes/bff/web/adapters/redisstore"
	"github.com/andes-bank/andes/bff/web/app"
	"github.com/andes-bank/andes/bff/web/domain"
	"github.com/andes-bank/andes/platform/testenv"
)

// fakeAuth stands in for auth's OAuth2 edge: it issues numbered tokens and
// remembers what was refreshed and revoked.
type fakeAuth struct {
	mu        sync.Mutex
	issued    int
	refreshed atomic.Int32
	revoked   []string
	verifiers map[string]string // code -> verifier expected
}

func (f *fakeAuth) grant() app.TokenGrant {
	f.issued++
	n := string(rune('a' + f.issued))
	return app.TokenGrant{Access: "access-" + n, Refresh: "refresh-" + n, ExpiresIn: 10 * time.Minute}
}

func (f *fakeAuth) AuthorizeURL(state, challenge, language string) string {
	return "http://auth.test/oauth2/authorize?state=" + state + "&code_challenge=" + challenge + "&lang=" + language
}

func (f *fakeAuth) Exchange(_ context.Context, code, verifier string) (app.TokenGrant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if domain.PKCEChallenge(verifier) != f.verifiers[code] {
		return app.TokenGrant{}, domain.ErrLoginState
	}
	return f.grant(), nil
}

func (f *fakeAuth) Refresh(_ context.Context, refresh string) (app.TokenGrant, error) {
	f.refreshed.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.grant(), nil
}

func (f *fakeAuth) Revoke(_ context.Context, token, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, token)
	return nil
}

type subjects struct{}

func (subjects) Subject(context.Context, string) (string, error) {
	return "0b7f6c3e-8a59-5a36-9d0e-2f1c4b5a6d7e", nil
}

type profiles struct{}

func (profiles) Profile(context.Context, string, string) (app.Profile, error) {
	return app.Profile{GivenName: "María", DisplayName: "María Elena Quispe Mamani", Language: "en"}, nil
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type harness struct {
	app   *app.App
	auth  *fakeAuth
	clock *clock
	keys  func() []string
}

func newHarness(t *testing.T) *harness {
	rdb := testenv.Redis(t)
	h := &harness{auth: &fakeAuth{verifiers: map[string]string{}}, clock: &clock{now: time.Now()}}
	policy := domain.Policy{Idle: 15 * time.Minute, Absolute: 12 * time.Hour, RefreshBefore: 30 * time.Second}
	h.app = app.New(redisstore.New(rdb), h.auth, subjects{}, profiles{}, policy, h.clock.Now)
	h.keys = func() []string {
		keys, err := rdb.Keys(context.Background(), rdb.Key("*")).Result()
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	return h
}

// login runs BeginLogin and CompleteLogin as the browser and auth would.
func (h *harness) login(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	state, to, err := h.app.BeginLogin(ctx, "es-PE")
	if err != nil {
		t.Fatal(err)
	}
	challenge := to[strings.Index(to, "code_challenge=")+len("code_challenge="):]
	challenge = challenge[:strings.Index(challenge, "&")]
	h.auth.mu.Lock()
	h.auth.verifiers["code-"+state] = challenge
	h.auth.mu.Unlock()
	id, s, err := h.app.CompleteLogin(ctx, state, state, "code-"+state)
	if err != nil {
		t.Fatal(err)
	}
	if s.GivenName != "María" || s.Language != "en" || s.CSRF == "" {
		t.Errorf("new session %+v", s)
	}
	return id
}

func TestLogin(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()

	t.Run("a callback must come back to the browser that started it, once", func(t *testing.T) {
		state, _, err := h.app.BeginLogin(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.app.CompleteLogin(ctx, state, "another-browser", "code"); !errors.Is(err, domain.ErrLoginState) {
			t.Errorf("state of another browser: %v", err)
		}
		id := h.login(t)
		if id == "" {
			t.Fatal("no session id")
		}
	})

	t.Run("the store holds only hashes of the session id and state", func(t *testing.T) {
		id := h.login(t)
		for _, k := range h.keys() {
			if strings.Contains(k, id) {
				t.Errorf("key %q holds the raw session id", k)
			}
		}
		if len(id) != 43 {
			t.Errorf("session id of %d characters, want 43 (256 bits, base64url)", len(id))
		}
	})
}

func TestSessionLife(t *testing.T) {
	ctx := context.Background()

	t.Run("an idle session ends; activity keeps it alive", func(t *testing.T) {
		h := newHarness(t)
		id := h.login(t)
		for range 3 { // 3 x 10 minutes of activity: past the idle time in total
			h.clock.Add(10 * time.Minute)
			if _, err := h.app.Resume(ctx, id); err != nil {
				t.Fatalf("active session refused: %v", err)
			}
		}
		h.clock.Add(15*time.Minute + time.Second)
		if _, err := h.app.Resume(ctx, id); !errors.Is(err, domain.ErrNoSession) {
			t.Errorf("idle session: %v, want ErrNoSession", err)
		}
		if _, err := h.app.Resume(ctx, id); !errors.Is(err, domain.ErrNoSession) {
			t.Errorf("idle session, asked again: %v", err)
		}
	})

	t.Run("a session ends at its absolute limit however active", func(t *testing.T) {
		h := newHarness(t)
		id := h.login(t)
		for elapsed := time.Duration(0); elapsed < 12*time.Hour; elapsed += 10 * time.Minute {
			h.clock.Add(10 * time.Minute)
			_, err := h.app.Resume(ctx, id)
			if elapsed+10*time.Minute < 12*time.Hour && err != nil {
				t.Fatalf("refused after %v: %v", elapsed, err)
			}
			if elapsed+10*time.Minute >= 12*time.Hour && !errors.Is(err, domain.ErrNoSession) {
				t.Fatalf("after %v: %v, want ErrNoSession", elapsed+10*time.Minute, err)
			}
		}
	})

	t.Run("an expiring access token is refreshed server-side, once for concurrent requests", func(t *testing.T) {
		h := newHarness(t)
		id := h.login(t)
		first, err := h.app.Resume(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		h.clock.Add(9*time.Minute + 45*time.Second) // inside the 30 s before expiry
		var wg sync.WaitGroup
		got := make([]string, 8)
		for i := range got {
			wg.Go(func() {
				s, err := h.app.Resume(ctx, id)
				if err != nil {
					t.Error(err)
					return
				}
				got[i] = s.Tokens.Access
			})
		}
		wg.Wait()
		if n := h.auth.refreshed.Load(); n != 1 {
			t.Errorf("%d refreshes for concurrent requests, want 1 (a reused refresh token revokes the grant)", n)
		}
		for _, a := range got {
			if a == first.Tokens.Access || a == "" {
				t.Errorf("a request used access token %q after the refresh", a)
			}
		}
	})

	t.Run("logout revokes both tokens at auth and ends the session", func(t *testing.T) {
		h := newHarness(t)
		id := h.login(t)
		s, err := h.app.Resume(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.app.Logout(ctx, id); err != nil {
			t.Fatal(err)
		}
		if len(h.auth.revoked) != 2 || h.auth.revoked[0] != s.Tokens.Refresh || h.auth.revoked[1] != s.Tokens.Access {
			t.Errorf("revoked %v, want the refresh then the access token", h.auth.revoked)
		}
		if _, err := h.app.Resume(ctx, id); !errors.Is(err, domain.ErrNoSession) {
			t.Errorf("after logout: %v", err)
		}
	})
}
