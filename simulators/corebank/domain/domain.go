// Package domain holds the core banking simulator's types and rules: accounts and
// their classes, money, movements, holds and the validation of what callers send.
// It does no I/O.
package domain

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/andes-bank/andes/platform/checkdigit"
)

// BusinessZone is the bank's time zone (Peru, UTC-5 all year): statement dates
// and history days are business dates there. A fixed zone needs no tzdata.
var BusinessZone = time.FixedZone("PET", -5*60*60)

// Currencies the core keeps accounts in, with their ISO 4217 numeric codes (used
// in general-ledger account numbers). Both have exponent 2.
var currencies = map[string]string{"PEN": "604", "USD": "840"}

// Currencies lists the supported currencies in a fixed order.
func Currencies() []string { return []string{"PEN", "USD"} }

// ValidCurrency reports whether the core keeps accounts in c.
func ValidCurrency(c string) bool { _, ok := currencies[c]; return ok }

// MaxAmountMinor bounds one movement (100 billion in major units): far above any
// real payment, far below int64 overflow when balances add up.
const MaxAmountMinor int64 = 10_000_000_000_000

// Account types a customer can hold, and the type of the bank's own accounts.
const (
	TypeSavings  = "savings"
	TypeChecking = "checking"
	TypeGL       = "gl"
)

// Account statuses.
const (
	StatusActive  = "active"
	StatusBlocked = "blocked"
)

// Class says whose an account is and what may post to it.
type Class string

// Classes of accounts. Customer accounts may not go below minus their overdraft;
// agent settlement accounts are funded floats and may not go negative either; the
// other classes are the bank's general-ledger accounts, which may.
const (
	ClassCustomer   Class = "customer"
	ClassAgent      Class = "agent"      // a cash agent's settlement account (cash-in debits it)
	ClassSettlement Class = "settlement" // the card program's settlement account
	ClassEquity     Class = "equity"     // opening balances: the only way money enters the demo
	ClassPayroll    Class = "payroll"    // employers' payroll clearing: salary credits
	ClassInterest   Class = "interest"   // interest expense: interest credited to customers
	ClassFees       Class = "fees"       // fee income: fees charged to customers
	ClassMerchant   Class = "merchant"   // card purchases and bill payments clearing (seeded history)
)

// MayGoNegative reports whether a class is a general-ledger account whose balance
// may fall below zero (a debit balance).
func (c Class) MayGoNegative() bool {
	switch c {
	case ClassCustomer, ClassAgent:
		return false
	}
	return true
}

// glCodes number the bank's general-ledger accounts per currency.
var glCodes = map[Class]string{
	ClassEquity: "01", ClassPayroll: "02", ClassInterest: "03", ClassFees: "04", ClassMerchant: "05",
}

// GLClasses are the general-ledger classes with one account per currency.
func GLClasses() []Class {
	return []Class{ClassEquity, ClassPayroll, ClassInterest, ClassFees, ClassMerchant}
}

// GLNumber is the account number of the bank's general-ledger account of class c
// in currency cur: bank 191, branch 0000, the class code, the ISO 4217 numeric
// code, and MOD 97-10 check digits. Branch 0000 never collides with customer
// branches (001 for the demo, 002 for accounts opened through the API).
func GLNumber(c Class, cur string) string {
	return WithCheckDigits("1910000" + glCodes[c] + currencies[cur])
}

// GLName names a general-ledger account for people.
func GLName(c Class, cur string) string {
	names := map[Class]string{
		ClassEquity: "Opening balances (equity)", ClassPayroll: "Payroll clearing",
		ClassInterest: "Interest expense", ClassFees: "Fee income", ClassMerchant: "Merchant clearing",
	}
	return names[c] + " " + cur
}

// WithCheckDigits appends the two MOD 97-10 check digits to a 12-digit base.
func WithCheckDigits(base string) string {
	check, err := checkdigit.Mod97(base)
	if err != nil {
		panic(fmt.Sprintf("domain: account base %q is not digits", base)) // callers build bases from digits
	}
	return base + check
}

// NewAccountNumber is the number of the n-th account opened through the API:
// bank 191, branch 002, a six-digit serial and check digits.
func NewAccountNumber(serial int64) (string, error) {
	if serial <= 0 || serial > 999_999 {
		return "", fmt.Errorf("domain: account serial %d out of range", serial)
	}
	return WithCheckDigits(fmt.Sprintf("191002%06d", serial)), nil
}

var accountNumberPattern = regexp.MustCompile(`^[0-9]{14}$`)

