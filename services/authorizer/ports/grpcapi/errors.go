package grpcapi

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/services/authorizer/domain"
)

// errorDomain is the ErrorInfo.domain of this process.
var errorDomain = rpcstatus.DomainOf(errorsv1.Domain_DOMAIN_AUTHORIZER)

// toStatus maps an error to its gRPC status once, for every method: domain errors to
// their reasons (status codes from the reasons' specs in andes.errors.v1), anything
// unexpected to Internal without its text.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok && !errors.Is(err, context.Canceled) {
		return err // already a status (a field named by the port)
	}
	var (
		reason errorsv1.Reason
		msg    string
		meta   map[string]string
	)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		reason, msg = errorsv1.Reason_REASON_NOT_FOUND, "no such card or card account"
	case errors.Is(err, domain.ErrCardState):
		reason, msg = errorsv1.Reason_REASON_CARD_STATE_INVALID, "the card's state does not allow this"
	case errors.Is(err, domain.ErrAccountNotActive):
		reason, msg = errorsv1.Reason_REASON_ACCOUNT_BLOCKED, "the card account is not active"
	case errors.Is(err, domain.ErrInvalidPINBlock):
		reason, msg = errorsv1.Reason_REASON_PIN_BLOCK_INVALID, "the PIN block could not be used"
	case errors.Is(err, domain.ErrCurrency):
		reason, msg = errorsv1.Reason_REASON_CURRENCY_MISMATCH, "currency not supported or not the card account's"
	case errors.Is(err, domain.ErrInvalidLimits), errors.Is(err, domain.ErrInvalidAmount), errors.Is(err, domain.ErrInvalidCardholder):
		reason, msg = errorsv1.Reason_REASON_VALIDATION_FAILED, err.Error()
	case errors.Is(err, idempotency.ErrMismatch):
		reason, msg = errorsv1.Reason_REASON_IDEMPOTENCY_MISMATCH, "the idempotency key was used with a different request"
	case errors.Is(err, idempotency.ErrInProgress):
		reason, msg = errorsv1.Reason_REASON_IDEMPOTENCY_IN_PROGRESS, "a request with this idempotency key is in progress"
		if d, ok := idempotency.RetryAfter(err); ok {
			meta = rpcstatus.RetryAfter(d)
		}
	case errors.Is(err, domain.ErrHSMUnavailable):
		reason, msg = errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE, "the HSM is unavailable"
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	default:
		return err // the platform's interceptor logs it and answers Internal
	}
	return errorDomain.Error(reason, msg, meta)
}
