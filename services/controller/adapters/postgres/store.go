// Package postgres is the controller's database: operations, daily usage,
// beneficiaries, and the platform's idempotency keys and outbox in the same
// schema, so that a change, its stored response and its events commit together.
package postgres

import (
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/outbox"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/services/controller/app"
	"github.com/andes-bank/andes/services/controller/domain"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate creates or updates the controller's tables in schema.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	return postgres.Migrate(ctx, pool, schema,
		postgres.Migrations{Name: "controller", FS: migrations, Dir: "migrations"},
		idempotency.Migrations(), outbox.Migrations())
}

// Store is the app's Repository on PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	keys *idempotency.Store
	now  func() time.Time
}

var _ app.Repository = (*Store)(nil)

// New returns the store; keys are remembered with o.
func New(pool *pgxpool.Pool, o idempotency.Options) *Store {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{pool: pool, keys: idempotency.New(pool, o), now: o.Now}
}

func lease(l *app.Lease) *idempotency.Lease { return l.Handle().(*idempotency.Lease) }

// Begin implements app.Repository.
func (s *Store) Begin(ctx context.Context, caller, subject, key string, request []byte) (app.Begun, error) {
	out, err := s.keys.Begin(ctx, idempotency.Scope{Caller: caller, Subject: subject}, key, idempotency.FingerprintOf(request))
	var busy *idempotency.BusyError
	switch {
	case errors.Is(err, idempotency.ErrMismatch):
		return app.Begun{}, domain.ErrMismatch
	case errors.As(err, &busy):
		return app.Begun{}, &app.RetryAfterError{Err: domain.ErrInProgress, RetryAfter: busy.RetryAfter}
	case errors.Is(err, idempotency.ErrInvalidKey):
		return app.Begun{}, &domain.InvalidError{Field: "idempotency_key", Description: "not a valid key"}
	case err != nil:
		return app.Begun{}, err
	case out.Replay != nil:
		return app.Begun{Replay: &app.Stored{Code: out.Replay.Code, Body: out.Replay.Body}}, nil
	}
	return app.Begun{Lease: app.NewLease(out.Lease.OperationID, out.Lease.Recovered, out.Lease)}, nil
}

// Release implements app.Repository.
func (s *Store) Release(ctx context.Context, l *app.Lease) error {
	return s.keys.Release(ctx, s.pool, lease(l))
}

// MarkPending implements app.Repository.
func (s *Store) MarkPending(ctx context.Context, l *app.Lease) error {
	return s.keys.MarkPending(ctx, s.pool, lease(l))
}

// ClaimPending implements app.Repository.
func (s *Store) ClaimPending(ctx context.Context, limit int) ([]*app.Lease, error) {
	ls, err := s.keys.ClaimPending(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*app.Lease, len(ls))
	for i, l := range ls {
		out[i] = app.NewLease(l.OperationID, true, l)
	}
	return out, nil
}

// Store implements app.Repository.
func (s *Store) Store(ctx context.Context, l *app.Lease, resp app.Stored) error {
	return postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		return s.keys.Complete(ctx, tx, lease(l), idempotency.Response{Code: resp.Code, Body: resp.Body})
	})
}

// reserveSQL adds an amount to the day's counter only while it stays within the
// limit: the row lock orders concurrent operations of one customer.
const reserveSQL = `
INSERT INTO daily_usage AS u (customer_id, currency, business_date, used_minor)
SELECT $1::text, $2::text, $3::text, $4::bigint WHERE $4::bigint <= $5::bigint
ON CONFLICT (customer_id, currency, business_date) DO UPDATE
   SET used_minor = u.used_minor + EXCLUDED.used_minor
 WHERE u.used_minor + EXCLUDED.used_minor <= $5::bigint
RETURNING used_minor`

const giveBackSQL = `
UPDATE daily_usage SET used_minor = GREATEST(used_minor - $4, 0)
 WHERE customer_id = $1 AND currency = $2 AND business_date = $3`

