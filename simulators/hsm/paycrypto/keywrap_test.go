package paycrypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

var (
	testKEK1 = bytes.Repeat([]byte{0x11}, 32)
	testKEK2 = bytes.Repeat([]byte{0x22}, 32)
)

func testRing(t testing.TB) *KEKRing {
	t.Helper()
	r, err := NewKEKRing(2, map[int][]byte{1: testKEK1, 2: testKEK2})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestKeyWrapRoundTrip(t *testing.T) {
	ring := testRing(t)
	for _, n := range []int{16, 24, 32} {
		dek := bytes.Repeat([]byte{byte(n)}, n)
		wrapped, err := ring.Wrap(dek, "authorizer/pan")
		if err != nil {
			t.Fatal(err)
		}
		if len(wrapped) != wrapOverhead+n {
			t.Fatalf("wrapped length %d, want %d", len(wrapped), wrapOverhead+n)
		}
		got, version, err := ring.Unwrap(wrapped, "authorizer/pan")
		if err != nil || !bytes.Equal(got, dek) || version != 2 {
			t.Fatalf("Unwrap = %x, v%d, %v", got, version, err)
		}
	}
}

func TestKeyWrapRefusals(t *testing.T) {
	ring := testRing(t)
	dek := bytes.Repeat([]byte{0xAB}, 32)
	wrapped, err := ring.Wrap(dek, "authorizer/pan")
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		w := bytes.Clone(wrapped)
		w[i] ^= 0x01
		return w
	}
	withVersion := func(v byte) []byte {
		w := bytes.Clone(wrapped)
		w[1], w[2] = 0, v
		return w
	}
	tests := []struct {
		name    string
		wrapped []byte
		label   string
		want    error
	}{
		{"other label", wrapped, "authorizer/other", ErrUnwrapFailed},
		{"empty label", wrapped, "", ErrUnwrapFailed},
		{"ciphertext altered", flip(20), "authorizer/pan", ErrUnwrapFailed},
		{"nonce altered", flip(5), "authorizer/pan", ErrUnwrapFailed},
		{"tag altered", flip(len(wrapped) - 1), "authorizer/pan", ErrUnwrapFailed},
		// Claiming another version the ring holds still fails: the version is
		// authenticated and the key differs.
		{"version swapped", withVersion(1), "authorizer/pan", ErrUnwrapFailed},
		{"unknown version", withVersion(7), "authorizer/pan", ErrUnknownKEKVersion},
		{"format byte", flip(0), "authorizer/pan", ErrInvalidInput},
		{"truncated", wrapped[:len(wrapped)-20], "authorizer/pan", ErrInvalidInput},
		{"empty", nil, "authorizer/pan", ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if key, _, err := ring.Unwrap(tt.wrapped, tt.label); !errors.Is(err, tt.want) || key != nil {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := ring.Wrap(make([]byte, 31), ""); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("31-byte data key: err = %v", err)
	}
	if _, err := ring.Wrap(dek, string(make([]byte, 65))); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("65-byte label: err = %v", err)
	}
}

// After a rotation the old version still unwraps, and says it is old.
func TestKeyWrapRotation(t *testing.T) {
	old, err := NewKEKRing(1, map[int][]byte{1: testKEK1})
	if err != nil {
		t.Fatal(err)
	}
	dek := bytes.Repeat([]byte{0x5A}, 32)
	wrapped, _ := old.Wrap(dek, "x")
	got, version, err := testRing(t).Unwrap(wrapped, "x")
	if err != nil || !bytes.Equal(got, dek) || version != 1 {
		t.Fatalf("Unwrap after rotation = %x, v%d, %v", got, version, err)
	}
}

// A known answer freezes the format: keys wrapped today are stored by the
// authorizer and must unwrap after any change to this code. The expected bytes
// were cross-checked with pyca/cryptography's AESGCM over the documented
// layout and additional data.
func TestKeyWrapKnownAnswer(t *testing.T) {
	ring := testRing(t)
	ring.rand = bytes.NewReader(bytes.Repeat([]byte{0x00}, wrapNonceLen))
	dek, _ := hex.DecodeString("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
	wrapped, err := ring.Wrap(dek, "authorizer/pan")
	if err != nil {
		t.Fatal(err)
	}
	const want = "010002" + "000000000000000000000000" + // format, version 2, nonce
		"c8f1d617ab6c990ca87c5f9d4ed3deaaca189e709aa6c4a7a0c6c48d7806b360" + // ciphertext
		"dcc8f646e4766739cb3e0063219bfffa" // tag
	if got := hex.EncodeToString(wrapped); got != want {
		t.Fatalf("wrapped = %s\n      want %s", got, want)
	}
	if _, _, err := testRing(t).Unwrap(wrapped, "authorizer/pan"); err != nil {
		t.Fatal(err)
	}
}

func TestNewKEKRing(t *testing.T) {
	tests := []struct {
		name    string
		current int
		keys    map[int][]byte
		want    error
	}{
		{"current missing", 3, map[int][]byte{1: testKEK1}, ErrUnknownKEKVersion},
		{"short key", 1, map[int][]byte{1: testKEK1[:16]}, ErrKeyLength},
		{"version 0", 0, map[int][]byte{0: testKEK1}, ErrInvalidInput},
		{"version 10000", 10000, map[int][]byte{10000: testKEK1}, ErrInvalidInput},
	}
	for _, tt := range tests {
		if _, err := NewKEKRing(tt.current, tt.keys); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}
