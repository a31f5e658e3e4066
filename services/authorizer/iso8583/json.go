package iso8583

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	moov "github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/field"
)

// JSONOptions controls MarshalMessageJSON.
type JSONOptions struct {
	// Reveal shows card data in clear. By default the PAN shows its first
	// six and last four digits, and track data, the PIN block, the CVV2 in
	// DE48 and the card data inside DE55 are replaced by asterisks.
	Reveal bool
}

// MarshalMessageJSON renders a message as a JSON object keyed by field
// number in field order, in the shape moov uses: text and digit strings as
// strings, DE4–DE6 as numbers, binary fields and the bitmap as upper-case
// hex. Text is converted to UTF-8. Unless opts.Reveal, card data is masked
// (and the output can then no longer be packed).
func MarshalMessageJSON(m *moov.Message, opts JSONOptions) ([]byte, error) {
	// Packing computes the bitmap of a message built in code and checks
	// every field against the spec.
	if _, err := m.Pack(); err != nil {
		return nil, err
	}
	fs := m.GetFields()
	ids := slices.Sorted(maps.Keys(fs))
	var out bytes.Buffer
	out.WriteByte('{')
	for i, id := range ids {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(`"` + strconv.Itoa(id) + `":`)
		var v any
		switch f := fs[id].(type) {
		case *field.Numeric:
			v = f.Value()
		case *field.String:
			s := Latin1ToUTF8(f.Value())
			if !opts.Reveal {
				s = maskText(id, s)
			}
			v = s
		case *field.Binary:
			s := strings.ToUpper(hex.EncodeToString(f.Value()))
			if !opts.Reveal {
				s = maskBinary(id, f.Value(), s)
			}
			v = s
		case *field.Bitmap:
			b, _ := f.Bytes()
			v = strings.ToUpper(hex.EncodeToString(b))
		default:
			s, err := f.String()
			if err != nil {
				return nil, fmt.Errorf("field %d: %w", id, err)
			}
			v = s
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("field %d: %w", id, err)
		}
		out.Write(enc)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// UnmarshalMessageJSON builds a message of spec from the JSON that
// MarshalMessageJSON writes (revealed: masked card data does not pack). The
// bitmap, if given, is ignored: packing computes it.
func UnmarshalMessageJSON(spec *moov.MessageSpec, data []byte) (*moov.Message, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("message JSON: %w", err)
	}
	m := moov.NewMessage(spec)
	for key, value := range raw {
		id, err := strconv.Atoi(key)
		if err != nil {
			return nil, fmt.Errorf("key %q is not a field number", key)
		}
		if id == 1 {
			continue
		}
		f, ok := spec.Fields[id]
		if !ok {
			return nil, fmt.Errorf("field %d is not in the spec", id)
		}
		switch f.(type) {
		case *field.Numeric:
			var n json.Number
			if err := json.Unmarshal(value, &n); err != nil {
				return nil, fmt.Errorf("field %d: want a number: %w", id, err)
			}
			if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
				return nil, fmt.Errorf("field %d: want an integer", id)
			}
			err = m.Field(id, n.String())
		case *field.Binary:
			var s string
			if err := json.Unmarshal(value, &s); err != nil {
				return nil, fmt.Errorf("field %d: want a hex string: %w", id, err)
			}
			b, herr := hex.DecodeString(s)
			if herr != nil {
				return nil, fmt.Errorf("field %d: %w", id, herr)
			}
			err = m.BinaryField(id, b)
		default:
			var s string
			if err := json.Unmarshal(value, &s); err != nil {
				return nil, fmt.Errorf("field %d: want a string: %w", id, err)
			}
			latin1, lerr := UTF8ToLatin1(s)
			if lerr != nil {
				return nil, fmt.Errorf("field %d: %w", id, lerr)
			}
			err = m.Field(id, latin1)
		}
		if err != nil {
			return nil, fmt.Errorf("field %d: %w", id, err)
		}
	}
	return m, nil
}

