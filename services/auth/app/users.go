package app

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"github.com/andes-bank/andes/services/auth/domain"
)

// NewCredentials is a CreateCredentials request.
type NewCredentials struct {
	Caller         string // the calling service (mTLS identity)
	IdempotencyKey string
	CustomerID     string
	DocumentType   string
	DocumentNumber string
	Username       string
	Password       string
}

func (n NewCredentials) fingerprint() []byte {
	sum := sha256.Sum256([]byte(n.CustomerID + "\x00" + n.DocumentType + "\x00" + n.DocumentNumber + "\x00" + n.Username))
	return sum[:]
}

// CreateCredentials gives a customer a login, idempotently on (caller, key): the
// same request again answers the same user; another request with the key is
// domain.ErrIdempotencyReuse; credentials another request created are
// domain.ErrUserExists.
func (a *App) CreateCredentials(ctx context.Context, n NewCredentials) (*domain.User, error) {
	scope := n.Caller + "/" + n.IdempotencyKey
	replay := func() (*domain.User, error) {
		u, fp, err := a.d.Credentials.UserCreatedBy(ctx, scope)
		if err != nil {
			return nil, err
		}
		if string(fp) != string(n.fingerprint()) || domain.VerifyPassword(n.Password, u.PasswordHash) != nil {
			return nil, domain.ErrIdempotencyReuse
		}
		return u, nil
	}
	if u, err := replay(); !errors.Is(err, domain.ErrUserNotFound) {
		return u, err
	}
	u, err := domain.NewUser(n.CustomerID, n.DocumentType, n.DocumentNumber, n.Username, n.Password, a.d.PasswordParams, a.d.Now())
	if err != nil {
		return nil, err
	}
	err = a.d.Credentials.CreateUserFor(ctx, u, scope, n.fingerprint())
	if errors.Is(err, domain.ErrUserExists) {
		// A concurrent retry of the same request may have won.
		if u, rerr := replay(); rerr == nil || errors.Is(rerr, domain.ErrIdempotencyReuse) {
			return u, rerr
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	a.Audit(ctx, domain.AuditEvent{Action: domain.ActionCredentialsCreated, Success: true, CustomerID: u.CustomerID, Detail: "by=" + n.Caller})
	return u, nil
}

// UserState is a user with its lockout.
type UserState struct {
	User        *domain.User
	LockedUntil time.Time // zero when not locked out
}

// GetUser returns a customer's login state.
func (a *App) GetUser(ctx context.Context, customerID string) (UserState, error) {
	u, err := a.d.Users.User(ctx, customerID)
	if err != nil {
		return UserState{}, err
	}
	until, err := a.d.Throttle.LockedUntil(ctx, u.DocumentType+":"+u.DocumentNumber, "")
	return UserState{User: u, LockedUntil: until}, err
}

// DisableUser stops a user's logins and revokes every token issued to them;
// disabling a disabled user changes nothing.
func (a *App) DisableUser(ctx context.Context, caller, customerID, reason string) (*domain.User, error) {
	u, changed, err := a.d.Users.SetUserStatus(ctx, customerID, domain.UserDisabled, reason, a.d.Now())
	if err != nil || !changed {
		return u, err
	}
	if _, err := a.d.Tokens.RevokeSubject(ctx, customerID); err != nil {
		return nil, err
	}
	a.Audit(ctx, domain.AuditEvent{Action: domain.ActionUserDisabled, Success: true, CustomerID: customerID, Detail: "by=" + caller + " reason=" + reason})
	return u, nil
}

// EnableUser lets a disabled user log in again; old tokens stay revoked.
func (a *App) EnableUser(ctx context.Context, caller, customerID, reason string) (*domain.User, error) {
	u, changed, err := a.d.Users.SetUserStatus(ctx, customerID, domain.UserActive, "", a.d.Now())
	if err == nil && changed {
		a.Audit(ctx, domain.AuditEvent{Action: domain.ActionUserEnabled, Success: true, CustomerID: customerID, Detail: "by=" + caller + " reason=" + reason})
	}
	return u, err
}

// RevokeUserTokens revokes every token of a user issued until now.
func (a *App) RevokeUserTokens(ctx context.Context, caller, customerID, reason string) (time.Time, error) {
	if _, err := a.d.Users.User(ctx, customerID); err != nil {
		return time.Time{}, err
	}
	before, err := a.d.Tokens.RevokeSubject(ctx, customerID)
	if err != nil {
		return time.Time{}, err
	}
	a.Audit(ctx, domain.AuditEvent{Action: domain.ActionTokenRevoked, Success: true, CustomerID: customerID, Detail: "all tokens; by=" + caller + " reason=" + reason})
	return before, nil
}
