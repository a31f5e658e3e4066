package ports

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/protoadapt"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	partnerv1 "github.com/andes-bank/andes/gen/andes/partner/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
)

// errorDomain is the ErrorInfo.domain of bff-partner's answers.
var errorDomain = rpcstatus.DomainOf(errorsv1.Domain_DOMAIN_BFF_PARTNER)

// messages are the texts the gateway sends with each reason: a backend's own text
// never reaches a partner (DESIGN.md section 5), and an id that does not exist and one
// that is another partner's get the very same words.
var messages = map[errorsv1.Reason]string{
	errorsv1.Reason_REASON_VALIDATION_FAILED:          "the request breaks an input rule",
	errorsv1.Reason_REASON_INVALID_TOKEN:              "a valid access token is required",
	errorsv1.Reason_REASON_INSUFFICIENT_SCOPE:         "the access token lacks a scope this route needs",
	errorsv1.Reason_REASON_NOT_FOUND:                  "not found",
	errorsv1.Reason_REASON_ALREADY_EXISTS:             "it already exists",
	errorsv1.Reason_REASON_RATE_LIMITED:               "too many requests; retry after the time in Retry-After",
	errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE:     "a service needed is unavailable; nothing was done, retry with the same Idempotency-Key",
	errorsv1.Reason_REASON_IDEMPOTENCY_KEY_MISSING:    "this route needs an Idempotency-Key header",
	errorsv1.Reason_REASON_IDEMPOTENCY_MISMATCH:       "the Idempotency-Key was used before with a different request",
	errorsv1.Reason_REASON_IDEMPOTENCY_IN_PROGRESS:    "the first request with this Idempotency-Key is still running",
	errorsv1.Reason_REASON_INSUFFICIENT_FUNDS:         "the account's available balance does not cover the amount",
	errorsv1.Reason_REASON_ACCOUNT_BLOCKED:            "an account taking part is blocked",
	errorsv1.Reason_REASON_ACCOUNT_CLOSED:             "an account taking part is closed",
	errorsv1.Reason_REASON_CURRENCY_MISMATCH:          "the amount's currency differs from an account's",
	errorsv1.Reason_REASON_SAME_ACCOUNT:               "source and destination are the same account",
	errorsv1.Reason_REASON_TRANSACTION_LIMIT_EXCEEDED: "the amount is outside the per-operation limits",
	errorsv1.Reason_REASON_DAILY_LIMIT_EXCEEDED:       "the customer's daily limit would be passed",
	errorsv1.Reason_REASON_AGENT_NOT_ENABLED:          "the caller is not enabled as a cash agent",
	errorsv1.Reason_REASON_STEP_UP_REQUIRED:           "a one-time code was sent to the customer; send the same request with step_up",
	errorsv1.Reason_REASON_STEP_UP_CODE_INVALID:       "the one-time code is wrong",
	errorsv1.Reason_REASON_STEP_UP_EXPIRED:            "the one-time code expired or was used up; send the request without step_up for a new one",
	errorsv1.Reason_REASON_CUSTOMER_BLOCKED:           "the customer is blocked",
	errorsv1.Reason_REASON_NOT_IMPLEMENTED:            "this operation is not available yet",
	errorsv1.Reason_REASON_INTERNAL:                   "internal error; quote the request_id to support",
	errorsv1.Reason_REASON_METHOD_NOT_ALLOWED:         "this path does not accept this method",
}

// refusal builds the status of a refusal with reason, in the gateway's domain; an
// empty msg is the reason's stable text.
func refusal(reason errorsv1.Reason, msg string, meta map[string]string, extra ...protoadapt.MessageV1) *status.Status {
	if msg == "" {
		msg = messages[reason]
	}
	return errorDomain.Status(reason, msg, meta, extra...)
}

func refuse(reason errorsv1.Reason, meta map[string]string) error {
	return refusal(reason, "", meta).Err()
}

func notFound() error { return refuse(errorsv1.Reason_REASON_NOT_FOUND, nil) }

