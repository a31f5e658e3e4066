// Package pgledger is the core banking simulator's double-entry ledger in
// PostgreSQL: accounts, transactions and their postings, holds, customers and
// products, the change-feed sequencer, and the demo seeder.
//
// Every write that moves money is one SQL statement (see PostSQL): balances
// change only together with their balanced postings, guarded so that no customer
// or agent account goes below minus its overdraft.
package pgledger

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/simulators/corebank/app"
	"github.com/andes-bank/andes/simulators/corebank/domain"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations are the ledger's tables and the platform's idempotency keys table.
func Migrations() []postgres.Migrations {
	return []postgres.Migrations{
		{Name: "corebank", FS: migrationFiles, Dir: "migrations"},
		idempotency.Migrations(),
	}
}

// Migrate applies the migrations into schema; the pool must have been opened on it.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	return postgres.Migrate(ctx, pool, schema, Migrations()...)
}

// DB is what the ledger runs its statements on: the pool for reads and
// single-statement writes, or the transaction of an idempotent write.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Ledger runs the core's statements on a DB.
type Ledger struct {
	db DB
}

// On returns the ledger on db.
func On(db DB) *Ledger { return &Ledger{db: db} }

var _ app.Ledger = (*Ledger)(nil)

// Store is the ledger on its pool plus the idempotency keys that guard its writes.
type Store struct {
	pool   *pgxpool.Pool
	keys   *idempotency.Store
	ledger *Ledger
}

// NewStore builds the store; keys must live in the same database (same schema).
func NewStore(pool *pgxpool.Pool, keys *idempotency.Store) *Store {
	return &Store{pool: pool, keys: keys, ledger: On(pool)}
}

// Ledger is the ledger on the pool.
func (s *Store) Ledger() *Ledger { return s.ledger }

// Once runs work at most once per key: the stored response is replayed, or the
// key's claim, work and its stored response make one transaction
// (idempotency.Store.DoInline): for a transfer, BEGIN, the claim and PostSQL go
// in one round trip, the response and COMMIT in a second, with one commit.
func (s *Store) Once(ctx context.Context, scope idempotency.Scope, key string, request []byte,
	work func(ctx context.Context, l app.Ledger, lease *idempotency.Lease) (idempotency.Response, error),
) (idempotency.Response, error) {
	return s.keys.DoInline(ctx, scope, key, request, func(ctx context.Context, q idempotency.Querier, lease *idempotency.Lease) (idempotency.Response, error) {
		return work(ctx, On(q), lease)
	})
}

// Consistent runs fn's reads in one read-only REPEATABLE READ transaction: one
// snapshot of the ledger, so balances and postings read there agree.
func (s *Store) Consistent(ctx context.Context, fn func(ctx context.Context, r app.Reader) error) error {
	return postgres.InTxOptions(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(ctx, On(tx)) })
}

func classes(cs []domain.Class) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// dbErr wraps a database error, turning the ledger's own duplicate-operation
// guard into domain.ErrDuplicateOperation.
func dbErr(op string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" &&
		(pgErr.ConstraintName == "transactions_op_ref_key" || pgErr.ConstraintName == "holds_op_ref_key") {
		return domain.ErrDuplicateOperation
	}
	return fmt.Errorf("pgledger: %s: %w", op, err)
}

