package pgledger

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/andes-bank/andes/simulators/corebank/domain"
)

func scanCustomer(row pgx.CollectableRow) (domain.Customer, error) {
	var c domain.Customer
	err := row.Scan(&c.Number, &c.DocumentType, &c.DocumentNumber, &c.GivenNames, &c.FamilyNames,
		&c.BirthDate, &c.Email, &c.Phone, &c.CreatedAt)
	return c, err
}

func scanAccount(row pgx.CollectableRow) (domain.Account, error) {
	var (
		a     domain.Account
		class string
	)
	err := row.Scan(&a.Number, &a.CustomerNumber, &class, &a.Type, &a.Currency, &a.Name, &a.Status,
		&a.OverdraftMinor, &a.LedgerMinor, &a.HeldMinor, &a.OpenedAt)
	a.Class = domain.Class(class)
	return a, err
}

func scanPosting(row pgx.CollectableRow) (domain.Posting, error) {
	var (
		p    domain.Posting
		seq  *int64
		kind string
	)
	err := row.Scan(&seq, &p.TransactionID, &p.Leg, &p.AccountNumber, &p.CustomerNumber, &p.AmountMinor,
		&p.Currency, &p.BalanceAfterMinor, &kind, &p.Description, &p.Reference, &p.PostedAt)
	if seq != nil {
		p.Seq = *seq
	}
	p.Kind = domain.MovementKind(kind)
	return p, err
}

func scanHold(row pgx.CollectableRow) (domain.Hold, error) {
	var (
		h      domain.Hold
		closed *time.Time
	)
	err := row.Scan(&h.ID, &h.Account, &h.AmountMinor, &h.CapturedMinor, &h.Currency, &h.Status, &h.Description,
		&h.CreatedAt, &h.ExpiresAt, &closed, &h.TransactionID)
	if closed != nil {
		h.ClosedAt = *closed
	}
	return h, err
}

// one runs a query expected to answer at most one row; notFound is returned
// when it answers none.
func one[T any](ctx context.Context, db DB, scan pgx.RowToFunc[T], notFound error, sql string, args ...any) (T, error) {
	var zero T
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return zero, dbErr("read", err)
	}
	v, err := pgx.CollectExactlyOneRow(rows, scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return zero, notFound
	}
	if err != nil {
		return zero, dbErr("read", err)
	}
	return v, nil
}

func many[T any](ctx context.Context, db DB, scan pgx.RowToFunc[T], sql string, args ...any) ([]T, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, dbErr("read", err)
	}
	vs, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, dbErr("read", err)
	}
	return vs, nil
}

// Customer reads a customer by core number.
func (l *Ledger) Customer(ctx context.Context, number string) (domain.Customer, error) {
	return one(ctx, l.db, scanCustomer, domain.Refuse(domain.ErrCustomerNotFound, "", "customer_number", number),
		`SELECT`+customerColumns+` FROM customers WHERE number = $1`, number)
}

// CustomerByDocument finds a customer by national document.
func (l *Ledger) CustomerByDocument(ctx context.Context, docType, docNumber string) (domain.Customer, error) {
	return one(ctx, l.db, scanCustomer, domain.Refuse(domain.ErrCustomerNotFound, "no customer with this document"),
		`SELECT`+customerColumns+` FROM customers WHERE document_type = $1 AND document_number = $2`, docType, docNumber)
}

// Accounts lists a customer's accounts, oldest first.
func (l *Ledger) Accounts(ctx context.Context, customer string) ([]domain.Account, error) {
	if _, err := l.Customer(ctx, customer); err != nil {
		return nil, err
	}
	return many(ctx, l.db, scanAccount, `
SELECT`+accountColumns+`
  FROM accounts a JOIN customers cu ON cu.id = a.customer_id
 WHERE cu.number = $1
 ORDER BY a.id`, customer)
}

// Account reads an account with its balances.
func (l *Ledger) Account(ctx context.Context, number string) (domain.Account, error) {
	return one(ctx, l.db, scanAccount, domain.Refuse(domain.ErrAccountNotFound, "", "account", number), `
SELECT`+accountColumns+`
  FROM accounts a LEFT JOIN customers cu ON cu.id = a.customer_id
 WHERE a.number = $1`, number)
}

// BankAccounts lists the bank's own accounts: general ledger, agents, settlement.
func (l *Ledger) BankAccounts(ctx context.Context) ([]domain.Account, error) {
	return many(ctx, l.db, scanAccount, `
SELECT`+accountColumns+`
  FROM accounts a LEFT JOIN customers cu ON cu.id = a.customer_id
 WHERE a.class <> 'customer'
 ORDER BY a.id`)
}

