package hsm

import (
	"bytes"
	"fmt"
)

// The wire format is data: each command is a pair of field layouts, and one
// decoder and one encoder serve them all, so a field is checked the same way
// on both sides.

type fieldKind byte

const (
	numeric     fieldKind = iota // 0–9
	hexadecimal                  // 0–9, A–F, a–f; even length
	text                         // printable ASCII except the delimiter
)

// delimiter ends a variable-length field that is not the last of its message.
const delimiter = ';'

type field struct {
	name     string // for error messages; never the value
	kind     fieldKind
	min, max int // length bounds; equal for a fixed-length field
}

func (f field) fixed() bool { return f.min == f.max }

func (f field) valid(v []byte) bool {
	if len(v) < f.min || len(v) > f.max {
		return false
	}
	for _, c := range v {
		switch f.kind {
		case numeric:
			if c < '0' || c > '9' {
				return false
			}
		case hexadecimal:
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f') {
				return false
			}
		case text:
			if c < 0x20 || c > 0x7E || c == delimiter {
				return false
			}
		}
	}
	return f.kind != hexadecimal || len(v)%2 == 0
}

type layout []field

// decode splits b into the layout's fields. The returned slices alias b.
func (l layout) decode(b []byte) ([][]byte, error) {
	out := make([][]byte, len(l))
	for i, f := range l {
		var v []byte
		switch {
		case f.fixed():
			if len(b) < f.min {
				return nil, fieldError(f)
			}
			v, b = b[:f.min], b[f.min:]
		case i == len(l)-1:
			v, b = b, nil
		default:
			end := bytes.IndexByte(b, delimiter)
			if end < 0 {
				return nil, fieldError(f)
			}
			v, b = b[:end], b[end+1:]
		}
		if !f.valid(v) {
			return nil, fieldError(f)
		}
		out[i] = v
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("hsm: trailing data after the last field: %w", ErrInvalidInput)
	}
	return out, nil
}

// encode appends values in the layout's format, checking each one first: a
// value with a delimiter in it would shift every field after it.
func (l layout) encode(dst []byte, values ...string) ([]byte, error) {
	if len(values) != len(l) {
		return nil, fmt.Errorf("hsm: %d values for %d fields: %w", len(values), len(l), ErrInvalidInput)
	}
	for i, f := range l {
		v := values[i]
		if !f.valid([]byte(v)) {
			return nil, fieldError(f)
		}
		dst = append(dst, v...)
		if !f.fixed() && i < len(l)-1 {
			dst = append(dst, delimiter)
		}
	}
	return dst, nil
}

func fieldError(f field) error {
	return fmt.Errorf("hsm: field %q: %w", f.name, ErrInvalidInput)
}

// command is one request/response pair of the protocol.
type command struct {
	code, response string
	request        layout
	answer         layout // fields of a 00 answer
}

var (
	fPINBlock    = field{"PIN block", hexadecimal, 16, 16}
	fPINFormat   = field{"PIN block format", numeric, 2, 2}
	fPAN         = field{"PAN", numeric, 12, 19}
	fPVKI        = field{"PVKI", numeric, 1, 1}
	fPVV         = field{"PVV", numeric, 4, 4}
	fCVV         = field{"CVV", numeric, 3, 3}
	fExpiry      = field{"expiry", numeric, 4, 4}
	fServiceCode = field{"service code", numeric, 3, 3}
	fLabel       = field{"label", text, 0, MaxLabelLen}
	fDataKey     = field{"data key", hexadecimal, 32, 64}
	fWrappedKey  = field{"wrapped key", hexadecimal, 2, 256}
	fKEKVersion  = field{"KEK version", numeric, 4, 4}
	fCheckValue  = field{"key check value", hexadecimal, 6, 6}
	fFirmware    = field{"firmware", text, 1, 32}
)

var (
	cmdDiagnostics = command{"NC", "ND", layout{},
		layout{fCheckValue, fCheckValue, fCheckValue, fKEKVersion, fFirmware}}
	cmdVerifyPIN = command{"DC", "DD",
		layout{fPINBlock, fPINFormat, fPAN, fPVKI, fPVV}, layout{}}
	cmdComputePVV = command{"FW", "FX",
		layout{fPINBlock, fPINFormat, fPAN, fPVKI}, layout{fPVV}}
	cmdVerifyCVV = command{"CY", "CZ",
		layout{fCVV, fPAN, fExpiry, fServiceCode}, layout{}}
	cmdGenerateCVV = command{"CW", "CX",
		layout{fPAN, fExpiry, fServiceCode}, layout{fCVV}}
	cmdWrapKey = command{"WK", "WL",
		layout{fLabel, fDataKey}, layout{fKEKVersion, fWrappedKey}}
	cmdUnwrapKey = command{"UK", "UL",
		layout{fLabel, fWrappedKey}, layout{fKEKVersion, fDataKey}}
)

// unknownCommandResponse is the response code to a command code the HSM does
// not know; it comes with CodeDisabled.
const unknownCommandResponse = "ZZ"

// pinFormatISO0 is payShield's code for ISO 9564-1 format 0 (ANSI X9.8).
const pinFormatISO0 = "01"
