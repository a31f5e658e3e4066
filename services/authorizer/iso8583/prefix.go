package iso8583

import (
	"errors"
	"fmt"

	"github.com/moov-io/iso8583/prefix"
)

// The length prefixes of ISO87BPackager (jPOS's BcdPrefixer): LL is one byte
// of BCD (00–99), LLL two bytes (0000–0999). moov's prefix.BCD goes through
// its slow BCD encoder, fmt and strconv; these read the nibbles directly and
// encode from a table, so packing a length allocates nothing.

var (
	// BCDFixed is the prefixer of fixed-length fields: no bytes on the wire.
	BCDFixed prefix.Prefixer = fixedPrefixer{}
	// BCDLL is a one-byte BCD length (up to 99).
	BCDLL prefix.Prefixer = llPrefix
	// BCDLLL is a two-byte BCD length (up to 999).
	BCDLLL prefix.Prefixer = lllPrefix
)

var (
	llPrefix  = bcdPrefixer{digits: 2}
	lllPrefix = bcdPrefixer{digits: 3}
)

// ErrLength reports a length prefix or value length out of range.
var ErrLength = errors.New("invalid length")

type fixedPrefixer struct{}

func (fixedPrefixer) EncodeLength(fixLen, length int) ([]byte, error) {
	if length != fixLen {
		return nil, fmt.Errorf("%w: field is fixed at %d, value has %d", ErrLength, fixLen, length)
	}
	return nil, nil
}

func (fixedPrefixer) DecodeLength(fixLen int, _ []byte) (int, int, error) {
	return fixLen, 0, nil
}

func (fixedPrefixer) Inspect() string { return "BCD.Fixed" }

type bcdPrefixer struct {
	digits int // 2 for LL, 3 for LLL
}

// bcdLengths holds every length 0–999 as two BCD bytes. EncodeLength returns
// a capacity-limited slice of it, so a caller's append copies instead of
// writing into the table.
var bcdLengths = func() (t [2000]byte) {
	for n := range 1000 {
		t[2*n] = byte(n / 100)
		t[2*n+1] = byte(n/10%10)<<4 | byte(n%10)
	}
	return t
}()

func (p bcdPrefixer) size() int { return (p.digits + 1) / 2 }

func (p bcdPrefixer) EncodeLength(maxLen, length int) ([]byte, error) {
	if length > maxLen {
		return nil, fmt.Errorf("%w: value has %d, maximum is %d", ErrLength, length, maxLen)
	}
	if length < 0 || (p.digits == 2 && length > 99) || length > 999 {
		return nil, fmt.Errorf("%w: %d does not fit %d digits", ErrLength, length, p.digits)
	}
	end := 2*length + 2
	start := end - p.size()
	return bcdLengths[start:end:end], nil
}

func (p bcdPrefixer) DecodeLength(maxLen int, data []byte) (int, int, error) {
	length, err := p.length(data, maxLen)
	if err != nil {
		return 0, 0, err
	}
	return length, p.size(), nil
}

// length reads the prefix at the start of data and checks it against maxLen.
func (p bcdPrefixer) length(data []byte, maxLen int) (int, error) {
	size := p.size()
	if len(data) < size {
		return 0, fmt.Errorf("%w: length prefix needs %d bytes, %d left", ErrTruncated, size, len(data))
	}
	length := 0
	for i, b := range data[:size] {
		hi, lo := b>>4, b&0x0F
		if hi > 9 || lo > 9 {
			return 0, fmt.Errorf("%w: length prefix byte %d is %02X", ErrInvalidBCD, i+1, b)
		}
		length = length*100 + int(hi)*10 + int(lo)
	}
	if length > maxLen {
		return 0, fmt.Errorf("%w: length %d over maximum %d", ErrLength, length, maxLen)
	}
	return length, nil
}

func (p bcdPrefixer) Inspect() string {
	if p.digits == 2 {
		return "BCD.LL"
	}
	return "BCD.LLL"
}