// Post moves money between two accounts with PostSQL.
func (l *Ledger) Post(ctx context.Context, p domain.Post) (domain.Transaction, error) {
	var (
		outcome              string
		txID                 *int64
		debLedger, debHeld   *int64
		credLedger, credHeld *int64
		spendable            *int64
	)
	err := l.db.QueryRow(ctx, PostSQL, p.Debit, p.Credit, p.AmountMinor, p.Currency, string(p.Kind),
		p.Description, p.Reference, nullable(p.OperationRef), p.At, classes(p.DebitClasses), classes(p.CreditClasses),
	).Scan(&outcome, &txID, &debLedger, &debHeld, &credLedger, &credHeld, &spendable)
	if err != nil {
		return domain.Transaction{}, dbErr("post", err)
	}
	if outcome != "ok" {
		return domain.Transaction{}, postRefusal(outcome, p)
	}
	if txID == nil || debLedger == nil || credLedger == nil {
		return domain.Transaction{}, fmt.Errorf("pgledger: post: verdict ok but nothing posted")
	}
	return domain.Transaction{
		ID: *txID, Kind: p.Kind, Description: p.Description, Reference: p.Reference, PostedAt: p.At,
		Postings: []domain.Posting{
			{TransactionID: *txID, Leg: 0, AccountNumber: p.Debit, AmountMinor: -p.AmountMinor, Currency: p.Currency,
				BalanceAfterMinor: *debLedger, Kind: p.Kind, Description: p.Description, Reference: p.Reference, PostedAt: p.At},
			{TransactionID: *txID, Leg: 1, AccountNumber: p.Credit, AmountMinor: p.AmountMinor, Currency: p.Currency,
				BalanceAfterMinor: *credLedger, Kind: p.Kind, Description: p.Description, Reference: p.Reference, PostedAt: p.At},
		},
		HeldAfter: map[string]int64{p.Debit: *debHeld, p.Credit: *credHeld},
	}, nil
}

func postRefusal(outcome string, p domain.Post) error {
	switch outcome {
	case "same_account":
		return domain.Refuse(domain.ErrSameAccount, "", "account", p.Debit)
	case "debit_not_found":
		return domain.Refuse(domain.ErrAccountNotFound, "debit account "+p.Debit, "account", p.Debit, "side", "debit")
	case "credit_not_found":
		return domain.Refuse(domain.ErrAccountNotFound, "credit account "+p.Credit, "account", p.Credit, "side", "credit")
	case "debit_not_allowed":
		return domain.Refuse(domain.ErrAccountNotAllowed, fmt.Sprintf("%s may not be debited by a %s", p.Debit, p.Kind), "account", p.Debit, "side", "debit")
	case "credit_not_allowed":
		return domain.Refuse(domain.ErrAccountNotAllowed, fmt.Sprintf("%s may not be credited by a %s", p.Credit, p.Kind), "account", p.Credit, "side", "credit")
	case "debit_blocked":
		return domain.Refuse(domain.ErrAccountBlocked, "debit account "+p.Debit, "account", p.Debit, "side", "debit")
	case "credit_blocked":
		return domain.Refuse(domain.ErrAccountBlocked, "credit account "+p.Credit, "account", p.Credit, "side", "credit")
	case "currency_mismatch":
		return domain.Refuse(domain.ErrCurrencyMismatch, "the accounts are in different currencies; the core does not convert")
	case "amount_currency_mismatch":
		return domain.Refuse(domain.ErrCurrencyMismatch, "the amount's currency "+p.Currency+" is not the accounts' currency", "currency", p.Currency)
	case "insufficient_funds":
		return domain.Refuse(domain.ErrInsufficientFunds, "account "+p.Debit, "account", p.Debit)
	}
	return fmt.Errorf("pgledger: post: unknown verdict %q", outcome)
}

// CreateHold reserves money with holdSQL.
func (l *Ledger) CreateHold(ctx context.Context, h domain.HoldRequest) (domain.Hold, error) {
	var (
		outcome   string
		id        *int64
		spendable *int64
	)
	err := l.db.QueryRow(ctx, holdSQL, h.Account, h.AmountMinor, h.Currency, h.Description,
		nullable(h.OperationRef), h.At, h.ExpiresAt).Scan(&outcome, &id, &spendable)
	if err != nil {
		return domain.Hold{}, dbErr("create hold", err)
	}
	switch outcome {
	case "ok":
	case "not_found":
		return domain.Hold{}, domain.Refuse(domain.ErrAccountNotFound, "", "account", h.Account)
	case "not_allowed":
		return domain.Hold{}, domain.Refuse(domain.ErrAccountNotAllowed, "holds are for customer accounts", "account", h.Account)
	case "blocked":
		return domain.Hold{}, domain.Refuse(domain.ErrAccountBlocked, "", "account", h.Account)
	case "currency_mismatch":
		return domain.Hold{}, domain.Refuse(domain.ErrCurrencyMismatch, "the amount's currency is not the account's", "currency", h.Currency)
	case "insufficient_funds":
		return domain.Hold{}, domain.Refuse(domain.ErrInsufficientFunds, "account "+h.Account, "account", h.Account)
	default:
		return domain.Hold{}, fmt.Errorf("pgledger: create hold: unknown verdict %q", outcome)
	}
	return l.Hold(ctx, *id)
}

