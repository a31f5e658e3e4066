// Package app holds bff-web's session use cases (the token-handler pattern): the
// login through auth, sessions that keep the customer's tokens server-side,
// refreshing them when they run out, and logout with revocation.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/andes-bank/andes/bff/web/domain"
)

// Store keeps sessions and pending logins, each named and sealed by the keys
// derived from its random id (domain.KeyFor); the id itself never reaches it.
type Store interface {
	SaveLogin(ctx context.Context, key domain.RecordKey, l domain.PendingLogin, ttl time.Duration) error
	// TakeLogin returns and deletes a pending login: a state is good once.
	// domain.ErrLoginState when there is none or it does not open under key.
	TakeLogin(ctx context.Context, key domain.RecordKey) (domain.PendingLogin, error)
	SaveSession(ctx context.Context, key domain.RecordKey, s *domain.Session, ttl time.Duration) error
	// Session returns domain.ErrNoSession when there is none or it does not open
	// under key.
	Session(ctx context.Context, key domain.RecordKey) (*domain.Session, error)
	DeleteSession(ctx context.Context, key domain.RecordKey) error
	// Lock takes a short lock (refreshing one session's tokens); false when held.
	Lock(ctx context.Context, name string, ttl time.Duration) (bool, error)
	Unlock(ctx context.Context, name string) error
}

// TokenGrant is what auth's token endpoint answers.
type TokenGrant struct {
	Access, Refresh string
	ExpiresIn       time.Duration
}

// OAuth is auth's OAuth2 edge as a confidential client sees it.
type OAuth interface {
	AuthorizeURL(state, challenge, language string) string
	Exchange(ctx context.Context, code, verifier string) (TokenGrant, error)
	Refresh(ctx context.Context, refreshToken string) (TokenGrant, error)
	// Revoke is RFC 7009; hint is "access_token" or "refresh_token".
	Revoke(ctx context.Context, token, hint string) error
}

// Verifier reads the customer id from an access token auth just issued.
type Verifier interface {
	Subject(ctx context.Context, accessToken string) (string, error)
}

// Profile is what the page greets the customer with.
type Profile struct {
	GivenName, DisplayName, Language string
}

// Profiles reads the customer's profile with their token.
type Profiles interface {
	Profile(ctx context.Context, accessToken, customerID string) (Profile, error)
}

// App is the session use cases.
type App struct {
	store    Store
	oauth    OAuth
	verifier Verifier
	profiles Profiles
	policy   domain.Policy
	now      func() time.Time
	refresh  singleflight.Group
}

// LoginTTL bounds how long the customer may take on auth's login page.
const LoginTTL = 10 * time.Minute

// New builds the use cases.
func New(store Store, oauth OAuth, verifier Verifier, profiles Profiles, policy domain.Policy, now func() time.Time) *App {
	return &App{store: store, oauth: oauth, verifier: verifier, profiles: profiles, policy: policy, now: now}
}

// Policy is the session policy in force.
func (a *App) Policy() domain.Policy { return a.policy }

// BeginLogin starts code + PKCE: it remembers the verifier under the state and
// returns the state (for the browser's binding cookie) and where to send the browser.
func (a *App) BeginLogin(ctx context.Context, language string) (state, redirect string, err error) {
	state, verifier := domain.NewSecret(), domain.NewSecret()
	lang := domain.NormalizeLanguage(language)
	if err := a.store.SaveLogin(ctx, domain.KeyFor(domain.KindLogin, state), domain.PendingLogin{Verifier: verifier, Language: lang}, LoginTTL); err != nil {
		return "", "", err
	}
	return state, a.oauth.AuthorizeURL(state, domain.PKCEChallenge(verifier), lang), nil
}

// CompleteLogin redeems the code of a callback whose state this browser started
// (browserState is the binding cookie's value) and opens a session; it returns the
// session id for the cookie.
func (a *App) CompleteLogin(ctx context.Context, state, browserState, code string) (string, *domain.Session, error) {
	if state == "" || code == "" || state != browserState {
		return "", nil, domain.ErrLoginState
	}
	pending, err := a.store.TakeLogin(ctx, domain.KeyFor(domain.KindLogin, state))
	if err != nil {
		return "", nil, err
	}
	grant, err := a.oauth.Exchange(ctx, code, pending.Verifier)
	if err != nil {
		return "", nil, err
	}
	sub, err := a.verifier.Subject(ctx, grant.Access)
	if err != nil {
		return "", nil, fmt.Errorf("%w: issued token: %v", domain.ErrAuthUnavailable, err)
	}
	now := a.now()
	s := &domain.Session{CustomerID: sub, Language: pending.Language, CSRF: domain.NewSecret(),
		Tokens:  domain.Tokens{Access: grant.Access, Refresh: grant.Refresh, AccessExpires: now.Add(grant.ExpiresIn)},
		Created: now, LastSeen: now, Expires: now.Add(a.policy.Absolute)}
	// The greeting and the saved language are niceties: the session works
	// without them when customer is slow to answer.
	if p, err := a.profiles.Profile(ctx, grant.Access, sub); err == nil {
		s.GivenName, s.DisplayName = p.GivenName, p.DisplayName
		if p.Language != "" {
			s.Language = domain.NormalizeLanguage(p.Language)
		}
	}
	id := domain.NewSecret()
	if err := a.save(ctx, domain.KeyFor(domain.KindSession, id), s); err != nil {
		return "", nil, err
	}
	return id, s, nil
}

