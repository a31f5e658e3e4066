package ports

import (
	"context"
	"errors"
	"slices"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/andes-bank/andes/bff/mobile/domain"
	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	"github.com/andes-bank/andes/platform/tokens"
)

// errorDomain is the ErrorInfo.domain of every refusal bff-mobile answers: the
// services' reasons are kept, their domains are not (the app talks to one API).
const errorDomain = "bff-mobile.andes.bank"

// reasonCodes maps each reason bff-mobile may answer (common ones and those that
// list DOMAIN_BFF_MOBILE) to its code, read once from the andes.errors.v1 contract.
var reasonCodes = func() map[string]connect.Code {
	m := map[string]connect.Code{}
	values := errorsv1.Reason(0).Descriptor().Values()
	for i := range values.Len() {
		spec, _ := proto.GetExtension(values.Get(i).Options(), errorsv1.E_ReasonSpec).(*errorsv1.ReasonSpec)
		if spec.GetReason() == "" {
			continue
		}
		if spec.GetCommon() || slices.Contains(spec.GetDomains(), errorsv1.Domain_DOMAIN_BFF_MOBILE) {
			m[spec.GetReason()] = connect.Code(spec.GetCode())
		}
	}
	return m
}()

// messages are the stable texts of the refusals the app shows most; the others
// get their reason in words. A service's own message never reaches the app.
var messages = map[string]string{
	"VALIDATION_FAILED":          "invalid request",
	"INVALID_TOKEN":              "a valid customer access token is required",
	"NOT_FOUND":                  "not found",
	"DEPENDENCY_UNAVAILABLE":     "temporarily unavailable, try again",
	"INSUFFICIENT_FUNDS":         "the available balance does not cover the amount",
	"DAILY_LIMIT_EXCEEDED":       "the transfer would pass the daily limit",
	"TRANSACTION_LIMIT_EXCEEDED": "the amount is outside the per-transfer limits",
	"STEP_UP_REQUIRED":           "a one-time code was sent: send the same request again with it",
	"STEP_UP_CODE_INVALID":       "the one-time code is wrong",
	"STEP_UP_EXPIRED":            "the one-time code expired: send the request again without it for a new one",
	"IDEMPOTENCY_MISMATCH":       "this idempotency key was used for a different request",
	"IDEMPOTENCY_IN_PROGRESS":    "this request is still being processed, try again shortly",
}

func message(reason string) string {
	if m, ok := messages[reason]; ok {
		return m
	}
	return strings.ToLower(strings.ReplaceAll(reason, "_", " "))
}

// toConnect maps the use cases' errors to Connect errors, once for every method.
// Refusals keep their reason; anything unexpected is Internal without its text
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
		if code, ok := reasonCodes[r.Reason]; ok {
			return refusalError(code, r)
		}
		c.log.ErrorContext(ctx, "a service answered a reason bff-mobile does not answer", "reason", r.Reason)
	case errors.Is(err, domain.ErrNotImplemented):
		return connect.NewError(connect.CodeUnimplemented, errors.New("not available yet"))
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("deadline exceeded"))
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, errors.New("canceled"))
	default:
		c.log.ErrorContext(ctx, "call failed", "err", err)
	}
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}

func refusalError(code connect.Code, r *domain.Refusal) *connect.Error {
	ce := connect.NewError(code, errors.New(message(r.Reason)))
	details := []proto.Message{&errdetails.ErrorInfo{Reason: r.Reason, Domain: errorDomain, Metadata: r.Metadata}}
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
	for _, d := range details {
		if ed, err := connect.NewErrorDetail(d); err == nil {
			ce.AddDetail(ed)
		}
	}
	return ce
}