// Postings lists an account's postings in the order they changed its balance
// (transaction id), newest or oldest first, within f.
func (l *Ledger) Postings(ctx context.Context, account string, f domain.PostingFilter) ([]domain.Posting, error) {
	if _, err := l.Account(ctx, account); err != nil {
		return nil, err
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	order, cursor := "DESC", "($4::bigint = 0 OR p.transaction_id < $4)"
	arg := f.BeforeTx
	if f.Oldest {
		order, cursor, arg = "ASC", "p.transaction_id > $4", f.AfterTx
	}
	return many(ctx, l.db, scanPosting, `
SELECT`+postingColumns+`
  FROM postings p`+postingJoins+`
 WHERE p.account_id = (SELECT id FROM accounts WHERE number = $1)
   AND ($2::timestamptz IS NULL OR p.posted_at >= $2)
   AND ($3::timestamptz IS NULL OR p.posted_at < $3)
   AND `+cursor+`
 ORDER BY p.transaction_id `+order+`
 LIMIT $5`, account, from, to, arg, f.Limit)
}

// BalanceBefore is an account's ledger balance after its last posting before t.
func (l *Ledger) BalanceBefore(ctx context.Context, account string, t time.Time) (int64, error) {
	var bal int64
	err := l.db.QueryRow(ctx, `
SELECT p.balance_after
  FROM postings p
 WHERE p.account_id = (SELECT id FROM accounts WHERE number = $1)
   AND p.posted_at < $2
 ORDER BY p.transaction_id DESC
 LIMIT 1`, account, t).Scan(&bal)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, dbErr("balance before", err)
	}
	return bal, nil
}

// CustomerPostings lists the latest postings on any of a customer's accounts.
func (l *Ledger) CustomerPostings(ctx context.Context, customer string, limit int) ([]domain.Posting, error) {
	return many(ctx, l.db, scanPosting, `
SELECT`+postingColumns+`
  FROM postings p`+postingJoins+`
 WHERE p.account_id IN (SELECT a.id FROM accounts a JOIN customers c ON c.id = a.customer_id WHERE c.number = $1)
 ORDER BY p.transaction_id DESC, p.leg
 LIMIT $2`, customer, limit)
}

// Transaction reads a transaction with its postings.
func (l *Ledger) Transaction(ctx context.Context, id int64) (domain.Transaction, error) {
	ps, err := many(ctx, l.db, scanPosting, `
SELECT`+postingColumns+`
  FROM postings p`+postingJoins+`
 WHERE p.transaction_id = $1
 ORDER BY p.leg`, id)
	if err != nil {
		return domain.Transaction{}, err
	}
	if len(ps) == 0 {
		return domain.Transaction{}, domain.Refuse(domain.ErrTxNotFound, "", "transaction_id", domain.FormatTxID(id))
	}
	return domain.Transaction{ID: id, Kind: ps[0].Kind, Description: ps[0].Description, Reference: ps[0].Reference,
		PostedAt: ps[0].PostedAt, Postings: ps}, nil
}

// Hold reads a hold.
func (l *Ledger) Hold(ctx context.Context, id int64) (domain.Hold, error) {
	return one(ctx, l.db, scanHold, domain.Refuse(domain.ErrHoldNotFound, "", "hold_id", domain.FormatHoldID(id)), `
SELECT`+holdColumns+`
  FROM holds h JOIN accounts a ON a.id = h.account_id
 WHERE h.id = $1`, id)
}

