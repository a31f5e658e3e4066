package iso8583

import (
	"fmt"
	"strings"

	moov "github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/prefix"
)

// TextEncoding is the character set of a listener's text fields. Everything
// else in the ISO87B layout (BCD numerics, BCD lengths, binary fields) is the
// same under both.
type TextEncoding int

const (
	// ASCII text, passed through byte for byte (ISO 8859-1 in memory).
	ASCII TextEncoding = iota
	// EBCDIC text in IBM code page 1047.
	EBCDIC
)

func (t TextEncoding) String() string {
	switch t {
	case ASCII:
		return "ascii"
	case EBCDIC:
		return "ebcdic"
	}
	return fmt.Sprintf("TextEncoding(%d)", int(t))
}

// ParseTextEncoding reads a listener setting: "ascii" or "ebcdic" (any case).
func ParseTextEncoding(s string) (TextEncoding, error) {
	switch strings.ToLower(s) {
	case "ascii":
		return ASCII, nil
	case "ebcdic":
		return EBCDIC, nil
	}
	return 0, fmt.Errorf("text encoding %q: want ascii or ebcdic", s)
}

// kind is how a field sits on the wire, named after the jPOS field packager it
// mirrors.
type kind uint8

const (
	numeric       kind = iota // IFB_NUMERIC: fixed digits, BCD, left-padded
	llNumeric                 // IFB_LLNUM: BCD length, BCD digits right-padded
	llTrack2                  // IFB_LLNUM holding track 2: digits and the D separator
	signedAmount              // IFB_AMOUNT: C/D character, then BCD digits
	char                      // IF_CHAR: fixed text
	llChar                    // IFB_LLCHAR: BCD length, text
	lllChar                   // IFB_LLLCHAR: BCD length, text
	binaryFixed               // IFB_BINARY: fixed bytes
	lllBinary                 // IFB_LLLBINARY: BCD length, bytes
	numericAmount             // IFB_NUMERIC read as an integer (amounts we compute with)
)

// fieldDef is one row of the field table.
type fieldDef struct {
	id     int
	kind   kind
	length int // digits, characters or bytes; the maximum for variable fields
	name   string
}

