package iso8583

import (
	"errors"
	"fmt"

	"github.com/moov-io/iso8583/encoding"
)

// The encoders below implement moov's encoding.Encoder. moov's stock BCD
// encoder builds a yerden/go-util decoder on every call (about 7 µs per field)
// and only knows decimal digits, so it can neither meet the authorizer's
// latency budget nor carry track 2's separator. These are table-free loops over
// the nibbles that allocate only the slice they return.
//
// Errors never quote field content: a PAN or track 2 must not reach a log
// through an error message. They name the offending byte position instead.

var (
	// BCDLeftPadded packs decimal digits two per byte; an odd count gets a
	// leading 0 nibble. It is jPOS's BCDInterpreter.LEFT_PADDED, used by
	// IFB_NUMERIC for the MTI and the fixed numeric fields.
	BCDLeftPadded encoding.Encoder = bcdEncoder{leftPadded: true}

	// BCDRightPadded packs decimal digits two per byte; an odd count gets a
	// trailing 0 nibble. It is jPOS's BCDInterpreter.RIGHT_PADDED, which
	// ISO87BPackager uses for its IFB_LLNUM fields (DE2, DE32, DE33, DE99,
	// DE100). On input a trailing F pad nibble is accepted too, since some
	// acquirers pad that way (jPOS's RIGHT_PADDED_F).
	BCDRightPadded encoding.Encoder = bcdEncoder{}

	// Track2BCD is BCDRightPadded that also carries track 2's field separator
	// as the nibble 0xD. It encodes 'D', 'd' and '=' to 0xD and decodes 0xD
	// to 'D'. (jPOS's ISOUtil renders the nibble as '='; both spellings name
	// the same nibble on the wire.)
	Track2BCD encoding.Encoder = bcdEncoder{track2: true}

	// Binary copies bytes untouched: PIN blocks, ICC data, MACs and bitmaps
	// are never translated. Unlike moov's encoding.Binary, Decode copies only
	// the field, not the rest of the message.
	Binary encoding.Encoder = binaryEncoder{}

	// Latin1 is the "ASCII" text encoding: bytes pass through unchanged, so
	// text fields hold ISO 8859-1, a superset of ASCII that also carries the
	// Ñ and accented letters of Latin American merchant names.
	Latin1 encoding.Encoder = textEncoder{}

	// EBCDIC1047 translates text between IBM code page 1047 on the wire and
	// ISO 8859-1 in memory. The two character sets map one to one, so every
	// byte decodes and every byte encodes.
	EBCDIC1047 encoding.Encoder = textEncoder{table: &latin1ToEBCDIC, inverse: &ebcdicToLatin1}
)

// ErrInvalidBCD reports a nibble that is not a decimal digit where one is
// required (or not a digit or separator in track 2).
var ErrInvalidBCD = errors.New("invalid BCD")

// ErrTruncated reports a field cut off by the end of the frame.
var ErrTruncated = errors.New("frame ends inside the field")

type bcdEncoder struct {
	leftPadded bool
	track2     bool
}

