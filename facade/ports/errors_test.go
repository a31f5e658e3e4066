package ports

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/andes-bank/andes/facade/domain"
	"github.com/andes-bank/andes/platform/rpcstatus"
)

func TestEveryDomainErrorHasItsReason(t *testing.T) {
	cases := []struct {
		err    error
		code   codes.Code
		reason string
	}{
		{domain.ErrNotFound, codes.NotFound, "NOT_FOUND"},
		{domain.ErrAlreadyExists, codes.AlreadyExists, "ALREADY_EXISTS"},
		{domain.ErrInsufficientFunds, codes.FailedPrecondition, "INSUFFICIENT_FUNDS"},
		{domain.ErrAccountBlocked, codes.FailedPrecondition, "ACCOUNT_BLOCKED"},
		{domain.ErrAccountClosed, codes.FailedPrecondition, "ACCOUNT_CLOSED"},
		{domain.ErrCurrencyMismatch, codes.FailedPrecondition, "CURRENCY_MISMATCH"},
		{domain.ErrSameAccount, codes.InvalidArgument, "SAME_ACCOUNT"},
		{domain.ErrIdempotencyMismatch, codes.FailedPrecondition, "IDEMPOTENCY_MISMATCH"},
		{domain.ErrInProgress, codes.Aborted, "IDEMPOTENCY_IN_PROGRESS"},
		{domain.ErrInvalid, codes.InvalidArgument, "VALIDATION_FAILED"},
		{domain.ErrAccountNotAllowed, codes.InvalidArgument, "VALIDATION_FAILED"},
		{domain.ErrUnavailable, codes.Unavailable, "DEPENDENCY_UNAVAILABLE"},
		// Wrapped, with a cause that is a context error: the domain error wins.
		{domain.Errorf(domain.ErrUnavailable, "timeout").WithCause(context.DeadlineExceeded), codes.Unavailable, "DEPENDENCY_UNAVAILABLE"},
		{fmt.Errorf("while transferring: %w", domain.Errorf(domain.ErrInsufficientFunds, "x")), codes.FailedPrecondition, "INSUFFICIENT_FUNDS"},
	}
	for _, c := range cases {
		t.Run(c.err.Error(), func(t *testing.T) {
			r := rpcstatus.Read(toStatus(c.err))
			if r.Code != c.code {
				t.Fatalf("code %s, want %s", r.Code, c.code)
			}
			if r.Reason != c.reason || r.Domain != "facade.andes.bank" {
				t.Fatalf("error info %q %q, want %s", r.Reason, r.Domain, c.reason)
			}
		})
	}
}

func TestRetryableReasonsSayWhen(t *testing.T) {
	e := domain.Errorf(domain.ErrUnavailable, "open")
	e.RetryAfter = 5 * time.Second
	for err, want := range map[error]string{e: "5", domain.ErrUnavailable: "1", domain.ErrInProgress: "1"} {
		r := rpcstatus.Read(toStatus(err))
		if r.Reason == "" {
			t.Errorf("%v: no ErrorInfo in %+v", err, r)
		} else if got := r.Metadata[rpcstatus.KeyRetryAfterSeconds]; got != want {
			t.Errorf("%v: retry after %q, want %q", err, got, want)
		}
	}
}

func TestUnmappedErrorsAreNotDisguisedAsRefusals(t *testing.T) {
	if err := toStatus(errors.New("corebank: unexpected answer 404 CB-4045")); status.Code(err) != codes.Unknown {
		t.Fatalf("a bug became %v", err) // the platform's boundary turns it into Internal
	}
	if err := toStatus(context.DeadlineExceeded); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("deadline: %v", err)
	}
	// A field the core refused is named in a BadRequest.
	e := domain.Errorf(domain.ErrInvalid, "bad")
	e.Field = "amount_minor"
	if r := rpcstatus.Read(toStatus(e)); len(r.Violations) == 0 || r.Violations[0].GetField() != "amount_minor" {
		t.Fatalf("no field violation: %+v", r)
	}
}
