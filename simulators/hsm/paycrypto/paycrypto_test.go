package paycrypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// testKey is the double-length key used by most published CVV and PVV
// examples: key A 0123456789ABCDEF, key B FEDCBA9876543210.
const testKey = "0123456789ABCDEFFEDCBA9876543210"

func mustKey(t testing.TB, s string) *DESKey {
	t.Helper()
	k, err := ParseDESKey(s)
	if err != nil {
		t.Fatalf("ParseDESKey: %v", err)
	}
	return k
}

func TestDESKey(t *testing.T) {
	tests := []struct {
		name    string
		hex     string
		wantKCV string
		wantErr error
	}{
		// The check value of the classic test key, as printed by payShield
		// consoles and EFTlab BP-Tools (08D7B4FB629D0885, first 6 digits).
		{"double length test key", testKey, "08D7B4", nil},
		// Single length: K1K1K1 is plain DES; DES(0123456789ABCDEF, 0) = D5D44FF720683D0D
		// is the well-known single-DES answer.
		{"single length", "0123456789ABCDEF", "D5D44F", nil},
		{"triple length equals double when K3 = K1", testKey + "0123456789ABCDEF", "08D7B4", nil},
		{"odd length", "0123456789ABCD", "", ErrKeyLength},
		{"not hex", "0123456789ABCDEG", "", ErrKeyLength},
		{"empty", "", "", ErrKeyLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseDESKey(tt.hex)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && k.CheckValue() != tt.wantKCV {
				t.Fatalf("KCV = %s, want %s", k.CheckValue(), tt.wantKCV)
			}
		})
	}
}

// Keys and PIN blocks must not leak through fmt or slog, whatever the verb.
func TestSecretsDoNotPrint(t *testing.T) {
	k := mustKey(t, testKey)
	block, err := EncryptPINBlock(k, "1234", "4111111111111111")
	if err != nil {
		t.Fatal(err)
	}
	ring := testRing(t)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("keys", "key", k, "block", block, "ring", ring)
	out := fmt.Sprintf("%v %+v %#v %s %v %+v %#v %v %#v", k, k, k, k, block, block, block, ring, ring) + logged.String()
	for _, secret := range []string{testKey[:16], testKey[16:], hex.EncodeToString(block[:])} {
		if strings.Contains(strings.ToUpper(out), strings.ToUpper(secret)) {
			t.Fatalf("output shows a secret: %s", out)
		}
	}
	if !strings.Contains(out, "08D7B4") {
		t.Fatalf("output should show the check value: %s", out)
	}
}

func TestClearPINBlock(t *testing.T) {
	tests := []struct {
		name, pin, pan, want string
		wantErr              error
	}{
		// EFTlab BP-Tools, "Complete list of PIN blocks", ISO-0 example.
		{"EFTlab ISO-0", "1234", "43219876543210987", "0412AC89ABCDEF67", nil},
		// Thales payShield host manual, PIN block format 01 example
		// (PIN 92389, account 4000 0012 3456 2).
		{"payShield format 01", "92389", "4000001234562", "0592789FFFEDCBA9", nil},
		// Worked by hand: 0C123456789012FF XOR 0000111111111111.
		{"12-digit PIN", "123456789012", "4111111111111111", "0C122547698103EE", nil},
		// Worked by hand: 11 digits before the check digit give the account
		// field 0000012345678901.
		{"12-digit PAN pads the account field", "1234", "123456789012", "041235DCBA9876FE", nil},
		{"PIN too short", "123", "4111111111111111", "", ErrInvalidPIN},
		{"PIN too long", "1234567890123", "4111111111111111", "", ErrInvalidPIN},
		{"PIN not digits", "12a4", "4111111111111111", "", ErrInvalidPIN},
		{"PAN too short", "1234", "41111111111", "", ErrInvalidPAN},
		{"PAN too long", "1234", "41111111111111111111", "", ErrInvalidPAN},
		{"PAN not digits", "1234", "4111-1111-1111-111", "", ErrInvalidPAN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ClearPINBlock(tt.pin, tt.pan)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && strings.ToUpper(hex.EncodeToString(got[:])) != tt.want {
				t.Fatalf("block = %X, want %s", got, tt.want)
			}
		})
	}
}