// fieldTable is jPOS's ISO87BPackager, field by field, with two deliberate
// differences: DE55 is binary (jPOS declares IFB_LLLCHAR, whose ISO 8859-1
// interpreter passes bytes through untouched on an ASCII link, so the wire is
// the same; on an EBCDIC link ICC data must not be translated), and DE65 is
// absent because moov reads bit 65 as the presence of a third bitmap.
// Amounts DE4–DE6 are integers; every other numeric field is kept as its
// digit string, leading zeros included.
var fieldTable = [...]fieldDef{
	{0, numeric, 4, "Message Type Indicator"},
	{2, llNumeric, 19, "Primary Account Number"},
	{3, numeric, 6, "Processing Code"},
	{4, numericAmount, 12, "Amount, Transaction"},
	{5, numericAmount, 12, "Amount, Settlement"},
	{6, numericAmount, 12, "Amount, Cardholder Billing"},
	{7, numeric, 10, "Transmission Date and Time"},
	{8, numeric, 8, "Amount, Cardholder Billing Fee"},
	{9, numeric, 8, "Conversion Rate, Settlement"},
	{10, numeric, 8, "Conversion Rate, Cardholder Billing"},
	{11, numeric, 6, "System Trace Audit Number"},
	{12, numeric, 6, "Time, Local Transaction"},
	{13, numeric, 4, "Date, Local Transaction"},
	{14, numeric, 4, "Date, Expiration"},
	{15, numeric, 4, "Date, Settlement"},
	{16, numeric, 4, "Date, Conversion"},
	{17, numeric, 4, "Date, Capture"},
	{18, numeric, 4, "Merchant Type"},
	{19, numeric, 3, "Acquiring Institution Country Code"},
	{20, numeric, 3, "PAN Extended Country Code"},
	{21, numeric, 3, "Forwarding Institution Country Code"},
	{22, numeric, 3, "Point of Service Entry Mode"},
	{23, numeric, 3, "Card Sequence Number"},
	{24, numeric, 3, "Network International Identifier"},
	{25, numeric, 2, "Point of Service Condition Code"},
	{26, numeric, 2, "Point of Service PIN Capture Code"},
	{27, numeric, 1, "Authorization Identification Response Length"},
	{28, signedAmount, 9, "Amount, Transaction Fee"},
	{29, signedAmount, 9, "Amount, Settlement Fee"},
	{30, signedAmount, 9, "Amount, Transaction Processing Fee"},
	{31, signedAmount, 9, "Amount, Settlement Processing Fee"},
	{32, llNumeric, 11, "Acquiring Institution Identification Code"},
	{33, llNumeric, 11, "Forwarding Institution Identification Code"},
	{34, llChar, 28, "PAN Extended"},
	{35, llTrack2, 37, "Track 2 Data"},
	{36, lllChar, 104, "Track 3 Data"},
	{37, char, 12, "Retrieval Reference Number"},
	{38, char, 6, "Authorization Identification Response"},
	{39, char, 2, "Response Code"},
	{40, char, 3, "Service Restriction Code"},
	{41, char, 8, "Card Acceptor Terminal Identification"},
	{42, char, 15, "Card Acceptor Identification Code"},
	{43, char, 40, "Card Acceptor Name/Location"},
	{44, llChar, 25, "Additional Response Data"},
	{45, llChar, 76, "Track 1 Data"},
	{46, lllChar, 999, "Additional Data - ISO"},
	{47, lllChar, 999, "Additional Data - National"},
	{48, lllChar, 999, "Additional Data - Private"},
	{49, char, 3, "Currency Code, Transaction"},
	{50, char, 3, "Currency Code, Settlement"},
	{51, char, 3, "Currency Code, Cardholder Billing"},
	{52, binaryFixed, 8, "PIN Data"},
	{53, numeric, 16, "Security Related Control Information"},
	{54, lllChar, 120, "Additional Amounts"},
	{55, lllBinary, 999, "ICC Data"},
	{56, lllChar, 999, "Reserved ISO"},
	{57, lllChar, 999, "Reserved National"},
	{58, lllChar, 999, "Reserved National"},
	{59, lllChar, 999, "Reserved National"},
	{60, lllChar, 999, "Reserved Private"},
	{61, lllChar, 999, "Reserved Private"},
	{62, lllChar, 999, "Reserved Private"},
	{63, lllChar, 999, "Reserved Private"},
	{64, binaryFixed, 8, "Message Authentication Code"},
	{66, numeric, 1, "Settlement Code"},
	{67, numeric, 2, "Extended Payment Code"},
	{68, numeric, 3, "Receiving Institution Country Code"},
	{69, numeric, 3, "Settlement Institution Country Code"},
	{70, numeric, 3, "Network Management Information Code"},
	{71, numeric, 4, "Message Number"},
	{72, numeric, 4, "Message Number, Last"},
	{73, numeric, 6, "Date, Action"},
	{74, numeric, 10, "Credits, Number"},
	{75, numeric, 10, "Credits, Reversal Number"},
	{76, numeric, 10, "Debits, Number"},
	{77, numeric, 10, "Debits, Reversal Number"},
	{78, numeric, 10, "Transfer, Number"},
	{79, numeric, 10, "Transfer, Reversal Number"},
	{80, numeric, 10, "Inquiries, Number"},
	{81, numeric, 10, "Authorizations, Number"},
	{82, numeric, 12, "Credits, Processing Fee Amount"},
	{83, numeric, 12, "Credits, Transaction Fee Amount"},
	{84, numeric, 12, "Debits, Processing Fee Amount"},
	{85, numeric, 12, "Debits, Transaction Fee Amount"},
	{86, numeric, 16, "Credits, Amount"},
	{87, numeric, 16, "Credits, Reversal Amount"},
	{88, numeric, 16, "Debits, Amount"},
	{89, numeric, 16, "Debits, Reversal Amount"},
	{90, numeric, 42, "Original Data Elements"},
	{91, char, 1, "File Update Code"},
	{92, char, 2, "File Security Code"},
	{93, char, 6, "Response Indicator"},
	{94, char, 7, "Service Indicator"},
	{95, char, 42, "Replacement Amounts"},
	{96, binaryFixed, 16, "Message Security Code"},
	{97, signedAmount, 17, "Amount, Net Settlement"},
	{98, char, 25, "Payee"},
	{99, llNumeric, 11, "Settlement Institution Identification Code"},
	{100, llNumeric, 11, "Receiving Institution Identification Code"},
	{101, llChar, 17, "File Name"},
	{102, llChar, 28, "Account Identification 1"},
	{103, llChar, 28, "Account Identification 2"},
	{104, lllChar, 100, "Transaction Description"},
	{105, lllChar, 999, "Reserved ISO"},
	{106, lllChar, 999, "Reserved ISO"},
	{107, lllChar, 999, "Reserved ISO"},
	{108, lllChar, 999, "Reserved ISO"},
	{109, lllChar, 999, "Reserved ISO"},
	{110, lllChar, 999, "Reserved ISO"},
	{111, lllChar, 999, "Reserved ISO"},
	{112, lllChar, 999, "Reserved National"},
	{113, lllChar, 999, "Reserved National"},
	{114, lllChar, 999, "Reserved National"},
	{115, lllChar, 999, "Reserved National"},
	{116, lllChar, 999, "Reserved National"},
	{117, lllChar, 999, "Reserved National"},
	{118, lllChar, 999, "Reserved National"},
	{119, lllChar, 999, "Reserved National"},
	{120, lllChar, 999, "Reserved Private"},
	{121, lllChar, 999, "Reserved Private"},
	{122, lllChar, 999, "Reserved Private"},
	{123, lllChar, 999, "Reserved Private"},
	{124, lllChar, 999, "Reserved Private"},
	{125, lllChar, 999, "Reserved Private"},
	{126, lllChar, 999, "Reserved Private"},
	{127, lllChar, 999, "Reserved Private"},
	{128, binaryFixed, 8, "Message Authentication Code 2"},
}

