package hsm

import "errors"

// ErrorCode is the 2-digit code every response carries after its response
// code; see the package documentation for the table.
type ErrorCode string

// Error codes, numbered as payShield numbers them where it has one.
const (
	CodeOK                   ErrorCode = "00"
	CodeVerificationFailed   ErrorCode = "01"
	CodeInvalidInput         ErrorCode = "15"
	CodeInvalidPINBlock      ErrorCode = "20"
	CodeUnknownKEKVersion    ErrorCode = "21"
	CodeUnsupportedPINFormat ErrorCode = "23"
	CodeInvalidPINLength     ErrorCode = "24"
	CodeDisabled             ErrorCode = "68"
	CodeInternalFailure      ErrorCode = "99"
)

// The sentinels every error code stands for. A Backend returns them (possibly
// wrapped) and the server turns them into codes; the client's *Error unwraps to
// the same sentinels, so callers test errors the same way whether the backend is
// in process or across the network. The messages name what was wrong, never the
// value: a PAN, PIN or key must not reach a log through an error.
var (
	// ErrUnwrapFailed: a wrapped key failed authentication: it was altered, or
	// the label differs from the one it was wrapped with (01 to UK).
	ErrUnwrapFailed = errors.New("hsm: wrapped key failed authentication")
	// ErrInvalidInput: a field is missing, malformed or out of range (15).
	ErrInvalidInput = errors.New("hsm: invalid input data")
	// ErrInvalidPINBlock: the PIN block does not decrypt to a valid ISO 9564
	// format 0 block for this PAN — usually built under another key or for
	// another card (20).
	ErrInvalidPINBlock = errors.New("hsm: PIN block does not contain valid values")
	// ErrUnknownKEKVersion: a wrapped key names a key-encryption key version the
	// HSM does not hold (21).
	ErrUnknownKEKVersion = errors.New("hsm: unknown key-encryption key version")
	// ErrUnsupportedPINFormat: a PIN block format other than ISO 9564 format 0 (23).
	ErrUnsupportedPINFormat = errors.New("hsm: PIN block format not supported")
	// ErrInvalidPINLength: the PIN in the block is shorter than 4 or longer than
	// 12 digits (24).
	ErrInvalidPINLength = errors.New("hsm: PIN length out of range")
	// ErrDisabled: the command is disabled (68).
	ErrDisabled = errors.New("hsm: command disabled")
	// ErrInternalFailure: the HSM failed, or the simulator injected a fault (99).
	ErrInternalFailure = errors.New("hsm: internal failure")
	// errMismatch is how the server's handlers say "answer 01".
	errMismatch = errors.New("hsm: verification failed")
)

// Error is a response with an error code other than 00 — or 01 from a
// verification command, which is an answer, not an error. It never carries
// the request's data.
type Error struct {
	Command string // the command code, e.g. "DC"
	Code    ErrorCode
}

func (e *Error) Error() string {
	return "hsm: " + e.Command + " answered " + string(e.Code) + " (" + e.Code.meaning() + ")"
}

// Unwrap gives the sentinel the code stands for, so errors.Is(err,
// ErrInvalidPINBlock) holds for a remote 20 as for a local one.
func (e *Error) Unwrap() error {
	switch e.Code {
	case CodeVerificationFailed:
		return ErrUnwrapFailed // the only command where 01 is an error
	case CodeInvalidInput:
		return ErrInvalidInput
	case CodeInvalidPINBlock:
		return ErrInvalidPINBlock
	case CodeUnknownKEKVersion:
		return ErrUnknownKEKVersion
	case CodeUnsupportedPINFormat:
		return ErrUnsupportedPINFormat
	case CodeInvalidPINLength:
		return ErrInvalidPINLength
	case CodeDisabled:
		return ErrDisabled
	default:
		return ErrInternalFailure
	}
}

func (c ErrorCode) meaning() string {
	switch c {
	case CodeOK:
		return "no error"
	case CodeVerificationFailed:
		return "verification failed"
	case CodeInvalidInput:
		return "invalid input data"
	case CodeInvalidPINBlock:
		return "PIN block does not contain valid values"
	case CodeUnknownKEKVersion:
		return "unknown key-encryption key version"
	case CodeUnsupportedPINFormat:
		return "PIN block format not supported"
	case CodeInvalidPINLength:
		return "PIN length out of range"
	case CodeDisabled:
		return "command disabled"
	case CodeInternalFailure:
		return "internal failure"
	default:
		return "unknown error code"
	}
}

// codeFor maps what a Backend returned to the code the server answers with.
// An error the table does not know is an internal failure: a bug or an
// outage, not the caller's fault.
func codeFor(err error) ErrorCode {
	var remote *Error
	switch {
	case err == nil:
		return CodeOK
	case errors.As(err, &remote):
		return remote.Code
	case errors.Is(err, errMismatch), errors.Is(err, ErrUnwrapFailed):
		return CodeVerificationFailed
	case errors.Is(err, ErrInvalidPINBlock):
		return CodeInvalidPINBlock
	case errors.Is(err, ErrInvalidPINLength):
		return CodeInvalidPINLength
	case errors.Is(err, ErrUnknownKEKVersion):
		return CodeUnknownKEKVersion
	case errors.Is(err, ErrUnsupportedPINFormat):
		return CodeUnsupportedPINFormat
	case errors.Is(err, ErrInvalidInput):
		return CodeInvalidInput
	case errors.Is(err, ErrDisabled):
		return CodeDisabled
	default:
		return CodeInternalFailure
	}
}