// ValidAccountNumber checks the shape and the MOD 97-10 check digits, so a typo
// is refused before it reaches the ledger.
func ValidAccountNumber(n string) bool {
	return accountNumberPattern.MatchString(n) && checkdigit.ValidMod97(n)
}

// MovementKind names why money moved; it is shown on statements and in the feed.
type MovementKind string

// Kinds of movements.
const (
	KindTransfer MovementKind = "transfer"
	KindCashIn   MovementKind = "cash_in"
	KindCashOut  MovementKind = "cash_out"
	KindCapture  MovementKind = "hold_capture"
	KindOpening  MovementKind = "opening"
	KindSalary   MovementKind = "salary"
	KindInterest MovementKind = "interest"
	KindFee      MovementKind = "fee"
	KindPurchase MovementKind = "purchase"
)

// Post is one balanced two-leg movement: amount leaves Debit and reaches Credit.
// Each side must be of one of its allowed classes.
type Post struct {
	Kind          MovementKind
	Debit         string
	Credit        string
	AmountMinor   int64
	Currency      string
	Description   string
	Reference     string
	DebitClasses  []Class
	CreditClasses []Class
	// OperationRef ties the posting to the idempotency key's operation: the
	// ledger refuses a second posting with the same one, whatever happens above.
	OperationRef string
	At           time.Time
}

// Validate checks what can be checked without the ledger.
func (p Post) Validate() error {
	if err := validAccount("debit_account", p.Debit); err != nil {
		return err
	}
	if err := validAccount("credit_account", p.Credit); err != nil {
		return err
	}
	if p.Debit == p.Credit {
		return Refuse(ErrSameAccount, "", "account", p.Debit)
	}
	if err := ValidAmount("amount_minor", p.AmountMinor); err != nil {
		return err
	}
	if !ValidCurrency(p.Currency) {
		return Invalid("currency", "%q is not a currency the core keeps (PEN, USD)", p.Currency)
	}
	return validText("description", p.Description, 140)
}

// Movement is an injected movement the platform did not make: a salary credit,
// interest, an end-of-day fee.
type Movement struct {
	Kind        MovementKind
	Account     string
	AmountMinor int64
	Currency    string
	Description string
}

// Post turns a movement into its balanced posting against the bank's GL account.
func (m Movement) Post() (Post, error) {
	if !ValidCurrency(m.Currency) {
		return Post{}, Invalid("currency", "%q is not a currency the core keeps (PEN, USD)", m.Currency)
	}
	p := Post{Kind: m.Kind, AmountMinor: m.AmountMinor, Currency: m.Currency, Description: m.Description}
	customer := []Class{ClassCustomer}
	switch m.Kind {
	case KindSalary:
		p.Debit, p.Credit = GLNumber(ClassPayroll, m.Currency), m.Account
		p.DebitClasses, p.CreditClasses = []Class{ClassPayroll}, customer
	case KindInterest:
		p.Debit, p.Credit = GLNumber(ClassInterest, m.Currency), m.Account
		p.DebitClasses, p.CreditClasses = []Class{ClassInterest}, customer
	case KindFee:
		p.Debit, p.Credit = m.Account, GLNumber(ClassFees, m.Currency)
		p.DebitClasses, p.CreditClasses = customer, []Class{ClassFees}
	default:
		return Post{}, Invalid("kind", "%q is not salary, interest or fee", m.Kind)
	}
	if p.Description == "" {
		p.Description = string(m.Kind)
	}
	return p, p.Validate()
}

func validAccount(field, n string) error {
	if !ValidAccountNumber(n) {
		return Invalid(field, "%q is not a 14-digit account number with valid check digits", n)
	}
	return nil
}

// ValidAmount accepts positive amounts up to MaxAmountMinor.
func ValidAmount(field string, minor int64) error {
	if minor <= 0 || minor > MaxAmountMinor {
		return Invalid(field, "must be from 1 to %d minor units", MaxAmountMinor)
	}
	return nil
}

func validText(field, s string, max int) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return Invalid(field, "must be valid text of at most %d characters", max)
	}
	return nil
}

// Hold statuses: pending until captured, voided or expired.
const (
	HoldPending  = "pending"
	HoldCaptured = "captured"
	HoldVoided   = "voided"
	HoldExpired  = "expired"
)

// HoldRequest reserves money on a customer account.
type HoldRequest struct {
	Account      string
	AmountMinor  int64
	Currency     string
	Description  string
	ExpiresAt    time.Time
	OperationRef string
	At           time.Time
}