// fieldIndex is fieldTable by field number; numbers missing from the table
// have an empty name.
var fieldIndex = func() (idx [129]fieldDef) {
	for _, f := range fieldTable {
		idx[f.id] = f
	}
	return idx
}()

// NewSpec builds the ISO 8583:1987 message spec in the ISO87BPackager layout
// with text fields in the given encoding. A spec is read-only once built and
// may be shared by any number of goroutines and messages.
func NewSpec(text TextEncoding) *moov.MessageSpec {
	var textEnc textEncoder
	switch text {
	case EBCDIC:
		textEnc = EBCDIC1047.(textEncoder)
	default:
		textEnc = Latin1.(textEncoder)
	}
	fields := make(map[int]field.Field, len(fieldTable)+1)
	fields[1] = field.NewBitmap(&field.Spec{
		Length:      8,
		Description: "Bitmap",
		Enc:         Binary,
		Pref:        BCDFixed,
	})
	for _, f := range fieldTable {
		fields[f.id] = newField(f, textEnc)
	}
	return &moov.MessageSpec{
		Name:   "ISO 8583:1987 ISO87B, " + text.String() + " text",
		Fields: fields,
	}
}

func newField(f fieldDef, text textEncoder) field.Field {
	spec := &field.Spec{Length: f.length, Description: f.name}
	var enc encoding.Encoder
	var pref prefix.Prefixer = BCDFixed
	switch f.kind {
	case numeric:
		enc = BCDLeftPadded
	case numericAmount:
		spec.Enc, spec.Pref, spec.Pad = BCDLeftPadded, BCDFixed, zeroPadder{}
		return field.NewNumeric(spec)
	case llNumeric:
		enc, pref = BCDRightPadded, BCDLL
	case llTrack2:
		enc, pref = Track2BCD, BCDLL
	case signedAmount:
		enc = signedAmountEncoder{text: text}
	case char:
		enc = text
		spec.Pad = spacePadder{}
	case llChar:
		enc, pref = text, BCDLL
	case lllChar:
		enc, pref = text, BCDLLL
	case binaryFixed:
		spec.Enc, spec.Pref = Binary, BCDFixed
		return field.NewBinary(spec)
	case lllBinary:
		spec.Enc, spec.Pref = Binary, BCDLLL
		return field.NewBinary(spec)
	}
	spec.Enc, spec.Pref = enc, pref
	return field.NewString(spec)
}

// zeroPadder left-pads integer amounts with '0' to their fixed width and
// strips the zeros again on unpack (moov's padding.Left allocates twice).
type zeroPadder struct{}

func (zeroPadder) Pad(data []byte, length int) []byte {
	if len(data) >= length {
		return data
	}
	out := make([]byte, length)
	pad := length - len(data)
	for i := range pad {
		out[i] = '0'
	}
	copy(out[pad:], data)
	return out
}

func (zeroPadder) Unpad(data []byte) []byte {
	for len(data) > 0 && data[0] == '0' {
		data = data[1:]
	}
	return data
}

func (zeroPadder) Inspect() []byte { return []byte("0") }

// spacePadder is jPOS's RightTPadder for IF_CHAR fields: values shorter than
// the field are padded with spaces on the right, and trailing spaces are
// trimmed on unpack.
type spacePadder struct{}

func (spacePadder) Pad(data []byte, length int) []byte {
	if len(data) >= length {
		return data
	}
	out := make([]byte, length)
	n := copy(out, data)
	for i := n; i < length; i++ {
		out[i] = ' '
	}
	return out
}

func (spacePadder) Unpad(data []byte) []byte {
	for len(data) > 0 && data[len(data)-1] == ' ' {
		data = data[:len(data)-1]
	}
	return data
}

func (spacePadder) Inspect() []byte { return []byte(" ") }