func TestEncryptPINBlock(t *testing.T) {
	tests := []struct {
		name, key, pin, pan, want string
	}{
		// Expected values cross-checked with pyca/cryptography's TripleDES in
		// ECB mode over the clear blocks above.
		{"EFTlab block under the test key", testKey, "1234", "43219876543210987", "C967C8198151A458"},
		{"4111... under the dev ZPK", "4652BC79A791C8978A643746A8EC5E8C", "1234", "4111111111111111", "1C6D4569C1A0DA01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncryptPINBlock(mustKey(t, tt.key), tt.pin, tt.pan)
			if err != nil {
				t.Fatal(err)
			}
			if strings.ToUpper(hex.EncodeToString(got[:])) != tt.want {
				t.Fatalf("block = %X, want %s", got[:], tt.want)
			}
		})
	}
}

func TestDecryptPINBlock(t *testing.T) {
	zpk := mustKey(t, testKey)
	const pan = "4111111111111111"
	for _, pin := range []string{"0000", "1234", "98765", "123456", "9999999", "12345678901", "123456789012"} {
		block, err := EncryptPINBlock(zpk, pin, pan)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecryptPINBlock(zpk, block, pan)
		if err != nil || string(got) != pin {
			t.Fatalf("PIN of length %d: got %q, %v", len(pin), got, err)
		}
	}

	block, _ := EncryptPINBlock(zpk, "1234", pan)
	otherKey := mustKey(t, "4652BC79A791C8978A643746A8EC5E8C")
	if _, err := DecryptPINBlock(otherKey, block, pan); !errors.Is(err, ErrInvalidPINBlock) && !errors.Is(err, ErrInvalidPIN) {
		t.Fatalf("under another key: err = %v, want an invalid PIN block", err)
	}
	// The same block read for another card yields garbage digits: refused or
	// at least not the PIN.
	if got, err := DecryptPINBlock(zpk, block, "4999988887777000"); err == nil && string(got) == "1234" {
		t.Fatal("a PIN block read with another PAN gave back the PIN")
	}
	// A clear block with fill digits that are not F is not format 0.
	bad := mustEncryptClear(t, zpk, "041234FFFFFFFFFE", pan)
	if _, err := DecryptPINBlock(zpk, bad, pan); !errors.Is(err, ErrInvalidPINBlock) {
		t.Fatalf("bad fill: err = %v", err)
	}
	// Format 1 control nibble.
	bad = mustEncryptClear(t, zpk, "141234FFFFFFFFFF", pan)
	if _, err := DecryptPINBlock(zpk, bad, pan); !errors.Is(err, ErrInvalidPINBlock) {
		t.Fatalf("control nibble 1: err = %v", err)
	}
	// Length nibble 3.
	bad = mustEncryptClear(t, zpk, "03123FFFFFFFFFFF", pan)
	if _, err := DecryptPINBlock(zpk, bad, pan); !errors.Is(err, ErrInvalidPIN) {
		t.Fatalf("length 3: err = %v", err)
	}
}

// mustEncryptClear encrypts a hand-made PIN field (before the PAN XOR).
func mustEncryptClear(t *testing.T, zpk *DESKey, pinField, pan string) PINBlock {
	t.Helper()
	field, _ := hex.DecodeString(pinField)
	account, err := accountField(pan)
	if err != nil {
		t.Fatal(err)
	}
	var b PINBlock
	for i := range b {
		b[i] = field[i] ^ account[i]
	}
	zpk.encrypt(b[:], b[:])
	return b
}

