package iso8583

import (
	"fmt"
	"unicode/utf8"
)

// Text lives in three forms. On the wire it is ASCII or EBCDIC bytes; in a
// moov message it is ISO 8859-1 (one byte per character, as on the wire);
// in the typed structs and in JSON it is UTF-8 like every other Go string.
// The helpers below convert at those boundaries and cost nothing for the
// common case of plain ASCII.

// appendWireText appends UTF-8 text to dst in the wire character set
// (toWire nil: ISO 8859-1 as is). Characters outside ISO 8859-1 cannot be
// sent and are an error.
func appendWireText[S ~string | ~[]byte](dst []byte, s S, toWire *[256]byte) ([]byte, error) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
		} else {
			r, size := decodeRune(s[i:])
			if r == utf8.RuneError || r > 0xFF {
				return dst, fmt.Errorf("character %d cannot be sent in ISO 8859-1", i+1)
			}
			c = byte(r)
			i += size
		}
		if toWire != nil {
			c = toWire[c]
		}
		dst = append(dst, c)
	}
	return dst, nil
}

// textLen counts the characters of UTF-8 text, which is its length on the
// wire.
func textLen[S ~string | ~[]byte](s S) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < utf8.RuneSelf || s[i] >= 0xC0 {
			n++
		}
	}
	return n
}

func decodeRune[S ~string | ~[]byte](s S) (rune, int) {
	switch v := any(s).(type) {
	case string:
		return utf8.DecodeRuneInString(v)
	case []byte:
		return utf8.DecodeRune(v)
	}
	// Named string or byte-slice types reach here; convert through string.
	return utf8.DecodeRuneInString(string(s))
}

// appendMemoryText appends wire text to dst as UTF-8 (toMemory nil: the wire
// is ISO 8859-1 already).
func appendMemoryText(dst, wire []byte, toMemory *[256]byte) []byte {
	for _, c := range wire {
		if toMemory != nil {
			c = toMemory[c]
		}
		if c < utf8.RuneSelf {
			dst = append(dst, c)
		} else {
			dst = utf8.AppendRune(dst, rune(c))
		}
	}
	return dst
}

// Latin1ToUTF8 converts text held by a moov message (ISO 8859-1) to UTF-8.
func Latin1ToUTF8(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return string(appendMemoryText(make([]byte, 0, len(s)+8), []byte(s), nil))
		}
	}
	return s
}

// UTF8ToLatin1 converts UTF-8 text to the ISO 8859-1 a moov message holds.
func UTF8ToLatin1(s string) (string, error) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			b, err := appendWireText(make([]byte, 0, len(s)), s, nil)
			return string(b), err
		}
	}
	return s, nil
}
