package iso8583

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"

	moov "github.com/moov-io/iso8583"
	moovErrors "github.com/moov-io/iso8583/errors"
)

// This file is the authorizer's hot path: it reads and writes frames field by
// field from the field table, without building moov messages. A moov message
// keeps its fields in a map that grows as fields are added, creates an object
// per field and allocates several slices per field on pack; an 0100 in and an
// 0110 out cost about 8 µs and 160 allocations that way. Locating the fields
// in the frame once and decoding only what the typed structs need is an order
// of magnitude cheaper, and echoed fields go back out byte for byte as they
// came in. The moov spec from NewSpec describes the same layout; tests and the
// fuzzer check that the two readings agree.

// Codec reads and writes ISO87B frames with text in one encoding. It holds no
// mutable state and may be shared.
type Codec struct {
	text     TextEncoding
	toWire   *[256]byte // nil when text passes through
	toMemory *[256]byte
	spec     *moov.MessageSpec
}

// NewCodec returns the codec for a listener whose text fields are in text.
func NewCodec(text TextEncoding) *Codec {
	c := &Codec{text: text, spec: NewSpec(text)}
	if text == EBCDIC {
		c.toWire, c.toMemory = &latin1ToEBCDIC, &ebcdicToLatin1
	}
	return c
}

// Spec is the moov message spec of the same layout, for tools that want moov
// messages (JSON, ad hoc fields).
func (c *Codec) Spec() *moov.MessageSpec { return c.spec }

// TextEncoding is the encoding of the codec's text fields.
func (c *Codec) TextEncoding() TextEncoding { return c.text }

// span is where one field sits in the frame, length prefix included. A zero
// end means the field is absent (no field can end at offset 0).
type span struct{ start, end uint16 }

// layout is a scanned frame: which fields it has and where they are.
type layout struct {
	bitmap fieldSet // primary and secondary bitmap as read
	spans  [129]span
}

func (l *layout) has(id int) bool { return l.bitmap.has(id) }

// fieldSet is a set of field numbers laid out like a primary and a secondary
// bitmap: field 1 is the top bit of the first word.
type fieldSet [2]uint64

func fields(ids ...int) fieldSet {
	var s fieldSet
	for _, id := range ids {
		s.add(id)
	}
	return s
}

func (s *fieldSet) add(id int) { s[(id-1)/64] |= 1 << (63 - (id-1)%64) }

func (s fieldSet) has(id int) bool {
	return id >= 1 && id <= 128 && s[(id-1)/64]&(1<<(63-(id-1)%64)) != 0
}

// maxFrameLen keeps offsets within uint16; the 2-byte frame header cannot
// announce more anyway.
const maxFrameLen = 0xFFFF

var errTrailing = errors.New("bytes left after the last field")

// unpackError is moov's error type for a frame that fails to unpack, so the
// server treats ours and moov's alike. RawMessage is a copy: the caller's
// frame buffer is reused for the next read.
func unpackError(frame []byte, id int, err error) error {
	name := fieldIndex[id].name
	if id == 1 {
		name = "Bitmap"
	}
	return &moovErrors.UnpackError{
		Err:        fmt.Errorf("field %d (%s): %w", id, name, err),
		FieldID:    strconv.Itoa(id),
		RawMessage: append([]byte(nil), frame...),
	}
}

