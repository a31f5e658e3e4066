package app

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"time"

	"github.com/andes-bank/andes/services/auth/domain"
)

// FreshLogin bounds how old the password login behind a device binding may be.
const FreshLogin = 10 * time.Minute

// Caller is who asks, from a verified access token.
type Caller struct {
	CustomerID string
	ClientID   string
	AMR        []string
	AuthTime   time.Time
}

// NewDevice is a device to bind.
type NewDevice struct {
	Key         *ecdsa.PublicKey
	DisplayName string
	Platform    string
	Lang        string
}

func (a *App) checkBinding(ctx context.Context, c Caller, d NewDevice) error {
	client, err := a.Client(ctx, c.ClientID)
	if err != nil || client.Kind != domain.KindMobile {
		return domain.ErrPasswordRequired
	}
	pwd := false
	for _, m := range c.AMR {
		pwd = pwd || m == "pwd"
	}
	if !pwd || a.d.Now().Sub(c.AuthTime) > FreshLogin {
		return domain.ErrPasswordRequired
	}
	return domain.CheckDeviceInfo(d.DisplayName, d.Platform)
}

// StartDeviceBinding sends the SMS code that binding a device needs. Only the
// mobile app, right after a password login, may bind; the code is bound to the
// device's key.
func (a *App) StartDeviceBinding(ctx context.Context, c Caller, d NewDevice, origin Origin) (domain.StepUpChallenge, error) {
	if err := a.checkBinding(ctx, c, d); err != nil {
		return domain.StepUpChallenge{}, err
	}
	return a.SendStepUpCode(ctx, c.CustomerID, domain.PurposeBindDevice, "device:"+domain.DeviceThumbprint(d.Key), d.Lang, origin)
}

// FinishDeviceBinding binds the device once the SMS code is right.
func (a *App) FinishDeviceBinding(ctx context.Context, c Caller, d NewDevice, challengeID, code string, origin Origin) (*domain.Device, error) {
	if err := a.checkBinding(ctx, c, d); err != nil {
		return nil, err
	}
	thumb := domain.DeviceThumbprint(d.Key)
	if _, err := a.VerifyStepUpCode(ctx, c.CustomerID, "device:"+thumb, challengeID, code, origin); err != nil {
		return nil, err
	}
	dev := &domain.Device{ID: NewID(), CustomerID: c.CustomerID, DisplayName: d.DisplayName, Platform: d.Platform,
		PublicKey: d.Key, Thumbprint: thumb, Status: domain.DeviceActive, BoundAt: a.d.Now().Truncate(time.Microsecond)}
	if err := a.d.Devices.InsertDevice(ctx, dev); err != nil {
		return nil, err
	}
	a.Audit(ctx, domain.AuditEvent{Action: domain.ActionDeviceBound, Success: true, CustomerID: c.CustomerID, ClientID: c.ClientID,
		OriginIP: origin.IP, UserAgent: origin.UserAgent, Detail: "device=" + dev.ID})
	return dev, nil
}

// DeviceChallenge issues a one-time nonce for a device to sign.
func (a *App) DeviceChallenge(ctx context.Context, deviceID string) (string, error) {
	d, err := a.d.Devices.Device(ctx, deviceID)
	if err != nil {
		return "", err
	}
	if d.Status != domain.DeviceActive {
		return "", domain.ErrDeviceRevoked
	}
	nonce := NewID() + NewID()
	return nonce, a.d.DeviceNonces.Put(ctx, nonce, deviceID)
}

// DeviceLoginInput is a device's answer to a challenge.
type DeviceLoginInput struct {
	Challenge     string
	CodeChallenge string // the PKCE challenge of the authorization request
	Signature     string
	ClientID      string
	Origin        Origin
}

// DeviceLogin stands in for the password: the device's key signs the one-time
// challenge (which is consumed whatever the outcome) bound to the authorization
// request's PKCE challenge.
func (a *App) DeviceLogin(ctx context.Context, in DeviceLoginInput) (*domain.User, *domain.Device, error) {
	ev := domain.AuditEvent{Action: domain.ActionDeviceLogin, ClientID: in.ClientID, OriginIP: in.Origin.IP, UserAgent: in.Origin.UserAgent}
	fail := func(why string, err error) (*domain.User, *domain.Device, error) {
		ev.Failure = why
		a.Audit(ctx, ev)
		return nil, nil, err
	}
	deviceID, err := a.d.DeviceNonces.Take(ctx, in.Challenge)
	if errors.Is(err, domain.ErrDeviceChallenge) {
		return fail("challenge_unknown", err)
	} else if err != nil {
		return nil, nil, err
	}
	ev.Detail = "device=" + deviceID
	d, err := a.d.Devices.Device(ctx, deviceID)
	if err != nil {
		return nil, nil, err
	}
	ev.CustomerID = d.CustomerID
	if d.Status != domain.DeviceActive {
		return fail("device_revoked", domain.ErrDeviceRevoked)
	}
	until, err := a.d.Throttle.LockedUntil(ctx, "device:"+d.ID, in.Origin.IP)
	if err != nil {
		return nil, nil, err
	}
	if !until.IsZero() {
		return fail("locked", &LockedError{Until: until})
	}
	if err := domain.VerifyDeviceSignature(d.PublicKey, domain.DeviceLoginMessage(in.Challenge, in.CodeChallenge), in.Signature); err != nil {
		_, _ = a.d.Throttle.Fail(ctx, "device:"+d.ID, in.Origin.IP)
		return fail("bad_signature", err)
	}
	u, err := a.d.Users.User(ctx, d.CustomerID)
	if err != nil {
		return nil, nil, err
	}
	if u.Status == domain.UserDisabled {
		return fail("disabled", domain.ErrUserDisabled)
	}
	if err := a.d.Devices.TouchDevice(ctx, d.ID, a.d.Now()); err != nil {
		a.d.Logger.WarnContext(ctx, "device last use not recorded", "err", err)
	}
	ev.Success = true
	a.Audit(ctx, ev)
	return u, d, nil
}

// ListDevices pages through a customer's devices.
func (a *App) ListDevices(ctx context.Context, customerID string, includeRevoked bool, size int, token string) ([]*domain.Device, string, error) {
	switch {
	case size <= 0:
		size = 50
	case size > 100:
		size = 100
	}
	return a.d.Devices.Devices(ctx, customerID, includeRevoked, size, token)
}

// RevokeDevice revokes a customer's device and every grant its logins started;
// revoking a revoked device answers it unchanged.
func (a *App) RevokeDevice(ctx context.Context, caller, customerID, deviceID, reason string) (*domain.Device, error) {
	d, changed, err := a.d.Devices.RevokeDevice(ctx, customerID, deviceID, reason, a.d.Now().Truncate(time.Microsecond))
	if err != nil || !changed {
		return d, err
	}
	if _, err := a.d.Tokens.RevokeDevice(ctx, deviceID); err != nil {
		return nil, err
	}
	a.Audit(ctx, domain.AuditEvent{Action: domain.ActionDeviceRevoked, Success: true, CustomerID: customerID,
		Detail: "device=" + deviceID + " by=" + caller + " reason=" + reason})
	return d, nil
}
