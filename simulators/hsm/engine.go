package hsm

import (
	"context"
	"errors"
	"fmt"

	protocol "github.com/andes-bank/andes/platform/hsm"
	"github.com/andes-bank/andes/simulators/hsm/paycrypto"
)

// Firmware is what NC reports.
const Firmware = "andes-hsm-sim 1.0"

// Engine carries out the HSM's commands with its keys. It is the in-process
// protocol.Backend; the server puts it on the network. The work is a few
// block cipher operations, so it ignores contexts.
type Engine struct {
	keys Keys
}

var _ protocol.Backend = (*Engine)(nil)

// NewEngine returns an engine holding keys.
func NewEngine(keys Keys) *Engine { return &Engine{keys: keys} }

// Diagnostics reports the key check values and KEK version.
func (e *Engine) Diagnostics(context.Context) (protocol.Diagnostics, error) {
	return protocol.Diagnostics{
		ZPKCheckValue: e.keys.ZPK.CheckValue(),
		PVKCheckValue: e.keys.PVK.CheckValue(),
		CVKCheckValue: e.keys.CVK.CheckValue(),
		KEKVersion:    e.keys.KEK.CurrentVersion(),
		Firmware:      Firmware,
	}, nil
}

// VerifyPIN checks a PIN block under the ZPK against a PVV.
func (e *Engine) VerifyPIN(_ context.Context, r protocol.VerifyPINRequest) (bool, error) {
	ok, err := paycrypto.VerifyPIN(e.keys.ZPK, e.keys.PVK, paycrypto.PINBlock(r.PINBlock), r.PAN, r.PVKI, r.PVV)
	return ok, protocolError(err)
}

// ComputePVV gives the PVV of the PIN in a block under the ZPK.
func (e *Engine) ComputePVV(_ context.Context, r protocol.ComputePVVRequest) (string, error) {
	pvv, err := paycrypto.PVVFromPINBlock(e.keys.ZPK, e.keys.PVK, paycrypto.PINBlock(r.PINBlock), r.PAN, r.PVKI)
	return pvv, protocolError(err)
}

// VerifyCVV checks a CVV, CVV2 or iCVV.
func (e *Engine) VerifyCVV(_ context.Context, r protocol.VerifyCVVRequest) (bool, error) {
	ok, err := paycrypto.VerifyCVV(e.keys.CVK, r.PAN, r.Expiry, r.ServiceCode, r.CVV)
	return ok, protocolError(err)
}

// GenerateCVV computes a CVV, CVV2 or iCVV.
func (e *Engine) GenerateCVV(_ context.Context, r protocol.GenerateCVVRequest) (string, error) {
	cvv, err := paycrypto.CVV(e.keys.CVK, r.PAN, r.Expiry, r.ServiceCode)
	return cvv, protocolError(err)
}

// WrapKey wraps a data key under the current KEK.
func (e *Engine) WrapKey(_ context.Context, r protocol.WrapKeyRequest) (protocol.WrappedKey, error) {
	wrapped, err := e.keys.KEK.Wrap(r.Key, r.Label)
	if err != nil {
		return protocol.WrappedKey{}, protocolError(err)
	}
	return protocol.WrappedKey{KEKVersion: e.keys.KEK.CurrentVersion(), Wrapped: wrapped}, nil
}

// UnwrapKey unwraps a data key with the KEK version it names.
func (e *Engine) UnwrapKey(_ context.Context, r protocol.UnwrapKeyRequest) (protocol.DataKey, error) {
	key, version, err := e.keys.KEK.Unwrap(r.Wrapped, r.Label)
	if err != nil {
		return protocol.DataKey{}, protocolError(err)
	}
	return protocol.DataKey{KEKVersion: version, Key: key}, nil
}

// protocolError says what went wrong in the protocol's terms, so the server
// answers the code the HSM's users know. The cryptography's errors never carry
// a secret, so wrapping them keeps nothing from a log that must not be there.
func protocolError(err error) error {
	var sentinel error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, paycrypto.ErrUnwrapFailed):
		sentinel = protocol.ErrUnwrapFailed
	case errors.Is(err, paycrypto.ErrInvalidPINBlock):
		sentinel = protocol.ErrInvalidPINBlock
	case errors.Is(err, paycrypto.ErrInvalidPIN):
		sentinel = protocol.ErrInvalidPINLength
	case errors.Is(err, paycrypto.ErrUnknownKEKVersion):
		sentinel = protocol.ErrUnknownKEKVersion
	case errors.Is(err, paycrypto.ErrInvalidInput), errors.Is(err, paycrypto.ErrInvalidPAN):
		sentinel = protocol.ErrInvalidInput
	default:
		return err // the server answers 99: a bug, not the caller's fault
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}
