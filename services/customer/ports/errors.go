package ports

import (
	"context"
	"errors"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/reflect/protoreflect"

	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	"github.com/andes-bank/andes/services/customer/domain"
)

// errorDomain is the ErrorInfo.domain of the customer service's refusals.
const errorDomain = "customer.andes.bank"

func reasonStatus(reason errorsv1.Reason, msg string, meta map[string]string) *status.Status {
	v := reason.Descriptor().Values().ByNumber(protoreflect.EnumNumber(reason))
	spec, _ := proto.GetExtension(v.Options(), errorsv1.E_ReasonSpec).(*errorsv1.ReasonSpec)
	st := status.New(codes.Code(spec.GetCode()), msg)
	if withInfo, err := st.WithDetails(&errdetails.ErrorInfo{Reason: spec.GetReason(), Domain: errorDomain, Metadata: meta}); err == nil {
		st = withInfo
	}
	return st
}

// validationStatus is VALIDATION_FAILED with a BadRequest naming each field.
func validationStatus(msg string, violations ...*errdetails.BadRequest_FieldViolation) error {
	st := status.New(codes.InvalidArgument, msg)
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: "VALIDATION_FAILED", Domain: errorDomain}}
	if len(violations) > 0 {
		details = append(details, &errdetails.BadRequest{FieldViolations: violations})
	}
	if d, err := st.WithDetails(details...); err == nil {
		st = d
	}
	return st.Err()
}

func (g *GRPC) validate(m proto.Message) error {
	err := g.validator.Validate(m)
	if err == nil {
		return nil
	}
	var ve *protovalidate.ValidationError
	if !errors.As(err, &ve) {
		return validationStatus("invalid request")
	}
	var fvs []*errdetails.BadRequest_FieldViolation
	for _, v := range ve.Violations {
		fvs = append(fvs, &errdetails.BadRequest_FieldViolation{
			Field: protovalidate.FieldPathString(v.Proto.GetField()), Description: v.Proto.GetMessage()})
	}
	return validationStatus("invalid request", fvs...)
}

// toStatus maps domain errors once for every method. Not found and not yours are
// one answer with one message, so a caller learns nothing from another's ids.
func toStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, domain.ErrNotFound):
		return reasonStatus(errorsv1.Reason_REASON_NOT_FOUND, "not found", nil).Err()
	case errors.Is(err, domain.ErrUnauthenticated):
		return reasonStatus(errorsv1.Reason_REASON_INVALID_TOKEN, "the end user's access token is required", nil).Err()
	case errors.Is(err, domain.ErrInvalid):
		return validationStatus(err.Error())
	case errors.Is(err, domain.ErrUnavailable):
		return reasonStatus(errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE, "the core banking data is unavailable",
			map[string]string{"retry_after_seconds": "1"}).Err()
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	}
	// The platform's boundary logs it and answers Internal without the text.
	return err
}
