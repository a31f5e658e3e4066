// Package rpcstatus builds and reads the statuses Andes processes answer with
// (DESIGN.md section 5, andes.errors.v1): a gRPC status whose details hold one
// google.rpc.ErrorInfo naming the answering process's domain and a reason from the
// fixed list, with the status code the reason's spec names. Ports keep only their
// table from domain errors to reasons; the spec lookup, the details, the shape of a
// validation failure and the reading of a peer's answer live here, once.
package rpcstatus

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/reflect/protoreflect"

	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
)

// Domain is the ErrorInfo.domain of one process's answers: "<process>.andes.bank".
type Domain string

// ProcessDomain is the domain of the process named name in the manifest.
func ProcessDomain(name string) Domain { return Domain(name + ".andes.bank") }

// DomainOf is the domain andes.errors.v1 names for d.
func DomainOf(d errorsv1.Domain) Domain {
	v := d.Descriptor().Values().ByNumber(protoreflect.EnumNumber(d))
	if v == nil {
		return ""
	}
	name, _ := proto.GetExtension(v.Options(), errorsv1.E_DomainName).(string)
	return Domain(name)
}

// specs holds every reason's spec, read once from the contract's options.
var specs, byWire = func() (map[errorsv1.Reason]*errorsv1.ReasonSpec, map[string]errorsv1.Reason) {
	specs, byWire := map[errorsv1.Reason]*errorsv1.ReasonSpec{}, map[string]errorsv1.Reason{}
	values := errorsv1.Reason(0).Descriptor().Values()
	for i := range values.Len() {
		v := values.Get(i)
		s, _ := proto.GetExtension(v.Options(), errorsv1.E_ReasonSpec).(*errorsv1.ReasonSpec)
		if s.GetReason() == "" {
			continue
		}
		specs[errorsv1.Reason(v.Number())] = s
		byWire[s.GetReason()] = errorsv1.Reason(v.Number())
	}
	return specs, byWire
}()

// Spec is the contract's spec of r: wire string, codes, retryability, domains. It
// is nil for REASON_UNSPECIFIED and values the contract does not know.
func Spec(r errorsv1.Reason) *errorsv1.ReasonSpec { return specs[r] }

// Wire is r's ErrorInfo.reason string ("INSUFFICIENT_FUNDS"), "" for none.
func Wire(r errorsv1.Reason) string { return specs[r].GetReason() }

// Parse is the reason whose wire string is s, REASON_UNSPECIFIED when none is.
func Parse(s string) errorsv1.Reason { return byWire[s] }

// Reasons lists every reason the contract specifies, in number order.
func Reasons() []errorsv1.Reason {
	var out []errorsv1.Reason
	values := errorsv1.Reason(0).Descriptor().Values()
	for i := range values.Len() {
		if r := errorsv1.Reason(values.Get(i).Number()); specs[r] != nil {
			out = append(out, r)
		}
	}
	return out
}

// AnsweredBy reports whether the contract lets domain d answer r: r is common or
// lists d.
func AnsweredBy(r errorsv1.Reason, d errorsv1.Domain) bool {
	s := specs[r]
	if s == nil {
		return false
	}
	if s.GetCommon() {
		return true
	}
	for _, x := range s.GetDomains() {
		if x == d {
			return true
		}
	}
	return false
}

// Status is the status of a refusal: the code r's spec names, msg, and an
// ErrorInfo with r, d and meta, followed by details (a BadRequest, a step-up
// challenge). A reason the contract does not know answers INTERNAL: a bug of the
// port, never a reason without a code.
func (d Domain) Status(r errorsv1.Reason, msg string, meta map[string]string, details ...protoadapt.MessageV1) *status.Status {
	s := specs[r]
	if s == nil {
		r, s = errorsv1.Reason_REASON_INTERNAL, specs[errorsv1.Reason_REASON_INTERNAL]
	}
	st := status.New(codes.Code(s.GetCode()), msg)
	all := append([]protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: s.GetReason(), Domain: string(d), Metadata: meta}}, details...)
	if withDetails, err := st.WithDetails(all...); err == nil {
		return withDetails
	}
	return st
}

// Error is Status as an error, for handlers to return.
func (d Domain) Error(r errorsv1.Reason, msg string, meta map[string]string, details ...protoadapt.MessageV1) error {
	return d.Status(r, msg, meta, details...).Err()
}

// Invalid is VALIDATION_FAILED with a BadRequest holding violations (none: no
// BadRequest).
func (d Domain) Invalid(msg string, violations ...*errdetails.BadRequest_FieldViolation) error {
	var details []protoadapt.MessageV1
	if len(violations) > 0 {
		details = append(details, &errdetails.BadRequest{FieldViolations: violations})
	}
	return d.Error(errorsv1.Reason_REASON_VALIDATION_FAILED, msg, nil, details...)
}

