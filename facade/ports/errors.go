package ports

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/andes-bank/andes/facade/domain"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
)

// errorDomain is the ErrorInfo.domain of this process.
var errorDomain = rpcstatus.DomainOf(errorsv1.Domain_DOMAIN_FACADE)

// reasons maps the domain's errors to andes.errors.v1 reasons, once for every
// method and for GetTransaction's rejection_reason.
var reasons = []struct {
	err    error
	reason errorsv1.Reason
	msg    string
}{
	{domain.ErrNotFound, errorsv1.Reason_REASON_NOT_FOUND, "not found in the core"},
	{domain.ErrAlreadyExists, errorsv1.Reason_REASON_ALREADY_EXISTS, "a customer with this document already exists"},
	{domain.ErrInsufficientFunds, errorsv1.Reason_REASON_INSUFFICIENT_FUNDS, "the available balance does not cover the amount"},
	{domain.ErrAccountBlocked, errorsv1.Reason_REASON_ACCOUNT_BLOCKED, "an account taking part is blocked"},
	{domain.ErrAccountClosed, errorsv1.Reason_REASON_ACCOUNT_CLOSED, "an account taking part is closed"},
	{domain.ErrCurrencyMismatch, errorsv1.Reason_REASON_CURRENCY_MISMATCH, "the amount and the accounts are not all in one currency"},
	{domain.ErrSameAccount, errorsv1.Reason_REASON_SAME_ACCOUNT, "source and destination are the same account"},
	{domain.ErrIdempotencyMismatch, errorsv1.Reason_REASON_IDEMPOTENCY_MISMATCH, "the operation id was used with a different request"},
	{domain.ErrInProgress, errorsv1.Reason_REASON_IDEMPOTENCY_IN_PROGRESS, "an operation with this id is in progress"},
	{domain.ErrInvalid, errorsv1.Reason_REASON_VALIDATION_FAILED, "the core refused the request"},
	{domain.ErrAccountNotAllowed, errorsv1.Reason_REASON_VALIDATION_FAILED, "an account may not take part in this operation"},
	{domain.ErrUnavailable, errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE, "core banking is unavailable; nothing was done"},
}

// reasonOf returns the reason of a domain error.
func reasonOf(err error) (errorsv1.Reason, string, bool) {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.reason, r.msg, true
		}
	}
	return errorsv1.Reason_REASON_UNSPECIFIED, "", false
}

// toStatus maps an error to its gRPC status: domain errors to their reasons, with
// the status code each reason's spec names; anything else is returned as is and
// the platform answers Internal without its text.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	reason, msg, ok := reasonOf(err)
	if !ok {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return status.Error(codes.DeadlineExceeded, "deadline exceeded")
		case errors.Is(err, context.Canceled):
			return status.Error(codes.Canceled, "canceled")
		}
		return err
	}
	var (
		meta  map[string]string
		retry time.Duration
	)
	if d, ok := domain.Details(err); ok {
		if d.Field != "" && reason == errorsv1.Reason_REASON_VALIDATION_FAILED {
			return errorDomain.InvalidField(d.Field, msg)
		}
		retry = d.RetryAfter
	}
	if retry == 0 && rpcstatus.Spec(reason).GetRetryable() {
		retry = time.Second
	}
	if retry > 0 {
		meta = rpcstatus.RetryAfter(retry)
	}
	return errorDomain.Error(reason, msg, meta)
}
