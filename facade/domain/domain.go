// Package domain holds the facade's picture of the core banking system: customers,
// accounts, products and movements as the core keeps them, the consolidated
// snapshot the facade caches, the outcome of a write, and the refusals a caller can
// act on. It knows neither the core's JSON nor protobuf.
package domain

import (
	"strings"
	"time"
)

// Money is an amount in minor units of an ISO 4217 currency; never a float.
type Money struct {
	Minor    int64
	Currency string
}

// Document types the facade knows; the core keeps DNI, CE and passports.
const (
	DocumentDNI      = "DNI"
	DocumentCE       = "CE"
	DocumentPassport = "PASSPORT"
	DocumentRUC      = "RUC"
)

// Profile is the core's customer record.
type Profile struct {
	CustomerNumber string
	DocumentType   string
	DocumentNumber string
	GivenNames     string
	FamilyNames    string
	BirthDate      string // YYYY-MM-DD
	Email          string
	Phone          string // E.164
}

// FullName is how the core names the holder.
func (p Profile) FullName() string {
	return strings.TrimSpace(p.GivenNames + " " + p.FamilyNames)
}

// AccountType is the kind of deposit account.
type AccountType int

// Account types.
const (
	AccountTypeUnknown AccountType = iota
	AccountSavings
	AccountChecking
)

// AccountStatus is an account's standing at the core.
type AccountStatus int

// Account statuses.
const (
	AccountStatusUnknown AccountStatus = iota
	AccountActive
	AccountBlocked
	AccountClosed
)

// Account is a core deposit account with its balances.
type Account struct {
	Number         string
	CustomerNumber string
	Type           AccountType
	Currency       string
	Status         AccountStatus
	Ledger         Money // sum of posted postings
	Available      Money // ledger minus holds plus overdraft limit
	Overdraft      Money
	OpenedAt       time.Time
}

// ProductType is the kind of non-deposit product.
type ProductType int

// Product types.
const (
	ProductUnknown ProductType = iota
	ProductTermDeposit
	ProductLoan
	ProductCardProgram
)

// Product is a term deposit, a loan or the card program's summary.
type Product struct {
	ID      string
	Type    ProductType
	Name    string
	Amount  Money
	DueDate string // YYYY-MM-DD, empty when it does not apply
}

// MovementKind groups the core's transaction codes.
type MovementKind int

// Movement kinds.
const (
	MovementUnknown MovementKind = iota
	MovementTransferIn
	MovementTransferOut
	MovementCashIn
	MovementCashOut
	MovementCardFunding
	MovementSalary
	MovementInterest
	MovementFee
	MovementOther
)

// Movement is one posting on an account.
type Movement struct {
	PostingID      string
	AccountNumber  string
	BookedAt       time.Time
	ValueDate      string // YYYY-MM-DD, the bank's business date
	Amount         Money  // negative for debits
	BalanceAfter   Money
	Description    string
	Kind           MovementKind
	Counterparty   string // account number, when the core knows it
	CounterpartyNm string
	// OperationID is the caller's operation id of a write the facade made,
	// without the caller's namespace; empty for movements Andes did not make.
	OperationID string
}

// LatestMovements is how many movements a snapshot keeps.
const LatestMovements = 20

// Snapshot is the consolidated customer object the facade caches (DESIGN.md
// section 9).
type Snapshot struct {
	Profile         Profile
	Accounts        []Account
	Products        []Product
	LatestMovements []Movement
	AsOf            time.Time // when the core answered
	FreshUntil      time.Time // after it, the next read goes to the core
	Stale           bool      // served past freshness because the core could not be reached
}

// Source says where a snapshot answer came from.
type Source int

// Snapshot sources.
const (
	SourceUnknown Source = iota
	SourceCache
	SourceCore
	SourceStaleCache
)

// MovementQuery asks for a page of an account's movements, newest first.
type MovementQuery struct {
	Account   string
	From, To  string // business dates, inclusive; both empty for no range
	PageSize  int
	PageToken string
}

// MovementPage is one page of movements.
type MovementPage struct {
	Movements     []Movement
	NextPageToken string
	// Opening and Closing are the ledger balances around a date range; nil
	// without one.
	Opening, Closing *Money
}

// TransferOrder moves money between two accounts of the same currency.
type TransferOrder struct {
	OperationID string
	Source      string
	Destination string
	Amount      Money
	Description string
}

// CashOrder is cash handed over at an agent: cash-in credits Account against the
// agent's settlement account, cash-out the reverse.
type CashOrder struct {
	OperationID    string
	Account        string
	AgentAccount   string
	Amount         Money
	AgentReference string
}

// NewCustomer is a customer to create in the core.
type NewCustomer struct {
	OperationID string
	Profile     Profile // CustomerNumber empty
}

// NewAccount is an account to open in the core.
type NewAccount struct {
	OperationID    string
	CustomerNumber string
	Type           AccountType
	Currency       string
}

// TransactionStatus is what is known about a write's outcome in the core.
type TransactionStatus int

// Transaction statuses.
const (
	TransactionUnknown TransactionStatus = iota
	// TransactionCompleted: posted in the core.
	TransactionCompleted
	// TransactionPending: the request left and no answer came; never a failure.
	TransactionPending
	// TransactionRejected: the core refused it; nothing was posted.
	TransactionRejected
	// TransactionNotReceived: the core never saw the operation id.
	TransactionNotReceived
)

// Transaction is the outcome of a money movement.
type Transaction struct {
	OperationID       string
	Status            TransactionStatus
	CoreTransactionID string
	PostedAt          time.Time
	// Rejection is the refusal (one of the errors of this package) when
	// Rejected.
	Rejection error
	// Customers are the customers whose accounts the posting touched, as far as
	// the core said: their snapshots are stale now.
	Customers []string
}

// OperationState is what the core remembers of an idempotency key.
type OperationState int

// Operation states.
const (
	OperationNotReceived OperationState = iota
	OperationInProgress
	OperationDone
)

// Operation is the core's record of a write, as its status endpoint tells it.
// When Done, exactly one of Refusal, Transaction, Profile and Account describes
// the stored answer.
type Operation struct {
	State       OperationState
	Refusal     error
	Transaction *Transaction
	Profile     *Profile
	Account     *Account
}

// FeedPosting is one entry of the core's change feed: a posting, and the customer
// whose account it touched (empty for the bank's own accounts).
type FeedPosting struct {
	Seq            int64
	CustomerNumber string
	AccountNumber  string
	PostedAt       time.Time
}

// FeedPage is an answer of the change feed.
type FeedPage struct {
	Postings  []FeedPosting
	NextAfter int64
	Head      int64
}
