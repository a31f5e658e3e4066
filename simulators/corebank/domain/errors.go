package domain

import (
	"errors"
	"fmt"
)

// Refusals: the core said no, for a reason the caller can act on. They are
// outcomes, not failures: an idempotent write stores and replays them.
var (
	ErrInvalid           = errors.New("invalid request")
	ErrCustomerNotFound  = errors.New("customer not found")
	ErrAccountNotFound   = errors.New("account not found")
	ErrHoldNotFound      = errors.New("hold not found")
	ErrTxNotFound        = errors.New("transaction not found")
	ErrOperationNotFound = errors.New("operation not found")
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrAccountBlocked    = errors.New("account not active")
	ErrCurrencyMismatch  = errors.New("currency mismatch")
	ErrSameAccount       = errors.New("debit and credit account are the same")
	ErrAccountNotAllowed = errors.New("account not allowed for this operation")
	ErrHoldNotPending    = errors.New("hold is no longer pending")
	ErrHoldExpired       = errors.New("hold expired")
	ErrExceedsHold       = errors.New("capture exceeds the hold")
	ErrCustomerExists    = errors.New("a customer with this document already exists")
)

// Error is a refusal with its reason (one of the sentinels above, reachable with
// errors.Is) and the fields that explain it, e.g. which account was blocked.
type Error struct {
	Reason  error
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Reason.Error()
	}
	return e.Reason.Error() + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Reason }

// Refuse builds an *Error; fields come in key, value pairs.
func Refuse(reason error, message string, fields ...string) *Error {
	e := &Error{Reason: reason, Message: message}
	if len(fields) > 1 {
		e.Fields = make(map[string]string, len(fields)/2)
		for i := 0; i+1 < len(fields); i += 2 {
			e.Fields[fields[i]] = fields[i+1]
		}
	}
	return e
}

// Invalid is a refusal of malformed input naming the offending field.
func Invalid(field, format string, args ...any) *Error {
	return Refuse(ErrInvalid, field+": "+fmt.Sprintf(format, args...), "field", field)
}

// Fields returns the explaining fields of a refusal, or nil.
func Fields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// ErrDuplicateOperation means the ledger already holds a posting for the
// operation: the idempotency layer let a second attempt through (a lease taken
// over while the first still ran), and the ledger's own unique reference stopped it.
var ErrDuplicateOperation = errors.New("the operation has already been posted")