// Accept implements app.Repository. The operation's row goes in first: a
// recovered lease whose operation is already recorded gets that record back and
// reserves nothing twice; a refusal of the limit rolls the row back.
func (s *Store) Accept(ctx context.Context, op *domain.Operation, limit domain.Money) (*domain.Operation, error) {
	data, err := json.Marshal(op)
	if err != nil {
		return nil, err
	}
	accepted := op
	err = postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO operations (operation_id, customer_id, status, created_at, data)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (operation_id) DO NOTHING`,
			op.ID, op.CustomerID, string(op.Status), op.CreatedAt, data)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var recorded []byte
			if err := tx.QueryRow(ctx, `SELECT data FROM operations WHERE operation_id = $1`, op.ID).Scan(&recorded); err != nil {
				return err
			}
			accepted = new(domain.Operation)
			return json.Unmarshal(recorded, accepted)
		}
		if !op.CountsTowardLimit {
			return nil
		}
		var used int64
		err = tx.QueryRow(ctx, reserveSQL, op.CustomerID, op.Amount.Currency, op.BusinessDate, op.Amount.Minor, limit.Minor).Scan(&used)
		if errors.Is(err, pgx.ErrNoRows) {
			var cur int64
			if err := tx.QueryRow(ctx, `SELECT COALESCE((SELECT used_minor FROM daily_usage
				WHERE customer_id = $1 AND currency = $2 AND business_date = $3), 0)`,
				op.CustomerID, op.Amount.Currency, op.BusinessDate).Scan(&cur); err != nil {
				return err
			}
			return &domain.DailyLimitError{Limit: limit, Remaining: domain.Money{Minor: max(limit.Minor-cur, 0), Currency: limit.Currency}}
		}
		if err != nil {
			return fmt.Errorf("reserve daily limit: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return accepted, nil
}

func giveBack(ctx context.Context, tx pgx.Tx, op *domain.Operation) error {
	if !op.CountsTowardLimit {
		return nil
	}
	_, err := tx.Exec(ctx, giveBackSQL, op.CustomerID, op.Amount.Currency, op.BusinessDate, op.Amount.Minor)
	return err
}

func forget(ctx context.Context, tx pgx.Tx, op *domain.Operation) error {
	if _, err := tx.Exec(ctx, `DELETE FROM operations WHERE operation_id = $1`, op.ID); err != nil {
		return err
	}
	return giveBack(ctx, tx, op)
}

// Refuse implements app.Repository.
func (s *Store) Refuse(ctx context.Context, l *app.Lease, op *domain.Operation, refusal app.Stored) error {
	return postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := forget(ctx, tx, op); err != nil {
			return err
		}
		return s.keys.Complete(ctx, tx, lease(l), idempotency.Response{Code: refusal.Code, Body: refusal.Body})
	})
}

// Abandon implements app.Repository.
func (s *Store) Abandon(ctx context.Context, l *app.Lease, op *domain.Operation) error {
	return postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := forget(ctx, tx, op); err != nil {
			return err
		}
		return s.keys.Release(ctx, tx, lease(l))
	})
}

// Resolve implements app.Repository.
func (s *Store) Resolve(ctx context.Context, l *app.Lease, op *domain.Operation, resp app.Stored, events []app.Event) error {
	data, err := json.Marshal(op)
	if err != nil {
		return err
	}
	return postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE operations SET status = $2, resolved_at = $3, data = $4 WHERE operation_id = $1`,
			op.ID, string(op.Status), op.ResolvedAt, data); err != nil {
			return err
		}
		switch {
		case op.Status == domain.StatusFailed:
			if err := giveBack(ctx, tx, op); err != nil {
				return err
			}
		case op.Type == domain.TypeTransfer && !op.Own():
			if _, err := tx.Exec(ctx, `
				INSERT INTO beneficiaries (customer_id, account_number, masked_holder_name, currency, first_paid_at, last_paid_at)
				VALUES ($1, $2, $3, $4, $5, $5)
				ON CONFLICT (customer_id, account_number) DO UPDATE
				   SET last_paid_at = GREATEST(beneficiaries.last_paid_at, EXCLUDED.last_paid_at),
				       masked_holder_name = EXCLUDED.masked_holder_name`,
				op.CustomerID, op.DestinationAccountNumber, op.MaskedBeneficiaryName, op.Amount.Currency, op.ResolvedAt); err != nil {
				return err
			}
		}
		evs := make([]outbox.Event, len(events))
		for i, e := range events {
			evs[i] = outbox.Event{ID: e.ID, Type: e.Type, Subject: e.Subject, Payload: e.Payload, OccurredAt: e.OccurredAt}
		}
		if err := outbox.Write(ctx, tx, evs...); err != nil {
			return err
		}
		return s.keys.Complete(ctx, tx, lease(l), idempotency.Response{Code: resp.Code, Body: resp.Body})
	})
}

