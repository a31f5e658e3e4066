package ports

import (
	"context"
	"errors"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/andes-bank/andes/bff/mobile/domain"
	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/tokens"
)

// errorDomain is the ErrorInfo.domain of every refusal bff-mobile answers: the
// services' reasons are kept, their domains are not (the app talks to one API).
var errorDomain = rpcstatus.DomainOf(errorsv1.Domain_DOMAIN_BFF_MOBILE)

// messages are the stable texts of the refusals the app shows most; the others
// get their reason in words. A service's own message never reaches the app.
var messages = map[errorsv1.Reason]string{
	errorsv1.Reason_REASON_VALIDATION_FAILED:          "invalid request",
	errorsv1.Reason_REASON_INVALID_TOKEN:              "a valid customer access token is required",
	errorsv1.Reason_REASON_NOT_FOUND:                  "not found",
	errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE:     "temporarily unavailable, try again",
	errorsv1.Reason_REASON_INSUFFICIENT_FUNDS:         "the available balance does not cover the amount",
	errorsv1.Reason_REASON_DAILY_LIMIT_EXCEEDED:       "the transfer would pass the daily limit",
	errorsv1.Reason_REASON_TRANSACTION_LIMIT_EXCEEDED: "the amount is outside the per-transfer limits",
	errorsv1.Reason_REASON_STEP_UP_REQUIRED:           "a one-time code was sent: send the same request again with it",
	errorsv1.Reason_REASON_STEP_UP_CODE_INVALID:       "the one-time code is wrong",
	errorsv1.Reason_REASON_STEP_UP_EXPIRED:            "the one-time code expired: send the request again without it for a new one",
	errorsv1.Reason_REASON_IDEMPOTENCY_MISMATCH:       "this idempotency key was used for a different request",
	errorsv1.Reason_REASON_IDEMPOTENCY_IN_PROGRESS:    "this request is still being processed, try again shortly",
	errorsv1.Reason_REASON_NOT_IMPLEMENTED:            "not available yet",
	errorsv1.Reason_REASON_INTERNAL:                   "internal error",
}

func message(r errorsv1.Reason) string {
	if m, ok := messages[r]; ok {
		return m
	}
	return rpcstatus.Words(rpcstatus.Wire(r))
}

// refuse is bff-mobile's answer with reason r.
func refuse(r errorsv1.Reason, meta map[string]string, details ...protoadapt.MessageV1) *connect.Error {
	return errorDomain.ConnectError(r, message(r), meta, details...)
}

// toConnect maps the use cases' errors to Connect errors, once for every method.
// Refusals keep their reason; anything unexpected is INTERNAL without its text
// (logged here, returned nowhere else).
func (c *Connect) toConnect(ctx context.Context, err error) error {
	var (
		ce *connect.Error
		se *tokens.ScopeError
		r  *domain.Refusal
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce), errors.As(err, &se):
		return err // already an answer; the token interceptor converts scope errors
	case errors.As(err, &r):
		if reason := rpcstatus.Parse(r.Reason); rpcstatus.AnsweredBy(reason, errorsv1.Domain_DOMAIN_BFF_MOBILE) {
			return refusal(reason, r)
		}
		c.log.ErrorContext(ctx, "a service answered a reason bff-mobile does not answer", "reason", r.Reason)
	case errors.Is(err, domain.ErrNotImplemented):
		return refuse(errorsv1.Reason_REASON_NOT_IMPLEMENTED, nil)
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("deadline exceeded"))
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, errors.New("canceled"))
	default:
		c.log.ErrorContext(ctx, "call failed", "err", err)
	}
	return refuse(errorsv1.Reason_REASON_INTERNAL, nil)
}

// refusal passes a service's refusal on in bff-mobile's domain, with the details
// the app acts on.
func refusal(reason errorsv1.Reason, r *domain.Refusal) *connect.Error {
	var details []protoadapt.MessageV1
	if len(r.Violations) > 0 {
		br := &errdetails.BadRequest{}
		for _, v := range r.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		details = append(details, br)
	}
	if ch := r.Challenge; ch != nil {
		details = append(details, &authv1.StepUpChallenge{
			ChallengeId:       ch.ID,
			Purpose:           authv1.StepUpPurpose(authv1.StepUpPurpose_value["STEP_UP_PURPOSE_"+ch.Purpose]),
			Channel:           authv1.StepUpChannel(authv1.StepUpChannel_value["STEP_UP_CHANNEL_"+ch.Channel]),
			MaskedDestination: ch.MaskedDestination,
			ExpiresAt:         timestamppb.New(ch.ExpiresAt),
			ResendAvailableAt: timestamppb.New(ch.ResendAvailableAt),
			AttemptsLeft:      ch.AttemptsLeft,
		})
	}
	return refuse(reason, r.Metadata, details...)
}
