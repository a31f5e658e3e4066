package iso8583

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Request is an incoming authorization, advice, reversal or network
// management message with the fields the authorizer uses. Text is UTF-8,
// numeric fields are digit strings with their leading zeros, amounts are
// minor units. An absent field is the zero value; Has tells absence from zero
// where it matters (DE4 of a balance inquiry, DE6).
type Request struct {
	MTI                   string             // DE0
	PAN                   string             // DE2
	ProcessingCode        string             // DE3: transaction type (00 purchase, 01 cash, 20 refund, 30 balance), from and to account types
	Amount                int64              // DE4, in Currency; sent when Currency is set
	BillingAmount         int64              // DE6, in BillingCurrency (the card account's); sent when BillingCurrency is set
	TransmissionDateTime  string             // DE7, MMDDhhmmss UTC
	STAN                  string             // DE11
	LocalTime             string             // DE12, hhmmss
	LocalDate             string             // DE13, MMDD
	Expiry                string             // DE14, YYMM
	MCC                   string             // DE18, merchant category code
	AcquirerCountry       string             // DE19
	POSEntryMode          string             // DE22
	CardSequenceNumber    string             // DE23
	POSCondition          string             // DE25
	AcquirerID            string             // DE32
	ForwarderID           string             // DE33
	Track2                string             // DE35, separator 'D'
	RRN                   string             // DE37, retrieval reference number
	ApprovalCode          string             // DE38: the original's, in advices and reversals
	ResponseCode          string             // DE39: the network's stand-in decision, in advices
	TerminalID            string             // DE41
	MerchantID            string             // DE42
	MerchantNameLocation  string             // DE43
	PrivateData           PrivateData        // DE48
	Currency              string             // DE49, ISO 4217 numeric
	BillingCurrency       string             // DE51, ISO 4217 numeric
	PINBlock              []byte             // DE52, ISO 9564 block encrypted under the zone PIN key
	AdditionalAmounts     []AdditionalAmount // DE54
	ICC                   []byte             // DE55, EMV data (BER-TLV)
	NetworkManagementCode string             // DE70: 001 sign-on, 002 sign-off, 301 echo
	Original              OriginalData       // DE90
	Replacement           ReplacementAmounts // DE95

	frame  []byte // the frame it was unpacked from, for echoing
	layout layout
}

// Has reports whether the unpacked frame carried field id. It is false for
// every field of a Request built in code.
func (r *Request) Has(id int) bool { return r.frame != nil && r.layout.has(id) }

// binding ties a field number to the struct field that holds it. target is a
// pointer to one of string, int64, []byte, PrivateData, []AdditionalAmount,
// OriginalData or ReplacementAmounts. An amount is only sent when its
// currency (gate) is set. Bindings are listed in field order.
type binding struct {
	id     int
	target any
	gate   *string
}

// maxBindings bounds a struct's bindings, so decode keeps its bookkeeping on
// the stack.
const maxBindings = 32

func (r *Request) bindings() [maxBindings]binding {
	return [...]binding{
		{id: 2, target: &r.PAN},
		{id: 3, target: &r.ProcessingCode},
		{id: 4, target: &r.Amount, gate: &r.Currency},
		{id: 6, target: &r.BillingAmount, gate: &r.BillingCurrency},
		{id: 7, target: &r.TransmissionDateTime},
		{id: 11, target: &r.STAN},
		{id: 12, target: &r.LocalTime},
		{id: 13, target: &r.LocalDate},
		{id: 14, target: &r.Expiry},
		{id: 18, target: &r.MCC},
		{id: 19, target: &r.AcquirerCountry},
		{id: 22, target: &r.POSEntryMode},
		{id: 23, target: &r.CardSequenceNumber},
		{id: 25, target: &r.POSCondition},
		{id: 32, target: &r.AcquirerID},
		{id: 33, target: &r.ForwarderID},
		{id: 35, target: &r.Track2},
		{id: 37, target: &r.RRN},
		{id: 38, target: &r.ApprovalCode},
		{id: 39, target: &r.ResponseCode},
		{id: 41, target: &r.TerminalID},
		{id: 42, target: &r.MerchantID},
		{id: 43, target: &r.MerchantNameLocation},
		{id: 48, target: &r.PrivateData},
		{id: 49, target: &r.Currency},
		{id: 51, target: &r.BillingCurrency},
		{id: 52, target: &r.PINBlock},
		{id: 54, target: &r.AdditionalAmounts},
		{id: 55, target: &r.ICC},
		{id: 70, target: &r.NetworkManagementCode},
		{id: 90, target: &r.Original},
		{id: 95, target: &r.Replacement},
	}
}

// UnpackRequest reads frame into r. Fields outside Request are checked and
// skipped. r keeps frame: the response echoes fields from it, and PINBlock
// and ICC point into it, so the caller must not reuse the buffer while r is
// in use. An error is a *moov errors.UnpackError naming the field; answer
// it with AppendFormatError.
func (c *Codec) UnpackRequest(frame []byte, r *Request) error {
	*r = Request{}
	if err := c.scan(frame, &r.layout, true); err != nil {
		return err
	}
	r.frame = frame
	bs := r.bindings()
	if err := c.decode(frame, &r.layout, &r.MTI, bs[:]); err != nil {
		r.frame = nil // half-read: not to be answered as if it were whole
		return err
	}
	return nil
}

