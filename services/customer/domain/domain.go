// Package domain holds the customer service's types and its rules: who may see which
// customer, account and partner (object-level authorization and tenancy).
package domain

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Sentinel errors; each port maps them once.
var (
	// ErrNotFound is also the answer for objects the actor may not see, so that
	// another customer's or partner's ids reveal nothing.
	ErrNotFound = errors.New("not found")
	// ErrUnauthenticated means a gateway called without the end user's token.
	ErrUnauthenticated = errors.New("no end-user principal")
	// ErrInvalid is a request breaking a rule protovalidate cannot express.
	ErrInvalid = errors.New("invalid request")
	// ErrUnavailable means a dependency (the facade) could not answer.
	ErrUnavailable = errors.New("dependency unavailable")
)

// Customer statuses.
const (
	CustomerActive  = "active"
	CustomerBlocked = "blocked"
	CustomerClosed  = "closed"
)

// Account types and statuses, as the demo bank and the core name them.
const (
	AccountSavings  = "savings"
	AccountChecking = "checking"
	AccountActive   = "active"
	AccountBlocked  = "blocked"
	AccountClosed   = "closed"
)

// Preferences are the customer's own choices.
type Preferences struct {
	Language         string
	NotifyByEmail    bool
	NotifyBySMS      bool
	DefaultAccountID string
}

// DefaultPreferences apply to customers who never chose.
func DefaultPreferences() Preferences {
	return Preferences{Language: "es-PE", NotifyByEmail: true}
}

// Customer is a person known to Andes.
type Customer struct {
	ID                 string
	CoreCustomerNumber string
	PartnerID          string // empty: the bank's own retail customer
	DocumentType       string // DNI, CE, PASSPORT, RUC
	DocumentNumber     string
	GivenNames         string
	FamilyNames        string
	BirthDate          string
	Email              string
	Phone              string
	Status             string
	Preferences        Preferences
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Account is a core deposit account and its Andes owner.
type Account struct {
	ID            string
	CustomerID    string
	AccountNumber string
	Type          string
	Currency      string
	Status        string
	OpenedAt      time.Time
}

// Partner is a BaaS tenant or cash agent.
type Partner struct {
	ID                      string
	DisplayName             string
	Status                  string
	SettlementAccountNumber string
	CreatedAt               time.Time
}

// accountNamespace roots account ids derived from core account numbers, so every
// seeder and every restart names an account the same way.
var accountNamespace = uuid.MustParse("0b6d3f57-2c1e-5e49-8a51-7f0e4d2c9a13")

// AccountID derives the Andes account id of a core account number.
func AccountID(accountNumber string) string {
	return uuid.NewSHA1(accountNamespace, []byte("account/"+accountNumber)).String()
}

// MaskName shows a holder's name to a payer: each given name in full for the first,
// then initials ("Juan P*** G***").
func MaskName(given, family string) string {
	words := append(strings.Fields(given), strings.Fields(family)...)
	for i, w := range words {
		if i == 0 {
			continue
		}
		r, _ := utf8.DecodeRuneInString(w)
		words[i] = string(r) + "***"
	}
	return strings.Join(words, " ")
}

// MaskAccountNumber keeps the last four digits.
func MaskAccountNumber(n string) string {
	if len(n) <= 4 {
		return n
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}
