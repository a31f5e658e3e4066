// Package app holds auth's use cases: client authentication, customer login with
// throttling and audit, token revocation, and the internal API's user operations.
// It depends only on the small interfaces below; adapters satisfy them.
package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/andes-bank/andes/services/auth/domain"
)

// ClientStore reads client registrations.
type ClientStore interface {
	Client(ctx context.Context, id string) (*domain.Client, error)
}

// UserStore keeps customers' credentials.
type UserStore interface {
	User(ctx context.Context, customerID string) (*domain.User, error)
	UserByLogin(ctx context.Context, l domain.Login) (*domain.User, error)
	CreateUser(ctx context.Context, u *domain.User) error
	SetUserStatus(ctx context.Context, customerID string, status domain.UserStatus, reason string, now time.Time) (*domain.User, bool, error)
}

// Throttle counts failed logins per user and per client IP.
type Throttle interface {
	// LockedUntil returns when the later lockout of the keys ends (zero when none).
	LockedUntil(ctx context.Context, user, ip string) (time.Time, error)
	// Fail records a failed login; it returns the lockout it started, if any.
	Fail(ctx context.Context, user, ip string) (time.Time, error)
	// Succeed clears the user's failure count (not its lockout history).
	Succeed(ctx context.Context, user string) error
}

// Auditor records audit events. Record does not fail the caller's operation: the
// adapter buffers and retries.
type Auditor interface {
	Record(ctx context.Context, e domain.AuditEvent)
}

// Revoker revokes tokens in the token store, which announces them to verifiers.
type Revoker interface {
	RevokeJTI(ctx context.Context, jti string, expires time.Time) (bool, error)
	RevokeRefresh(ctx context.Context, refresh, clientID string) (bool, error)
	RevokeSubject(ctx context.Context, subject string) (time.Time, error)
	Revoked(ctx context.Context, jti, subject string, issuedAt time.Time) (bool, error)
	PeekRefresh(ctx context.Context, refresh string) (*RefreshState, error)
	RevokeDevice(ctx context.Context, deviceID string) (int, error)
}

// CredentialStore remembers which CreateCredentials request created a user.
type CredentialStore interface {
	CreateUserFor(ctx context.Context, u *domain.User, key string, fingerprint []byte) error
	UserCreatedBy(ctx context.Context, key string) (*domain.User, []byte, error)
}

// StepUpStore keeps one-time-code challenges (only the codes' MACs).
type StepUpStore interface {
	Start(ctx context.Context, c domain.StepUpChallenge, binding, codeMAC string, now time.Time) (domain.StepUpChallenge, bool, error)
	Forget(ctx context.Context, c domain.StepUpChallenge, binding string) error
	Verify(ctx context.Context, id, customerID, binding, codeMAC string, now time.Time) (domain.StepUpChallenge, error)
}

// SMS sends a text message; the idempotency key makes a retry send nothing new.
type SMS interface {
	Send(ctx context.Context, idempotencyKey, to, text string) error
}

// Phones finds the phone a customer's codes go to (the customer service owns it).
type Phones interface {
	Phone(ctx context.Context, customerID string) (string, error)
}

// DeviceStore keeps bound devices.
type DeviceStore interface {
	InsertDevice(ctx context.Context, d *domain.Device) error
	Device(ctx context.Context, id string) (*domain.Device, error)
	TouchDevice(ctx context.Context, id string, now time.Time) error
	RevokeDevice(ctx context.Context, customerID, id, reason string, now time.Time) (*domain.Device, bool, error)
	Devices(ctx context.Context, customerID string, includeRevoked bool, size int, token string) ([]*domain.Device, string, error)
}

// DeviceChallenges keeps the one-time nonces devices sign.
type DeviceChallenges interface {
	Put(ctx context.Context, challenge, deviceID string) error
	Take(ctx context.Context, challenge string) (string, error)
}

// RefreshState is what the token store knows of a refresh token.
type RefreshState struct {
	ClientID  string
	Subject   string
	FamilyID  string
	Scope     string // empty once rotated
	IssuedAt  time.Time
	ExpiresAt time.Time
	Active    bool // live, unexpired and not revoked
}

// Origin is where a request came from, for throttling and the audit.
type Origin struct {
	IP        string
	UserAgent string
}