func (e bcdEncoder) Encode(src []byte) ([]byte, error) {
	out, err := appendBCD(make([]byte, 0, (len(src)+1)/2), src, e.leftPadded, e.track2)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Decode reads length digits, (length+1)/2 bytes.
func (e bcdEncoder) Decode(src []byte, length int) ([]byte, int, error) {
	if length < 0 {
		return nil, 0, fmt.Errorf("%w: negative length %d", ErrLength, length)
	}
	out, err := appendDigits(make([]byte, 0, length), src, length, e.leftPadded, e.track2)
	if err != nil {
		return nil, 0, err
	}
	return out, (length + 1) / 2, nil
}

// appendBCD packs digits two per byte onto dst. An odd count is padded with a
// 0 nibble on the left (leftPadded) or on the right.
func appendBCD[S ~string | ~[]byte](dst []byte, src S, leftPadded, track2 bool) ([]byte, error) {
	odd := len(src)%2 == 1
	var acc byte
	i := 0 // output nibble index
	if odd && leftPadded {
		i = 1
	}
	for pos := 0; pos < len(src); pos++ {
		c := src[pos]
		var n byte
		switch {
		case c >= '0' && c <= '9':
			n = c - '0'
		case track2 && (c == 'D' || c == 'd' || c == '='):
			n = 0xD
		default:
			return dst, fmt.Errorf("%w: character %d is not a digit", ErrInvalidBCD, pos+1)
		}
		if i%2 == 0 {
			acc = n << 4
		} else {
			dst = append(dst, acc|n)
		}
		i++
	}
	if i%2 == 1 {
		dst = append(dst, acc) // right pad nibble 0
	}
	return dst, nil
}

// appendDigits unpacks length BCD digits from src onto dst, checking every
// nibble: digits must be 0–9 (or D in track 2) and a pad nibble 0 or F.
func appendDigits(dst, src []byte, length int, leftPadded, track2 bool) ([]byte, error) {
	size := (length + 1) / 2
	if len(src) < size {
		return dst, fmt.Errorf("%w: %d BCD bytes needed, %d left", ErrTruncated, size, len(src))
	}
	src = src[:size]
	start := len(dst)
	if length%2 == 1 {
		pad := src[size-1] & 0x0F
		if leftPadded {
			pad = src[0] >> 4
		}
		if pad != 0 && pad != 0xF {
			return dst, fmt.Errorf("%w: pad nibble %X", ErrInvalidBCD, pad)
		}
	}
	for i, b := range src {
		hi, lo := b>>4, b&0x0F
		if hi > 9 || lo > 9 {
			return appendDigitsSlow(dst[:start], src, length, leftPadded, track2)
		}
		switch {
		case length%2 == 0:
			dst = append(dst, '0'+hi, '0'+lo)
		case leftPadded && i == 0:
			dst = append(dst, '0'+lo)
		case !leftPadded && i == size-1:
			dst = append(dst, '0'+hi)
		default:
			dst = append(dst, '0'+hi, '0'+lo)
		}
	}
	return dst, nil
}

// appendDigitsSlow is appendDigits nibble by nibble, for track 2's separator
// and to say where a bad nibble is.
func appendDigitsSlow(dst, src []byte, length int, leftPadded, track2 bool) ([]byte, error) {
	first := 0 // nibble index of the first digit
	if length%2 == 1 && leftPadded {
		first = 1
	}
	for i := first; i < first+length; i++ {
		b := src[i/2]
		n := b >> 4
		if i%2 == 1 {
			n = b & 0x0F
		}
		switch {
		case n <= 9:
			dst = append(dst, '0'+n)
		case track2 && n == 0xD:
			dst = append(dst, 'D')
		default:
			return dst, fmt.Errorf("%w: nibble %X in byte %d", ErrInvalidBCD, n, i/2+1)
		}
	}
	return dst, nil
}

type binaryEncoder struct{}

// Encode returns src itself: moov copies the result into the packed message.
func (binaryEncoder) Encode(src []byte) ([]byte, error) { return src, nil }

// Decode copies, because binary fields keep the slice they are given and the
// frame buffer is reused for the next read.
func (binaryEncoder) Decode(src []byte, length int) ([]byte, int, error) {
	if length < 0 {
		return nil, 0, fmt.Errorf("negative length %d", length)
	}
	if len(src) < length {
		return nil, 0, fmt.Errorf("%w: %d bytes needed, %d left", ErrTruncated, length, len(src))
	}
	return append([]byte(nil), src[:length]...), length, nil
}

// textEncoder translates through a 256-entry table, or passes bytes through
// when it has none.
type textEncoder struct {
	table   *[256]byte // memory (ISO 8859-1) to wire
	inverse *[256]byte // wire to memory
}

// Encode returns src itself when there is nothing to translate: moov copies
// the result into the packed message.
func (e textEncoder) Encode(src []byte) ([]byte, error) {
	if e.table == nil {
		return src, nil
	}
	out := make([]byte, len(src))
	for i, c := range src {
		out[i] = e.table[c]
	}
	return out, nil
}

// Decode of pass-through text returns a slice of src without copying: the text
// encoders are only used by moov String fields, which copy into a string.
func (e textEncoder) Decode(src []byte, length int) ([]byte, int, error) {
	if length < 0 {
		return nil, 0, fmt.Errorf("negative length %d", length)
	}
	if len(src) < length {
		return nil, 0, fmt.Errorf("%w: %d characters needed, %d left", ErrTruncated, length, len(src))
	}
	if e.inverse == nil {
		return src[:length:length], length, nil
	}
	out := make([]byte, length)
	for i, c := range src[:length] {
		out[i] = e.inverse[c]
	}
	return out, length, nil
}

// signedAmountEncoder is jPOS's IFB_AMOUNT (DE28–DE31, DE97): a 'C' (credit)
// or 'D' (debit) character in the text encoding, then the digits in BCD.
type signedAmountEncoder struct {
	text textEncoder
}

func (e signedAmountEncoder) Encode(src []byte) ([]byte, error) {
	if len(src) == 0 || (src[0] != 'C' && src[0] != 'D') {
		return nil, fmt.Errorf("signed amount must start with C or D")
	}
	digits, err := BCDLeftPadded.Encode(src[1:])
	if err != nil {
		return nil, err
	}
	sign, _ := e.text.Encode(src[:1])
	return append([]byte{sign[0]}, digits...), nil
}

func (e signedAmountEncoder) Decode(src []byte, length int) ([]byte, int, error) {
	if length < 1 {
		return nil, 0, fmt.Errorf("signed amount length %d", length)
	}
	if len(src) < 1 {
		return nil, 0, fmt.Errorf("%w: sign missing", ErrTruncated)
	}
	sign, _, _ := e.text.Decode(src[:1], 1)
	if sign[0] != 'C' && sign[0] != 'D' {
		return nil, 0, fmt.Errorf("signed amount must start with C or D")
	}
	digits, read, err := BCDLeftPadded.Decode(src[1:], length-1)
	if err != nil {
		return nil, 0, err
	}
	return append([]byte{sign[0]}, digits...), read + 1, nil
}

// latin1ToEBCDIC maps ISO 8859-1 to IBM-1047. It is the inverse of
// golang.org/x/text's charmap.CodePage1047, written out so the wire format
// reads in one place; a test checks the two agree.
var latin1ToEBCDIC = [256]byte{
	0x00, 0x01, 0x02, 0x03, 0x37, 0x2D, 0x2E, 0x2F, 0x16, 0x05, 0x25, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
	0x10, 0x11, 0x12, 0x13, 0x3C, 0x3D, 0x32, 0x26, 0x18, 0x19, 0x3F, 0x27, 0x1C, 0x1D, 0x1E, 0x1F,
	0x40, 0x5A, 0x7F, 0x7B, 0x5B, 0x6C, 0x50, 0x7D, 0x4D, 0x5D, 0x5C, 0x4E, 0x6B, 0x60, 0x4B, 0x61,
	0xF0, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0x7A, 0x5E, 0x4C, 0x7E, 0x6E, 0x6F,
	0x7C, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6,
	0xD7, 0xD8, 0xD9, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xAD, 0xE0, 0xBD, 0x5F, 0x6D,
	0x79, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96,
	0x97, 0x98, 0x99, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xC0, 0x4F, 0xD0, 0xA1, 0x07,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x15, 0x06, 0x17, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x09, 0x0A, 0x1B,
	0x30, 0x31, 0x1A, 0x33, 0x34, 0x35, 0x36, 0x08, 0x38, 0x39, 0x3A, 0x3B, 0x04, 0x14, 0x3E, 0xFF,
	0x41, 0xAA, 0x4A, 0xB1, 0x9F, 0xB2, 0x6A, 0xB5, 0xBB, 0xB4, 0x9A, 0x8A, 0xB0, 0xCA, 0xAF, 0xBC,
	0x90, 0x8F, 0xEA, 0xFA, 0xBE, 0xA0, 0xB6, 0xB3, 0x9D, 0xDA, 0x9B, 0x8B, 0xB7, 0xB8, 0xB9, 0xAB,
	0x64, 0x65, 0x62, 0x66, 0x63, 0x67, 0x9E, 0x68, 0x74, 0x71, 0x72, 0x73, 0x78, 0x75, 0x76, 0x77,
	0xAC, 0x69, 0xED, 0xEE, 0xEB, 0xEF, 0xEC, 0xBF, 0x80, 0xFD, 0xFE, 0xFB, 0xFC, 0xBA, 0xAE, 0x59,
	0x44, 0x45, 0x42, 0x46, 0x43, 0x47, 0x9C, 0x48, 0x54, 0x51, 0x52, 0x53, 0x58, 0x55, 0x56, 0x57,
	0x8C, 0x49, 0xCD, 0xCE, 0xCB, 0xCF, 0xCC, 0xE1, 0x70, 0xDD, 0xDE, 0xDB, 0xDC, 0x8D, 0x8E, 0xDF,
}

var ebcdicToLatin1 = invert(&latin1ToEBCDIC)

func invert(t *[256]byte) [256]byte {
	var inv [256]byte
	for i, b := range t {
		inv[b] = byte(i)
	}
	return inv
}
