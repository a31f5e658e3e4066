package domain

import "time"

// Input is everything one decision needs that is known before the database is
// asked: the message's fields, what the HSM said, and the keys that link the
// message to its duplicates and its life cycle. The decision statement does the
// rest.
type Input struct {
	ID      string // the new authorization's id (also the new life cycle's, when one starts)
	EventID string // the outbox event's id
	Now     time.Time

	Family         Family
	MTI            string
	Fingerprint    []byte // keyed HMAC of the PAN: the card's lookup key
	ProcessingCode string
	Kind           Kind
	Cash           bool
	Channel        Channel
	International  bool // the acquirer's country is not the card's

	Amount          int64  // DE4
	Currency        string // DE49, numeric
	BillingAmount   int64  // DE6, when the network converted
	BillingCurrency string // DE51, numeric; empty when not converted
	// The amounts that remain after a reversal (DE95), in DE49's and DE51's
	// currencies; zero for a full reversal.
	FinalAmount        int64
	FinalBillingAmount int64

	STAN, Transmission, AcquirerID, RRN string // DE11, DE7, DE32, DE37
	MCC, MerchantID, MerchantName       string // DE18, DE42, DE43
	MerchantCountry, TerminalID         string // DE19, DE41
	Expiry                              string // DE14, or track 2's; empty when neither came

	PIN       PINVerdict
	PVVUsed   string // the PVV the PIN was verified against; the statement checks it is still the card's
	CVV       CVVVerdict
	PartialOK bool // the terminal takes a partial approval and the transaction may have one

	NetworkTransactionID string // DE48 tag 01
	LCKey                string // the life cycle's key: the network transaction id, else OrigKey of the first message
	OrigKey              string // what DE90 names (reversals, advices), else this message's own
	Preauth              bool
	HoldExpiresAt        time.Time

	StandInCode  string // DE39 of an advice: the network's decision
	ApprovalCode string // DE38 to send (a new one) or to record (an advice's or reversal's)
}

// Outcome is what the decision statement decided, or the stored decision of a
// duplicate.
type Outcome struct {
	Duplicate       bool
	Code            string // DE39
	Approved        int64  // in the card account's currency
	Requested       int64  // in the card account's currency
	ApprovalCode    string
	Available       int64 // available balance after the decision
	HasAvailable    bool  // false for an unknown card
	Class           MessageClass
	ReverifyPIN     bool // the PIN was verified against a PVV the card no longer has
	AuthorizationID string
}

// CardSecrets are what PIN and CVV2 verification need from the card before the
// decision: the PIN verification value and its key index, and the expiry.
type CardSecrets struct {
	PVV    string // empty when no PIN was set
	PVKI   int
	Expiry string // YYMM
}
