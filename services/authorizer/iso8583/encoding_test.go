package iso8583

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

func TestBCDEncoders(t *testing.T) {
	tests := []struct {
		name   string
		enc    bcdEncoder
		digits string
		wire   []byte
	}{
		{"MTI", bcdEncoder{leftPadded: true}, "0100", []byte{0x01, 0x00}},
		{"odd fixed pads left", bcdEncoder{leftPadded: true}, "051", []byte{0x00, 0x51}},
		{"one digit", bcdEncoder{leftPadded: true}, "7", []byte{0x07}},
		{"odd LLNUM pads right", bcdEncoder{}, "12345", []byte{0x12, 0x34, 0x50}},
		{"even LLNUM", bcdEncoder{}, "1234", []byte{0x12, 0x34}},
		{"empty", bcdEncoder{}, "", []byte{}},
		{"track 2", bcdEncoder{track2: true}, "4761D2512101", []byte{0x47, 0x61, 0xD2, 0x51, 0x21, 0x01}},
		{"odd track 2", bcdEncoder{track2: true}, "476D25121", []byte{0x47, 0x6D, 0x25, 0x12, 0x10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.enc.Encode([]byte(tt.digits))
			if err != nil || !bytes.Equal(got, tt.wire) {
				t.Errorf("Encode(%q) = %X, %v; want %X", tt.digits, got, err, tt.wire)
			}
			back, read, err := tt.enc.Decode(append(tt.wire, 0x99), len(tt.digits))
			if err != nil || string(back) != tt.digits || read != len(tt.wire) {
				t.Errorf("Decode(%X) = %q, %d, %v; want %q, %d", tt.wire, back, read, err, tt.digits, len(tt.wire))
			}
		})
	}
}

func TestBCDAcceptsEqualsAndFPad(t *testing.T) {
	got, err := Track2BCD.Encode([]byte("476=2512"))
	if err != nil || !bytes.Equal(got, []byte{0x47, 0x6D, 0x25, 0x12}) {
		t.Errorf("track 2 with '=' encodes to %X, %v", got, err)
	}
	digits, _, err := BCDRightPadded.Decode([]byte{0x12, 0x3F}, 3)
	if err != nil || string(digits) != "123" {
		t.Errorf("F pad nibble decodes to %q, %v", digits, err)
	}
}

func TestBCDRejects(t *testing.T) {
	tests := []struct {
		name   string
		enc    bcdEncoder
		wire   []byte
		length int
	}{
		{"letter nibble", bcdEncoder{leftPadded: true}, []byte{0x12, 0xA4}, 4},
		{"separator outside track 2", bcdEncoder{}, []byte{0x47, 0x6D}, 4},
		{"B in track 2", bcdEncoder{track2: true}, []byte{0x47, 0x6B}, 4},
		{"bad left pad", bcdEncoder{leftPadded: true}, []byte{0x50, 0x51}, 3},
		{"bad right pad", bcdEncoder{}, []byte{0x12, 0x35}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := tt.enc.Decode(tt.wire, tt.length); !errors.Is(err, ErrInvalidBCD) {
				t.Errorf("Decode(%X) error = %v, want ErrInvalidBCD", tt.wire, err)
			}
		})
	}
	if _, _, err := BCDLeftPadded.Decode([]byte{0x12}, 4); !errors.Is(err, ErrTruncated) {
		t.Errorf("short input: %v", err)
	}
	if _, err := BCDLeftPadded.Encode([]byte("12a4")); !errors.Is(err, ErrInvalidBCD) {
		t.Errorf("Encode of a letter: %v", err)
	}
}