// InvalidField is VALIDATION_FAILED naming one field.
func (d Domain) InvalidField(field, description string) error {
	return d.Invalid(field+": "+description, &errdetails.BadRequest_FieldViolation{Field: field, Description: description})
}

// Validation turns a protovalidate error into VALIDATION_FAILED with one
// BadRequest violation per field (a field that breaks two rules gets one violation
// saying both). An error that is not a ValidationError (a rule that does not
// compile) is still the request's refusal, without fields: validation is the
// server's promise to look at nothing invalid.
func (d Domain) Validation(err error) error {
	if err == nil {
		return nil
	}
	return d.Invalid("invalid request", Violations(err)...)
}

// Violations are a protovalidate error's violations, one per field in the order
// the fields first fail; nil when err is not a *protovalidate.ValidationError.
func Violations(err error) []*errdetails.BadRequest_FieldViolation {
	var ve *protovalidate.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []*errdetails.BadRequest_FieldViolation
	byField := map[string]*errdetails.BadRequest_FieldViolation{}
	for _, v := range ve.Violations {
		field := protovalidate.FieldPathString(v.Proto.GetField())
		if fv, ok := byField[field]; ok {
			fv.Description += "; " + v.Proto.GetMessage()
			continue
		}
		fv := &errdetails.BadRequest_FieldViolation{Field: field, Description: v.Proto.GetMessage()}
		byField[field] = fv
		out = append(out, fv)
	}
	return out
}

// The ErrorInfo metadata keys andes.errors.v1 documents on its reasons; a gateway
// passes these on and keeps anything else a service adds inside.
const (
	KeyRetryAfterSeconds = "retry_after_seconds"
	KeyScope             = "scope"
	KeyAccountID         = "account_id"
	KeyCardStatus        = "card_status"
	KeyLimitMinor        = "limit_minor"
	KeyRemainingMinor    = "remaining_minor"
	KeyCurrency          = "currency"
	KeyChallengeID       = "challenge_id"
	KeyAttemptsLeft      = "attempts_left"
)

var documented = map[string]bool{
	KeyRetryAfterSeconds: true, KeyScope: true, KeyAccountID: true, KeyCardStatus: true, KeyLimitMinor: true,
	KeyRemainingMinor: true, KeyCurrency: true, KeyChallengeID: true, KeyAttemptsLeft: true,
}

// Documented is meta cut to the documented keys; nil when none is left.
func Documented(meta map[string]string) map[string]string {
	var out map[string]string
	for k, v := range meta {
		if documented[k] {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// RetryAfter is the metadata of a retryable refusal: d in whole seconds, at least
// one (a client told "0" would retry at once).
func RetryAfter(d time.Duration) map[string]string {
	return map[string]string{KeyRetryAfterSeconds: strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second)))}
}

// Refusal is what a peer's answer says: its code, and when it carries one, its
// ErrorInfo and the other details (a BadRequest, a step-up challenge).
type Refusal struct {
	Code codes.Code
	// Reason is the ErrorInfo.reason wire string, "" when the answer had none.
	Reason   string
	Domain   string
	Metadata map[string]string
	// Message is the peer's own text: for logs, never for the caller's caller.
	Message string
	// Violations are the fields of its BadRequest, if any.
	Violations []*errdetails.BadRequest_FieldViolation
	// Details are the details other than ErrorInfo and BadRequest, decoded.
	Details []any
}

// Read reads a peer's answer. An error that is not a status reads as Unknown
// without a reason; nil reads as OK.
func Read(err error) Refusal {
	st, ok := status.FromError(err)
	if !ok {
		return Refusal{Code: codes.Unknown, Message: err.Error()}
	}
	r := Refusal{Code: st.Code(), Message: st.Message()}
	for _, d := range st.Details() {
		r.add(d)
	}
	return r
}

// add files one decoded detail: the first ErrorInfo names the reason, a
// BadRequest's fields are kept, anything else joins Details.
func (r *Refusal) add(d any) {
	switch d := d.(type) {
	case *errdetails.ErrorInfo:
		if r.Reason == "" {
			r.Reason, r.Domain, r.Metadata = d.GetReason(), d.GetDomain(), d.GetMetadata()
		}
	case *errdetails.BadRequest:
		r.Violations = append(r.Violations, d.GetFieldViolations()...)
	case error:
		// A detail whose type is not linked in: nothing to pass on.
	default:
		r.Details = append(r.Details, d)
	}
}

// Is reports whether the refusal's reason is want.
func (r Refusal) Is(want errorsv1.Reason) bool { return r.Reason != "" && r.Reason == Wire(want) }

// Words is a reason's wire string in lower-case words ("insufficient funds"), the
// message of last resort.
func Words(reason string) string { return strings.ToLower(strings.ReplaceAll(reason, "_", " ")) }
