package iso8583

import (
	"errors"
	"fmt"
	"math/bits"
)

// Response codes (DE39) the codec itself gives meaning to.
const (
	ResponseApproved        = "00"
	ResponsePartialApproval = "10"
	ResponseFormatError     = "30"
)

// Answer is the authorizer's decision on a request, all a response needs
// beyond what it echoes.
type Answer struct {
	// ResponseCode is DE39, two characters.
	ResponseCode string
	// ApprovalCode is DE38, up to six characters. Empty echoes the request's
	// DE38, if it had one (advices and reversals carry the original's).
	ApprovalCode string
	// ApprovedAmount and ApprovedBillingAmount are read only for a partial
	// approval (ResponseCode "10"): they replace DE4 and DE6, and the
	// requested amounts move to DE54 as amount type 57. Each must be
	// positive and no more than requested; the billing amount is needed
	// only when the request carried DE6.
	ApprovedAmount        int64
	ApprovedBillingAmount int64
}

// Fields a response copies from its request: the keys the network matches
// responses on, the amounts and currencies, and the original data of
// reversals. Card data other than the PAN (track 2, PIN block, CVV2, ICC)
// never goes back.
var (
	transactionEcho = fields(2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 15, 19, 20, 25, 32, 33, 37, 41, 42, 49, 50, 51, 90, 95)
	networkEcho     = fields(7, 11, 32, 33, 70)
)

// ResponseMTI returns the MTI that answers mti: 0100 and its repeat 0101 get
// 0110, 0120/0121 get 0130, 0220/0221 0230, 0400/0401 0410, 0420/0421 0430,
// 0800 0810. Only requests and advices (third digit 0 or 2) have one.
func ResponseMTI(mti string) (string, error) {
	if !isDigits(mti, 4) {
		return "", fmt.Errorf("MTI %q is not 4 digits", mti)
	}
	switch mti {
	// The common ones, without building a string.
	case "0100", "0101":
		return "0110", nil
	case "0120", "0121":
		return "0130", nil
	case "0400", "0401":
		return "0410", nil
	case "0420", "0421":
		return "0430", nil
	case "0800", "0801":
		return "0810", nil
	}
	function, origin := mti[2], mti[3]
	if function != '0' && function != '2' {
		return "", fmt.Errorf("MTI %s is not a request or an advice", mti)
	}
	switch origin {
	case '1':
		origin = '0' // a repeat is answered like the original
	case '3':
		origin = '2'
	}
	return string([]byte{mti[0], mti[1], function + 1, origin}), nil
}

// AppendResponse appends the response to an unpacked request (without the
// frame header) to dst: the response MTI, the echoed fields exactly as they
// arrived, DE38 and DE39 from the answer, DE48 with the network transaction
// id alone, and for a partial approval the approved amounts in DE4/DE6 and
// the requested ones in DE54.
func (c *Codec) AppendResponse(dst []byte, req *Request, a Answer) ([]byte, error) {
	if req.frame == nil {
		return dst, errors.New("response: the request was not unpacked by a codec")
	}
	mti, err := ResponseMTI(req.MTI)
	if err != nil {
		return dst, err
	}
	echo := transactionEcho
	if req.MTI[1] == '8' {
		echo = networkEcho
	}
	if len(a.ResponseCode) != 2 {
		return dst, fmt.Errorf("response code %q: want 2 characters", a.ResponseCode)
	}
	partial := a.ResponseCode == ResponsePartialApproval
	if partial {
		if err := checkPartial(req, a); err != nil {
			return dst, err
		}
	}

	out := fieldSet{req.layout.bitmap[0] & echo[0], req.layout.bitmap[1] & echo[1]}
	out.add(39)
	if a.ApprovalCode != "" || req.Has(38) {
		out.add(38)
	}
	if req.PrivateData.NetworkTransactionID != "" {
		out.add(48)
	}
	if partial {
		out.add(54)
	}

	var (
		ps      [40]part
		scratch [128]byte
	)
	built := scratch[:0]
	n := 0
	for w, word := range out {
		for word != 0 {
			lz := bits.LeadingZeros64(word)
			word &^= 1 << (63 - lz)
			id := w*64 + lz + 1
			p := part{id: id}
			start := len(built)
			switch {
			case id == 4 && partial:
				built = appendZeroPadded(built, a.ApprovedAmount, 0)
			case id == 6 && partial:
				built = appendZeroPadded(built, a.ApprovedBillingAmount, 0)
			case id == 38 && a.ApprovalCode != "":
				p.text = a.ApprovalCode
			case id == 39:
				p.text = a.ResponseCode
			case id == 48:
				built, err = AppendPrivateData(built, PrivateData{NetworkTransactionID: req.PrivateData.NetworkTransactionID})
			case id == 54:
				built, err = appendRequestedAmounts(built, req)
			default:
				s := req.layout.spans[id]
				p.wire = req.frame[s.start:s.end]
			}
			if err != nil {
				return dst, fmt.Errorf("response field %d: %w", id, err)
			}
			if len(built) > start {
				p.raw = built[start:len(built):len(built)]
			}
			ps[n] = p
			n++
		}
	}
	return c.appendMessage(dst, mti, ps[:n])
}

