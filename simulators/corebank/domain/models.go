package domain

import "time"

// Customer is a person known to the core.
type Customer struct {
	Number         string
	DocumentType   string
	DocumentNumber string
	GivenNames     string
	FamilyNames    string
	BirthDate      string
	Email          string
	Phone          string
	CreatedAt      time.Time
}

// Account is an account with its balances as of its last movement.
type Account struct {
	Number         string
	CustomerNumber string // empty for the bank's own accounts
	Class          Class
	Type           string
	Currency       string
	Name           string
	Status         string
	OverdraftMinor int64
	LedgerMinor    int64 // the sum of its postings
	HeldMinor      int64 // the sum of its pending holds
	OpenedAt       time.Time
}

// AvailableMinor is what may be spent before the overdraft: ledger minus holds.
func (a Account) AvailableMinor() int64 { return a.LedgerMinor - a.HeldMinor }

// Posting is one leg of a transaction on one account. Credits are positive,
// debits negative; BalanceAfterMinor is the account's ledger balance right after.
type Posting struct {
	Seq               int64 // change-feed sequence number; 0 until the feed has numbered it
	TransactionID     int64
	Leg               int
	AccountNumber     string
	CustomerNumber    string
	AmountMinor       int64
	Currency          string
	BalanceAfterMinor int64
	Kind              MovementKind
	Description       string
	Reference         string
	PostedAt          time.Time
}

// Transaction is a balanced set of postings.
type Transaction struct {
	ID          int64
	Kind        MovementKind
	Description string
	Reference   string
	PostedAt    time.Time
	Postings    []Posting
	// HeldAfter is, per account number, its held amount right after: with the
	// ledger balance in the postings it gives the available balance.
	HeldAfter map[string]int64
}

// Hold is money reserved on an account.
type Hold struct {
	ID            int64
	Account       string
	AmountMinor   int64
	CapturedMinor int64
	Currency      string
	Status        string
	Description   string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	ClosedAt      time.Time // zero while pending
	TransactionID int64     // the capture's transaction; 0 otherwise
}

// Products are what a customer holds besides accounts.
type Products struct {
	TermDeposits []TermDeposit
	Loans        []Loan
	CardProgram  CardProgram
}

// TermDeposit is money placed for a fixed term at a fixed rate.
type TermDeposit struct {
	Number         string
	Currency       string
	PrincipalMinor int64
	RateBps        int
	OpenedOn       string
	MaturesOn      string
	Status         string
}

// Loan is a consumer loan being repaid.
type Loan struct {
	Number           string
	Currency         string
	PrincipalMinor   int64
	OutstandingMinor int64
	RateBps          int
	OpenedOn         string
	MaturesOn        string
	Status           string
}

// CardProgram summarises what a customer moved to the card program's settlement
// account (prepaid card funding).
type CardProgram struct {
	SettlementAccount string
	Currency          string
	FundedMinor       int64
	Fundings          int
}

// Operation is what the core remembers of an idempotency key.
type Operation struct {
	Key         string
	Status      string // completed or in_progress
	HTTPStatus  int
	Response    []byte
	CreatedAt   time.Time
	CompletedAt time.Time
}

// Operation statuses.
const (
	OperationCompleted  = "completed"
	OperationInProgress = "in_progress"
)

// PostingFilter selects an account's postings.
type PostingFilter struct {
	From, To time.Time // posted at From <= t < To; zero: unbounded
	BeforeTx int64     // page cursor: only transactions before this id; 0: from the newest
	AfterTx  int64     // page cursor for oldest-first listings
	Limit    int
	Oldest   bool // oldest first (statements) rather than newest first
}