// Products reads a customer's term deposits and loans, and what the customer
// moved to the card program's settlement account.
func (l *Ledger) Products(ctx context.Context, customer string) (domain.Products, error) {
	if _, err := l.Customer(ctx, customer); err != nil {
		return domain.Products{}, err
	}
	rows, err := l.db.Query(ctx, `
SELECT p.number, p.kind, p.currency, p.principal_minor, p.outstanding_minor, p.rate_bps,
       to_char(p.opened_on, 'YYYY-MM-DD'), to_char(p.matures_on, 'YYYY-MM-DD'), p.status
  FROM products p JOIN customers c ON c.id = p.customer_id
 WHERE c.number = $1
 ORDER BY p.id`, customer)
	if err != nil {
		return domain.Products{}, dbErr("products", err)
	}
	var out domain.Products
	var (
		number, kind, cur, opened, matures, status string
		principal, outstanding                     int64
		rate                                       int
	)
	_, err = pgx.ForEachRow(rows, []any{&number, &kind, &cur, &principal, &outstanding, &rate, &opened, &matures, &status}, func() error {
		if kind == "loan" {
			out.Loans = append(out.Loans, domain.Loan{Number: number, Currency: cur, PrincipalMinor: principal,
				OutstandingMinor: outstanding, RateBps: rate, OpenedOn: opened, MaturesOn: matures, Status: status})
		} else {
			out.TermDeposits = append(out.TermDeposits, domain.TermDeposit{Number: number, Currency: cur,
				PrincipalMinor: principal, RateBps: rate, OpenedOn: opened, MaturesOn: matures, Status: status})
		}
		return nil
	})
	if err != nil {
		return domain.Products{}, dbErr("products", err)
	}
	var settlementID int64
	err = l.db.QueryRow(ctx, `SELECT id, number, currency FROM accounts WHERE class = 'settlement' ORDER BY id LIMIT 1`).
		Scan(&settlementID, &out.CardProgram.SettlementAccount, &out.CardProgram.Currency)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return domain.Products{}, dbErr("products", err)
	}
	err = l.db.QueryRow(ctx, `
SELECT coalesce(sum(ps.amount_minor), 0), count(*)
  FROM customers cu
  JOIN accounts ca ON ca.customer_id = cu.id
  JOIN postings pc ON pc.account_id = ca.id AND pc.amount_minor < 0
  JOIN postings ps ON ps.transaction_id = pc.transaction_id AND ps.account_id = $2
 WHERE cu.number = $1`, customer, settlementID).Scan(&out.CardProgram.FundedMinor, &out.CardProgram.Fundings)
	if err != nil {
		return domain.Products{}, dbErr("products", err)
	}
	return out, nil
}

// maxLegs bounds the legs of one transaction, so that a feed read can start its
// index range a little before the cursor and still find a transaction whose
// later legs come after it.
const maxLegs = 16

// Feed reads up to limit postings numbered after after, in feed order, and the
// feed's head (the last number given).
func (l *Ledger) Feed(ctx context.Context, after int64, limit int) ([]domain.Posting, int64, error) {
	var head int64
	if err := l.db.QueryRow(ctx, `SELECT last_seq FROM feed_head`).Scan(&head); err != nil {
		return nil, 0, dbErr("feed", err)
	}
	if after >= head {
		return nil, head, nil
	}
	ps, err := many(ctx, l.db, scanPosting, `
SELECT`+postingColumns+`
  FROM transactions t
  JOIN postings p ON p.transaction_id = t.id
  JOIN accounts a ON a.id = p.account_id
  LEFT JOIN customers cu ON cu.id = a.customer_id
 WHERE t.feed_first > $1::bigint - $3::bigint
   AND t.feed_first + p.leg > $1::bigint
 ORDER BY t.feed_first, p.leg
 LIMIT $2`, after, limit, maxLegs)
	return ps, head, err
}

// Operation reads what the idempotency store remembers of a caller's key. The
// platform's store has no read-only lookup, so this reads its table, which lives
// in this schema.
func (l *Ledger) Operation(ctx context.Context, caller, key string, now time.Time) (domain.Operation, error) {
	var (
		op        = domain.Operation{Key: key}
		status    string
		code      *int32
		completed *time.Time
	)
	err := l.db.QueryRow(ctx, `
SELECT status, response_code, coalesce(response, ''::bytea), created_at, completed_at
  FROM idempotency_keys
 WHERE caller = $1 AND subject = '' AND key = $2
   AND (expires_at > $3 OR status = 'pending_outcome')`, caller, key, now).
		Scan(&status, &code, &op.Response, &op.CreatedAt, &completed)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Operation{}, domain.Refuse(domain.ErrOperationNotFound, "the core has no operation with this key", "idempotency_key", key)
	}
	if err != nil {
		return domain.Operation{}, dbErr("operation", err)
	}
	op.Status = domain.OperationInProgress
	if status == "done" {
		op.Status = domain.OperationCompleted
	}
	if code != nil {
		op.HTTPStatus = int(*code)
	}
	if completed != nil {
		op.CompletedAt = *completed
	}
	return op, nil
}

// pgxForEach scans each row into one or two destinations and calls fn.
func pgxForEach(rows pgx.Rows, a, b any, fn func()) (int, error) {
	dest := []any{a}
	if b != nil {
		dest = append(dest, b)
	}
	n := 0
	_, err := pgx.ForEachRow(rows, dest, func() error { n++; fn(); return nil })
	return n, err
}
