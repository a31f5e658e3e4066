package ports

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	partnerv1 "github.com/andes-bank/andes/gen/andes/partner/v1"
)

// ErrorDomain is the ErrorInfo.domain of bff-partner's answers.
const ErrorDomain = "bff-partner.andes.bank"

// Reasons the gateway answers that andes.errors.v1 does not list, because they are
// not refusals of a service but states of the gateway itself. README documents them.
const (
	// ReasonNotImplemented: the route exists in the contract, the service behind it
	// does not serve it yet (HTTP 501).
	ReasonNotImplemented = "NOT_IMPLEMENTED"
	// ReasonInternal: a fault on our side; the body carries the request id only.
	ReasonInternal = "INTERNAL"
	// ReasonMethodNotAllowed: the path exists with another HTTP method.
	ReasonMethodNotAllowed = "METHOD_NOT_ALLOWED"
)

// spec is what the gateway needs of a reason: its status code and HTTP status.
type spec struct {
	code       codes.Code
	httpStatus int
}

// reasons maps every andes.errors.v1 reason string to its spec, read from the
// contract's ReasonSpec options so that the mapping is the contract's data, plus the
// gateway's own three.
var reasons = loadReasons()

func loadReasons() map[string]spec {
	m := map[string]spec{
		ReasonNotImplemented:   {codes.Unimplemented, http.StatusNotImplemented},
		ReasonInternal:         {codes.Internal, http.StatusInternalServerError},
		ReasonMethodNotAllowed: {codes.Unimplemented, http.StatusMethodNotAllowed},
	}
	values := errorsv1.Reason(0).Descriptor().Values()
	for i := range values.Len() {
		s, _ := proto.GetExtension(values.Get(i).Options(), errorsv1.E_ReasonSpec).(*errorsv1.ReasonSpec)
		if s.GetReason() != "" {
			m[s.GetReason()] = spec{codes.Code(s.GetCode()), int(s.GetHttpStatus())}
		}
	}
	return m
}

// messages are the texts the gateway sends with each reason: a backend's own text
// never reaches a partner (DESIGN.md section 5), and an id that does not exist and one
// that is another partner's get the very same words.
var messages = map[string]string{
	"VALIDATION_FAILED":          "the request breaks an input rule",
	"INVALID_TOKEN":              "a valid access token is required",
	"INSUFFICIENT_SCOPE":         "the access token lacks a scope this route needs",
	"NOT_FOUND":                  "not found",
	"ALREADY_EXISTS":             "it already exists",
	"RATE_LIMITED":               "too many requests; retry after the time in Retry-After",
	"DEPENDENCY_UNAVAILABLE":     "a service needed is unavailable; nothing was done, retry with the same Idempotency-Key",
	"IDEMPOTENCY_KEY_MISSING":    "this route needs an Idempotency-Key header",
	"IDEMPOTENCY_MISMATCH":       "the Idempotency-Key was used before with a different request",
	"IDEMPOTENCY_IN_PROGRESS":    "the first request with this Idempotency-Key is still running",
	"INSUFFICIENT_FUNDS":         "the account's available balance does not cover the amount",
	"ACCOUNT_BLOCKED":            "an account taking part is blocked",
	"ACCOUNT_CLOSED":             "an account taking part is closed",
	"CURRENCY_MISMATCH":          "the amount's currency differs from an account's",
	"SAME_ACCOUNT":               "source and destination are the same account",
	"TRANSACTION_LIMIT_EXCEEDED": "the amount is outside the per-operation limits",
	"DAILY_LIMIT_EXCEEDED":       "the customer's daily limit would be passed",
	"AGENT_NOT_ENABLED":          "the caller is not enabled as a cash agent",
	"STEP_UP_REQUIRED":           "a one-time code was sent to the customer; send the same request with step_up",
	"STEP_UP_CODE_INVALID":       "the one-time code is wrong",
	"STEP_UP_EXPIRED":            "the one-time code expired or was used up; send the request without step_up for a new one",
	"CUSTOMER_BLOCKED":           "the customer is blocked",
	ReasonNotImplemented:         "this operation is not available yet",
	ReasonInternal:               "internal error; quote the request_id to support",
	ReasonMethodNotAllowed:       "this path does not accept this method",
}

// metadataKeys are the ErrorInfo metadata a partner may see, per the reasons' specs;
// anything else a backend adds stays inside.
var metadataKeys = map[string]bool{
	"scope": true, "retry_after_seconds": true, "account_id": true, "limit_minor": true,
	"remaining_minor": true, "currency": true, "challenge_id": true, "attempts_left": true,
}

// refusal builds the status of a refusal with reason, in the gateway's domain.
func refusal(reason, msg string, meta map[string]string, extra ...protoadapt.MessageV1) *status.Status {
	sp, ok := reasons[reason]
	if !ok {
		sp = reasons[ReasonInternal]
	}
	if msg == "" {
		msg = messages[reason]
	}
	st := status.New(sp.code, msg)
	details := append([]protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain, Metadata: meta}}, extra...)
	if withDetails, err := st.WithDetails(details...); err == nil {
		return withDetails
	}
	return st
}