// translate turns an internal service's error into the gateway's own: the reason
// and the facts a partner may see are kept, the backend's domain and words are not.
// Errors without a reason are classified by their code; what cannot be classified is
// INTERNAL, logged here with the request id the client gets.
func translate(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); !ok {
		switch {
		case errors.Is(err, context.Canceled):
			return status.Error(codes.Canceled, "the request was canceled")
		case errors.Is(err, context.DeadlineExceeded):
			return refuse(errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE, nil)
		}
		return internal(ctx, log, err)
	}
	r := rpcstatus.Read(err)
	if reason := rpcstatus.Parse(r.Reason); reason != errorsv1.Reason_REASON_UNSPECIFIED && reason != errorsv1.Reason_REASON_INTERNAL {
		var extra []protoadapt.MessageV1
		if len(r.Violations) > 0 {
			extra = append(extra, &errdetails.BadRequest{FieldViolations: r.Violations})
		}
		for _, d := range r.Details {
			if ch, ok := d.(*authv1.StepUpChallenge); ok {
				extra = append(extra, ch)
			}
		}
		return refusal(reason, "", rpcstatus.Documented(r.Metadata), extra...).Err()
	}
	switch r.Code {
	case codes.NotFound:
		return notFound()
	case codes.Unimplemented:
		return refuse(errorsv1.Reason_REASON_NOT_IMPLEMENTED, nil)
	case codes.Unavailable, codes.DeadlineExceeded:
		// A write that timed out may have happened: the retry with the same key will
		// say (the services replay the first outcome).
		return refuse(errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE, rpcstatus.RetryAfter(time.Second))
	case codes.Canceled:
		return status.Error(codes.Canceled, "the request was canceled")
	case codes.Unauthenticated:
		return refuse(errorsv1.Reason_REASON_INVALID_TOKEN, nil)
	}
	return internal(ctx, log, err)
}

func internal(ctx context.Context, log *slog.Logger, err error) error {
	log.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "err", err)
	return refuse(errorsv1.Reason_REASON_INTERNAL, nil)
}

// body is the Error a status becomes, with its HTTP status. Statuses without an
// ErrorInfo come from grpc-gateway itself (a body that is not JSON, an unknown
// field, an unknown route) or from a canceled request: they are classified by code
// and keep their message, which is the gateway's own words.
func body(st *status.Status, requestID string) (*partnerv1.Error, int) {
	r := rpcstatus.Read(st.Err())
	e := &partnerv1.Error{Message: st.Message(), RequestId: requestID, Reason: r.Reason, Metadata: r.Metadata}
	for _, v := range r.Violations {
		e.FieldViolations = append(e.FieldViolations, &partnerv1.FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
	}
	for _, d := range r.Details {
		if ch, ok := d.(*authv1.StepUpChallenge); ok {
			e.StepUpChallenge = ch
		}
	}
	reason := rpcstatus.Parse(e.Reason)
	if e.Reason == "" {
		switch st.Code() {
		case codes.InvalidArgument:
			reason = errorsv1.Reason_REASON_VALIDATION_FAILED
		case codes.NotFound:
			reason = errorsv1.Reason_REASON_NOT_FOUND
		case codes.Unauthenticated:
			reason = errorsv1.Reason_REASON_INVALID_TOKEN
		case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
			reason = errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE
		case codes.Unimplemented:
			reason = errorsv1.Reason_REASON_NOT_IMPLEMENTED
		default:
			reason, e.Message = errorsv1.Reason_REASON_INTERNAL, messages[errorsv1.Reason_REASON_INTERNAL]
		}
	}
	if rpcstatus.Spec(reason) == nil {
		reason, e.Message = errorsv1.Reason_REASON_INTERNAL, messages[errorsv1.Reason_REASON_INTERNAL]
	}
	e.Reason = rpcstatus.Wire(reason)
	if e.Message == "" {
		e.Message = messages[reason]
	}
	e.Status = rpcstatus.Spec(reason).GetHttpStatus()
	return e, int(e.Status)
}

var errorJSON = protojson.MarshalOptions{UseProtoNames: true}

// writeStatus answers st as an Error body, with Retry-After when the reason says
// when to come back and WWW-Authenticate on 401 (RFC 6750 section 3).
func writeStatus(w http.ResponseWriter, r *http.Request, st *status.Status) {
	e, code := body(st, RequestID(r.Context()))
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if s := e.GetMetadata()[rpcstatus.KeyRetryAfterSeconds]; s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			h.Set("Retry-After", s)
		}
	}
	switch code {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="andes", error="invalid_token"`)
	case http.StatusForbidden:
		if scope := e.GetMetadata()[rpcstatus.KeyScope]; scope != "" {
			h.Set("WWW-Authenticate", `Bearer realm="andes", error="insufficient_scope", scope="`+scope+`"`)
		}
	}
	raw, err := errorJSON.Marshal(e)
	if err != nil {
		raw = []byte(`{"status":500,"reason":"INTERNAL","message":"internal error"}`)
		code = http.StatusInternalServerError
	}
	w.WriteHeader(code)
	_, _ = w.Write(append(raw, '\n'))
}