// Deps are the app's collaborators.
type Deps struct {
	Clients        ClientStore
	Users          UserStore
	Throttle       Throttle
	Audit          Auditor
	Tokens         Revoker
	Credentials    CredentialStore
	StepUps        StepUpStore
	SMS            SMS
	Phones         Phones
	Devices        DeviceStore
	DeviceNonces   DeviceChallenges
	Secrets        *domain.SecretHasher
	PasswordParams domain.PasswordParams
	Now            func() time.Time
	Logger         *slog.Logger
	// ClientCacheTTL is how long a client registration is used before it is read
	// again; default 30 seconds.
	ClientCacheTTL time.Duration
}

// App is auth's application layer.
type App struct {
	d       Deps
	clients *clientCache
}

// New returns the app.
func New(d Deps) *App {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.ClientCacheTTL <= 0 {
		d.ClientCacheTTL = 30 * time.Second
	}
	if d.PasswordParams.Time == 0 {
		d.PasswordParams = domain.DefaultPasswordParams
	}
	return &App{d: d, clients: &clientCache{store: d.Clients, ttl: d.ClientCacheTTL, now: d.Now, m: map[string]cachedClient{}}}
}

// Now is the app's clock.
func (a *App) Now() time.Time { return a.d.Now() }

// Audit records an event stamped with the app's clock.
func (a *App) Audit(ctx context.Context, e domain.AuditEvent) {
	if e.At.IsZero() {
		e.At = a.d.Now()
	}
	if len(e.UserAgent) > 200 {
		e.UserAgent = e.UserAgent[:200]
	}
	a.d.Audit.Record(ctx, e)
}

// Client returns a registered, enabled client.
func (a *App) Client(ctx context.Context, id string) (*domain.Client, error) {
	c, err := a.clients.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Disabled {
		return nil, domain.ErrClientDisabled
	}
	return c, nil
}

// ErrClientAuthentication is a client that is unknown, disabled, or presented the
// wrong secret (or a secret when public, or none when confidential): one error,
// so the answer does not tell which.
var ErrClientAuthentication = errors.New("client authentication failed")

// AuthenticateClient checks a client's credentials. Public clients authenticate
// with their id alone (their requests are bound by PKCE instead). The secret is
// checked with a keyed SHA-256, a microsecond: no slow hash on this path.
func (a *App) AuthenticateClient(ctx context.Context, id, secret string, secretGiven bool) (*domain.Client, error) {
	c, err := a.Client(ctx, id)
	if errors.Is(err, domain.ErrUnknownClient) || errors.Is(err, domain.ErrClientDisabled) {
		return nil, ErrClientAuthentication
	}
	if err != nil {
		return nil, err
	}
	if c.Public() {
		if secretGiven {
			return nil, ErrClientAuthentication
		}
		return c, nil
	}
	if !secretGiven || !a.d.Secrets.Verify(secret, c.SecretHash) {
		return nil, ErrClientAuthentication
	}
	return c, nil
}

type cachedClient struct {
	c       *domain.Client
	err     error
	expires time.Time
}

// clientCache keeps registrations in memory: the client-credentials path must not
// touch PostgreSQL for every token. Unknown ids are cached briefly too, so garbage
// ids cannot turn into a query each.
type clientCache struct {
	store ClientStore
	ttl   time.Duration
	now   func() time.Time

	mu sync.RWMutex
	m  map[string]cachedClient
}

func (cc *clientCache) get(ctx context.Context, id string) (*domain.Client, error) {
	now := cc.now()
	cc.mu.RLock()
	e, ok := cc.m[id]
	cc.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.c, e.err
	}
	c, err := cc.store.Client(ctx, id)
	if err != nil && !errors.Is(err, domain.ErrUnknownClient) {
		return nil, err
	}
	ttl := cc.ttl
	if err != nil {
		ttl = min(ttl, 5*time.Second)
	}
	cc.mu.Lock()
	if len(cc.m) > 10000 {
		clear(cc.m) // only garbage ids make it this big
	}
	cc.m[id] = cachedClient{c: c, err: err, expires: now.Add(ttl)}
	cc.mu.Unlock()
	return c, err
}

// ForgetClient drops a client from the cache, after its registration changed.
func (a *App) ForgetClient(id string) {
	a.clients.mu.Lock()
	delete(a.clients.m, id)
	a.clients.mu.Unlock()
}
