// Package domain holds what the mobile app sees, in the BFF's own terms: the home
// screen and its parts, movements, transfers, and the refusals the app must be able
// to tell apart. No generated types and no I/O: the adapters translate the services'
// answers into these, the ports translate these into andes.mobile.v1.
package domain

import "time"

// Money is an amount in minor units of an ISO 4217 currency.
type Money struct {
	AmountMinor int64
	Currency    string
}

// Customer is who a call acts for: the verified token's subject.
type Customer struct {
	ID string
}

// Profile is the part of the customer the home screen shows.
type Profile struct {
	GivenNames string
	// DefaultAccountID is the account the customer wants first; empty for none.
	DefaultAccountID string
}

// AccountKind is savings or checking.
type AccountKind int

const (
	AccountKindUnknown AccountKind = iota
	AccountKindSavings
	AccountKindChecking
)

// Account is one account line with its balances.
type Account struct {
	ID        string
	Kind      AccountKind
	Number    string
	Available Money
	Ledger    Money
	// Active is false when blocked or closed.
	Active bool
}

// Movement is one posting as the customer sees it.
type Movement struct {
	ID           string
	AccountID    string
	BookedAt     time.Time
	Amount       Money
	Description  string
	Counterparty string
}

// View is the consolidated view of the customer's accounts: balances and the latest
// movements over all of them, newest first.
type View struct {
	Profile   Profile
	Accounts  []Account
	Movements []Movement
	AsOf      time.Time
	Stale     bool
}

// Section names a part of the home screen.
type Section int

const (
	SectionProfile Section = iota + 1
	SectionAccounts
	SectionMovements
)

// Home is the home screen. Missing names the sections left out because their
// source did not answer in time or failed.
type Home struct {
	GivenName       string
	Accounts        []Account
	LatestMovements []Movement
	Missing         []Section
	Stale           bool
	AsOf            time.Time
}

// TransferStatus is where a transfer stands.
type TransferStatus int

const (
	TransferStatusUnknown TransferStatus = iota
	TransferPending
	TransferCompleted
	TransferFailed
)

// TransferRequest is what the customer confirmed. Exactly one of
// DestinationAccountID and DestinationAccountNumber is set.
type TransferRequest struct {
	IdempotencyKey           string
	SourceAccountID          string
	DestinationAccountID     string
	DestinationAccountNumber string
	Amount                   Money
	Description              string
	// StepUp answers a previous STEP_UP_REQUIRED; nil otherwise.
	StepUp *StepUpProof
}

// StepUpProof is the customer's one-time code for a challenge.
type StepUpProof struct {
	ChallengeID string
	Code        string
}

// Transfer is a transfer as the app shows it.
type Transfer struct {
	ID          string
	Status      TransferStatus
	Amount      Money
	Beneficiary string
	CreatedAt   time.Time
	// FailureReason is an andes.errors.v1 reason string when Status is failed.
	FailureReason string
}