func TestPVV(t *testing.T) {
	pvk := mustKey(t, testKey)
	tests := []struct {
		pvki     int
		pin, pan string
		want     string
	}{
		// psec (github.com/knovichikhin/psec) tests/test_pin.py,
		// test_generate_visa_pvv, PVK 0123456789ABCDEF FEDCBA9876543210.
		{1, "4524", "1122334455667788", "8523"},
		{2, "1912", "1122334455667788", "3244"},
		{1, "0570", "1122334455667718", "3144"},
		{1, "8299", "1122334455667708", "4422"},
		// psec docstring of generate_visa_pvv.
		{3, "4524", "1122334455667788", "4021"},
		// Only the 4 leftmost PIN digits enter the TSP.
		{1, "452499", "1122334455667788", "8523"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("pvki %d pin %s", tt.pvki, tt.pin), func(t *testing.T) {
			got, err := PVV(pvk, tt.pan, tt.pvki, tt.pin)
			if err != nil || got != tt.want {
				t.Fatalf("PVV = %q, %v; want %s", got, err, tt.want)
			}
		})
	}
	for _, bad := range []struct {
		name     string
		pvki     int
		pin, pan string
		want     error
	}{
		{"pvki 10", 10, "1234", "1122334455667788", ErrInvalidInput},
		{"pvki -1", -1, "1234", "1122334455667788", ErrInvalidInput},
		{"short PIN", 1, "123", "1122334455667788", ErrInvalidPIN},
		{"short PAN", 1, "1234", "11223344556", ErrInvalidPAN},
	} {
		if _, err := PVV(pvk, bad.pan, bad.pvki, bad.pin); !errors.Is(err, bad.want) {
			t.Errorf("%s: err = %v, want %v", bad.name, err, bad.want)
		}
	}
}