// AppendRequest appends r as a message (without the frame header) to dst.
func (c *Codec) AppendRequest(dst []byte, r *Request) ([]byte, error) {
	bs := r.bindings()
	return c.encode(dst, r.MTI, bs[:])
}

// decode fills the bindings present in a strictly scanned frame. Text goes
// into one arena and becomes one string, which every text field then slices:
// one allocation instead of one per field.
func (c *Codec) decode(frame []byte, l *layout, mti *string, bs []binding) error {
	var (
		arena [512]byte // grows onto the heap only for unusually long text
		refs  [maxBindings]struct{ a, b int }
	)
	buf := c.appendValue(arena[:0], frame, l, 0)
	mtiEnd := len(buf)
	for i, b := range bs {
		if !l.has(b.id) {
			continue
		}
		switch t := b.target.(type) {
		case *int64:
			*t = l.amount(frame, b.id)
		case *[]byte:
			v, _ := l.content(frame, b.id)
			*t = v[:len(v):len(v)] // an append must not write into the frame
		default:
			start := len(buf)
			buf = c.appendValue(buf, frame, l, b.id)
			refs[i] = struct{ a, b int }{start, len(buf)}
		}
	}
	s := string(buf)
	*mti = s[:mtiEnd]
	for i, b := range bs {
		if refs[i].b == 0 {
			continue
		}
		v := s[refs[i].a:refs[i].b]
		var err error
		switch t := b.target.(type) {
		case *string:
			*t = v
		case *PrivateData:
			*t, err = ParsePrivateData(v)
		case *[]AdditionalAmount:
			*t, err = ParseAdditionalAmounts(v)
		case *OriginalData:
			*t, err = ParseOriginalData(v)
		case *ReplacementAmounts:
			*t, err = ParseReplacementAmounts(v)
		}
		if err != nil {
			return unpackError(frame, b.id, err)
		}
	}
	return nil
}

// part is one field of a message being packed: either bytes already in wire
// form (an echoed field, prefix included) or a value for appendField.
type part struct {
	id   int
	wire []byte
	text string
	raw  []byte // used instead of text when not nil
}

// encode turns the set bindings into parts and packs them.
func (c *Codec) encode(dst []byte, mti string, bs []binding) ([]byte, error) {
	var (
		ps      [40]part
		scratch [512]byte // values built here: amounts, DE48, DE54, DE90, DE95
	)
	n := 0
	built := scratch[:0]
	for _, b := range bs {
		start := len(built)
		p := part{id: b.id}
		var err error
		switch t := b.target.(type) {
		case *string:
			if *t == "" {
				continue
			}
			p.text = *t
		case *int64:
			if b.gate != nil && *b.gate == "" {
				continue
			}
			if *t < 0 {
				return dst, fmt.Errorf("field %d: negative amount", b.id)
			}
			built = appendZeroPadded(built, *t, 0)
		case *[]byte:
			if len(*t) == 0 {
				continue
			}
			p.raw = *t
		case *PrivateData:
			if t.IsZero() {
				continue
			}
			built, err = AppendPrivateData(built, *t)
		case *[]AdditionalAmount:
			if len(*t) == 0 {
				continue
			}
			for _, a := range *t {
				if built, err = AppendAdditionalAmount(built, a); err != nil {
					break
				}
			}
		case *OriginalData:
			if t.MTI == "" {
				continue
			}
			built, err = AppendOriginalData(built, *t)
		case *ReplacementAmounts:
			if t.IsZero() {
				continue
			}
			built, err = AppendReplacementAmounts(built, *t)
		}
		if err != nil {
			return dst, fmt.Errorf("field %d: %w", b.id, err)
		}
		if len(built) > start {
			p.raw = built[start:len(built):len(built)]
		}
		ps[n] = p
		n++
	}
	return c.appendMessage(dst, mti, ps[:n])
}

var errFieldOrder = errors.New("fields out of order")

// appendMessage packs the MTI, the bitmap and the parts, which must be in
// ascending field order.
func (c *Codec) appendMessage(dst []byte, mti string, parts []part) ([]byte, error) {
	var bitmap [2]uint64
	prev := 1
	for _, p := range parts {
		if p.id <= prev || p.id > 128 || fieldIndex[p.id].name == "" {
			return dst, fmt.Errorf("field %d: %w", p.id, errFieldOrder)
		}
		bitmap[(p.id-1)/64] |= 1 << (63 - (p.id-1)%64)
		prev = p.id
	}
	if bitmap[1] != 0 {
		bitmap[0] |= 1 << 63
	}
	if len(mti) != 4 {
		return dst, fmt.Errorf("MTI %q: %w: want 4 digits", mti, ErrLength)
	}
	dst, err := appendBCD(dst, mti, true, false)
	if err != nil {
		return dst, fmt.Errorf("MTI: %w", err)
	}
	dst = binary.BigEndian.AppendUint64(dst, bitmap[0])
	if bitmap[1] != 0 {
		dst = binary.BigEndian.AppendUint64(dst, bitmap[1])
	}
	for _, p := range parts {
		switch {
		case p.wire != nil:
			dst = append(dst, p.wire...)
		case p.raw != nil:
			dst, err = appendField(c, dst, p.id, p.raw)
		default:
			dst, err = appendField(c, dst, p.id, p.text)
		}
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}
