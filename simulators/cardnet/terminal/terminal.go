// Package terminal builds the ISO 8583 messages merchants' terminals, ATMs
// and web shops send through the network: purchases with chip and PIN,
// contactless or card-not-present with CVV2, cash withdrawals,
// pre-authorizations and their incremental authorizations, completions,
// refunds and reversals, full or partial. Messages leave without STAN and
// transmission time (DE11, DE7): the network stamps them when they go.
package terminal

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/hsm/paycrypto"
)

// Card is what a scenario needs to know about a card to use it: what is
// embossed on it and what its holder knows. Tests create cards at the issuer
// (the authorizer's admin API, or a fake issuer) and hand them in.
type Card struct {
	// Name labels the card in printed output ("alice-debit").
	Name string `json:"name"`
	// PAN is the card number. It is never printed in clear.
	PAN string `json:"pan"`
	// Expiry is YYMM.
	Expiry string `json:"expiry"`
	// CVV2 is the value printed on the back (card-not-present purchases).
	CVV2 string `json:"cvv2"`
	// PIN is the cardholder's PIN; it travels only as a PIN block.
	PIN string `json:"pin"`
	// PVKI is the PIN verification key index the issuer's PVV was made
	// with (default 1). The network does not verify PINs; issuers and fake
	// issuers that compute a PVV from PIN need it.
	PVKI int `json:"pvki,omitempty"`
	// Currency is the card account's currency, ISO 4217 numeric ("604").
	Currency string `json:"currency"`
}

// Masked is the PAN as it may be shown: first six, last four.
func (c Card) Masked() string { return iso8583.MaskPAN(c.PAN) }

// String never shows the PAN, CVV2 or PIN.
func (c Card) String() string {
	if c.Name != "" {
		return c.Name + " " + c.Masked()
	}
	return c.Masked()
}

// GoString hides the secrets from %#v.
func (c Card) GoString() string { return "terminal.Card{" + c.String() + "}" }

// LogValue hides the secrets from slog.
func (c Card) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Validate checks the card's fields are usable.
func (c Card) Validate() error {
	switch {
	case len(c.PAN) < 12 || len(c.PAN) > 19 || !digits(c.PAN):
		return fmt.Errorf("card %s: PAN must be 12 to 19 digits", c.Name)
	case len(c.Expiry) != 4 || !digits(c.Expiry):
		return fmt.Errorf("card %s: expiry must be YYMM", c.Name)
	case c.CVV2 != "" && (len(c.CVV2) < 3 || len(c.CVV2) > 4 || !digits(c.CVV2)):
		return fmt.Errorf("card %s: CVV2 must be 3 or 4 digits", c.Name)
	case c.PIN != "" && (len(c.PIN) < 4 || len(c.PIN) > 12 || !digits(c.PIN)):
		return fmt.Errorf("card %s: PIN must be 4 to 12 digits", c.Name)
	case len(c.Currency) != 3 || !digits(c.Currency):
		return fmt.Errorf("card %s: currency must be ISO 4217 numeric", c.Name)
	}
	return nil
}

// ParseCards reads a JSON array of cards and validates each.
func ParseCards(data []byte) ([]Card, error) {
	var cards []Card
	if err := json.Unmarshal(data, &cards); err != nil {
		return nil, errors.New("cards: not a JSON array of cards") // the text may hold PANs: not quoted
	}
	for i, c := range cards {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("cards[%d]: %w", i, err)
		}
	}
	return cards, nil
}

// Merchant is where a card is used.
type Merchant struct {
	MCC          string // ISO 18245 merchant category (5812 restaurant, 5542 fuel, 6011 ATM)
	TerminalID   string // DE41, 8 characters
	MerchantID   string // DE42, 15 characters
	NameLocation string // DE43, 40 characters: name, city, country
	Country      string // ISO 3166 numeric, DE19
}

// Entry is how the card was read (DE22 and what comes with it).
type Entry int

const (
	// ChipPIN: EMV chip with online PIN (DE22 051, DE52).
	ChipPIN Entry = iota
	// Chip without PIN (DE22 051).
	Chip
	// Contactless: EMV contactless (DE22 071).
	Contactless
	// ECommerce: card not present, keyed online with CVV2 (DE22 810, DE48 ECI).
	ECommerce
	// Magstripe: swiped with online PIN (DE22 021), as many ATMs still do.
	Magstripe
)

// Kind is the transaction type (DE3 positions 1–2).
type Kind int

const (
	// Purchase of goods or services (DE3 00).
	Purchase Kind = iota
	// Cash withdrawal (DE3 01).
	Cash
	// Refund, a credit to the card (DE3 20).
	Refund
)