func checkPartial(req *Request, a Answer) error {
	if req.MTI[1] == '8' || !req.Has(4) {
		return errors.New("partial approval of a message without DE4")
	}
	if a.ApprovedAmount <= 0 || a.ApprovedAmount > req.Amount {
		return fmt.Errorf("partial approval of %d out of %d requested", a.ApprovedAmount, req.Amount)
	}
	if req.Has(6) && (a.ApprovedBillingAmount <= 0 || a.ApprovedBillingAmount > req.BillingAmount) {
		return fmt.Errorf("partial approval of %d out of %d requested in the billing currency",
			a.ApprovedBillingAmount, req.BillingAmount)
	}
	return nil
}

// appendRequestedAmounts writes DE54 of a partial approval: the requested
// amount in the transaction currency and, when the network converted, in the
// cardholder billing currency, both as amount type 57.
func appendRequestedAmounts(dst []byte, req *Request) ([]byte, error) {
	account := "00"
	if len(req.ProcessingCode) == 6 {
		account = req.ProcessingCode[2:4]
	}
	dst, err := AppendAdditionalAmount(dst, AdditionalAmount{
		AccountType: account, AmountType: AmountTypeOriginal, Currency: req.Currency, Sign: 'D', Amount: req.Amount,
	})
	if err != nil || !req.Has(6) {
		return dst, err
	}
	return AppendAdditionalAmount(dst, AdditionalAmount{
		AccountType: account, AmountType: AmountTypeOriginal, Currency: req.BillingCurrency, Sign: 'D', Amount: req.BillingAmount,
	})
}

// Response is a response as the network (or the card network simulator)
// reads it.
type Response struct {
	MTI                   string
	PAN                   string
	ProcessingCode        string
	Amount                int64 // DE4: the approved amount of a partial approval
	BillingAmount         int64
	TransmissionDateTime  string
	STAN                  string
	AcquirerID            string
	RRN                   string
	ApprovalCode          string
	ResponseCode          string
	TerminalID            string
	PrivateData           PrivateData // DE48: the network transaction id
	Currency              string
	BillingCurrency       string
	AdditionalAmounts     []AdditionalAmount // DE54: the requested amounts of a partial approval
	NetworkManagementCode string
	Original              OriginalData

	layout layout
	frame  []byte
}

// Has reports whether the unpacked frame carried field id.
func (r *Response) Has(id int) bool { return r.frame != nil && r.layout.has(id) }

func (r *Response) bindings() [17]binding {
	return [...]binding{
		{id: 2, target: &r.PAN},
		{id: 3, target: &r.ProcessingCode},
		{id: 4, target: &r.Amount, gate: &r.Currency},
		{id: 6, target: &r.BillingAmount, gate: &r.BillingCurrency},
		{id: 7, target: &r.TransmissionDateTime},
		{id: 11, target: &r.STAN},
		{id: 32, target: &r.AcquirerID},
		{id: 37, target: &r.RRN},
		{id: 38, target: &r.ApprovalCode},
		{id: 39, target: &r.ResponseCode},
		{id: 41, target: &r.TerminalID},
		{id: 48, target: &r.PrivateData},
		{id: 49, target: &r.Currency},
		{id: 51, target: &r.BillingCurrency},
		{id: 54, target: &r.AdditionalAmounts},
		{id: 70, target: &r.NetworkManagementCode},
		{id: 90, target: &r.Original},
	}
}

// UnpackResponse reads a response frame into r; r keeps frame.
func (c *Codec) UnpackResponse(frame []byte, r *Response) error {
	*r = Response{}
	if err := c.scan(frame, &r.layout, true); err != nil {
		return err
	}
	r.frame = frame
	bs := r.bindings()
	if err := c.decode(frame, &r.layout, &r.MTI, bs[:]); err != nil {
		r.frame = nil
		return err
	}
	return nil
}