func TestEBCDICMatchesCodePage1047(t *testing.T) {
	for b := range 256 {
		r := charmap.CodePage1047.DecodeByte(byte(b))
		if got := ebcdicToLatin1[b]; rune(got) != r {
			t.Errorf("EBCDIC %02X decodes to %02X, x/text says U+%04X", b, got, r)
		}
		if latin1ToEBCDIC[ebcdicToLatin1[b]] != byte(b) {
			t.Errorf("EBCDIC %02X does not round-trip", b)
		}
	}
	wire, _ := EBCDIC1047.Encode([]byte("TERM 01"))
	if !bytes.Equal(wire, []byte{0xE3, 0xC5, 0xD9, 0xD4, 0x40, 0xF0, 0xF1}) {
		t.Errorf("Encode = %X", wire)
	}
	text, n, err := EBCDIC1047.Decode(wire, len(wire))
	if err != nil || string(text) != "TERM 01" || n != len(wire) {
		t.Errorf("Decode = %q, %d, %v", text, n, err)
	}
}

func TestBinaryDecodeCopies(t *testing.T) {
	src := []byte{1, 2, 3, 4}
	got, n, err := Binary.Decode(src, 2)
	if err != nil || n != 2 || !bytes.Equal(got, []byte{1, 2}) {
		t.Fatalf("Decode = %X, %d, %v", got, n, err)
	}
	src[0] = 9
	if got[0] != 1 {
		t.Error("Decode aliases its input; the frame buffer is reused")
	}
}

func TestBCDPrefixers(t *testing.T) {
	ll, err := BCDLL.EncodeLength(19, 19)
	if err != nil || !bytes.Equal(ll, []byte{0x19}) {
		t.Errorf("LL 19 = %X, %v", ll, err)
	}
	lll, err := BCDLLL.EncodeLength(999, 120)
	if err != nil || !bytes.Equal(lll, []byte{0x01, 0x20}) {
		t.Errorf("LLL 120 = %X, %v", lll, err)
	}
	// Appending to a returned prefix must not write into the shared table.
	_ = append(lll, 0xFF)
	if again, _ := BCDLLL.EncodeLength(999, 121); !bytes.Equal(again, []byte{0x01, 0x21}) {
		t.Errorf("length table overwritten: %X", again)
	}
	if _, err := BCDLL.EncodeLength(19, 20); !errors.Is(err, ErrLength) {
		t.Errorf("LL over max: %v", err)
	}
	if n, read, err := BCDLLL.DecodeLength(999, []byte{0x09, 0x99}); err != nil || n != 999 || read != 2 {
		t.Errorf("LLL 999 = %d, %d, %v", n, read, err)
	}
	if _, _, err := BCDLL.DecodeLength(19, []byte{0x20}); !errors.Is(err, ErrLength) {
		t.Errorf("LL 20 over 19: %v", err)
	}
	if _, _, err := BCDLL.DecodeLength(99, []byte{0x1A}); !errors.Is(err, ErrInvalidBCD) {
		t.Errorf("LL 1A: %v", err)
	}
	if _, _, err := BCDLLL.DecodeLength(999, []byte{0x01}); !errors.Is(err, ErrTruncated) {
		t.Errorf("LLL cut short: %v", err)
	}
}

func TestTextConversions(t *testing.T) {
	if got := Latin1ToUTF8("CAF\xc9"); got != "CAFÉ" {
		t.Errorf("Latin1ToUTF8 = %q", got)
	}
	if got, err := UTF8ToLatin1("CAFÉ"); err != nil || got != "CAF\xc9" {
		t.Errorf("UTF8ToLatin1 = %q, %v", got, err)
	}
	if _, err := UTF8ToLatin1("CAFÉ €"); err == nil {
		t.Error("UTF8ToLatin1 accepts €, which ISO 8859-1 lacks")
	}
}

func TestParseTextEncoding(t *testing.T) {
	for s, want := range map[string]TextEncoding{"ascii": ASCII, "EBCDIC": EBCDIC} {
		if got, err := ParseTextEncoding(s); err != nil || got != want {
			t.Errorf("ParseTextEncoding(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseTextEncoding("utf8"); err == nil {
		t.Error("ParseTextEncoding accepts utf8")
	}
}
