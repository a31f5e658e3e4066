package ports

import (
	"context"
	"errors"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/andes-bank/andes/bff/web/domain"
	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
)

// errorDomain is the ErrorInfo.domain of bff-web's answers.
var errorDomain = rpcstatus.DomainOf(errorsv1.Domain_DOMAIN_BFF_WEB)

// refuse is bff-web's answer with reason r; the message is the reason itself,
// never a backend's text (the page words it).
func refuse(r errorsv1.Reason, meta map[string]string, details ...protoadapt.MessageV1) *connect.Error {
	return errorDomain.ConnectError(r, rpcstatus.Wire(r), meta, details...)
}

// sessionExpired is INVALID_TOKEN for the session cookie: the page signs in again.
func sessionExpired() *connect.Error {
	return refuse(errorsv1.Reason_REASON_INVALID_TOKEN, map[string]string{"token": "session"})
}

// sessionError maps the session use cases' errors once.
func sessionError(err error) error {
	switch {
	case errors.Is(err, domain.ErrNoSession), errors.Is(err, domain.ErrLoginState):
		return sessionExpired()
	case errors.Is(err, domain.ErrCSRF):
		// 403, not 401: the session is fine; this request is not.
		return refuse(errorsv1.Reason_REASON_CSRF_TOKEN_INVALID, nil)
	case errors.Is(err, domain.ErrAuthUnavailable):
		return refuse(errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE, map[string]string{rpcstatus.KeyRetryAfterSeconds: "1"})
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, errors.New("canceled"))
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("deadline exceeded"))
	}
	return refuse(errorsv1.Reason_REASON_INTERNAL, nil)
}

// backendError translates a customer or controller refusal into bff-web's own:
// the reason, its metadata and the details the page needs (a step-up challenge,
// the fields of a bad request) are kept; the backend's message and domain are not.
func backendError(err error) error {
	if _, ok := status.FromError(err); !ok {
		return sessionError(err)
	}
	r := rpcstatus.Read(err)
	code := connect.Code(r.Code)
	switch r.Code {
	case codes.Unimplemented:
		// Not built yet behind us: said plainly, so the page and tests can tell.
		return refuse(errorsv1.Reason_REASON_NOT_IMPLEMENTED, nil)
	case codes.Unavailable:
		return refuse(errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE, map[string]string{rpcstatus.KeyRetryAfterSeconds: "1"})
	case codes.Unauthenticated:
		return sessionExpired()
	case codes.Canceled, codes.DeadlineExceeded:
		return connect.NewError(code, errors.New(code.String()))
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.OK:
		return refuse(errorsv1.Reason_REASON_INTERNAL, nil)
	}
	reason := rpcstatus.Parse(r.Reason)
	if connect.Code(rpcstatus.Spec(reason).GetCode()) != code {
		// No reason of the contract, or one with another code: a backend's bug. The
		// page words it by its code.
		return connect.NewError(code, errors.New(code.String()))
	}
	var details []protoadapt.MessageV1
	if len(r.Violations) > 0 {
		details = append(details, &errdetails.BadRequest{FieldViolations: r.Violations})
	}
	for _, d := range r.Details {
		if ch, ok := d.(*authv1.StepUpChallenge); ok {
			details = append(details, ch)
		}
	}
	return refuse(reason, r.Metadata, details...)
}