// scan locates every field of frame. With strict it also checks the content
// of every field (BCD nibbles, amount signs), so a frame that scans strictly
// decodes without error. Without strict it only needs each field's length,
// which lets Recover walk past a field with bad digits; it stops at the first
// field it cannot delimit, with the spans before it filled in.
func (c *Codec) scan(frame []byte, l *layout, strict bool) error {
	*l = layout{}
	if len(frame) > maxFrameLen {
		return unpackError(frame, 0, fmt.Errorf("%w: frame of %d bytes", ErrLength, len(frame)))
	}
	if len(frame) < 2 {
		return unpackError(frame, 0, fmt.Errorf("%w: 2 bytes needed, %d left", ErrTruncated, len(frame)))
	}
	if strict {
		var buf [4]byte
		if _, err := appendDigits(buf[:0], frame, 4, true, false); err != nil {
			return unpackError(frame, 0, err)
		}
	}
	l.spans[0] = span{0, 2}
	if len(frame) < 10 {
		return unpackError(frame, 1, fmt.Errorf("%w: 8 bytes needed, %d left", ErrTruncated, len(frame)-2))
	}
	l.bitmap[0] = binary.BigEndian.Uint64(frame[2:10])
	off := 10
	if l.bitmap[0]>>63 == 1 {
		if len(frame) < 18 {
			return unpackError(frame, 1, fmt.Errorf("%w: secondary bitmap needs 8 bytes, %d left", ErrTruncated, len(frame)-10))
		}
		l.bitmap[1] = binary.BigEndian.Uint64(frame[10:18])
		off = 18
	}
	l.spans[1] = span{2, uint16(off)}
	last := 1
	for w, word := range l.bitmap {
		if w == 0 {
			word &^= 1 << 63 // field 1 is the secondary bitmap itself
		}
		for word != 0 {
			lz := bits.LeadingZeros64(word)
			word &^= 1 << (63 - lz)
			id := w*64 + lz + 1
			if fieldIndex[id].name == "" {
				return unpackError(frame, id, errors.New("field not in the ISO87B table (a third bitmap is not supported)"))
			}
			n, err := c.fieldSize(frame[off:], id, strict)
			if err != nil {
				return unpackError(frame, id, err)
			}
			l.spans[id] = span{uint16(off), uint16(off + n)}
			off += n
			last = id
		}
	}
	if off != len(frame) {
		return unpackError(frame, last, fmt.Errorf("%w: %d", errTrailing, len(frame)-off))
	}
	return nil
}

// fieldSize returns how many bytes field id takes at the start of b,
// checking its content when strict.
func (c *Codec) fieldSize(b []byte, id int, strict bool) (int, error) {
	def := fieldIndex[id]
	var digits [64]byte // scratch for checking BCD; the longest BCD field has 42 digits
	need := func(n int) error {
		if len(b) < n {
			return fmt.Errorf("%w: %d bytes needed, %d left", ErrTruncated, n, len(b))
		}
		return nil
	}
	switch def.kind {
	case numeric, numericAmount:
		n := (def.length + 1) / 2
		if err := need(n); err != nil {
			return 0, err
		}
		if strict {
			if _, err := appendDigits(digits[:0], b, def.length, true, false); err != nil {
				return 0, err
			}
		}
		return n, nil
	case llNumeric, llTrack2:
		units, err := llPrefix.length(b, def.length)
		if err != nil {
			return 0, err
		}
		n := 1 + (units+1)/2
		if err := need(n); err != nil {
			return 0, err
		}
		if strict {
			if _, err := appendDigits(digits[:0], b[1:], units, false, def.kind == llTrack2); err != nil {
				return 0, err
			}
		}
		return n, nil
	case signedAmount:
		n := 1 + def.length/2
		if err := need(n); err != nil {
			return 0, err
		}
		if strict {
			if sign := c.memoryByte(b[0]); sign != 'C' && sign != 'D' {
				return 0, errors.New("amount sign is not C or D")
			}
			if _, err := appendDigits(digits[:0], b[1:], def.length-1, true, false); err != nil {
				return 0, err
			}
		}
		return n, nil
	case char, binaryFixed:
		return def.length, need(def.length)
	case llChar:
		units, err := llPrefix.length(b, def.length)
		if err != nil {
			return 0, err
		}
		return 1 + units, need(1 + units)
	case lllChar, lllBinary:
		units, err := lllPrefix.length(b, def.length)
		if err != nil {
			return 0, err
		}
		return 2 + units, need(2 + units)
	}
	return 0, fmt.Errorf("field kind %d has no reader", def.kind)
}

// memoryByte translates one wire character to ISO 8859-1.
func (c *Codec) memoryByte(b byte) byte {
	if c.toMemory != nil {
		return c.toMemory[b]
	}
	return b
}

// content returns a present field's value bytes (prefix stripped) and its
// length in units (digits, characters or bytes).
func (l *layout) content(frame []byte, id int) ([]byte, int) {
	s := l.spans[id]
	if s.end == 0 {
		return nil, 0
	}
	raw := frame[s.start:s.end]
	def := fieldIndex[id]
	switch def.kind {
	case llNumeric, llTrack2:
		return raw[1:], bcdByte(raw[0])
	case llChar:
		return raw[1:], len(raw) - 1
	case lllChar, lllBinary:
		return raw[2:], len(raw) - 2
	}
	return raw, def.length
}

func bcdByte(b byte) int { return int(b>>4)*10 + int(b&0x0F) }

