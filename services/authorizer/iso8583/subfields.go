package iso8583

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// ErrSubfield reports a structured field (DE48, DE54, DE90, DE95) whose
// content does not follow its documented layout.
var ErrSubfield = errors.New("malformed subfield")

// DE48 subelement tags (see the package documentation for the layout).
const (
	tagNetworkTransactionID = "01"
	tagPartialApproval      = "02"
	tagCVV2                 = "03"
	tagECI                  = "04"
)

// PrivateData is DE48, Additional Data — Private, as Andes and its networks
// agreed it.
type PrivateData struct {
	// NetworkTransactionID is the network's identifier of the transaction's
	// life cycle, the same in the authorization, its incremental
	// authorizations, completion and reversals (tag 01).
	NetworkTransactionID string
	// PartialApproval says the terminal can take a partial approval (tag 02,
	// "1"; "0" or absent: it cannot).
	PartialApproval bool
	// CVV2 is the card verification value the cardholder typed (tag 03, 3 or
	// 4 digits). Never logged, never echoed.
	CVV2 string
	// ECI is the electronic commerce indicator (tag 04, 2 digits): 05 fully
	// authenticated (3-D Secure), 06 authentication attempted, 07 secure
	// channel without authentication, 08 no security; absent: not e-commerce.
	ECI string
}

// IsZero reports whether p carries nothing, so DE48 can be left out.
func (p PrivateData) IsZero() bool { return p == PrivateData{} }

// ParsePrivateData reads DE48 subelements: a 2-character tag, a 2-digit
// length in characters, the value; repeated. Unknown tags are skipped so a
// network can add its own.
func ParsePrivateData(s string) (PrivateData, error) {
	var p PrivateData
	for len(s) > 0 {
		if len(s) < 4 {
			return p, fmt.Errorf("%w: DE48 subelement header cut short", ErrSubfield)
		}
		tag := s[:2]
		n, ok := parseDigits(s[2:4])
		if !ok {
			return p, fmt.Errorf("%w: DE48 tag %q length is not 2 digits", ErrSubfield, tag)
		}
		val, rest, ok := cutChars(s[4:], int(n))
		if !ok {
			return p, fmt.Errorf("%w: DE48 tag %q runs past the field", ErrSubfield, tag)
		}
		switch tag {
		case tagNetworkTransactionID:
			p.NetworkTransactionID = val
		case tagPartialApproval:
			if val != "0" && val != "1" {
				return p, fmt.Errorf("%w: DE48 tag 02 must be 0 or 1", ErrSubfield)
			}
			p.PartialApproval = val == "1"
		case tagCVV2:
			if _, ok := parseDigits(val); !ok || len(val) < 3 || len(val) > 4 {
				return p, fmt.Errorf("%w: DE48 tag 03 must be 3 or 4 digits", ErrSubfield)
			}
			p.CVV2 = val
		case tagECI:
			if _, ok := parseDigits(val); !ok || len(val) != 2 {
				return p, fmt.Errorf("%w: DE48 tag 04 must be 2 digits", ErrSubfield)
			}
			p.ECI = val
		}
		s = rest
	}
	return p, nil
}

// AppendPrivateData appends p in the DE48 layout, tags in ascending order and
// absent values left out.
func AppendPrivateData(dst []byte, p PrivateData) ([]byte, error) {
	var err error
	dst, err = appendSubelement(dst, tagNetworkTransactionID, p.NetworkTransactionID)
	if err != nil {
		return dst, err
	}
	if p.PartialApproval {
		dst, _ = appendSubelement(dst, tagPartialApproval, "1")
	}
	if dst, err = appendSubelement(dst, tagCVV2, p.CVV2); err != nil {
		return dst, err
	}
	return appendSubelement(dst, tagECI, p.ECI)
}

func appendSubelement(dst []byte, tag, val string) ([]byte, error) {
	if val == "" {
		return dst, nil
	}
	n := textLen(val)
	if n > 99 {
		return dst, fmt.Errorf("%w: DE48 tag %s longer than 99 characters", ErrSubfield, tag)
	}
	dst = append(dst, tag...)
	dst = append(dst, byte('0'+n/10), byte('0'+n%10))
	return append(dst, val...), nil
}

