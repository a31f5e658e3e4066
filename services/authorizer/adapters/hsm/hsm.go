// Package hsm is the authorizer's client of the payment HSM (the host command
// protocol of platform/hsm): PIN and CVV verification, PVV and CVV generation,
// and the wrapping of the data keys that protect PANs. It turns the protocol's
// errors into the domain's.
package hsm

import (
	"context"
	"errors"
	"fmt"

	protocol "github.com/andes-bank/andes/platform/hsm"
	"github.com/andes-bank/andes/services/authorizer/domain"
)

// Client talks to the HSM over one pipelined connection.
type Client struct {
	c *protocol.Client
}

// Dial connects to the HSM at addr.
func Dial(ctx context.Context, addr string) (*Client, error) {
	c, err := protocol.Dial(ctx, addr, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", domain.ErrHSMUnavailable, err)
	}
	return &Client{c: c}, nil
}

// Close closes the connection.
func (h *Client) Close() error { return h.c.Close() }

// VerifyPIN checks an encrypted PIN block against a PVV.
func (h *Client) VerifyPIN(ctx context.Context, block []byte, pan string, pvki int, pvv string) (bool, error) {
	var b protocol.PINBlock
	if len(block) != len(b) {
		return false, domain.ErrInvalidPINBlock
	}
	copy(b[:], block)
	ok, err := h.c.VerifyPIN(ctx, protocol.VerifyPINRequest{PINBlock: b, PAN: pan, PVKI: pvki, PVV: pvv})
	if errors.Is(err, protocol.ErrInvalidPINBlock) || errors.Is(err, protocol.ErrInvalidPINLength) {
		// A block that does not decrypt to a PIN for this card is a wrong PIN
		// from the cardholder's point of view.
		return false, nil
	}
	return ok, wrap(err)
}

// VerifyCVV2 checks the CVV2 a cardholder typed.
func (h *Client) VerifyCVV2(ctx context.Context, pan, expiry, cvv string) (bool, error) {
	ok, err := h.c.VerifyCVV(ctx, protocol.VerifyCVVRequest{PAN: pan, Expiry: expiry, ServiceCode: protocol.ServiceCodeCVV2, CVV: cvv})
	if errors.Is(err, protocol.ErrInvalidInput) {
		return false, nil // a CVV2 of the wrong shape is a wrong one
	}
	return ok, wrap(err)
}

// GenerateCVV2 computes the CVV2 printed on a new card.
func (h *Client) GenerateCVV2(ctx context.Context, pan, expiry string) (string, error) {
	cvv, err := h.c.GenerateCVV(ctx, protocol.GenerateCVVRequest{PAN: pan, Expiry: expiry, ServiceCode: protocol.ServiceCodeCVV2})
	return cvv, wrap(err)
}

// ComputePVV derives the PVV of the PIN inside an encrypted PIN block.
func (h *Client) ComputePVV(ctx context.Context, block []byte, pan string, pvki int) (string, error) {
	var b protocol.PINBlock
	if len(block) != len(b) {
		return "", domain.ErrInvalidPINBlock
	}
	copy(b[:], block)
	pvv, err := h.c.ComputePVV(ctx, protocol.ComputePVVRequest{PINBlock: b, PAN: pan, PVKI: pvki})
	if errors.Is(err, protocol.ErrInvalidPINBlock) || errors.Is(err, protocol.ErrInvalidPINLength) ||
		errors.Is(err, protocol.ErrUnsupportedPINFormat) {
		return "", domain.ErrInvalidPINBlock
	}
	return pvv, wrap(err)
}

// WrapKey wraps a data key under the HSM's current key-encryption key.
func (h *Client) WrapKey(ctx context.Context, label string, key []byte) (kekVersion int, wrapped []byte, err error) {
	w, err := h.c.WrapKey(ctx, protocol.WrapKeyRequest{Label: label, Key: key})
	return w.KEKVersion, w.Wrapped, wrap(err)
}

// UnwrapKey unwraps a data key.
func (h *Client) UnwrapKey(ctx context.Context, label string, wrapped []byte) ([]byte, error) {
	k, err := h.c.UnwrapKey(ctx, protocol.UnwrapKeyRequest{Label: label, Wrapped: wrapped})
	return k.Key, wrap(err)
}

// wrap marks every other failure as the HSM being unavailable: the caller
// answers 96 or Unavailable, never a verdict it does not have.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", domain.ErrHSMUnavailable, err)
}
