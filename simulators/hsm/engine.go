package hsm

import (
	"context"

	"github.com/andes-bank/andes/simulators/hsm/paycrypto"
	"github.com/andes-bank/andes/simulators/hsm/protocol"
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
	return paycrypto.VerifyPIN(e.keys.ZPK, e.keys.PVK, r.PINBlock, r.PAN, r.PVKI, r.PVV)
}

// ComputePVV gives the PVV of the PIN in a block under the ZPK.
func (e *Engine) ComputePVV(_ context.Context, r protocol.ComputePVVRequest) (string, error) {
	return paycrypto.PVVFromPINBlock(e.keys.ZPK, e.keys.PVK, r.PINBlock, r.PAN, r.PVKI)
}

// VerifyCVV checks a CVV, CVV2 or iCVV.
func (e *Engine) VerifyCVV(_ context.Context, r protocol.VerifyCVVRequest) (bool, error) {
	return paycrypto.VerifyCVV(e.keys.CVK, r.PAN, r.Expiry, r.ServiceCode, r.CVV)
}

// GenerateCVV computes a CVV, CVV2 or iCVV.
func (e *Engine) GenerateCVV(_ context.Context, r protocol.GenerateCVVRequest) (string, error) {
	return paycrypto.CVV(e.keys.CVK, r.PAN, r.Expiry, r.ServiceCode)
}

// WrapKey wraps a data key under the current KEK.
func (e *Engine) WrapKey(_ context.Context, r protocol.WrapKeyRequest) (protocol.WrappedKey, error) {
	wrapped, err := e.keys.KEK.Wrap(r.Key, r.Label)
	if err != nil {
		return protocol.WrappedKey{}, err
	}
	return protocol.WrappedKey{KEKVersion: e.keys.KEK.CurrentVersion(), Wrapped: wrapped}, nil
}

// UnwrapKey unwraps a data key with the KEK version it names.
func (e *Engine) UnwrapKey(_ context.Context, r protocol.UnwrapKeyRequest) (protocol.DataKey, error) {
	key, version, err := e.keys.KEK.Unwrap(r.Wrapped, r.Label)
	if err != nil {
		return protocol.DataKey{}, err
	}
	return protocol.DataKey{KEKVersion: version, Key: key}, nil
}
