package ports

import (
	"context"
	"errors"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	identityv1 "github.com/andes-bank/andes/gen/andes/identity/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/services/auth/app"
	"github.com/andes-bank/andes/services/auth/domain"
)

// errorDomain is the ErrorInfo.domain of auth's refusals.
var errorDomain = rpcstatus.DomainOf(errorsv1.Domain_DOMAIN_AUTH)

// GRPC is auth's internal API, andes.auth.v1.AuthService. Requests arrive
// validated: the platform's server checks their protovalidate rules.
type GRPC struct {
	authv1.UnimplementedAuthServiceServer
	app *app.App
}

// NewGRPC returns the internal API on a.
func NewGRPC(a *app.App) (*GRPC, error) {
	return &GRPC{app: a}, nil
}

// reasons maps the domain's errors to andes.errors.v1 reasons, once for every
// method; a nil msg means the error's own text, which names the rule broken.
var reasons = []struct {
	err    error
	reason errorsv1.Reason
	msg    string
	meta   map[string]string
}{
	{domain.ErrUserNotFound, errorsv1.Reason_REASON_NOT_FOUND, "not found", nil},
	{domain.ErrDeviceNotFound, errorsv1.Reason_REASON_NOT_FOUND, "not found", nil},
	{domain.ErrUserExists, errorsv1.Reason_REASON_ALREADY_EXISTS, "the customer or the document already has credentials", nil},
	{domain.ErrIdempotencyReuse, errorsv1.Reason_REASON_IDEMPOTENCY_MISMATCH, "the idempotency key was used with a different request", nil},
	{domain.ErrStepUpExpired, errorsv1.Reason_REASON_STEP_UP_EXPIRED, "the challenge expired, was used up, or is another request's", nil},
	{domain.ErrSMSUnavailable, errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE, "the SMS gateway is unavailable", rpcstatus.RetryAfter(5 * time.Second)},
	{domain.ErrNoPhone, errorsv1.Reason_REASON_VALIDATION_FAILED, "", nil},
	{domain.ErrInvalidDocument, errorsv1.Reason_REASON_VALIDATION_FAILED, "", nil},
	{domain.ErrInvalidUsername, errorsv1.Reason_REASON_VALIDATION_FAILED, "", nil},
	{domain.ErrWeakPassword, errorsv1.Reason_REASON_VALIDATION_FAILED, "", nil},
	{domain.ErrInvalidCustomer, errorsv1.Reason_REASON_VALIDATION_FAILED, "", nil},
	{domain.ErrBadPageToken, errorsv1.Reason_REASON_VALIDATION_FAILED, "", nil},
}

// toStatus maps errors once for every method: domain errors to their reasons,
// anything else to INTERNAL without its text (the platform's interceptor logs it).
func toStatus(err error) error {
	var invalid *domain.StepUpInvalid
	switch {
	case err == nil:
		return nil
	case errors.As(err, &invalid):
		return errorDomain.Error(errorsv1.Reason_REASON_STEP_UP_CODE_INVALID, "the code is wrong",
			map[string]string{rpcstatus.KeyAttemptsLeft: strconv.Itoa(invalid.AttemptsLeft)})
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			msg := r.msg
			if msg == "" {
				msg = err.Error()
			}
			return errorDomain.Error(r.reason, msg, r.meta)
		}
	}
	return err
}

func caller(ctx context.Context) string {
	name, err := server.CallerName(ctx)
	if err != nil {
		return "unknown"
	}
	return name
}

var documentTypes = map[identityv1.DocumentType]string{
	identityv1.DocumentType_DOCUMENT_TYPE_DNI:      domain.DocumentDNI,
	identityv1.DocumentType_DOCUMENT_TYPE_CE:       domain.DocumentCE,
	identityv1.DocumentType_DOCUMENT_TYPE_PASSPORT: domain.DocumentPassport,
	identityv1.DocumentType_DOCUMENT_TYPE_RUC:      domain.DocumentRUC,
}

