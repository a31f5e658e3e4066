package domain

import (
	"errors"
	"time"
)

// Reasons of andes.errors.v1 the use cases tell apart; the others arrive from the
// services and are kept as they are (the ports answer with the generated values).
const (
	ReasonNotFound              = "NOT_FOUND"
	ReasonDependencyUnavailable = "DEPENDENCY_UNAVAILABLE"
	ReasonStepUpRequired        = "STEP_UP_REQUIRED"
)

// Refusal is a call refused for a reason the app can act on: a business rule
// (INSUFFICIENT_FUNDS, DAILY_LIMIT_EXCEEDED), access (NOT_FOUND, INVALID_TOKEN), the
// step-up exchange (STEP_UP_REQUIRED) or a dependency that cannot answer now
// (DEPENDENCY_UNAVAILABLE). Reason is the stable andes.errors.v1 string.
type Refusal struct {
	Reason string
	// Metadata is what the reason's documentation promises (limit_minor,
	// attempts_left...), nothing else.
	Metadata map[string]string
	// Violations name the request's fields that failed validation.
	Violations []FieldViolation
	// Challenge is the code that was sent, with STEP_UP_REQUIRED.
	Challenge *StepUpChallenge
}

func (r *Refusal) Error() string { return "refused: " + r.Reason }

// Is matches refusals by reason, so errors.Is(err, ErrNotFound) holds for any
// NOT_FOUND.
func (r *Refusal) Is(target error) bool {
	t, ok := target.(*Refusal)
	return ok && t.Reason == r.Reason
}

// Refusals callers test for with errors.Is.
var (
	ErrNotFound    = &Refusal{Reason: ReasonNotFound}
	ErrUnavailable = &Refusal{Reason: ReasonDependencyUnavailable}
	ErrStepUp      = &Refusal{Reason: ReasonStepUpRequired}
)

// ErrNotImplemented means a service behind the BFF does not offer the operation
// yet; it is not a refusal of the customer's request.
var ErrNotImplemented = errors.New("not implemented by the service behind")

// FieldViolation is one invalid request field.
type FieldViolation struct {
	Field       string
	Description string
}

// StepUpChallenge is the one-time code a STEP_UP_REQUIRED answer sent.
type StepUpChallenge struct {
	ID string
	// Purpose is the andes.auth.v1 purpose without its prefix ("NEW_BENEFICIARY").
	Purpose string
	// Channel is how the code went, without its prefix ("SMS").
	Channel           string
	MaskedDestination string
	ExpiresAt         time.Time
	ResendAvailableAt time.Time
	AttemptsLeft      int32
}