// CaptureHold posts a hold with captureSQL.
func (l *Ledger) CaptureHold(ctx context.Context, c domain.Capture) (domain.Hold, domain.Transaction, error) {
	var (
		outcome string
		txID    *int64
	)
	err := l.db.QueryRow(ctx, captureSQL, c.HoldID, c.AmountMinor, c.Credit, c.Description,
		nullable(c.OperationRef), c.At).Scan(&outcome, &txID)
	if err != nil {
		return domain.Hold{}, domain.Transaction{}, dbErr("capture hold", err)
	}
	if outcome != "ok" {
		return domain.Hold{}, domain.Transaction{}, l.holdRefusal(ctx, outcome, c.HoldID, c.Credit)
	}
	h, err := l.Hold(ctx, c.HoldID)
	if err != nil {
		return domain.Hold{}, domain.Transaction{}, err
	}
	t, err := l.Transaction(ctx, *txID)
	return h, t, err
}

func (l *Ledger) holdRefusal(ctx context.Context, outcome string, id int64, credit string) error {
	hold := domain.FormatHoldID(id)
	switch outcome {
	case "hold_not_found":
		return domain.Refuse(domain.ErrHoldNotFound, "", "hold_id", hold)
	case "hold_not_pending":
		h, err := l.Hold(ctx, id)
		if err != nil {
			return err
		}
		return domain.Refuse(domain.ErrHoldNotPending, "the hold is "+h.Status, "hold_id", hold, "status", h.Status)
	case "hold_expired":
		return domain.Refuse(domain.ErrHoldExpired, "", "hold_id", hold)
	case "exceeds_hold":
		return domain.Refuse(domain.ErrExceedsHold, "", "hold_id", hold)
	case "credit_not_found":
		return domain.Refuse(domain.ErrAccountNotFound, "credit account "+credit, "account", credit, "side", "credit")
	case "same_account":
		return domain.Refuse(domain.ErrSameAccount, "", "account", credit)
	case "credit_not_allowed":
		return domain.Refuse(domain.ErrAccountNotAllowed, credit+" may not receive a hold capture", "account", credit, "side", "credit")
	case "credit_blocked":
		return domain.Refuse(domain.ErrAccountBlocked, "credit account "+credit, "account", credit, "side", "credit")
	case "currency_mismatch":
		return domain.Refuse(domain.ErrCurrencyMismatch, "the credit account is not in the hold's currency")
	}
	return fmt.Errorf("pgledger: hold %d: unknown verdict %q", id, outcome)
}

// VoidHold releases a pending hold.
func (l *Ledger) VoidHold(ctx context.Context, id int64, at time.Time) (domain.Hold, error) {
	var outcome string
	if err := l.db.QueryRow(ctx, releaseSQL, id, at, domain.HoldVoided, false).Scan(&outcome); err != nil {
		return domain.Hold{}, dbErr("void hold", err)
	}
	if outcome != "ok" {
		return domain.Hold{}, l.holdRefusal(ctx, outcome, id, "")
	}
	return l.Hold(ctx, id)
}

