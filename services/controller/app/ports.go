// Package app holds the controller's use cases: every money movement validated
// (ownership, account state, currency, amount rules, daily limits, step-up) and
// executed through the facade with the controller's own operation id as key; the
// reconciler that resolves unknown outcomes; and the reads (operations,
// statements, beneficiaries, limits). Every use case takes the acting principal and
// answers domain.ErrNotFound for what it may not see.
package app

import (
	"context"
	"time"

	"github.com/andes-bank/andes/services/controller/domain"
)

// Customer is what the use cases need of a customer.
type Customer struct {
	ID        string
	PartnerID string
	Blocked   bool // blocked or closed: may read, may not move money
}

// Partner is a tenant or cash agent.
type Partner struct {
	ID                      string
	Active                  bool
	SettlementAccountNumber string
}

// Customers is the customer service. Methods taking an actor forward the end
// user's token, so the customer service applies its own object-level checks too;
// LookupNumber asks as the controller itself, because an agent serves customers its
// partner did not onboard and the controller must still know the owner.
//
// A nil actor asks as the controller itself.
type Customers interface {
	Customer(ctx context.Context, actor *domain.Actor, id string) (Customer, error)
	Account(ctx context.Context, actor *domain.Actor, id string) (domain.Account, error)
	Accounts(ctx context.Context, actor *domain.Actor, customerID string) ([]domain.Account, error)
	Partner(ctx context.Context, actor *domain.Actor, id string) (Partner, error)
	LookupNumber(ctx context.Context, number string) (domain.Account, string, error)
}

// CoreAccount is an account as the core has it now.
type CoreAccount struct {
	Number     string
	Currency   string
	Status     string
	Available  int64
	HolderName string
}

// Outcome is what the facade says about a write.
type Outcome struct {
	// Status: completed, pending (unknown outcome), rejected (Refusal says why) or
	// not_received.
	Status            string
	CoreTransactionID string
	PostedAt          time.Time
	Refusal           error
}

// Outcome statuses.
const (
	OutcomeCompleted   = "completed"
	OutcomePending     = "pending"
	OutcomeRejected    = "rejected"
	OutcomeNotReceived = "not_received"
)

// Movement is one posting on a statement.
type Movement struct {
	ID                        string
	BookedAt                  time.Time
	ValueDate                 string
	Amount                    domain.Money
	BalanceAfter              domain.Money
	Description               string
	Kind                      int32 // the shared MovementKind numbering of the facade and customer APIs
	CounterpartyAccountNumber string
	CounterpartyName          string
	OperationID               string
}

// Statement is a date range of an account.
type Statement struct {
	Opening, Closing domain.Money
	Movements        []Movement // oldest first
}

// Core is the facade. Writes answer an Outcome, or an error: a domain refusal
// (nothing moved), domain.ErrUnavailable (nothing was done), or anything else when
// the request may have left and the answer did not come (unknown outcome).
type Core interface {
	Account(ctx context.Context, number string) (CoreAccount, error)
	Transfer(ctx context.Context, op *domain.Operation) (Outcome, error)
	CashIn(ctx context.Context, op *domain.Operation) (Outcome, error)
	CashOut(ctx context.Context, op *domain.Operation) (Outcome, error)
	Transaction(ctx context.Context, operationID string) (Outcome, error)
	Statement(ctx context.Context, number, from, to string) (Statement, error)
}

// StepUp is auth's one-time codes.
type StepUp interface {
	Send(ctx context.Context, customerID, purpose, binding string) (domain.Challenge, error)
	Verify(ctx context.Context, customerID, binding string, proof domain.Proof) error
}

// Lease is the right to run one idempotency key's work.
type Lease struct {
	OperationID string
	Recovered   bool
	handle      any
}

// NewLease is for the repository: handle is its own.
func NewLease(operationID string, recovered bool, handle any) *Lease {
	return &Lease{OperationID: operationID, Recovered: recovered, handle: handle}
}

// Handle is the repository's own part of the lease.
func (l *Lease) Handle() any { return l.handle }

// Stored is a response stored against a key: a status code and its bytes.
type Stored struct {
	Code int
	Body []byte
}

// Begun is the answer of Begin: a stored response to replay, or a lease.
type Begun struct {
	Replay *Stored
	Lease  *Lease
}

// Event is an event to write with a change, already in its envelope.
type Event struct {
	ID, Type, Subject string
	Payload           []byte
	OccurredAt        time.Time
}

// Repository is the controller's database: idempotency keys, operations, daily
// usage, beneficiaries and the outbox. Each method is one transaction.
type Repository interface {
	// Begin claims key for the caller (domain.ErrMismatch, domain.ErrInProgress with
	// a retry-after via RetryAfterError).
	Begin(ctx context.Context, caller, subject, key string, request []byte) (Begun, error)
	// Release forgets a key whose work did nothing.
	Release(ctx context.Context, l *Lease) error
	// Accept records op as PENDING and reserves its amount against the daily limit
	// (when op.CountsTowardLimit): a DailyLimitError when it would pass limit. An
	// operation already recorded (a recovered lease) is returned as it is.
	Accept(ctx context.Context, op *domain.Operation, limit domain.Money) (*domain.Operation, error)
	// Refuse forgets op (a refusal creates no operation), gives back its
	// reservation and stores the refusal against the key.
	Refuse(ctx context.Context, l *Lease, op *domain.Operation, refusal Stored) error
	// Resolve records op's final state (COMPLETED or FAILED), its beneficiary and
	// events, and stores resp against the key, all at once.
	Resolve(ctx context.Context, l *Lease, op *domain.Operation, resp Stored, events []Event) error
	// Abandon forgets op, gives back its reservation and releases the key: the
	// facade did nothing (it was unavailable), so a retry runs afresh.
	Abandon(ctx context.Context, l *Lease, op *domain.Operation) error
	// Store completes a key with a response and no change (a refusal before any
	// operation existed).
	Store(ctx context.Context, l *Lease, resp Stored) error
	// MarkPending keeps the key blocked until the reconciler resolves it.
	MarkPending(ctx context.Context, l *Lease) error
	// ClaimPending hands the reconciler unresolved keys.
	ClaimPending(ctx context.Context, limit int) ([]*Lease, error)

	Operation(ctx context.Context, id string) (*domain.Operation, error)
	Operations(ctx context.Context, customerID string, limit int, pageToken string) ([]*domain.Operation, string, error)
	IsBeneficiary(ctx context.Context, customerID, accountNumber string) (bool, error)
	Beneficiaries(ctx context.Context, customerID string, limit int, pageToken string) ([]domain.Beneficiary, string, error)
	DailyUsed(ctx context.Context, customerID, currency, businessDate string) (int64, error)
}

// RetryAfterError is ErrInProgress with the wait to advise.
type RetryAfterError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// Codec turns outcomes into the stored bytes of the API's responses and back. The
// port provides it: the bytes are its responses, replayed identically.
type Codec interface {
	// Operation encodes the response of a write that created op.
	Operation(op *domain.Operation) (Stored, error)
	// Refusal encodes a business refusal.
	Refusal(err error) (Stored, error)
}

// EventFactory builds the events of a resolved operation.
type EventFactory interface {
	Events(op *domain.Operation) ([]Event, error)
}
