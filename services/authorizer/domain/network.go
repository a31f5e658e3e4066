package domain

// NetworkMessage is a card network message as the decision reads it: the ISO 8583
// fields the port copied out of the frame. Amounts are minor units; currencies
// are ISO 4217 numeric codes.
type NetworkMessage struct {
	MTI             string
	PAN             string // in clear only in memory, for the fingerprint and the HSM
	ProcessingCode  string
	Amount          int64
	BillingAmount   int64
	Currency        string
	BillingCurrency string // empty when the network did not convert
	Transmission    string // DE7
	STAN            string
	Expiry          string // DE14
	MCC             string
	AcquirerCountry string
	POSEntryMode    string
	POSCondition    string
	AcquirerID      string
	Track2          string
	RRN             string
	ApprovalCode    string // DE38 of an advice or reversal
	ResponseCode    string // DE39 of an advice: the network's decision
	TerminalID      string
	MerchantID      string
	MerchantName    string

	NetworkTransactionID string // DE48 tag 01
	PartialApproval      bool   // DE48 tag 02
	CVV2                 string // DE48 tag 03
	ECI                  string // DE48 tag 04
	PINBlock             []byte // DE52

	Original     OriginalData // DE90
	FinalAmount  int64        // DE95: transaction amount remaining after a reversal
	FinalBilling int64        // DE95: cardholder billing amount remaining
}

// OriginalData is DE90: the message a reversal or advice refers to.
type OriginalData struct {
	MTI, STAN, Transmission, AcquirerID string
}

// Track2Expiry reads the expiry (YYMM) that follows the separator in track 2.
func Track2Expiry(track2 string) string {
	for i := 0; i < len(track2); i++ {
		if track2[i] == 'D' || track2[i] == '=' {
			if len(track2) >= i+5 {
				return track2[i+1 : i+5]
			}
			return ""
		}
	}
	return ""
}

// PartialAmounts splits an approved amount (in the card account's currency) into
// what a partial approval answers in DE4 and DE6. When the network converted, the
// transaction amount approved is the same share of DE4 as the approval is of DE6,
// rounded down but never to zero.
func PartialAmounts(m *NetworkMessage, approved int64) (amount, billing int64) {
	if m.BillingCurrency == "" || m.BillingAmount <= 0 {
		return approved, 0
	}
	amount = mulDiv(m.Amount, approved, m.BillingAmount)
	if amount < 1 {
		amount = 1
	}
	return amount, approved
}

// mulDiv is a*b/c without overflow for amounts up to 12 digits each.
func mulDiv(a, b, c int64) int64 {
	hi, lo := mul64(uint64(a), uint64(b))
	q, _ := div64(hi, lo, uint64(c))
	return int64(q)
}