// maskPrivateData returns DE48 text with the CVV2 value replaced by
// asterisks, leaving the layout intact. Text it cannot parse is masked whole:
// a CVV2 might be in it.
func maskPrivateData(s string) string {
	out := make([]byte, 0, len(s))
	for rest := s; len(rest) > 0; {
		if len(rest) < 4 {
			return stars(textLen(s))
		}
		n, ok := parseDigits(rest[2:4])
		val, tail, ok2 := cutChars(rest[4:], int(n))
		if !ok || !ok2 {
			return stars(textLen(s))
		}
		out = append(out, rest[:4]...)
		if rest[:2] == tagCVV2 {
			out = append(out, stars(textLen(val))...)
		} else {
			out = append(out, val...)
		}
		rest = tail
	}
	return string(out)
}

// AdditionalAmount is one 20-character DE54 block, as ISO 8583:1987 lays it
// out: account type n2, amount type n2, currency n3, sign C or D, amount n12.
type AdditionalAmount struct {
	AccountType string // from DE3 positions 3–4 ("00" unspecified, "10" savings, "20" checking, "30" credit)
	AmountType  string // "57" original (requested) amount of a partial approval, "40" cash back, "01"/"02" ledger/available balance
	Currency    string // ISO 4217 numeric
	Sign        byte   // 'D' debits the cardholder, 'C' credits
	Amount      int64  // minor units, never negative (the sign says which way)
}

// AmountTypeOriginal is the DE54 amount type of the requested amount in a
// partial approval.
const AmountTypeOriginal = "57"

const additionalAmountLen = 20

// ParseAdditionalAmounts reads DE54.
func ParseAdditionalAmounts(s string) ([]AdditionalAmount, error) {
	if len(s)%additionalAmountLen != 0 {
		return nil, fmt.Errorf("%w: DE54 length %d is not a multiple of 20", ErrSubfield, len(s))
	}
	out := make([]AdditionalAmount, 0, len(s)/additionalAmountLen)
	for ; len(s) > 0; s = s[additionalAmountLen:] {
		b := s[:additionalAmountLen]
		amount, ok := parseDigits(b[8:20])
		_, ok1 := parseDigits(b[0:7])
		if !ok || !ok1 || (b[7] != 'C' && b[7] != 'D') {
			return nil, fmt.Errorf("%w: DE54 block %d", ErrSubfield, len(out)+1)
		}
		out = append(out, AdditionalAmount{
			AccountType: b[0:2], AmountType: b[2:4], Currency: b[4:7], Sign: b[7], Amount: amount,
		})
	}
	return out, nil
}

// AppendAdditionalAmount appends one DE54 block.
func AppendAdditionalAmount(dst []byte, a AdditionalAmount) ([]byte, error) {
	if !isDigits(a.AccountType, 2) || !isDigits(a.AmountType, 2) || !isDigits(a.Currency, 3) ||
		(a.Sign != 'C' && a.Sign != 'D') || a.Amount < 0 || a.Amount > 999_999_999_999 {
		return dst, fmt.Errorf("%w: DE54 block %+v", ErrSubfield, a)
	}
	dst = append(dst, a.AccountType...)
	dst = append(dst, a.AmountType...)
	dst = append(dst, a.Currency...)
	dst = append(dst, a.Sign)
	return appendZeroPadded(dst, a.Amount, 12), nil
}

// OriginalData is DE90, the original transaction a reversal or advice refers
// to: MTI n4, STAN n6, transmission date and time n10, acquiring institution
// n11 and forwarding institution n11, the last two right-justified and
// zero-filled.
type OriginalData struct {
	MTI                  string
	STAN                 string
	TransmissionDateTime string
	AcquirerID           string // 11 digits, zero-filled on the left
	ForwarderID          string // 11 digits, zero-filled on the left
}

// ParseOriginalData splits DE90's 42 digits.
func ParseOriginalData(s string) (OriginalData, error) {
	if !isDigits(s, 42) {
		return OriginalData{}, fmt.Errorf("%w: DE90 must be 42 digits", ErrSubfield)
	}
	return OriginalData{MTI: s[0:4], STAN: s[4:10], TransmissionDateTime: s[10:20], AcquirerID: s[20:31], ForwarderID: s[31:42]}, nil
}