// DueHolds lists pending holds that expired by at, oldest expiry first.
func (l *Ledger) DueHolds(ctx context.Context, at time.Time, limit int) ([]int64, error) {
	rows, err := l.db.Query(ctx, `SELECT id FROM holds WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, at, limit)
	if err != nil {
		return nil, dbErr("due holds", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, dbErr("due holds", err)
	}
	return ids, nil
}

// ExpireHold releases a pending hold that is due at at; it reports whether it did.
func (l *Ledger) ExpireHold(ctx context.Context, id int64, at time.Time) (bool, error) {
	var outcome string
	if err := l.db.QueryRow(ctx, releaseSQL, id, at, domain.HoldExpired, true).Scan(&outcome); err != nil {
		return false, dbErr("expire hold", err)
	}
	return outcome == "ok", nil
}

// Sequence numbers up to limit committed transactions for the change feed and
// returns how many it numbered and the feed's head after.
func (l *Ledger) Sequence(ctx context.Context, limit int) (int, int64, error) {
	rows, err := l.db.Query(ctx, sequenceSQL, limit)
	if err != nil {
		return 0, 0, dbErr("sequence", err)
	}
	heads, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, 0, dbErr("sequence", err)
	}
	var head int64
	for _, h := range heads {
		head = max(head, h)
	}
	return len(heads), head, nil
}

// CreateCustomer registers a person under the next customer number.
func (l *Ledger) CreateCustomer(ctx context.Context, c domain.NewCustomer) (domain.Customer, error) {
	rows, err := l.db.Query(ctx, `
INSERT INTO customers (number, document_type, document_number, given_names, family_names, birth_date, email, phone, created_at)
VALUES ('CU' || lpad(nextval('customer_number_seq')::text, 8, '0'), $1, $2, $3, $4, $5::date, $6, $7, $8)
ON CONFLICT (document_type, document_number) DO NOTHING
RETURNING`+customerColumns,
		c.DocumentType, c.DocumentNumber, c.GivenNames, c.FamilyNames, c.BirthDate, c.Email, c.Phone, c.At)
	if err != nil {
		return domain.Customer{}, dbErr("create customer", err)
	}
	created, err := pgx.CollectRows(rows, scanCustomer)
	if err != nil {
		return domain.Customer{}, dbErr("create customer", err)
	}
	if len(created) == 1 {
		return created[0], nil
	}
	existing, err := l.CustomerByDocument(ctx, c.DocumentType, c.DocumentNumber)
	if err != nil {
		return domain.Customer{}, err
	}
	return domain.Customer{}, domain.Refuse(domain.ErrCustomerExists, "", "customer_number", existing.Number)
}

// OpenAccount opens an account in branch 002 under the next serial.
func (l *Ledger) OpenAccount(ctx context.Context, a domain.NewAccount) (domain.Account, error) {
	var customerID int64
	err := l.db.QueryRow(ctx, `SELECT id FROM customers WHERE number = $1`, a.Customer).Scan(&customerID)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Account{}, domain.Refuse(domain.ErrCustomerNotFound, "", "customer_number", a.Customer)
	}
	if err != nil {
		return domain.Account{}, dbErr("open account", err)
	}
	var serial int64
	if err := l.db.QueryRow(ctx, `SELECT nextval('account_serial_seq')`).Scan(&serial); err != nil {
		return domain.Account{}, dbErr("open account", err)
	}
	number, err := domain.NewAccountNumber(serial)
	if err != nil {
		return domain.Account{}, err
	}
	if _, err := l.db.Exec(ctx, `
INSERT INTO accounts (number, customer_id, class, type, currency, status, overdraft_minor, may_go_negative, opened_at)
VALUES ($1, $2, 'customer', $3, $4, 'active', $5, false, $6)`,
		number, customerID, a.Type, a.Currency, a.OverdraftMinor, a.At); err != nil {
		return domain.Account{}, dbErr("open account", err)
	}
	return l.Account(ctx, number)
}

// SetAccountStatus blocks or unblocks an account; the row lock orders it with
// the postings in flight.
func (l *Ledger) SetAccountStatus(ctx context.Context, number, status string) (domain.Account, error) {
	tag, err := l.db.Exec(ctx, `UPDATE accounts SET status = $2 WHERE number = $1`, number, status)
	if err != nil {
		return domain.Account{}, dbErr("set account status", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Account{}, domain.Refuse(domain.ErrAccountNotFound, "", "account", number)
	}
	return l.Account(ctx, number)
}