func (a *App) save(ctx context.Context, key domain.RecordKey, s *domain.Session) error {
	ttl := a.policy.IdleExpires(s).Sub(a.now())
	if ttl <= 0 {
		return domain.ErrNoSession
	}
	return a.store.SaveSession(ctx, key, s, ttl)
}

// Resume finds the live session of a cookie, moves its idle deadline forward and
// makes sure its access token is good for the call about to be made.
func (a *App) Resume(ctx context.Context, id string) (*domain.Session, error) {
	if id == "" {
		return nil, domain.ErrNoSession
	}
	key := domain.KeyFor(domain.KindSession, id)
	s, err := a.store.Session(ctx, key)
	if err != nil {
		return nil, err
	}
	now := a.now()
	if !a.policy.Live(s, now) {
		_ = a.store.DeleteSession(ctx, key)
		return nil, domain.ErrNoSession
	}
	if a.policy.NeedsRefresh(s, now) {
		if s, err = a.refreshTokens(ctx, key); err != nil {
			return nil, err
		}
	}
	s.LastSeen = now
	if err := a.save(ctx, key, s); err != nil {
		return nil, err
	}
	return s, nil
}

// refreshTokens renews the session's tokens once, however many requests of the
// session arrive together: auth rotates refresh tokens and treats a reused one as
// theft (it revokes the whole grant), so two refreshes with one token must never
// happen. singleflight covers this process; the store's lock covers others.
func (a *App) refreshTokens(ctx context.Context, key domain.RecordKey) (*domain.Session, error) {
	v, err, _ := a.refresh.Do(key.Lookup, func() (any, error) {
		lock := "refresh:" + key.Lookup
		locked := false
		for range 100 {
			ok, err := a.store.Lock(ctx, lock, 15*time.Second)
			if err != nil {
				return nil, err
			}
			if locked = ok; locked {
				break
			}
			select { // another process is refreshing: wait for its result
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		if locked {
			defer func() { _ = a.store.Unlock(context.WithoutCancel(ctx), lock) }()
		}
		s, err := a.store.Session(ctx, key)
		if err != nil {
			return nil, err
		}
		now := a.now()
		if !a.policy.NeedsRefresh(s, now) {
			return s, nil // refreshed by whoever held the lock
		}
		if !locked {
			return nil, fmt.Errorf("%w: token refresh still held by another process", domain.ErrAuthUnavailable)
		}
		grant, err := a.oauth.Refresh(ctx, s.Tokens.Refresh)
		if errors.Is(err, ErrGrantRevoked) {
			_ = a.store.DeleteSession(ctx, key)
			return nil, domain.ErrNoSession
		}
		if err != nil {
			return nil, err
		}
		refresh := grant.Refresh
		if refresh == "" { // auth did not rotate: the old one stays good
			refresh = s.Tokens.Refresh
		}
		s.Tokens = domain.Tokens{Access: grant.Access, Refresh: refresh, AccessExpires: now.Add(grant.ExpiresIn)}
		if err := a.save(ctx, key, s); err != nil {
			return nil, err
		}
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	s := *v.(*domain.Session)
	return &s, nil
}

// ErrGrantRevoked is what OAuth.Refresh answers when auth refuses the refresh
// token (invalid_grant): the customer must log in again.
var ErrGrantRevoked = errors.New("refresh token refused")

// Logout ends the session and revokes its tokens at auth: the refresh token (its
// whole grant) and the access token, which verifiers then refuse until it expires.
// The session is gone even when auth cannot be reached; the error says so.
func (a *App) Logout(ctx context.Context, id string) error {
	if id == "" {
		return domain.ErrNoSession
	}
	key := domain.KeyFor(domain.KindSession, id)
	s, err := a.store.Session(ctx, key)
	if err != nil {
		return err
	}
	if err := a.store.DeleteSession(ctx, key); err != nil {
		return err
	}
	return errors.Join(
		a.oauth.Revoke(ctx, s.Tokens.Refresh, "refresh_token"),
		a.oauth.Revoke(ctx, s.Tokens.Access, "access_token"))
}

// NoteWrite records that the session moved money, so the next screens show
// balances read from the core.
func (a *App) NoteWrite(ctx context.Context, id string) error {
	key := domain.KeyFor(domain.KindSession, id)
	s, err := a.store.Session(ctx, key)
	if err != nil {
		return err
	}
	s.LastWrite = a.now()
	return a.save(ctx, key, s)
}

// Now is the use cases' clock.
func (a *App) Now() time.Time { return a.now() }

// SetLanguage records the page's language in the session.
func (a *App) SetLanguage(ctx context.Context, id, language string) error {
	key := domain.KeyFor(domain.KindSession, id)
	s, err := a.store.Session(ctx, key)
	if err != nil {
		return err
	}
	s.Language = domain.NormalizeLanguage(language)
	return a.save(ctx, key, s)
}
