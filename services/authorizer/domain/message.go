package domain

import "strings"

// Family groups message types that share a duplicate key space and a decision
// statement: a repeat (0101, 0121, 0221, 0401, 0421) is its original's family.
type Family uint8

const (
	FamilyAuthorization Family = iota + 1 // 0100, 0101
	FamilyAdvice                          // 0120, 0121: stand-in decisions and completions
	FamilyFinancial                       // 0220, 0221: financial advices
	FamilyReversal                        // 0400, 0401, 0420, 0421
	FamilyNetwork                         // 0800
)

// FamilyOf classifies an MTI; ok is false for one the authorizer does not take.
func FamilyOf(mti string) (Family, bool) {
	switch mti {
	case "0100", "0101":
		return FamilyAuthorization, true
	case "0120", "0121":
		return FamilyAdvice, true
	case "0220", "0221":
		return FamilyFinancial, true
	case "0400", "0401", "0420", "0421":
		return FamilyReversal, true
	case "0800":
		return FamilyNetwork, true
	}
	return 0, false
}

// MustAcknowledge reports whether a family tells of something already done
// (advices and reversals): such messages are answered only once recorded, never
// shed under load, and never declined.
func (f Family) MustAcknowledge() bool {
	return f == FamilyAdvice || f == FamilyFinancial || f == FamilyReversal
}

// Kind is what a transaction does to the card account, from DE3 positions 1–2.
type Kind string

const (
	KindDebit       Kind = "debit"       // purchase 00, cash 01, purchase with cash back 09, quasi-cash 11
	KindCredit      Kind = "credit"      // refund 20
	KindInquiry     Kind = "inquiry"     // balance inquiry 30
	KindUnsupported Kind = "unsupported" // anything else: declined 57
)

// KindOf reads DE3. cash reports a withdrawal, which is never partially approved.
func KindOf(processingCode string) (kind Kind, cash bool) {
	if len(processingCode) < 2 {
		return KindUnsupported, false
	}
	switch processingCode[:2] {
	case "00", "09", "11":
		return KindDebit, false
	case "01":
		return KindDebit, true
	case "20":
		return KindCredit, false
	case "30":
		return KindInquiry, false
	}
	return KindUnsupported, false
}

// Channel is where the card was used, which the card's channels allow or not.
type Channel string

const (
	ChannelPOS       Channel = "pos"
	ChannelECommerce Channel = "ecom"
	ChannelATM       Channel = "atm"
)

// MCCATM is the merchant category of automated cash disbursements.
const MCCATM = "6011"

// ChannelOf tells the channel from the merchant category (DE18), the POS entry mode
// (DE22) and the e-commerce indicator (DE48 tag 04): an ATM by its MCC; card not
// present when the network flags e-commerce or the PAN was keyed in or came from a
// file (entry modes 01, 10, 81); any other card-present read is a terminal.
func ChannelOf(mcc, posEntryMode, eci string) Channel {
	switch {
	case mcc == MCCATM:
		return ChannelATM
	case eci != "":
		return ChannelECommerce
	case strings.HasPrefix(posEntryMode, "01"), strings.HasPrefix(posEntryMode, "10"), strings.HasPrefix(posEntryMode, "81"):
		return ChannelECommerce
	}
	return ChannelPOS
}

// PreauthorizationCondition is the DE25 POS condition code of a pre-authorization
// request; its hold lives longer.
const PreauthorizationCondition = "06"

// PINVerdict is what the HSM said about the PIN block, handed to the decision.
type PINVerdict string

const (
	PINNone  PINVerdict = "none"  // no PIN in the message
	PINOK    PINVerdict = "ok"    // matched the card's PVV
	PINWrong PINVerdict = "wrong" // did not match: counts a try
	PINUnset PINVerdict = "unset" // the card has no PIN
	PINError PINVerdict = "error" // the HSM could not tell: 96
)

// CVVVerdict is what the HSM said about the CVV2.
type CVVVerdict string

const (
	CVVNone  CVVVerdict = "none"
	CVVOK    CVVVerdict = "ok"
	CVVBad   CVVVerdict = "bad"
	CVVError CVVVerdict = "error"
)

// OrigKey names a message the way a later reversal's DE90 names its original:
// STAN, transmission date and time, and the acquirer id without leading zeros
// (DE32 is variable length, DE90 zero-fills it to 11 digits).
func OrigKey(stan, transmission, acquirer string) string {
	return stan + "|" + transmission + "|" + strings.TrimLeft(acquirer, "0")
}