// Sale describes one authorization request.
type Sale struct {
	Kind     Kind
	Amount   int64  // minor units of Currency
	Currency string // ISO 4217 numeric; empty: the card's
	Merchant Merchant
	Entry    Entry
	// PreAuthorization asks for an estimated amount to be held until a
	// completion (DE25 06): fuel pumps, hotels, car rentals.
	PreAuthorization bool
	// PartialOK says the terminal can take a partial approval (DE48 02).
	PartialOK bool
	// PIN overrides the card's PIN (a cardholder who mistypes it).
	PIN string
	// CVV2 overrides the card's CVV2.
	CVV2 string
	// ECI is the e-commerce indicator (default 05, authenticated).
	ECI string
	// TransactionID links to an earlier authorization: an incremental
	// authorization carries the first one's. Empty: a new transaction id.
	TransactionID string
}

// Acquirer builds messages as the network forwards them from its acquirers.
type Acquirer struct {
	// ID is the acquiring institution (DE32).
	ID string
	// Country is the acquirer's country (DE19), ISO 3166 numeric.
	Country string
	// ZPK is the zone PIN key PIN blocks are encrypted under.
	ZPK *paycrypto.DESKey
	// Now is the clock for local date and time (DE12, DE13).
	Now func() time.Time

	seq atomic.Uint64
}

// NewAcquirer returns an acquirer with the given institution id and zone
// PIN key, in Peru (604).
func NewAcquirer(id string, zpk *paycrypto.DESKey, now func() time.Time) *Acquirer {
	if now == nil {
		now = time.Now
	}
	return &Acquirer{ID: id, Country: "604", ZPK: zpk, Now: now}
}

// NewTransactionID returns a network transaction id (DE48 01): 15 digits
// from the clock and a sequence, unique across runs against one issuer.
func (a *Acquirer) NewTransactionID() string {
	n := a.seq.Add(1)
	return fmt.Sprintf("%010d%05d", a.Now().Unix()%1e10, n%1e5)
}

// rrn returns a retrieval reference number (DE37): Julian date, hour and a
// sequence, 12 digits.
func (a *Acquirer) rrn() string {
	now := a.Now().UTC()
	n := a.seq.Add(1)
	return fmt.Sprintf("%d%03d%02d%06d", now.Year()%10, now.YearDay(), now.Hour(), n%1e6)
}

// Authorization builds an 0100 for card.
func (a *Acquirer) Authorization(card Card, s Sale) (*iso8583.Request, error) {
	if s.Amount < 0 {
		return nil, errors.New("terminal: negative amount")
	}
	now := a.Now()
	currency := s.Currency
	if currency == "" {
		currency = card.Currency
	}
	m := s.Merchant
	req := &iso8583.Request{
		MTI:                  "0100",
		PAN:                  card.PAN,
		ProcessingCode:       processingCode(s.Kind),
		Amount:               s.Amount,
		Currency:             currency,
		LocalTime:            now.Format("150405"),
		LocalDate:            now.Format("0102"),
		Expiry:               card.Expiry,
		MCC:                  m.MCC,
		AcquirerCountry:      orDefault(m.Country, a.Country),
		POSCondition:         "00",
		AcquirerID:           a.ID,
		RRN:                  a.rrn(),
		TerminalID:           m.TerminalID,
		MerchantID:           m.MerchantID,
		MerchantNameLocation: m.NameLocation,
		PrivateData: iso8583.PrivateData{
			NetworkTransactionID: s.TransactionID,
			PartialApproval:      s.PartialOK && s.Kind == Purchase,
		},
	}
	if req.PrivateData.NetworkTransactionID == "" {
		req.PrivateData.NetworkTransactionID = a.NewTransactionID()
	}
	if s.PreAuthorization {
		req.POSCondition = "06"
	}
	switch s.Entry {
	case ChipPIN, Magstripe:
		req.POSEntryMode = "051"
		if s.Entry == Magstripe {
			req.POSEntryMode = "021"
		}
		pin := orDefault(s.PIN, card.PIN)
		if pin == "" {
			return nil, fmt.Errorf("terminal: %s has no PIN for a PIN transaction", card)
		}
		block, err := paycrypto.EncryptPINBlock(a.ZPK, pin, card.PAN)
		if err != nil {
			return nil, fmt.Errorf("terminal: PIN block for %s: %w", card, err)
		}
		req.PINBlock = block[:]
	case Chip:
		req.POSEntryMode = "051"
	case Contactless:
		req.POSEntryMode = "071"
	case ECommerce:
		req.POSEntryMode = "810"
		req.POSCondition = "59" // e-commerce request
		if s.PreAuthorization {
			req.POSCondition = "06"
		}
		req.PrivateData.CVV2 = orDefault(s.CVV2, card.CVV2)
		req.PrivateData.ECI = orDefault(s.ECI, "05")
	}
	return req, nil
}