// Validate checks the request against the clock.
func (h HoldRequest) Validate() error {
	if err := validAccount("account", h.Account); err != nil {
		return err
	}
	if err := ValidAmount("amount_minor", h.AmountMinor); err != nil {
		return err
	}
	if !ValidCurrency(h.Currency) {
		return Invalid("currency", "%q is not a currency the core keeps (PEN, USD)", h.Currency)
	}
	if !h.ExpiresAt.After(h.At) || h.ExpiresAt.Sub(h.At) > 31*24*time.Hour {
		return Invalid("expires_at", "must be in the future, within 31 days")
	}
	return validText("description", h.Description, 140)
}

// Capture posts a pending hold, in full or in part, to a credit account; the rest
// of the hold is released.
type Capture struct {
	HoldID       int64
	AmountMinor  int64 // 0: the whole hold
	Credit       string
	Description  string
	OperationRef string
	At           time.Time
}

// Validate checks what can be checked without the ledger.
func (c Capture) Validate() error {
	if err := validAccount("credit_account", c.Credit); err != nil {
		return err
	}
	if c.AmountMinor != 0 {
		if err := ValidAmount("amount_minor", c.AmountMinor); err != nil {
			return err
		}
	}
	return validText("description", c.Description, 140)
}

// NewCustomer is a person to register at the core.
type NewCustomer struct {
	DocumentType   string
	DocumentNumber string
	GivenNames     string
	FamilyNames    string
	BirthDate      string // YYYY-MM-DD
	Email          string
	Phone          string // E.164
	At             time.Time
}

var (
	documentPatterns = map[string]*regexp.Regexp{
		"DNI": regexp.MustCompile(`^[0-9]{8}$`),       // Peruvian national id
		"CE":  regexp.MustCompile(`^[0-9]{9,12}$`),    // foreigner's card
		"PAS": regexp.MustCompile(`^[A-Z0-9]{6,12}$`), // passport
	}
	phonePattern = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
)

// Validate checks a new customer; adults only.
func (c NewCustomer) Validate() error {
	pat, ok := documentPatterns[c.DocumentType]
	if !ok {
		return Invalid("document_type", "%q is not DNI, CE or PAS", c.DocumentType)
	}
	if !pat.MatchString(c.DocumentNumber) {
		return Invalid("document_number", "%q is not a valid %s number", c.DocumentNumber, c.DocumentType)
	}
	for field, v := range map[string]string{"given_names": c.GivenNames, "family_names": c.FamilyNames} {
		if strings.TrimSpace(v) == "" {
			return Invalid(field, "is required")
		}
		if err := validText(field, v, 100); err != nil {
			return err
		}
	}
	born, err := time.ParseInLocation(time.DateOnly, c.BirthDate, BusinessZone)
	if err != nil {
		return Invalid("birth_date", "must be YYYY-MM-DD")
	}
	if born.AddDate(18, 0, 0).After(c.At) || born.Year() < 1900 {
		return Invalid("birth_date", "the customer must be an adult born after 1900")
	}
	if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || len(c.Email) > 254 {
		return Invalid("email", "%q is not an e-mail address", c.Email)
	}
	if !phonePattern.MatchString(c.Phone) {
		return Invalid("phone", "must be E.164, e.g. +51987654321")
	}
	return nil
}

// NewAccount opens an account for a customer.
type NewAccount struct {
	Customer       string
	Type           string
	Currency       string
	OverdraftMinor int64
	At             time.Time
}

// Validate checks the account's terms: only checking accounts get overdrafts.
func (a NewAccount) Validate() error {
	if a.Type != TypeSavings && a.Type != TypeChecking {
		return Invalid("type", "%q is not savings or checking", a.Type)
	}
	if !ValidCurrency(a.Currency) {
		return Invalid("currency", "%q is not a currency the core keeps (PEN, USD)", a.Currency)
	}
	if a.OverdraftMinor < 0 || a.OverdraftMinor > MaxAmountMinor {
		return Invalid("overdraft_limit_minor", "must be from 0 to %d", MaxAmountMinor)
	}
	if a.OverdraftMinor > 0 && a.Type != TypeChecking {
		return Invalid("overdraft_limit_minor", "only checking accounts have an overdraft")
	}
	return nil
}

// ValidCustomerNumber checks the core's customer number format, CU and 8 digits.
func ValidCustomerNumber(n string) bool { return customerNumberPattern.MatchString(n) }

var customerNumberPattern = regexp.MustCompile(`^CU[0-9]{8}$`)

// CustomerNumber formats the n-th customer's number.
func CustomerNumber(n int64) string { return fmt.Sprintf("CU%08d", n) }
