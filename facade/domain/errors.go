package domain

import (
	"errors"
	"time"
)

// Refusals: the core said no for a reason the caller can act on; nothing was
// posted. Each port maps them once.
var (
	ErrNotFound            = errors.New("not found")
	ErrAlreadyExists       = errors.New("already exists")
	ErrInvalid             = errors.New("invalid request")
	ErrInsufficientFunds   = errors.New("insufficient funds")
	ErrAccountBlocked      = errors.New("account blocked")
	ErrAccountClosed       = errors.New("account closed")
	ErrCurrencyMismatch    = errors.New("currency mismatch")
	ErrSameAccount         = errors.New("same account")
	ErrAccountNotAllowed   = errors.New("account may not take part in this operation")
	ErrIdempotencyMismatch = errors.New("operation id used with a different request")
)

// Failures of the dependency: nothing was done, or what was done is not known.
var (
	// ErrUnavailable: the core could not be reached, answered that it is
	// unavailable, or its circuit is open. Nothing was done.
	ErrUnavailable = errors.New("core banking unavailable")
	// ErrInProgress: a request with the same operation id is still running in
	// the core.
	ErrInProgress = errors.New("operation in progress")
	// ErrUnknownOutcome: a write left and no answer came back (a timeout, a cut
	// connection). It may or may not have been posted; ask the core's
	// operation status with the same key.
	ErrUnknownOutcome = errors.New("outcome unknown")
)

// Error is one of the errors above with what explains it: which field or account,
// when to retry. errors.Is reaches the sentinel.
type Error struct {
	Kind       error
	Message    string
	Field      string        // the offending field, for ErrInvalid
	Account    string        // the account concerned, when the core said
	RetryAfter time.Duration // for ErrUnavailable and ErrInProgress, when known
	cause      error
}

// Errorf builds an *Error of kind with a message.
func Errorf(kind error, msg string) *Error { return &Error{Kind: kind, Message: msg} }

// WithCause keeps the underlying error for logs; errors.Is still reaches Kind.
func (e *Error) WithCause(err error) *Error { e.cause = err; return e }

func (e *Error) Error() string {
	s := e.Kind.Error()
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap gives both the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.cause}
}

// Details returns the *Error in err's chain, if any.
func Details(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsRefusal reports whether err is a refusal of the core (the request was
// answered, and nothing was posted), as opposed to a failure.
func IsRefusal(err error) bool {
	for _, r := range []error{ErrNotFound, ErrAlreadyExists, ErrInvalid, ErrInsufficientFunds, ErrAccountBlocked,
		ErrAccountClosed, ErrCurrencyMismatch, ErrSameAccount, ErrAccountNotAllowed, ErrIdempotencyMismatch} {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}