func TestVerifyPIN(t *testing.T) {
	zpk := mustKey(t, "4652BC79A791C8978A643746A8EC5E8C")
	pvk := mustKey(t, testKey)
	const pan = "1122334455667788"
	right, _ := EncryptPINBlock(zpk, "4524", pan)
	wrong, _ := EncryptPINBlock(zpk, "4525", pan)

	tests := []struct {
		name    string
		block   PINBlock
		pvki    int
		pvv     string
		want    bool
		wantErr error
	}{
		{"right PIN", right, 1, "8523", true, nil},
		{"wrong PIN", wrong, 1, "8523", false, nil},
		{"right PIN, other PVKI", right, 2, "8523", false, nil},
		{"PVV not digits", right, 1, "85a3", false, ErrInvalidInput},
		{"PVV too short", right, 1, "852", false, ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyPIN(zpk, pvk, tt.block, pan, tt.pvki, tt.pvv)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyPIN = %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}

	pvv, err := PVVFromPINBlock(zpk, pvk, right, pan, 1)
	if err != nil || pvv != "8523" {
		t.Fatalf("PVVFromPINBlock = %q, %v; want 8523", pvv, err)
	}
}

func TestCVV(t *testing.T) {
	tests := []struct {
		name, key, pan, expiry, serviceCode, want string
	}{
		// The CVV test table published with the Visa method (reproduced in
		// China UnionPay's card specification and payShield training
		// material): CVK A 0123456789ABCDEF, CVK B FEDCBA9876543210.
		{"16-digit 1", testKey, "4123456789012345", "8701", "101", "561"},
		{"16-digit 2", testKey, "4999988887777000", "9105", "111", "245"},
		{"16-digit 3", testKey, "4666655554444111", "9206", "120", "664"},
		{"16-digit 4", testKey, "4333322221111222", "9307", "141", "382"},
		{"13-digit 1", testKey, "4123456789012", "8701", "101", "370"},
		{"13-digit 2", testKey, "4999988887777", "9105", "111", "649"},
		{"13-digit 3", testKey, "4666655554444", "9206", "120", "821"},
		{"13-digit 4", testKey, "4333322221111", "9307", "141", "697"},
		// A worked example with every intermediate value (service code 111,
		// result 8D5625FA78011A0C).
		{"worked example", testKey, "4123456789012345", "8701", "111", "856"},
		// psec: cvv.generate_cvv docstring and tests/test_cvv.py.
		{"psec docstring", testKey, "1234567890123456", "9912", "220", "170"},
		{"psec test", "99999999999999998888888888888888", "2222222222222222", "3333", "111", "361"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CVV(mustKey(t, tt.key), tt.pan, tt.expiry, tt.serviceCode)
			if err != nil || got != tt.want {
				t.Fatalf("CVV = %q, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestVerifyCVV(t *testing.T) {
	cvk := mustKey(t, testKey)
	const pan, expiry = "4123456789012345", "8701"
	cvv2, err := CVV(cvk, pan, expiry, ServiceCodeCVV2)
	if err != nil {
		t.Fatal(err)
	}
	icvv, err := CVV(cvk, pan, expiry, ServiceCodeICVV)
	if err != nil {
		t.Fatal(err)
	}
	if cvv2 == "561" && icvv == "561" {
		t.Fatal("CVV, CVV2 and iCVV of one card should differ")
	}
	tests := []struct {
		name, serviceCode, cvv string
		want                   bool
		wantErr                error
	}{
		{"CVV", "101", "561", true, nil},
		{"wrong CVV", "101", "562", false, nil},
		{"CVV2", ServiceCodeCVV2, cvv2, true, nil},
		{"the stripe CVV given as CVV2", ServiceCodeCVV2, "561", cvv2 == "561", nil},
		{"iCVV", ServiceCodeICVV, icvv, true, nil},
		{"CVV not digits", "101", "5a1", false, ErrInvalidInput},
		{"CVV too long", "101", "5610", false, ErrInvalidInput},
		{"service code too short", "10", "561", false, ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyCVV(cvk, pan, expiry, tt.serviceCode, tt.cvv)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyCVV = %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := CVV(mustKey(t, "0123456789ABCDEF"), pan, expiry, "101"); !errors.Is(err, ErrKeyLength) {
		t.Fatalf("single-length CVK: err = %v, want ErrKeyLength", err)
	}
	if _, err := CVV(cvk, pan, "87O1", "101"); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("expiry with a letter: err = %v, want ErrInvalidInput", err)
	}
}

func TestDecimalise(t *testing.T) {
	tests := []struct {
		block string
		n     int
		want  string
	}{
		{"8D5625FA78011A0C", 3, "856"},
		{"8D5625FA78011A0C", 16, "8562578011035002"}, // digits, then D F A A C as 3 5 0 0 2
		{"ABCDEFABCDEFABCD", 4, "0123"},              // no digits at all: second pass only
		{"A1B2CDEF00000000", 4, "1200"},
		{"FFFFFFFFFFFFFF12", 4, "1255"},
	}
	for _, tt := range tests {
		var b [8]byte
		hex.Decode(b[:], []byte(tt.block))
		out := make([]byte, tt.n)
		decimalise(b, out)
		if string(out) != tt.want {
			t.Errorf("decimalise(%s, %d) = %s, want %s", tt.block, tt.n, out, tt.want)
		}
	}
}

func BenchmarkVerifyPIN(b *testing.B) {
	zpk := mustKey(b, "4652BC79A791C8978A643746A8EC5E8C")
	pvk := mustKey(b, testKey)
	block, _ := EncryptPINBlock(zpk, "4524", "1122334455667788")
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := VerifyPIN(zpk, pvk, block, "1122334455667788", 1, "8523"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkVerifyCVV(b *testing.B) {
	cvk := mustKey(b, testKey)
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := VerifyCVV(cvk, "4123456789012345", "8701", "101", "561"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// Whatever a PIN block decrypts to, decoding never panics, and a block that
// decodes is exactly the block the PIN re-encodes to.
func FuzzDecryptPINBlock(f *testing.F) {
	zpk := mustKey(f, testKey)
	f.Add([]byte{0xC9, 0x67, 0xC8, 0x19, 0x81, 0x51, 0xA4, 0x58}, "43219876543210987")
	f.Add(make([]byte, 8), "4111111111111111")
	f.Fuzz(func(t *testing.T, raw []byte, pan string) {
		if len(raw) != 8 {
			return
		}
		block := PINBlock(raw)
		pin, err := DecryptPINBlock(zpk, block, pan)
		if err != nil {
			return
		}
		again, err := EncryptPINBlock(zpk, string(pin), pan)
		if err != nil || again != block {
			t.Fatalf("decoded PIN does not re-encode to the same block (err %v)", err)
		}
	})
}