func userProto(s app.UserState) *authv1.User {
	u := s.User
	out := &authv1.User{CustomerId: u.CustomerID, Username: u.Username, CreatedAt: timestamppb.New(u.CreatedAt), UpdatedAt: timestamppb.New(u.UpdatedAt)}
	switch {
	case u.Status == domain.UserDisabled:
		out.Status, out.DisabledReason = authv1.UserStatus_USER_STATUS_DISABLED, u.DisabledReason
	case !s.LockedUntil.IsZero():
		out.Status, out.LockedUntil = authv1.UserStatus_USER_STATUS_LOCKED, timestamppb.New(s.LockedUntil)
	default:
		out.Status = authv1.UserStatus_USER_STATUS_ACTIVE
	}
	return out
}

// CreateCredentials implements andes.auth.v1.
func (g *GRPC) CreateCredentials(ctx context.Context, req *authv1.CreateCredentialsRequest) (*authv1.CreateCredentialsResponse, error) {
	u, err := g.app.CreateCredentials(ctx, app.NewCredentials{
		Caller: caller(ctx), IdempotencyKey: req.GetIdempotencyKey(), CustomerID: req.GetCustomerId(),
		DocumentType: documentTypes[req.GetDocument().GetType()], DocumentNumber: req.GetDocument().GetNumber(),
		Username: req.GetUsername(), Password: req.GetPassword(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &authv1.CreateCredentialsResponse{User: userProto(app.UserState{User: u})}, nil
}

// GetUser implements andes.auth.v1.
func (g *GRPC) GetUser(ctx context.Context, req *authv1.GetUserRequest) (*authv1.GetUserResponse, error) {
	s, err := g.app.GetUser(ctx, req.GetCustomerId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &authv1.GetUserResponse{User: userProto(s)}, nil
}

// DisableUser implements andes.auth.v1.
func (g *GRPC) DisableUser(ctx context.Context, req *authv1.DisableUserRequest) (*authv1.DisableUserResponse, error) {
	u, err := g.app.DisableUser(ctx, caller(ctx), req.GetCustomerId(), req.GetReason())
	if err != nil {
		return nil, toStatus(err)
	}
	return &authv1.DisableUserResponse{User: userProto(app.UserState{User: u})}, nil
}

// EnableUser implements andes.auth.v1.
func (g *GRPC) EnableUser(ctx context.Context, req *authv1.EnableUserRequest) (*authv1.EnableUserResponse, error) {
	u, err := g.app.EnableUser(ctx, caller(ctx), req.GetCustomerId(), req.GetReason())
	if err != nil {
		return nil, toStatus(err)
	}
	return &authv1.EnableUserResponse{User: userProto(app.UserState{User: u})}, nil
}

// RevokeUserTokens implements andes.auth.v1.
func (g *GRPC) RevokeUserTokens(ctx context.Context, req *authv1.RevokeUserTokensRequest) (*authv1.RevokeUserTokensResponse, error) {
	before, err := g.app.RevokeUserTokens(ctx, caller(ctx), req.GetCustomerId(), req.GetReason())
	if err != nil {
		return nil, toStatus(err)
	}
	return &authv1.RevokeUserTokensResponse{RevokedBefore: timestamppb.New(before)}, nil
}

var platforms = map[string]authv1.DevicePlatform{
	domain.PlatformAndroid: authv1.DevicePlatform_DEVICE_PLATFORM_ANDROID,
	domain.PlatformIOS:     authv1.DevicePlatform_DEVICE_PLATFORM_IOS,
}

func deviceProto(d *domain.Device) *authv1.Device {
	out := &authv1.Device{DeviceId: d.ID, CustomerId: d.CustomerID, DisplayName: d.DisplayName, Platform: platforms[d.Platform],
		KeyThumbprint: d.Thumbprint, Status: authv1.DeviceStatus_DEVICE_STATUS_ACTIVE, BoundAt: timestamppb.New(d.BoundAt)}
	if !d.LastUsedAt.IsZero() {
		out.LastUsedAt = timestamppb.New(d.LastUsedAt)
	}
	if d.Status == domain.DeviceRevoked {
		out.Status, out.RevokedAt, out.RevokeReason = authv1.DeviceStatus_DEVICE_STATUS_REVOKED, timestamppb.New(d.RevokedAt), d.RevokeReason
	}
	return out
}

// ListDevices implements andes.auth.v1.
func (g *GRPC) ListDevices(ctx context.Context, req *authv1.ListDevicesRequest) (*authv1.ListDevicesResponse, error) {
	devs, next, err := g.app.ListDevices(ctx, req.GetCustomerId(), req.GetIncludeRevoked(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &authv1.ListDevicesResponse{NextPageToken: next}
	for _, d := range devs {
		resp.Devices = append(resp.Devices, deviceProto(d))
	}
	return resp, nil
}

// RevokeDevice implements andes.auth.v1.
func (g *GRPC) RevokeDevice(ctx context.Context, req *authv1.RevokeDeviceRequest) (*authv1.RevokeDeviceResponse, error) {
	d, err := g.app.RevokeDevice(ctx, caller(ctx), req.GetCustomerId(), req.GetDeviceId(), req.GetReason())
	if err != nil {
		return nil, toStatus(err)
	}
	return &authv1.RevokeDeviceResponse{Device: deviceProto(d)}, nil
}

var purposes = map[authv1.StepUpPurpose]domain.StepUpPurpose{
	authv1.StepUpPurpose_STEP_UP_PURPOSE_BIND_DEVICE:     domain.PurposeBindDevice,
	authv1.StepUpPurpose_STEP_UP_PURPOSE_NEW_BENEFICIARY: domain.PurposeNewBeneficiary,
	authv1.StepUpPurpose_STEP_UP_PURPOSE_CASH_OUT:        domain.PurposeCashOut,
	authv1.StepUpPurpose_STEP_UP_PURPOSE_CHANGE_CONTACT:  domain.PurposeChangeContact,
}

func purposeProto(p domain.StepUpPurpose) authv1.StepUpPurpose {
	for k, v := range purposes {
		if v == p {
			return k
		}
	}
	return authv1.StepUpPurpose_STEP_UP_PURPOSE_UNSPECIFIED
}

// ChallengeProto is a challenge as the API (and STEP_UP_REQUIRED details) show it.
func ChallengeProto(c domain.StepUpChallenge) *authv1.StepUpChallenge {
	return &authv1.StepUpChallenge{ChallengeId: c.ID, Purpose: purposeProto(c.Purpose), Channel: authv1.StepUpChannel_STEP_UP_CHANNEL_SMS,
		MaskedDestination: c.MaskedDestination, ExpiresAt: timestamppb.New(c.ExpiresAt),
		ResendAvailableAt: timestamppb.New(c.ResendAvailableAt), AttemptsLeft: int32(c.AttemptsLeft)}
}

// SendStepUpCode implements andes.auth.v1.
func (g *GRPC) SendStepUpCode(ctx context.Context, req *authv1.SendStepUpCodeRequest) (*authv1.SendStepUpCodeResponse, error) {
	purpose, ok := purposes[req.GetPurpose()]
	if !ok {
		return nil, errorDomain.InvalidField("purpose", "unknown")
	}
	c, err := g.app.SendStepUpCode(ctx, req.GetCustomerId(), purpose, req.GetBinding(), req.GetLanguage(), app.Origin{UserAgent: "grpc:" + caller(ctx)})
	if err != nil {
		return nil, toStatus(err)
	}
	return &authv1.SendStepUpCodeResponse{Challenge: ChallengeProto(c)}, nil
}

// VerifyStepUpCode implements andes.auth.v1.
func (g *GRPC) VerifyStepUpCode(ctx context.Context, req *authv1.VerifyStepUpCodeRequest) (*authv1.VerifyStepUpCodeResponse, error) {
	c, err := g.app.VerifyStepUpCode(ctx, req.GetCustomerId(), req.GetBinding(), req.GetProof().GetChallengeId(), req.GetProof().GetCode(), app.Origin{UserAgent: "grpc:" + caller(ctx)})
	if err != nil {
		return nil, toStatus(err)
	}
	return &authv1.VerifyStepUpCodeResponse{VerifiedAt: timestamppb.New(c.VerifiedAt), Purpose: purposeProto(c.Purpose)}, nil
}
