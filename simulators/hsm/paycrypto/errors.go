package paycrypto

import "errors"

// The messages name what was wrong, never the value: a PAN, PIN or key must not
// reach a log through an error.
var (
	// ErrKeyLength: a key has a length the operation cannot use.
	ErrKeyLength = errors.New("paycrypto: key has the wrong length")
	// ErrInvalidPAN: not 12 to 19 decimal digits.
	ErrInvalidPAN = errors.New("paycrypto: PAN must be 12 to 19 digits")
	// ErrInvalidPIN: a clear PIN is not 4 to 12 decimal digits, or a PIN
	// block carries a PIN length outside 4 to 12.
	ErrInvalidPIN = errors.New("paycrypto: PIN must be 4 to 12 digits")
	// ErrInvalidPINBlock: a decrypted PIN block is not a valid ISO 9564
	// format 0 block for this PAN — usually built under another key or for
	// another card.
	ErrInvalidPINBlock = errors.New("paycrypto: PIN block does not contain valid values")
	// ErrInvalidInput: some other field (PVKI, PVV, CVV, expiry, service code,
	// data key, wrapped key) is malformed.
	ErrInvalidInput = errors.New("paycrypto: invalid input data")
	// ErrUnknownKEKVersion: a wrapped key names a key-encryption key version
	// this ring does not hold.
	ErrUnknownKEKVersion = errors.New("paycrypto: unknown key-encryption key version")
	// ErrUnwrapFailed: a wrapped key failed authentication: it was altered,
	// or the label differs from the one it was wrapped with.
	ErrUnwrapFailed = errors.New("paycrypto: wrapped key failed authentication")
)
