package paycrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// Wrapped data keys use AES-256-GCM under a versioned key-encryption key
// (KEK). We chose GCM over RFC 3394 AES key wrap because it authenticates a
// caller's label with the key — a data key wrapped for "authorizer/pan" will
// not unwrap as anything else — and because crypto/cipher has it. The layout
// of a wrapped key, which other services store and must stay readable:
//
//	offset  size  content
//	0       1     format, 0x01
//	1       2     KEK version, big-endian, 1–9999
//	3       12    random nonce
//	15      n+16  ciphertext of the n-byte data key, then the GCM tag
//
// The additional data is "andes-hsm/keywrap" ‖ bytes 0–2 ‖ label, so neither
// the version nor the label can be swapped without failing authentication.
const (
	wrapFormat      = 0x01
	wrapHeaderLen   = 3
	wrapNonceLen    = 12
	wrapOverhead    = wrapHeaderLen + wrapNonceLen + 16
	wrapAADPrefix   = "andes-hsm/keywrap"
	minWrappedLen   = wrapOverhead + 16
	maxWrappedLen   = wrapOverhead + 32
	maxWrapLabelLen = 64
)

const (
	// KEKLen is the length of a key-encryption key: AES-256.
	KEKLen = 32
	// MaxKEKVersion bounds KEK versions so they fit the protocol's 4-digit field.
	MaxKEKVersion = 9999
	// MaxWrapLabelLen bounds the label a wrapped key is bound to.
	MaxWrapLabelLen = maxWrapLabelLen
)

// KEKRing holds the current key-encryption key and the retired ones still
// needed to unwrap keys wrapped before a rotation. It is safe for concurrent
// use: nothing in it changes after NewKEKRing.
type KEKRing struct {
	current int
	aeads   map[int]cipher.AEAD
	rand    io.Reader
}

// NewKEKRing builds a ring from 32-byte KEKs by version (1–9999); current
// names the one new wraps use. It keeps no reference to the key bytes.
func NewKEKRing(current int, keys map[int][]byte) (*KEKRing, error) {
	r := &KEKRing{current: current, aeads: make(map[int]cipher.AEAD, len(keys)), rand: rand.Reader}
	for version, key := range keys {
		if version < 1 || version > MaxKEKVersion {
			return nil, fmt.Errorf("%w: KEK version %d is outside 1–%d", ErrInvalidInput, version, MaxKEKVersion)
		}
		if len(key) != KEKLen {
			return nil, fmt.Errorf("%w: KEK version %d must be %d bytes", ErrKeyLength, version, KEKLen)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, ErrKeyLength
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		r.aeads[version] = aead
	}
	if _, ok := r.aeads[current]; !ok {
		return nil, fmt.Errorf("%w: current KEK version %d is not in the ring", ErrUnknownKEKVersion, current)
	}
	return r, nil
}

// CurrentVersion is the KEK version new wraps use.
func (r *KEKRing) CurrentVersion() int { return r.current }

// String shows versions only.
func (r *KEKRing) String() string {
	return "KEKRing(current v" + strconv.Itoa(r.current) + ", " + strconv.Itoa(len(r.aeads)) + " versions)"
}

// GoString keeps %#v out of the key schedules.
func (r *KEKRing) GoString() string { return r.String() }

// LogValue keeps slog out of the key schedules.
func (r *KEKRing) LogValue() slog.Value { return slog.StringValue(r.String()) }

// Wrap encrypts a 16-, 24- or 32-byte data key under the current KEK, bound
// to label (at most 64 bytes; may be empty).
func (r *KEKRing) Wrap(dataKey []byte, label string) ([]byte, error) {
	if len(dataKey) != 16 && len(dataKey) != 24 && len(dataKey) != 32 {
		return nil, fmt.Errorf("%w: data key must be 16, 24 or 32 bytes", ErrInvalidInput)
	}
	if len(label) > maxWrapLabelLen {
		return nil, fmt.Errorf("%w: label longer than %d bytes", ErrInvalidInput, maxWrapLabelLen)
	}
	out := make([]byte, wrapHeaderLen+wrapNonceLen, wrapOverhead+len(dataKey))
	out[0] = wrapFormat
	binary.BigEndian.PutUint16(out[1:3], uint16(r.current))
	if _, err := io.ReadFull(r.rand, out[wrapHeaderLen:]); err != nil {
		return nil, fmt.Errorf("paycrypto: reading a nonce: %w", err)
	}
	nonce := out[wrapHeaderLen : wrapHeaderLen+wrapNonceLen]
	return r.aeads[r.current].Seal(out, nonce, dataKey, wrapAAD(out[:wrapHeaderLen], label)), nil
}

// Unwrap authenticates and decrypts a wrapped key with the KEK version it
// names and returns the data key and that version; a version older than
// CurrentVersion tells the caller to wrap the key again.
func (r *KEKRing) Unwrap(wrapped []byte, label string) (dataKey []byte, version int, err error) {
	if len(wrapped) < minWrappedLen || len(wrapped) > maxWrappedLen || wrapped[0] != wrapFormat {
		return nil, 0, fmt.Errorf("%w: not a wrapped key", ErrInvalidInput)
	}
	version = int(binary.BigEndian.Uint16(wrapped[1:3]))
	aead, ok := r.aeads[version]
	if !ok {
		return nil, 0, ErrUnknownKEKVersion
	}
	nonce := wrapped[wrapHeaderLen : wrapHeaderLen+wrapNonceLen]
	key, err := aead.Open(nil, nonce, wrapped[wrapHeaderLen+wrapNonceLen:], wrapAAD(wrapped[:wrapHeaderLen], label))
	if err != nil {
		return nil, 0, ErrUnwrapFailed
	}
	if len(key) != 16 && len(key) != 24 && len(key) != 32 {
		clear(key)
		return nil, 0, fmt.Errorf("%w: not a wrapped key", ErrInvalidInput)
	}
	return key, version, nil
}

func wrapAAD(header []byte, label string) []byte {
	aad := make([]byte, 0, len(wrapAADPrefix)+len(header)+len(label))
	aad = append(aad, wrapAADPrefix...)
	aad = append(aad, header...)
	return append(aad, label...)
}