// AppendOriginalData appends DE90's 42 digits, zero-filling the institution
// ids on the left.
func AppendOriginalData(dst []byte, o OriginalData) ([]byte, error) {
	if !isDigits(o.MTI, 4) || !isDigits(o.STAN, 6) || !isDigits(o.TransmissionDateTime, 10) ||
		!isDigitsUpTo(o.AcquirerID, 11) || !isDigitsUpTo(o.ForwarderID, 11) {
		return dst, fmt.Errorf("%w: DE90 elements are not all digits of the right length", ErrSubfield)
	}
	dst = append(dst, o.MTI...)
	dst = append(dst, o.STAN...)
	dst = append(dst, o.TransmissionDateTime...)
	for _, id := range [2]string{o.AcquirerID, o.ForwarderID} {
		for range 11 - len(id) {
			dst = append(dst, '0')
		}
		dst = append(dst, id...)
	}
	return dst, nil
}

// ReplacementAmounts is DE95 of a partial reversal: the amounts that remain
// after it, i.e. the final amounts of the transaction. The layout is
// Mastercard's rather than ISO's (which has fees where we need the billing
// amount): actual transaction amount n12, actual settlement amount n12,
// actual cardholder billing amount n12, then 6 zeros. A full reversal has no
// DE95, or zero amounts.
type ReplacementAmounts struct {
	Amount           int64 // in DE49's currency
	SettlementAmount int64 // in DE50's currency
	BillingAmount    int64 // in DE51's currency
}

// ParseReplacementAmounts reads DE95. jPOS trims IF_CHAR's trailing spaces,
// so the zero filler may be missing.
func ParseReplacementAmounts(s string) (ReplacementAmounts, error) {
	if len(s) < 36 || len(s) > 42 {
		return ReplacementAmounts{}, fmt.Errorf("%w: DE95 has %d characters, want 42", ErrSubfield, len(s))
	}
	a, ok1 := parseDigits(s[0:12])
	st, ok2 := parseDigits(s[12:24])
	b, ok3 := parseDigits(s[24:36])
	if !ok1 || !ok2 || !ok3 {
		return ReplacementAmounts{}, fmt.Errorf("%w: DE95 amounts must be digits", ErrSubfield)
	}
	return ReplacementAmounts{Amount: a, SettlementAmount: st, BillingAmount: b}, nil
}

// AppendReplacementAmounts appends DE95's 42 characters.
func AppendReplacementAmounts(dst []byte, r ReplacementAmounts) ([]byte, error) {
	for _, v := range [3]int64{r.Amount, r.SettlementAmount, r.BillingAmount} {
		if v < 0 || v > 999_999_999_999 {
			return dst, fmt.Errorf("%w: DE95 amount %d out of range", ErrSubfield, v)
		}
		dst = appendZeroPadded(dst, v, 12)
	}
	return append(dst, "000000"...), nil
}

// IsZero reports whether r has no amounts, as in a full reversal.
func (r ReplacementAmounts) IsZero() bool { return r == ReplacementAmounts{} }

// appendZeroPadded appends v as width digits.
func appendZeroPadded(dst []byte, v int64, width int) []byte {
	var buf [20]byte
	digits := strconv.AppendInt(buf[:0], v, 10)
	for range width - len(digits) {
		dst = append(dst, '0')
	}
	return append(dst, digits...)
}

// parseDigits reads up to 18 decimal digits without allocating.
func parseDigits(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

func isDigits(s string, n int) bool { return len(s) == n && isDigitsUpTo(s, n) }

func isDigitsUpTo(s string, n int) bool {
	if len(s) > n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cutChars splits s after n characters (not bytes: DE48 lengths count
// characters, and a merchant's text may hold accented letters).
func cutChars(s string, n int) (head, tail string, ok bool) {
	i := 0
	for ; n > 0; n-- {
		if i >= len(s) {
			return "", "", false
		}
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
	}
	return s[:i], s[i:], true
}

func stars(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '*'
	}
	return string(b)
}