// DecodeJSON unpacks a frame's message (header stripped) with the codec's
// spec and renders it as MarshalMessageJSON does: `bankctl iso8583 decode`.
func (c *Codec) DecodeJSON(msg []byte, opts JSONOptions) ([]byte, error) {
	// The codec's own walk checks the frame first: it is stricter than
	// moov (trailing bytes, a third bitmap) and hands moov only frames it
	// has bounded.
	var l layout
	if err := c.scan(msg, &l, true); err != nil {
		return nil, err
	}
	m := moov.NewMessage(c.spec)
	if err := m.Unpack(msg); err != nil {
		return nil, err
	}
	return MarshalMessageJSON(m, opts)
}

// EncodeJSON packs the message described by JSON (header not included):
// `bankctl iso8583 encode`.
func (c *Codec) EncodeJSON(data []byte) ([]byte, error) {
	m, err := UnmarshalMessageJSON(c.spec, data)
	if err != nil {
		return nil, err
	}
	return m.Pack()
}

// maskText masks card data held in text or digit fields.
func maskText(id int, s string) string {
	switch id {
	case 2, 34:
		return MaskPAN(s)
	case 35:
		return maskTrack2(s)
	case 36, 45:
		return stars(len(s))
	case 48:
		return maskPrivateData(s)
	}
	return s
}

func maskBinary(id int, b []byte, hexText string) string {
	switch id {
	case 52:
		return stars(len(hexText))
	case 55:
		return maskICC(b)
	}
	return hexText
}

// MaskPAN keeps the first six and last four digits of a PAN, as PCI DSS
// allows for display, and masks the rest. A value too short to keep that
// much is masked whole.
func MaskPAN(pan string) string {
	if len(pan) < 12 {
		return stars(len(pan))
	}
	return pan[:6] + stars(len(pan)-10) + pan[len(pan)-4:]
}

// maskTrack2 shows the masked PAN and the separator, nothing after.
func maskTrack2(t string) string {
	i := strings.IndexAny(t, "D=")
	if i < 0 {
		return stars(len(t))
	}
	return MaskPAN(t[:i]) + t[i:i+1] + stars(len(t)-i-1)
}

// iccSecretTags are EMV tags holding card data a log must not show: PAN
// (5A), track 2 and track 1 equivalents (57, 56), cardholder name (5F20),
// track discretionary data (9F1F, 9F20) and Mastercard's track 2 (9F6B).
var iccSecretTags = map[uint32]bool{
	0x5A: true, 0x57: true, 0x56: true, 0x5F20: true, 0x9F1F: true, 0x9F20: true, 0x9F6B: true,
}

// maskICC renders DE55 as hex with the values of secret tags masked. Data
// that is not well-formed BER-TLV is masked whole, since where the secrets
// are cannot be told.
func maskICC(b []byte) string {
	out := []byte(strings.ToUpper(hex.EncodeToString(b)))
	if !maskTLV(b, 0, out) {
		return stars(len(out))
	}
	return string(out)
}

// maskTLV walks BER-TLV data starting at offset base of the whole field and
// stars out secret values in out (the field's hex). It reports whether the
// data parsed.
func maskTLV(b []byte, base int, out []byte) bool {
	for i := 0; i < len(b); {
		if b[i] == 0x00 || b[i] == 0xFF { // padding between objects
			i++
			continue
		}
		first := b[i]
		tag := uint32(first)
		i++
		if first&0x1F == 0x1F {
			for {
				if i >= len(b) || tag > 0xFFFFFF {
					return false
				}
				tag = tag<<8 | uint32(b[i])
				i++
				if b[i-1]&0x80 == 0 {
					break
				}
			}
		}
		if i >= len(b) {
			return false
		}
		n := int(b[i])
		i++
		if n&0x80 != 0 {
			size := n & 0x7F
			if size == 0 || size > 2 || i+size > len(b) {
				return false
			}
			n = 0
			for range size {
				n = n<<8 | int(b[i])
				i++
			}
		}
		if i+n > len(b) {
			return false
		}
		switch {
		case iccSecretTags[tag]:
			for k := 2 * (base + i); k < 2*(base+i+n); k++ {
				out[k] = '*'
			}
		case first&0x20 != 0: // constructed: secrets may sit inside
			if !maskTLV(b[i:i+n], base+i, out) {
				return false
			}
		}
		i += n
	}
	return true
}
