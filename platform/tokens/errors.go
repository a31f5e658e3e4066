package tokens

import (
	"errors"
	"fmt"
)

// ErrInvalidToken is what every refusal of a token matches with errors.Is; the
// *Error says why, for logs and audit (never for the client: RFC 6750 keeps the
// answer to "invalid_token").
var ErrInvalidToken = errors.New("tokens: invalid token")

// ErrNoToken means the request carried no bearer token.
var ErrNoToken = fmt.Errorf("%w: no bearer token", ErrInvalidToken)

// ErrUnavailable means the verifier cannot decide now: the revocation set has not
// caught up with auth's announcements since start. Answer 503, not 401.
var ErrUnavailable = errors.New("tokens: revocation set not yet synchronized")

// Reasons a token is refused.
const (
	ReasonMalformed    = "malformed"
	ReasonAlgorithm    = "algorithm_not_allowed"
	ReasonType         = "wrong_type"
	ReasonUnknownKey   = "unknown_key"
	ReasonSignature    = "bad_signature"
	ReasonIssuer       = "wrong_issuer"
	ReasonAudience     = "wrong_audience"
	ReasonExpired      = "expired"
	ReasonNotYetValid  = "not_yet_valid"
	ReasonRevoked      = "revoked"
	ReasonMissingClaim = "missing_claim"
)

// Error is a refused token with the reason.
type Error struct {
	Reason string
	Err    error // the underlying cause, when there is one
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "tokens: invalid token: " + e.Reason + ": " + e.Err.Error()
	}
	return "tokens: invalid token: " + e.Reason
}

// Is makes every *Error match ErrInvalidToken.
func (e *Error) Is(target error) bool { return target == ErrInvalidToken }

func (e *Error) Unwrap() error { return e.Err }

func refuse(reason string, cause error) error { return &Error{Reason: reason, Err: cause} }

// ReasonOf returns why err refused a token, or "" when it is not a refusal.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	if errors.Is(err, ErrNoToken) {
		return "missing"
	}
	return ""
}
