package paycrypto

import (
	"crypto/cipher"
	"crypto/des"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
)

// DESKey is a single (8-byte), double (16-byte) or triple (24-byte) length
// DES key, held as ready ciphers so the hot path never re-expands it. The key
// bits cannot be read back, and printing or logging a DESKey shows only its key
// check value, the way an HSM console does.
//
// A double-length key K1K2 is used as the Triple DES key K1K2K1 — for the
// PVK and CVK pairs K1 is "key A" and K2 "key B". Parity is not enforced:
// payShield would refuse a key with even parity, but test vectors in the wild
// do not all have odd parity and a simulator gains nothing from refusing them.
type DESKey struct {
	ede    cipher.Block // Triple DES EDE over the whole key
	left   cipher.Block // single DES under the leftmost 8 bytes (key A of a pair)
	length int
	kcv    string
}

// NewDESKey builds a key from 8, 16 or 24 bytes. It keeps no reference to raw.
func NewDESKey(raw []byte) (*DESKey, error) {
	full := make([]byte, 0, 24)
	switch len(raw) {
	case 8:
		full = append(append(append(full, raw...), raw...), raw...)
	case 16:
		full = append(append(full, raw...), raw[:8]...)
	case 24:
		full = append(full, raw...)
	default:
		return nil, ErrKeyLength
	}
	defer clear(full)
	ede, err := des.NewTripleDESCipher(full)
	if err != nil {
		return nil, ErrKeyLength
	}
	left, err := des.NewCipher(full[:8])
	if err != nil {
		return nil, ErrKeyLength
	}
	k := &DESKey{ede: ede, left: left, length: len(raw)}
	var zero [8]byte
	ede.Encrypt(zero[:], zero[:])
	k.kcv = strings.ToUpper(hex.EncodeToString(zero[:3]))
	return k, nil
}

// ParseDESKey builds a key from 16, 32 or 48 hexadecimal characters.
func ParseDESKey(s string) (*DESKey, error) {
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: key is not hexadecimal", ErrKeyLength)
	}
	defer clear(raw)
	return NewDESKey(raw)
}

// Len is the key length in bytes: 8, 16 or 24.
func (k *DESKey) Len() int { return k.length }

// CheckValue is the key check value: the first 3 bytes (6 hex digits) of a
// zero block encrypted under the key. Two parties compare check values to
// know they hold the same key without showing it.
func (k *DESKey) CheckValue() string { return k.kcv }

// String shows the check value only.
func (k *DESKey) String() string { return "DESKey(KCV " + k.kcv + ")" }

// GoString keeps %#v from dumping the cipher's key schedule.
func (k *DESKey) GoString() string { return k.String() }

// LogValue keeps slog from reflecting into the key.
func (k *DESKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// encrypt encrypts one 8-byte block with the whole key (Triple DES EDE).
func (k *DESKey) encrypt(dst, src []byte) { k.ede.Encrypt(dst, src) }

// decrypt decrypts one 8-byte block with the whole key.
func (k *DESKey) decrypt(dst, src []byte) { k.ede.Decrypt(dst, src) }

// encryptLeft encrypts one block with single DES under key A of a pair.
func (k *DESKey) encryptLeft(dst, src []byte) { k.left.Encrypt(dst, src) }