// appendValue appends the in-memory form of a present field to dst: digits
// for numeric fields, UTF-8 for text (IF_CHAR trailing spaces trimmed, as
// jPOS does), and the raw bytes for binary fields. The frame must have
// scanned strictly, which makes decoding infallible.
func (c *Codec) appendValue(dst, frame []byte, l *layout, id int) []byte {
	b, units := l.content(frame, id)
	if b == nil {
		return dst
	}
	switch fieldIndex[id].kind {
	case numeric, numericAmount:
		dst, _ = appendDigits(dst, b, units, true, false)
	case llNumeric:
		dst, _ = appendDigits(dst, b, units, false, false)
	case llTrack2:
		dst, _ = appendDigits(dst, b, units, false, true)
	case signedAmount:
		dst = append(dst, c.memoryByte(b[0]))
		dst, _ = appendDigits(dst, b[1:], units-1, true, false)
	case char:
		for len(b) > 0 && c.memoryByte(b[len(b)-1]) == ' ' {
			b = b[:len(b)-1]
		}
		dst = appendMemoryText(dst, b, c.toMemory)
	case llChar, lllChar:
		dst = appendMemoryText(dst, b, c.toMemory)
	case binaryFixed, lllBinary:
		dst = append(dst, b...)
	}
	return dst
}

// amount reads a numeric field as an integer without building a string. The
// frame must have scanned strictly.
func (l *layout) amount(frame []byte, id int) int64 {
	b, units := l.content(frame, id)
	var v int64
	for i := units % 2; i < units+units%2; i++ {
		n := b[i/2] >> 4
		if i%2 == 1 {
			n = b[i/2] & 0x0F
		}
		v = v*10 + int64(n)
	}
	return v
}

// appendField appends field id, length prefix included, from its in-memory
// form (see appendValue). Numeric values shorter than a fixed field are
// left-padded with zeros and text with spaces on the right, as jPOS's
// IFB_NUMERIC and IF_CHAR do.
func appendField[S ~string | ~[]byte](c *Codec, dst []byte, id int, v S) ([]byte, error) {
	def := fieldIndex[id]
	n := len(v)
	if def.kind == char || def.kind == llChar || def.kind == lllChar {
		n = textLen(v)
	}
	fixed := def.kind == numeric || def.kind == numericAmount || def.kind == char ||
		def.kind == binaryFixed || def.kind == signedAmount
	if n > def.length || (def.kind == binaryFixed && n != def.length) {
		return dst, fmt.Errorf("field %d (%s): %w: %d over %d", id, def.name, ErrLength, n, def.length)
	}
	if !fixed {
		size := 1
		if def.kind == lllChar || def.kind == lllBinary {
			size = 2
		}
		dst = append(dst, bcdLengths[2*n+2-size:2*n+2]...)
	}
	var err error
	switch def.kind {
	case numeric, numericAmount:
		dst, err = appendPaddedBCD(dst, v, def.length)
	case llNumeric:
		dst, err = appendBCD(dst, v, false, false)
	case llTrack2:
		dst, err = appendBCD(dst, v, false, true)
	case signedAmount:
		if n == 0 || (v[0] != 'C' && v[0] != 'D') {
			return dst, fmt.Errorf("field %d (%s): amount must start with C or D", id, def.name)
		}
		sign := v[0]
		if c.toWire != nil {
			sign = c.toWire[sign]
		}
		dst = append(dst, sign)
		dst, err = appendPaddedBCD(dst, v[1:], def.length-1)
	case char:
		dst, err = appendWireText(dst, v, c.toWire)
		space := byte(' ')
		if c.toWire != nil {
			space = c.toWire[' ']
		}
		for range def.length - n {
			dst = append(dst, space)
		}
	case llChar, lllChar:
		dst, err = appendWireText(dst, v, c.toWire)
	case binaryFixed, lllBinary:
		dst = append(dst, v...)
	}
	if err != nil {
		return dst, fmt.Errorf("field %d (%s): %w", id, def.name, err)
	}
	return dst, nil
}

// appendPaddedBCD packs digits into a fixed numeric field of width digits,
// left-padding with zeros.
func appendPaddedBCD[S ~string | ~[]byte](dst []byte, v S, width int) ([]byte, error) {
	var buf [64]byte
	pad := width - len(v)
	if pad < 0 || width > len(buf) {
		return dst, fmt.Errorf("%w: %d digits over %d", ErrLength, len(v), width)
	}
	for i := range pad {
		buf[i] = '0'
	}
	for i := 0; i < len(v); i++ {
		buf[pad+i] = v[i]
	}
	return appendBCD(dst, buf[:width], true, false)
}