func refuse(reason string, meta map[string]string) error {
	return refusal(reason, "", meta).Err()
}

func notFound() error { return refuse("NOT_FOUND", nil) }

// validationError turns a protovalidate error into VALIDATION_FAILED naming each
// field.
func validationError(err error) error {
	var ve *protovalidate.ValidationError
	if !errors.As(err, &ve) {
		return refusal("VALIDATION_FAILED", "the request could not be validated", nil).Err()
	}
	br := &errdetails.BadRequest{}
	for _, v := range ve.Violations {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field: protovalidate.FieldPathString(v.Proto.GetField()), Description: v.Proto.GetMessage()})
	}
	return refusal("VALIDATION_FAILED", "", nil, br).Err()
}

// translate turns an internal service's error into the gateway's own: the reason
// and the facts a partner may see are kept, the backend's domain and words are not.
// Errors without a reason are classified by their code; what cannot be classified is
// INTERNAL, logged here with the request id the client gets.
func translate(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		switch {
		case errors.Is(err, context.Canceled):
			return status.Error(codes.Canceled, "the request was canceled")
		case errors.Is(err, context.DeadlineExceeded):
			return refuse("DEPENDENCY_UNAVAILABLE", nil)
		}
		return internal(ctx, log, err)
	}
	var info *errdetails.ErrorInfo
	var extra []protoadapt.MessageV1
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if info == nil {
				info = d
			}
		case *errdetails.BadRequest:
			extra = append(extra, d)
		case *authv1.StepUpChallenge:
			extra = append(extra, d)
		}
	}
	if info != nil {
		if _, known := reasons[info.GetReason()]; known && info.GetReason() != ReasonInternal {
			meta := map[string]string{}
			for k, v := range info.GetMetadata() {
				if metadataKeys[k] {
					meta[k] = v
				}
			}
			return refusal(info.GetReason(), "", meta, extra...).Err()
		}
	}
	switch st.Code() {
	case codes.NotFound:
		return notFound()
	case codes.Unimplemented:
		return refuse(ReasonNotImplemented, nil)
	case codes.Unavailable, codes.DeadlineExceeded:
		// A write that timed out may have happened: the retry with the same key will
		// say (the services replay the first outcome).
		return refuse("DEPENDENCY_UNAVAILABLE", map[string]string{"retry_after_seconds": "1"})
	case codes.Canceled:
		return status.Error(codes.Canceled, "the request was canceled")
	case codes.Unauthenticated:
		return refuse("INVALID_TOKEN", nil)
	}
	return internal(ctx, log, err)
}

func internal(ctx context.Context, log *slog.Logger, err error) error {
	log.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "err", err)
	return refuse(ReasonInternal, nil)
}

// body is the Error a status becomes, with its HTTP status. Statuses without an
// ErrorInfo come from grpc-gateway itself (a body that is not JSON, an unknown
// field, an unknown route) or from a canceled request: they are classified by code
// and keep their message, which is the gateway's own words.
func body(st *status.Status, requestID string) (*partnerv1.Error, int) {
	e := &partnerv1.Error{Message: st.Message(), RequestId: requestID}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if e.Reason == "" {
				e.Reason, e.Metadata = d.GetReason(), d.GetMetadata()
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				e.FieldViolations = append(e.FieldViolations, &partnerv1.FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		case *authv1.StepUpChallenge:
			e.StepUpChallenge = d
		}
	}
	if e.Reason == "" {
		switch st.Code() {
		case codes.InvalidArgument:
			e.Reason = "VALIDATION_FAILED"
		case codes.NotFound:
			e.Reason = "NOT_FOUND"
		case codes.Unauthenticated:
			e.Reason = "INVALID_TOKEN"
		case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
			e.Reason = "DEPENDENCY_UNAVAILABLE"
		case codes.Unimplemented:
			e.Reason = ReasonNotImplemented
		default:
			e.Reason, e.Message = ReasonInternal, messages[ReasonInternal]
		}
	}
	sp, ok := reasons[e.Reason]
	if !ok {
		e.Reason, e.Message, sp = ReasonInternal, messages[ReasonInternal], reasons[ReasonInternal]
	}
	if e.Message == "" {
		e.Message = messages[e.Reason]
	}
	e.Status = int32(sp.httpStatus)
	return e, sp.httpStatus
}

var errorJSON = protojson.MarshalOptions{UseProtoNames: true}

// writeStatus answers st as an Error body, with Retry-After when the reason says
// when to come back and WWW-Authenticate on 401 (RFC 6750 section 3).
func writeStatus(w http.ResponseWriter, r *http.Request, st *status.Status) {
	e, code := body(st, RequestID(r.Context()))
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if s := e.GetMetadata()["retry_after_seconds"]; s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			h.Set("Retry-After", s)
		}
	}
	switch code {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="andes", error="invalid_token"`)
	case http.StatusForbidden:
		if scope := e.GetMetadata()["scope"]; scope != "" {
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

// reasonOf is the reason of a status, for tests and logs.
func reasonOf(err error) string {
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}
