package ports

import (
	"context"
	"errors"

	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/andes-bank/andes/bff/web/domain"
	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
)

// errorDomain is the ErrorInfo.domain of bff-web's answers.
const errorDomain = "bff-web.andes.bank"

// reasonError is an error with one ErrorInfo; the message is the reason itself,
// never a backend's text.
func reasonError(code connect.Code, reason string, meta map[string]string, extra ...proto.Message) *connect.Error {
	ce := connect.NewError(code, errors.New(reason))
	if d, err := connect.NewErrorDetail(&errdetails.ErrorInfo{Reason: reason, Domain: errorDomain, Metadata: meta}); err == nil {
		ce.AddDetail(d)
	}
	for _, m := range extra {
		if d, err := connect.NewErrorDetail(m); err == nil {
			ce.AddDetail(d)
		}
	}
	return ce
}

// sessionError maps the session use cases' errors once.
func sessionError(err error) error {
	switch {
	case errors.Is(err, domain.ErrNoSession), errors.Is(err, domain.ErrLoginState):
		return reasonError(connect.CodeUnauthenticated, "INVALID_TOKEN", map[string]string{"token": "session"})
	case errors.Is(err, domain.ErrCSRF):
		// andes.errors.v1 has no CSRF reason: the CSRF token is a token, and the
		// answer is 403 (the session is fine; this request is not).
		return reasonError(connect.CodePermissionDenied, "INVALID_TOKEN", map[string]string{"token": "csrf"})
	case errors.Is(err, domain.ErrAuthUnavailable):
		return reasonError(connect.CodeUnavailable, "DEPENDENCY_UNAVAILABLE", map[string]string{"retry_after_seconds": "1"})
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, errors.New("canceled"))
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("deadline exceeded"))
	}
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}

// backendError translates a customer or controller refusal into bff-web's own:
// the reason, its metadata and the details the page needs (a step-up challenge,
// the fields of a bad request) are kept; the backend's message and domain are not.
func backendError(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return sessionError(err)
	}
	var info *errdetails.ErrorInfo
	var extra []proto.Message
	for _, d := range st.Details() {
		switch v := d.(type) {
		case *errdetails.ErrorInfo:
			info = v
		case *errdetails.BadRequest:
			extra = append(extra, v)
		case *authv1.StepUpChallenge:
			extra = append(extra, v)
		}
	}
	code := connect.Code(st.Code())
	switch st.Code() {
	case codes.Unimplemented:
		// Not built yet behind us: said plainly, so the page and tests can tell.
		return connect.NewError(connect.CodeUnimplemented, errors.New("not available yet"))
	case codes.Unavailable:
		return reasonError(connect.CodeUnavailable, "DEPENDENCY_UNAVAILABLE", map[string]string{"retry_after_seconds": "1"})
	case codes.Unauthenticated:
		return reasonError(connect.CodeUnauthenticated, "INVALID_TOKEN", map[string]string{"token": "session"})
	case codes.Canceled, codes.DeadlineExceeded:
		return connect.NewError(code, errors.New(code.String()))
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.OK:
		return connect.NewError(connect.CodeInternal, errors.New("internal error"))
	}
	if info == nil {
		return connect.NewError(code, errors.New(code.String()))
	}
	return reasonError(code, info.GetReason(), info.GetMetadata(), extra...)
}

// validationError is VALIDATION_FAILED with a BadRequest naming each field.
func validationError(err error) error {
	var fvs []*errdetails.BadRequest_FieldViolation
	var ve *protovalidate.ValidationError
	if errors.As(err, &ve) {
		for _, v := range ve.Violations {
			fvs = append(fvs, &errdetails.BadRequest_FieldViolation{
				Field: protovalidate.FieldPathString(v.Proto.GetField()), Description: v.Proto.GetMessage()})
		}
	}
	return reasonError(connect.CodeInvalidArgument, "VALIDATION_FAILED", nil, &errdetails.BadRequest{FieldViolations: fvs})
}
