package ports

import (
	"context"
	"errors"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/services/controller/app"
	"github.com/andes-bank/andes/services/controller/domain"
)

// errorDomain is the ErrorInfo.domain of the controller's refusals.
var errorDomain = rpcstatus.DomainOf(errorsv1.Domain_DOMAIN_CONTROLLER)

// toStatus maps the domain's errors once for every method. Business refusals
// are never Internal; not found and not yours are one answer.
func toStatus(err error) *status.Status {
	var (
		inv   *domain.InvalidError
		tl    *domain.TransactionLimitError
		dl    *domain.DailyLimitError
		su    *domain.StepUpRequired
		sui   *domain.StepUpInvalid
		state *domain.AccountStateError
		busy  *app.RetryAfterError
		scope *tokens.ScopeError
	)
	switch {
	case errors.As(err, &scope):
		return scope.GRPCStatus()
	case errors.As(err, &su):
		c := su.Challenge
		purpose := authv1.StepUpPurpose_STEP_UP_PURPOSE_NEW_BENEFICIARY
		if c.Purpose == domain.PurposeCashOut {
			purpose = authv1.StepUpPurpose_STEP_UP_PURPOSE_CASH_OUT
		}
		return errorDomain.Status(errorsv1.Reason_REASON_STEP_UP_REQUIRED, "a one-time code was sent: send the same request again with the step_up proof",
			map[string]string{rpcstatus.KeyChallengeID: c.ID},
			&authv1.StepUpChallenge{ChallengeId: c.ID, Purpose: purpose, Channel: authv1.StepUpChannel_STEP_UP_CHANNEL_SMS,
				MaskedDestination: c.MaskedDestination, ExpiresAt: timestamppb.New(c.ExpiresAt),
				ResendAvailableAt: timestamppb.New(c.ResendAvailableAt), AttemptsLeft: int32(c.AttemptsLeft)})
	case errors.As(err, &sui):
		return errorDomain.Status(errorsv1.Reason_REASON_STEP_UP_CODE_INVALID, "the one-time code is wrong",
			map[string]string{rpcstatus.KeyAttemptsLeft: strconv.Itoa(sui.AttemptsLeft)})
	case errors.Is(err, domain.ErrStepUpExpired):
		return errorDomain.Status(errorsv1.Reason_REASON_STEP_UP_EXPIRED, "the challenge expired or was used up: send the request again without a proof for a new code", nil)
	case errors.Is(err, domain.ErrNotFound):
		return errorDomain.Status(errorsv1.Reason_REASON_NOT_FOUND, "not found", nil)
	case errors.Is(err, domain.ErrUnauthenticated):
		return errorDomain.Status(errorsv1.Reason_REASON_INVALID_TOKEN, "the end user's access token is required", nil)
	case errors.As(err, &inv):
		return status.Convert(errorDomain.Invalid(inv.Error(), &errdetails.BadRequest_FieldViolation{Field: inv.Field, Description: inv.Description}))
	case errors.Is(err, domain.ErrMismatch):
		return errorDomain.Status(errorsv1.Reason_REASON_IDEMPOTENCY_MISMATCH, "the idempotency key was used with a different request", nil)
	case errors.As(err, &busy):
		return errorDomain.Status(errorsv1.Reason_REASON_IDEMPOTENCY_IN_PROGRESS,
			"a request with this idempotency key is in progress; follow the operation with GetOperation or retry later", rpcstatus.RetryAfter(busy.RetryAfter))
	case errors.Is(err, domain.ErrInsufficientFunds):
		return errorDomain.Status(errorsv1.Reason_REASON_INSUFFICIENT_FUNDS, "the available balance does not cover the amount", nil)
	case errors.As(err, &state):
		var meta map[string]string
		if state.AccountID != "" {
			meta = map[string]string{rpcstatus.KeyAccountID: state.AccountID}
		}
		if errors.Is(err, domain.ErrAccountClosed) {
			return errorDomain.Status(errorsv1.Reason_REASON_ACCOUNT_CLOSED, "an account taking part is closed", meta)
		}
		return errorDomain.Status(errorsv1.Reason_REASON_ACCOUNT_BLOCKED, "an account taking part is blocked", meta)
	case errors.Is(err, domain.ErrAccountBlocked):
		return errorDomain.Status(errorsv1.Reason_REASON_ACCOUNT_BLOCKED, "an account taking part is blocked", nil)
	case errors.Is(err, domain.ErrAccountClosed):
		return errorDomain.Status(errorsv1.Reason_REASON_ACCOUNT_CLOSED, "an account taking part is closed", nil)
	case errors.Is(err, domain.ErrCustomerBlocked):
		return errorDomain.Status(errorsv1.Reason_REASON_CUSTOMER_BLOCKED, "the customer may not move money", nil)
	case errors.Is(err, domain.ErrCurrencyMismatch):
		return errorDomain.Status(errorsv1.Reason_REASON_CURRENCY_MISMATCH, "the amount and the accounts are not all in one currency", nil)
	case errors.Is(err, domain.ErrSameAccount):
		return errorDomain.Status(errorsv1.Reason_REASON_SAME_ACCOUNT, "source and destination are the same account", nil)
	case errors.As(err, &tl):
		return errorDomain.Status(errorsv1.Reason_REASON_TRANSACTION_LIMIT_EXCEEDED, tl.Error(),
			map[string]string{rpcstatus.KeyLimitMinor: strconv.FormatInt(tl.Limit.Minor, 10), rpcstatus.KeyCurrency: tl.Limit.Currency})
	case errors.As(err, &dl):
		return errorDomain.Status(errorsv1.Reason_REASON_DAILY_LIMIT_EXCEEDED, dl.Error(),
			map[string]string{rpcstatus.KeyLimitMinor: strconv.FormatInt(dl.Limit.Minor, 10),
				rpcstatus.KeyRemainingMinor: strconv.FormatInt(dl.Remaining.Minor, 10), rpcstatus.KeyCurrency: dl.Limit.Currency})
	case errors.Is(err, domain.ErrAgentNotEnabled):
		return errorDomain.Status(errorsv1.Reason_REASON_AGENT_NOT_ENABLED, "the caller is not enabled as a cash agent", nil)
	case errors.Is(err, domain.ErrUnavailable):
		return errorDomain.Status(errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE, "a service the controller needs is unavailable; nothing was done",
			rpcstatus.RetryAfter(time.Second))
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, "deadline exceeded")
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, "canceled")
	}
	return nil
}

// statusErr is toStatus for handlers: anything unmapped goes to the platform's
// boundary, which logs it and answers Internal without its text.
func statusErr(err error) error {
	if st := toStatus(err); st != nil {
		return st.Err()
	}
	return err
}
