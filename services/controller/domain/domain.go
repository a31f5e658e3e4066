// Package domain holds the controller's types and rules: operations, amount rules,
// daily limits and business days. No generated types, no I/O.
package domain

import (
	"errors"
	"fmt"
	"time"
)

// Money is an amount in minor units of an ISO 4217 currency.
type Money struct {
	Minor    int64
	Currency string
}

// OperationType is the kind of money movement.
type OperationType string

// Operation types.
const (
	TypeTransfer OperationType = "transfer"
	TypeCashIn   OperationType = "cash_in"
	TypeCashOut  OperationType = "cash_out"
)

// Status is where an operation stands.
type Status string

// Operation statuses. Refusals create no operation.
const (
	StatusPending   Status = "pending"
	StatusCompleted Status = "completed"
	StatusFailed    Status = "failed"
)

// Channel is where an operation was asked for.
type Channel string

// Channels.
const (
	ChannelMobile  Channel = "mobile"
	ChannelWeb     Channel = "web"
	ChannelPartner Channel = "partner"
	ChannelAgent   Channel = "agent"
)

// Operation is a money movement executed through the facade; ID is the facade's
// idempotency key.
type Operation struct {
	ID          string
	Type        OperationType
	Status      Status
	CustomerID  string
	Amount      Money
	Description string
	Channel     Channel
	ClientID    string
	// CustomerPartnerID is the partner that onboarded the customer (empty for the
	// bank's own): it may see the operation.
	CustomerPartnerID string

	// Transfer details.
	SourceAccountID          string
	SourceAccountNumber      string
	DestinationAccountID     string // set for own transfers
	DestinationAccountNumber string
	DestinationCustomerID    string
	MaskedBeneficiaryName    string
	NewBeneficiary           bool

	// Cash details.
	AgentPartnerID     string
	AgentAccountNumber string
	AccountID          string
	AccountNumber      string
	AgentReference     string

	// CountsTowardLimit says the amount was reserved against the daily limit of
	// BusinessDate, to be given back if the operation fails.
	CountsTowardLimit bool
	BusinessDate      string

	CreatedAt         time.Time
	ResolvedAt        time.Time
	CoreTransactionID string
	FailureReason     string // a Reason wire string, for FAILED
}

// Own reports whether a transfer stays within the customer's accounts.
func (o *Operation) Own() bool { return o.Type == TypeTransfer && o.DestinationAccountID != "" }

// Account is an account as the controller sees it: ownership from the customer
// service, state from the core.
type Account struct {
	ID         string
	CustomerID string // empty when the caller may not know the owner
	Number     string
	Currency   string
	Status     string // AccountActive, AccountBlocked, AccountClosed
	Type       string // "savings" or "checking"
	OpenedAt   time.Time
}

// Account states.
const (
	AccountActive  = "active"
	AccountBlocked = "blocked"
	AccountClosed  = "closed"
)

// Usable refuses an account that may not move money.
func (a Account) Usable() error {
	switch a.Status {
	case AccountBlocked:
		return &AccountStateError{Err: ErrAccountBlocked, AccountID: a.ID}
	case AccountClosed:
		return &AccountStateError{Err: ErrAccountClosed, AccountID: a.ID}
	}
	return nil
}

// Errors the use cases answer; the port maps each once to a reason of
// andes.errors.v1.
var (
	ErrNotFound          = errors.New("not found")
	ErrUnauthenticated   = errors.New("the end user's access token is required")
	ErrInvalid           = errors.New("invalid request")
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrAccountBlocked    = errors.New("account blocked")
	ErrAccountClosed     = errors.New("account closed")
	ErrCustomerBlocked   = errors.New("customer blocked")
	ErrCurrencyMismatch  = errors.New("currency mismatch")
	ErrSameAccount       = errors.New("source and destination are the same account")
	ErrAgentNotEnabled   = errors.New("the caller is not enabled as a cash agent")
	ErrStepUpExpired     = errors.New("step-up challenge expired")
	ErrUnavailable       = errors.New("a dependency is unavailable; nothing was done")
	ErrMismatch          = errors.New("idempotency key used with a different request")
	ErrInProgress        = errors.New("a request with this idempotency key is in progress")
)

// AccountStateError is a blocked or closed account; AccountID is set when the caller
// may see it.
type AccountStateError struct {
	Err       error
	AccountID string
}

func (e *AccountStateError) Error() string { return e.Err.Error() }
func (e *AccountStateError) Unwrap() error { return e.Err }

// InvalidError is a broken input rule, naming the field.
type InvalidError struct {
	Field, Description string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Description }
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// TransactionLimitError is an amount outside the per-operation bounds.
type TransactionLimitError struct {
	Limit Money // the bound passed: the maximum, or the minimum when Below
	Below bool
}

func (e *TransactionLimitError) Error() string {
	if e.Below {
		return fmt.Sprintf("the amount is below the minimum of %d %s", e.Limit.Minor, e.Limit.Currency)
	}
	return fmt.Sprintf("the amount is above the maximum of %d %s per operation", e.Limit.Minor, e.Limit.Currency)
}

// DailyLimitError is an operation that would pass the customer's daily limit.
type DailyLimitError struct {
	Limit     Money
	Remaining Money
}

func (e *DailyLimitError) Error() string {
	return fmt.Sprintf("the daily limit of %d %s would be passed (%d left)", e.Limit.Minor, e.Limit.Currency, e.Remaining.Minor)
}

// StepUpRequired is an operation that needs the customer's one-time code; a code
// was sent.
type StepUpRequired struct {
	Challenge Challenge
}

func (e *StepUpRequired) Error() string { return "step-up required" }

// StepUpInvalid is a wrong code.
type StepUpInvalid struct {
	AttemptsLeft int
}

func (e *StepUpInvalid) Error() string { return "the one-time code is wrong" }

// Challenge is a one-time code sent to a customer, as auth described it.
type Challenge struct {
	ID                string
	Purpose           string
	MaskedDestination string
	ExpiresAt         time.Time
	ResendAvailableAt time.Time
	AttemptsLeft      int
}

// Step-up purposes.
const (
	PurposeNewBeneficiary = "new_beneficiary"
	PurposeCashOut        = "cash_out"
)

// Proof is the answer to a challenge.
type Proof struct {
	ChallengeID, Code string
}

// Beneficiary is an account a customer has paid.
type Beneficiary struct {
	AccountNumber    string
	MaskedHolderName string
	Currency         string
	FirstPaidAt      time.Time
	LastPaidAt       time.Time
}
