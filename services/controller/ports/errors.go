package ports

import (
	"context"
	"errors"
	"strconv"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/services/controller/app"
	"github.com/andes-bank/andes/services/controller/domain"
)

// errorDomain is the ErrorInfo.domain of the controller's refusals.
const errorDomain = "controller.andes.bank"

// reasonStatus builds the status of a reason from its spec in andes.errors.v1:
// the code is data, not a switch of ours.
func reasonStatus(reason errorsv1.Reason, msg string, meta map[string]string, extra ...protoadapt.MessageV1) *status.Status {
	v := reason.Descriptor().Values().ByNumber(protoreflect.EnumNumber(reason))
	spec, _ := proto.GetExtension(v.Options(), errorsv1.E_ReasonSpec).(*errorsv1.ReasonSpec)
	st := status.New(codes.Code(spec.GetCode()), msg)
	details := append([]protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: spec.GetReason(), Domain: errorDomain, Metadata: meta}}, extra...)
	if withInfo, err := st.WithDetails(details...); err == nil {
		st = withInfo
	}
	return st
}

// reasonByName is a wire reason's enum value (FAILED operations keep the wire string).
func reasonByName(name string) errorsv1.Reason {
	for i := 0; i < errorsv1.Reason(0).Descriptor().Values().Len(); i++ {
		v := errorsv1.Reason(0).Descriptor().Values().Get(i)
		spec, _ := proto.GetExtension(v.Options(), errorsv1.E_ReasonSpec).(*errorsv1.ReasonSpec)
		if spec.GetReason() == name {
			return errorsv1.Reason(v.Number())
		}
	}
	return errorsv1.Reason_REASON_UNSPECIFIED
}

func validationStatus(msg string, violations ...*errdetails.BadRequest_FieldViolation) *status.Status {
	var extra []protoadapt.MessageV1
	if len(violations) > 0 {
		extra = append(extra, &errdetails.BadRequest{FieldViolations: violations})
	}
	return reasonStatus(errorsv1.Reason_REASON_VALIDATION_FAILED, msg, nil, extra...)
}

func (g *GRPC) validate(m proto.Message) error {
	err := g.validator.Validate(m)
	if err == nil {
		return nil
	}
	var ve *protovalidate.ValidationError
	if !errors.As(err, &ve) {
		return validationStatus("invalid request").Err()
	}
	var fvs []*errdetails.BadRequest_FieldViolation
	for _, v := range ve.Violations {
		fvs = append(fvs, &errdetails.BadRequest_FieldViolation{
			Field: protovalidate.FieldPathString(v.Proto.GetField()), Description: v.Proto.GetMessage()})
	}
	return validationStatus("invalid request", fvs...).Err()
}