// Operation implements app.Repository.
func (s *Store) Operation(ctx context.Context, id string) (*domain.Operation, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM operations WHERE operation_id = $1`, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, domain.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var op domain.Operation
	return &op, json.Unmarshal(data, &op)
}

// Keyset page tokens: the last row's order key, opaque to callers.
func encodeToken(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixNano(), 10) + "|" + id))
}

var errBadToken = &domain.InvalidError{Field: "page_token", Description: "not a token this service gave"}

func decodeToken(token string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return time.Time{}, "", errBadToken
	}
	ns, id, ok := strings.Cut(string(raw), "|")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", errBadToken
	}
	return time.Unix(0, n).UTC(), id, nil
}

// Operations implements app.Repository.
func (s *Store) Operations(ctx context.Context, customerID string, limit int, pageToken string) ([]*domain.Operation, string, error) {
	q := `SELECT data, created_at, operation_id::text FROM operations WHERE customer_id = $1`
	args := []any{customerID}
	if pageToken != "" {
		t, id, err := decodeToken(pageToken)
		if err != nil {
			return nil, "", err
		}
		q += ` AND (created_at, operation_id) < ($2, $3::uuid)`
		args = append(args, t, id)
	}
	q += fmt.Sprintf(` ORDER BY created_at DESC, operation_id DESC LIMIT %d`, limit+1)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var (
		out  []*domain.Operation
		next string
	)
	for rows.Next() {
		var (
			data []byte
			at   time.Time
			id   string
		)
		if err := rows.Scan(&data, &at, &id); err != nil {
			return nil, "", err
		}
		if len(out) == limit {
			last := out[len(out)-1]
			next = encodeToken(last.CreatedAt, last.ID)
			break
		}
		var op domain.Operation
		if err := json.Unmarshal(data, &op); err != nil {
			return nil, "", err
		}
		op.CreatedAt = at
		out = append(out, &op)
	}
	return out, next, rows.Err()
}

// IsBeneficiary implements app.Repository.
func (s *Store) IsBeneficiary(ctx context.Context, customerID, accountNumber string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM beneficiaries WHERE customer_id = $1 AND account_number = $2)`,
		customerID, accountNumber).Scan(&ok)
	return ok, err
}

// Beneficiaries implements app.Repository.
func (s *Store) Beneficiaries(ctx context.Context, customerID string, limit int, pageToken string) ([]domain.Beneficiary, string, error) {
	q := `SELECT account_number, masked_holder_name, currency, first_paid_at, last_paid_at FROM beneficiaries WHERE customer_id = $1`
	args := []any{customerID}
	if pageToken != "" {
		t, n, err := decodeToken(pageToken)
		if err != nil {
			return nil, "", err
		}
		q += ` AND (last_paid_at < $2 OR (last_paid_at = $2 AND account_number > $3))`
		args = append(args, t, n)
	}
	q += fmt.Sprintf(` ORDER BY last_paid_at DESC, account_number LIMIT %d`, limit+1)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var (
		out  []domain.Beneficiary
		next string
	)
	for rows.Next() {
		var b domain.Beneficiary
		if err := rows.Scan(&b.AccountNumber, &b.MaskedHolderName, &b.Currency, &b.FirstPaidAt, &b.LastPaidAt); err != nil {
			return nil, "", err
		}
		if len(out) == limit {
			last := out[len(out)-1]
			next = encodeToken(last.LastPaidAt, last.AccountNumber)
			break
		}
		out = append(out, b)
	}
	return out, next, rows.Err()
}

// DailyUsed implements app.Repository.
func (s *Store) DailyUsed(ctx context.Context, customerID, currency, businessDate string) (int64, error) {
	var used int64
	err := s.pool.QueryRow(ctx, `SELECT COALESCE((SELECT used_minor FROM daily_usage
		WHERE customer_id = $1 AND currency = $2 AND business_date = $3), 0)`, customerID, currency, businessDate).Scan(&used)
	return used, err
}
