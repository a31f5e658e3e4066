package domain

import (
	"errors"
	"time"
)

// Errors of card administration; ports map them once.
var (
	ErrNotFound          = errors.New("not found")
	ErrCardState         = errors.New("the card's state does not allow this")
	ErrCurrency          = errors.New("currency not supported or not the account's")
	ErrInvalidLimits     = errors.New("invalid limits")
	ErrInvalidPINBlock   = errors.New("the PIN block is not valid for this card")
	ErrInvalidAmount     = errors.New("amount must be positive")
	ErrAccountNotActive  = errors.New("card account is not active")
	ErrHSMUnavailable    = errors.New("the HSM is unavailable")
	ErrInvalidCardholder = errors.New("invalid cardholder name")
)

// CardStatus is a card's state.
type CardStatus string

const (
	CardInactive CardStatus = "inactive" // issued, no PIN yet: card-not-present only
	CardActive   CardStatus = "active"
	CardBlocked  CardStatus = "blocked" // temporarily; may be unblocked (62)
	CardLost     CardStatus = "lost"    // final (41)
	CardExpired  CardStatus = "expired" // final (54)
	CardClosed   CardStatus = "closed"  // final (62)
)

// Final reports whether no change of status can follow.
func (s CardStatus) Final() bool { return s == CardLost || s == CardExpired || s == CardClosed }

// Limits are a card's amount and count limits, in its account's currency.
type Limits struct {
	PerTransaction int64
	Rolling30Days  int64
	DailyATMCount  int32
}

// Validate checks limits before they are stored.
func (l Limits) Validate() error {
	if l.PerTransaction <= 0 || l.Rolling30Days <= 0 || l.DailyATMCount < 0 || l.PerTransaction > l.Rolling30Days {
		return ErrInvalidLimits
	}
	return nil
}

// Channels say where a card may be used.
type Channels struct {
	POS, ECommerce, ATM, International bool
	BlockedMCCs                        []string
}

// Card is a payment card. Its PAN never leaves the vault in clear except to the
// network-facing code that needs it for the HSM; here it is only masked.
type Card struct {
	ID              string
	CardAccountID   string
	CustomerID      string
	First6, Last4   string
	Expiry          string // YYMM
	CardholderName  string
	Status          CardStatus
	PINSet          bool
	Limits          Limits
	Channels        Channels
	IssuedAt        time.Time
	StatusChangedAt time.Time
}

// MaskedPAN shows first 6 and last 4 with the middle hidden.
func (c Card) MaskedPAN() string { return c.First6 + "******" + c.Last4 }

// AccountStatus is a card account's state.
type AccountStatus string

const (
	AccountActive  AccountStatus = "active"
	AccountBlocked AccountStatus = "blocked"
	AccountClosed  AccountStatus = "closed"
)

// CardAccount is a prepaid account in the card ledger.
type CardAccount struct {
	ID         string
	CustomerID string
	Currency   string
	Status     AccountStatus
	Ledger     int64 // posted
	Held       int64 // pending holds
	Available  int64 // Ledger - Held
	Receivable int64 // owed after forced posts
	OpenedAt   time.Time
	UpdatedAt  time.Time
}

// Authorization is a stored decision as the API shows it.
type Authorization struct {
	ID                   string
	CardID               string
	CardAccountID        string
	Class                MessageClass
	NetworkTransactionID string
	RRN                  string
	Decision             Decision
	DeclineReason        DeclineReason
	ResponseCode         string
	Currency             string
	RequestedAmount      int64
	ApprovedAmount       int64
	TransactionAmount    int64
	TransactionCurrency  string // numeric, as sent
	MCC                  string
	MerchantID           string
	MerchantName         string
	MerchantCountry      string
	HoldStatus           HoldStatus
	HeldAmount           int64
	Transmitted          string // DE7 MMDDhhmmss
	DecidedAt            time.Time
}