func retryAfter(d time.Duration) map[string]string {
	return map[string]string{"retry_after_seconds": strconv.Itoa(max(int(d.Round(time.Second)/time.Second), 1))}
}

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
		return reasonStatus(errorsv1.Reason_REASON_STEP_UP_REQUIRED, "a one-time code was sent: send the same request again with the step_up proof",
			map[string]string{"challenge_id": c.ID},
			&authv1.StepUpChallenge{ChallengeId: c.ID, Purpose: purpose, Channel: authv1.StepUpChannel_STEP_UP_CHANNEL_SMS,
				MaskedDestination: c.MaskedDestination, ExpiresAt: timestamppb.New(c.ExpiresAt),
				ResendAvailableAt: timestamppb.New(c.ResendAvailableAt), AttemptsLeft: int32(c.AttemptsLeft)})
	case errors.As(err, &sui):
		return reasonStatus(errorsv1.Reason_REASON_STEP_UP_CODE_INVALID, "the one-time code is wrong",
			map[string]string{"attempts_left": strconv.Itoa(sui.AttemptsLeft)})
	case errors.Is(err, domain.ErrStepUpExpired):
		return reasonStatus(errorsv1.Reason_REASON_STEP_UP_EXPIRED, "the challenge expired or was used up: send the request again without a proof for a new code", nil)
	case errors.Is(err, domain.ErrNotFound):
		return reasonStatus(errorsv1.Reason_REASON_NOT_FOUND, "not found", nil)
	case errors.Is(err, domain.ErrUnauthenticated):
		return reasonStatus(errorsv1.Reason_REASON_INVALID_TOKEN, "the end user's access token is required", nil)
	case errors.As(err, &inv):
		return validationStatus(inv.Error(), &errdetails.BadRequest_FieldViolation{Field: inv.Field, Description: inv.Description})
	case errors.Is(err, domain.ErrMismatch):
		return reasonStatus(errorsv1.Reason_REASON_IDEMPOTENCY_MISMATCH, "the idempotency key was used with a different request", nil)
	case errors.As(err, &busy):
		return reasonStatus(errorsv1.Reason_REASON_IDEMPOTENCY_IN_PROGRESS,
			"a request with this idempotency key is in progress; follow the operation with GetOperation or retry later", retryAfter(busy.RetryAfter))
	case errors.Is(err, domain.ErrInsufficientFunds):
		return reasonStatus(errorsv1.Reason_REASON_INSUFFICIENT_FUNDS, "the available balance does not cover the amount", nil)
	case errors.As(err, &state):
		var meta map[string]string
		if state.AccountID != "" {
			meta = map[string]string{"account_id": state.AccountID}
		}
		if errors.Is(err, domain.ErrAccountClosed) {
			return reasonStatus(errorsv1.Reason_REASON_ACCOUNT_CLOSED, "an account taking part is closed", meta)
		}
		return reasonStatus(errorsv1.Reason_REASON_ACCOUNT_BLOCKED, "an account taking part is blocked", meta)
	case errors.Is(err, domain.ErrAccountBlocked):
		return reasonStatus(errorsv1.Reason_REASON_ACCOUNT_BLOCKED, "an account taking part is blocked", nil)
	case errors.Is(err, domain.ErrAccountClosed):
		return reasonStatus(errorsv1.Reason_REASON_ACCOUNT_CLOSED, "an account taking part is closed", nil)
	case errors.Is(err, domain.ErrCustomerBlocked):
		return reasonStatus(errorsv1.Reason_REASON_CUSTOMER_BLOCKED, "the customer may not move money", nil)
	case errors.Is(err, domain.ErrCurrencyMismatch):
		return reasonStatus(errorsv1.Reason_REASON_CURRENCY_MISMATCH, "the amount and the accounts are not all in one currency", nil)
	case errors.Is(err, domain.ErrSameAccount):
		return reasonStatus(errorsv1.Reason_REASON_SAME_ACCOUNT, "source and destination are the same account", nil)
	case errors.As(err, &tl):
		return reasonStatus(errorsv1.Reason_REASON_TRANSACTION_LIMIT_EXCEEDED, tl.Error(),
			map[string]string{"limit_minor": strconv.FormatInt(tl.Limit.Minor, 10), "currency": tl.Limit.Currency})
	case errors.As(err, &dl):
		return reasonStatus(errorsv1.Reason_REASON_DAILY_LIMIT_EXCEEDED, dl.Error(),
			map[string]string{"limit_minor": strconv.FormatInt(dl.Limit.Minor, 10),
				"remaining_minor": strconv.FormatInt(dl.Remaining.Minor, 10), "currency": dl.Limit.Currency})
	case errors.Is(err, domain.ErrAgentNotEnabled):
		return reasonStatus(errorsv1.Reason_REASON_AGENT_NOT_ENABLED, "the caller is not enabled as a cash agent", nil)
	case errors.Is(err, domain.ErrUnavailable):
		return reasonStatus(errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE, "a service the controller needs is unavailable; nothing was done",
			retryAfter(time.Second))
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
