package ports

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/services/customer/domain"
)

// errorDomain is the ErrorInfo.domain of the customer service's refusals.
var errorDomain = rpcstatus.DomainOf(errorsv1.Domain_DOMAIN_CUSTOMER)

// reasons maps the domain's errors to andes.errors.v1 reasons, once for every
// method. Not found and not yours are one answer with one message, so a caller
// learns nothing from another's ids.
var reasons = []struct {
	err    error
	reason errorsv1.Reason
	msg    string
	meta   map[string]string
}{
	{domain.ErrNotFound, errorsv1.Reason_REASON_NOT_FOUND, "not found", nil},
	{domain.ErrUnauthenticated, errorsv1.Reason_REASON_INVALID_TOKEN, "the end user's access token is required", nil},
	{domain.ErrUnavailable, errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE, "the core banking data is unavailable", rpcstatus.RetryAfter(time.Second)},
}

// toStatus maps an error to its status; anything unmapped goes to the platform's
// boundary, which logs it and answers INTERNAL without the text.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return errorDomain.Error(r.reason, r.msg, r.meta)
		}
	}
	switch {
	case errors.Is(err, domain.ErrInvalid):
		return errorDomain.Invalid(err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	}
	return err
}
