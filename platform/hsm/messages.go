package hsm

import (
	"context"
	"fmt"
	"log/slog"
)

// Backend carries out the HSM's commands. The simulator's engine implements
// it in process and [Client] implements it across the network, so a consumer
// that declares the subset it needs can use either.
//
// A verification that does not match is (false, nil). Errors are this
// package's sentinels (ErrInvalidPINBlock, ErrDisabled, ...), possibly
// wrapped; from a Client they come as *Error, which unwraps to the same
// sentinels.
type Backend interface {
	Diagnostics(ctx context.Context) (Diagnostics, error)
	VerifyPIN(ctx context.Context, r VerifyPINRequest) (bool, error)
	ComputePVV(ctx context.Context, r ComputePVVRequest) (string, error)
	VerifyCVV(ctx context.Context, r VerifyCVVRequest) (bool, error)
	GenerateCVV(ctx context.Context, r GenerateCVVRequest) (string, error)
	WrapKey(ctx context.Context, r WrapKeyRequest) (WrappedKey, error)
	UnwrapKey(ctx context.Context, r UnwrapKeyRequest) (DataKey, error)
}

// PINBlock is an encrypted PIN block: ISO 9564-1 format 0 under the zone PIN
// key the HSM shares with the card network. Only the HSM can read the PIN in it.
type PINBlock [8]byte

// Service codes of the CVV commands: the CVV2 printed on a card, and the iCVV
// in a chip's track 2 equivalent.
const (
	ServiceCodeCVV2 = "000"
	ServiceCodeICVV = "999"
)

// MaxLabelLen bounds the label a wrapped key is bound to.
const MaxLabelLen = 64

// Diagnostics is the answer to NC: enough to check both ends of a link hold
// the same keys, without showing them.
type Diagnostics struct {
	ZPKCheckValue string // key check values: 6 hex digits
	PVKCheckValue string
	CVKCheckValue string
	KEKVersion    int    // the version new wraps use
	Firmware      string // the simulator's name and version
}

// VerifyPINRequest asks whether the PIN in an encrypted PIN block matches the
// card's PIN verification value (payShield DC/EC).
type VerifyPINRequest struct {
	PINBlock PINBlock // ISO 9564 format 0, under the zone PIN key
	PAN      string
	PVKI     int    // PIN verification key index, 0–9
	PVV      string // the card's 4-digit PVV
}

// ComputePVVRequest asks for the PVV of the PIN in an encrypted PIN block:
// how a PIN is set without the issuer seeing it (payShield FW/DG).
type ComputePVVRequest struct {
	PINBlock PINBlock
	PAN      string
	PVKI     int
}

// VerifyCVVRequest asks whether a CVV is right (payShield CY). For CVV2 the
// service code is ServiceCodeCVV2, for iCVV ServiceCodeICVV.
type VerifyCVVRequest struct {
	PAN         string
	Expiry      string // YYMM
	ServiceCode string
	CVV         string
}

// GenerateCVVRequest asks for a card's CVV, CVV2 or iCVV at issuance
// (payShield CW).
type GenerateCVVRequest struct {
	PAN         string
	Expiry      string // YYMM
	ServiceCode string
}

// WrapKeyRequest asks to wrap a 16-, 24- or 32-byte data key under the
// current key-encryption key, bound to Label.
type WrapKeyRequest struct {
	Label string // up to 64 printable ASCII characters, no ';'
	Key   []byte
}

// UnwrapKeyRequest asks for the data key inside a wrapped key; Label must be
// the one it was wrapped with.
type UnwrapKeyRequest struct {
	Label   string
	Wrapped []byte
}

// WrappedKey is a data key wrapped under KEK version KEKVersion; the
// version is also inside Wrapped.
type WrappedKey struct {
	KEKVersion int
	Wrapped    []byte
}

// DataKey is an unwrapped data key and the KEK version that had wrapped it.
// A version older than Diagnostics.KEKVersion means: wrap it again.
type DataKey struct {
	KEKVersion int
	Key        []byte
}

// The String and LogValue methods below keep card data and keys out of logs
// and error messages however a request is printed: PANs show first 6 / last 4,
// PIN blocks, CVVs, PVVs and keys not at all.

func (r VerifyPINRequest) String() string {
	return fmt.Sprintf("VerifyPIN{PAN %s, PVKI %d}", maskPAN(r.PAN), r.PVKI)
}

// LogValue redacts as String does.
func (r VerifyPINRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }

// GoString redacts %#v as well.
func (r VerifyPINRequest) GoString() string { return r.String() }

func (r ComputePVVRequest) String() string {
	return fmt.Sprintf("ComputePVV{PAN %s, PVKI %d}", maskPAN(r.PAN), r.PVKI)
}

// LogValue redacts as String does.
func (r ComputePVVRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }

// GoString redacts %#v as well.
func (r ComputePVVRequest) GoString() string { return r.String() }

func (r VerifyCVVRequest) String() string {
	return fmt.Sprintf("VerifyCVV{PAN %s, service code %s}", maskPAN(r.PAN), r.ServiceCode)
}

// LogValue redacts as String does.
func (r VerifyCVVRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }

// GoString redacts %#v as well.
func (r VerifyCVVRequest) GoString() string { return r.String() }

func (r GenerateCVVRequest) String() string {
	return fmt.Sprintf("GenerateCVV{PAN %s, service code %s}", maskPAN(r.PAN), r.ServiceCode)
}

// LogValue redacts as String does.
func (r GenerateCVVRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }

// GoString redacts %#v as well.
func (r GenerateCVVRequest) GoString() string { return r.String() }

func (r WrapKeyRequest) String() string { return fmt.Sprintf("WrapKey{label %q}", r.Label) }

// LogValue redacts as String does.
func (r WrapKeyRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }

// GoString redacts %#v as well.
func (r WrapKeyRequest) GoString() string { return r.String() }

func (k DataKey) String() string { return fmt.Sprintf("DataKey{KEK v%d, redacted}", k.KEKVersion) }

// LogValue redacts as String does.
func (k DataKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// GoString redacts %#v as well.
func (k DataKey) GoString() string { return k.String() }

// maskPAN keeps the first 6 and last 4 digits, as PCI DSS allows to show.
func maskPAN(pan string) string {
	if len(pan) < 13 {
		return "****"
	}
	masked := []byte(pan)
	for i := 6; i < len(masked)-4; i++ {
		masked[i] = '*'
	}
	return string(masked)
}
