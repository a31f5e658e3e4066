package app

import (
	"context"
	"errors"
	"time"

	"github.com/andes-bank/andes/services/auth/domain"
)

// LockedError is a refused login while a lockout lasts.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string        { return domain.ErrLocked.Error() }
func (e *LockedError) Is(target error) bool { return target == domain.ErrLocked }

// LoginInput is a password login attempt.
type LoginInput struct {
	Login    domain.Login
	Password string
	ClientID string
	Origin   Origin
}

// Login checks a customer's password, with throttling per user and per client IP
// and an audit event for every attempt. Unknown users and wrong passwords answer
// the same error after the same work, so the answer does not reveal who has an
// account; a disabled user is told only after giving the right password.
func (a *App) Login(ctx context.Context, in LoginInput) (*domain.User, error) {
	ev := domain.AuditEvent{Action: domain.ActionLogin, ClientID: in.ClientID, OriginIP: in.Origin.IP, UserAgent: in.Origin.UserAgent}
	userKey := in.Login.DocumentType + ":" + in.Login.Identifier
	until, err := a.d.Throttle.LockedUntil(ctx, userKey, in.Origin.IP)
	if err != nil {
		return nil, err
	}
	if !until.IsZero() {
		ev.Failure = "locked"
		a.Audit(ctx, ev)
		return nil, &LockedError{Until: until}
	}
	u, err := a.d.Users.UserByLogin(ctx, in.Login)
	switch {
	case errors.Is(err, domain.ErrUserNotFound):
		_ = domain.VerifyPassword(in.Password, domain.DummyPasswordHash)
		return nil, a.loginFailed(ctx, ev, "unknown_user", userKey, in.Origin.IP)
	case err != nil:
		return nil, err
	}
	ev.CustomerID = u.CustomerID
	if err := domain.VerifyPassword(in.Password, u.PasswordHash); err != nil {
		return nil, a.loginFailed(ctx, ev, "invalid_password", userKey, in.Origin.IP)
	}
	if u.Status == domain.UserDisabled {
		ev.Failure = "disabled"
		a.Audit(ctx, ev)
		return nil, domain.ErrUserDisabled
	}
	if err := a.d.Throttle.Succeed(ctx, userKey); err != nil {
		a.d.Logger.WarnContext(ctx, "login throttle not reset", "err", err)
	}
	ev.Success = true
	a.Audit(ctx, ev)
	return u, nil
}

func (a *App) loginFailed(ctx context.Context, ev domain.AuditEvent, why, userKey, ip string) error {
	ev.Failure = why
	a.Audit(ctx, ev)
	until, err := a.d.Throttle.Fail(ctx, userKey, ip)
	if err != nil {
		return err
	}
	if !until.IsZero() {
		return &LockedError{Until: until}
	}
	return domain.ErrInvalidLogin
}