// Incremental builds an incremental authorization: more money on the hold of
// orig, under the same transaction id.
func (a *Acquirer) Incremental(card Card, orig *iso8583.Request, more int64) (*iso8583.Request, error) {
	req := *orig
	req.MTI = "0100"
	req.STAN, req.TransmissionDateTime = "", ""
	req.Amount = more
	req.BillingAmount, req.BillingCurrency = 0, ""
	req.RRN = a.rrn()
	req.PINBlock = nil // card-not-present continuation: the guest is not at the desk
	req.PrivateData.CVV2 = ""
	req.POSEntryMode = "101" // credential on file
	req.POSCondition = "06"
	now := a.Now()
	req.LocalTime, req.LocalDate = now.Format("150405"), now.Format("0102")
	return &req, nil
}

// Completion builds the advice that completes the pre-authorization orig
// for final: mti 0120 (authorization advice) or 0220 (financial advice,
// clearing the amount). It points at orig with DE90 and carries its
// transaction id and approval code.
func (a *Acquirer) Completion(mti string, orig *iso8583.Request, approvalCode string, final int64) (*iso8583.Request, error) {
	if mti != "0120" && mti != "0220" {
		return nil, fmt.Errorf("terminal: a completion is an 0120 or an 0220, not %s", mti)
	}
	req := follower(orig)
	req.MTI = mti
	req.Amount = final
	req.ApprovalCode = approvalCode
	req.ResponseCode = iso8583.ResponseApproved
	req.Original = originalOf(orig)
	return req, nil
}

// Reversal builds an 0420 reversing orig: in full when remaining is 0,
// otherwise down to remaining (DE95), as when one of two tickets is
// cancelled. reason goes in DE39 (17 customer cancellation, 68 response
// received too late, 06 error).
func (a *Acquirer) Reversal(orig *iso8583.Request, approvalCode string, remaining int64, reason string) (*iso8583.Request, error) {
	if remaining < 0 || remaining > orig.Amount {
		return nil, fmt.Errorf("terminal: reversal to %d of an authorization of %d", remaining, orig.Amount)
	}
	req := follower(orig)
	req.MTI = "0420"
	req.ApprovalCode = approvalCode
	req.ResponseCode = reason
	req.Original = originalOf(orig)
	if remaining > 0 {
		req.Replacement = iso8583.ReplacementAmounts{Amount: remaining}
		if orig.BillingCurrency != "" && orig.Amount > 0 {
			req.Replacement.BillingAmount = orig.BillingAmount * remaining / orig.Amount
		}
	}
	return req, nil
}

// Reason codes (DE39) the network puts in reversals.
const (
	ReasonCustomerCancellation = "17"
	ReasonLateResponse         = "68"
)

// follower copies what an advice or reversal repeats of its original: the
// card, amounts, merchant and transaction id, never the PIN block or CVV2.
func follower(orig *iso8583.Request) *iso8583.Request {
	return &iso8583.Request{
		PAN:                  orig.PAN,
		ProcessingCode:       orig.ProcessingCode,
		Amount:               orig.Amount,
		Currency:             orig.Currency,
		BillingAmount:        orig.BillingAmount,
		BillingCurrency:      orig.BillingCurrency,
		LocalTime:            orig.LocalTime,
		LocalDate:            orig.LocalDate,
		Expiry:               orig.Expiry,
		MCC:                  orig.MCC,
		AcquirerCountry:      orig.AcquirerCountry,
		POSEntryMode:         orig.POSEntryMode,
		POSCondition:         orig.POSCondition,
		AcquirerID:           orig.AcquirerID,
		RRN:                  orig.RRN,
		TerminalID:           orig.TerminalID,
		MerchantID:           orig.MerchantID,
		MerchantNameLocation: orig.MerchantNameLocation,
		PrivateData:          iso8583.PrivateData{NetworkTransactionID: orig.PrivateData.NetworkTransactionID},
	}
}

// originalOf is DE90 pointing at orig, which must have been sent (stamped).
func originalOf(orig *iso8583.Request) iso8583.OriginalData {
	return iso8583.OriginalData{
		MTI: orig.MTI, STAN: orig.STAN, TransmissionDateTime: orig.TransmissionDateTime,
		AcquirerID: orig.AcquirerID, ForwarderID: orig.ForwarderID,
	}
}

// Refund builds an 0100 refund (DE3 20) to card at m.
func (a *Acquirer) Refund(card Card, amount int64, m Merchant) (*iso8583.Request, error) {
	return a.Authorization(card, Sale{Kind: Refund, Amount: amount, Merchant: m, Entry: Chip})
}

func processingCode(k Kind) string {
	switch k {
	case Cash:
		return "010000"
	case Refund:
		return "200000"
	}
	return "000000"
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
