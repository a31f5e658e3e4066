// Package postgres keeps customers, account ownership, partner tenancy and
// preferences in the customer service's PostgreSQL schema.
package postgres

import (
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/services/customer/domain"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations is the service's goose set.
var Migrations = postgres.Migrations{Name: "customer", FS: migrations, Dir: "migrations"}

// Migrate applies the service's migrations into schema.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	return postgres.Migrate(ctx, pool, schema, Migrations)
}

// ErrBadPageToken is a page token this store did not issue.
var ErrBadPageToken = fmt.Errorf("%w: bad page token", domain.ErrInvalid)

// Store is the repository.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a store on pool (opened in the service's schema).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

const customerColumns = `c.customer_id::text, c.core_customer_number, coalesce(c.partner_id, ''), c.document_type,
	c.document_number, c.given_names, c.family_names, c.birth_date, c.email, c.phone_number, c.status,
	coalesce(p.language, 'es-PE'), coalesce(p.notify_by_email, true), coalesce(p.notify_by_sms, false),
	coalesce(p.default_account_id::text, ''), c.created_at, greatest(c.updated_at, coalesce(p.updated_at, c.updated_at))`

const customerFrom = ` FROM customers c LEFT JOIN preferences p ON p.customer_id = c.customer_id `

func scanCustomer(row pgx.Row) (*domain.Customer, error) {
	var c domain.Customer
	err := row.Scan(&c.ID, &c.CoreCustomerNumber, &c.PartnerID, &c.DocumentType, &c.DocumentNumber,
		&c.GivenNames, &c.FamilyNames, &c.BirthDate, &c.Email, &c.Phone, &c.Status,
		&c.Preferences.Language, &c.Preferences.NotifyByEmail, &c.Preferences.NotifyBySMS,
		&c.Preferences.DefaultAccountID, &c.CreatedAt, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, domain.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("customer: %w", err)
	}
	return &c, nil
}

// Customer returns a customer by Andes id.
func (s *Store) Customer(ctx context.Context, id string) (*domain.Customer, error) {
	return scanCustomer(s.pool.QueryRow(ctx, `SELECT `+customerColumns+customerFrom+`WHERE c.customer_id = $1::uuid`, id))
}

// CustomerByDocument returns the customer with a national document.
func (s *Store) CustomerByDocument(ctx context.Context, docType, number string) (*domain.Customer, error) {
	return scanCustomer(s.pool.QueryRow(ctx, `SELECT `+customerColumns+customerFrom+
		`WHERE c.document_type = $1 AND c.document_number = $2`, docType, number))
}

// SetPreferences replaces a customer's preferences; ErrNotFound when there is no
// such customer (the row is inserted only beside one, not refused by its key).
func (s *Store) SetPreferences(ctx context.Context, customerID string, p domain.Preferences, now time.Time) error {
	var def *string
	if p.DefaultAccountID != "" {
		def = &p.DefaultAccountID
	}
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO preferences (customer_id, language, notify_by_email, notify_by_sms, default_account_id, updated_at)
		SELECT customer_id, $2::text, $3::boolean, $4::boolean, $5::uuid, $6::timestamptz FROM customers WHERE customer_id = $1::uuid
		ON CONFLICT (customer_id) DO UPDATE SET language = excluded.language,
			notify_by_email = excluded.notify_by_email, notify_by_sms = excluded.notify_by_sms,
			default_account_id = excluded.default_account_id, updated_at = excluded.updated_at`,
		customerID, p.Language, p.NotifyByEmail, p.NotifyBySMS, def, now)
	if err != nil {
		return fmt.Errorf("preferences: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return domain.ErrNotFound
	}
	return nil
}

// PartnerCustomers pages through a partner's customers, newest first.
func (s *Store) PartnerCustomers(ctx context.Context, partnerID string, limit int, pageToken string) ([]*domain.Customer, string, error) {
	after, id, err := decodeCursor(pageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+customerColumns+customerFrom+`
		WHERE c.partner_id = $1 AND ($2::timestamptz IS NULL OR (c.created_at, c.customer_id) < ($2, $3::uuid))
		ORDER BY c.created_at DESC, c.customer_id DESC LIMIT $4`, partnerID, after, id, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("partner customers: %w", err)
	}
	defer rows.Close()
	var out []*domain.Customer
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("partner customers: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(last.CreatedAt, last.ID)
	}
	return out, next, nil
}

func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + "_" + id))
}

func decodeCursor(tok string) (*time.Time, *string, error) {
	if tok == "" {
		return nil, nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, nil, ErrBadPageToken
	}
	us, id, ok := strings.Cut(string(raw), "_")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || len(id) != 36 {
		return nil, nil, ErrBadPageToken
	}
	t := time.UnixMicro(n)
	return &t, &id, nil
}

// Partner returns a partner.
func (s *Store) Partner(ctx context.Context, id string) (*domain.Partner, error) {
	var p domain.Partner
	err := s.pool.QueryRow(ctx, `SELECT partner_id, display_name, status, settlement_account_number, created_at
		FROM partners WHERE partner_id = $1`, id).Scan(&p.ID, &p.DisplayName, &p.Status, &p.SettlementAccountNumber, &p.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, domain.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("partner: %w", err)
	}
	return &p, nil
}

const accountColumns = `account_id::text, customer_id::text, account_number, type, currency, status, opened_at`

func scanAccount(row pgx.Row) (*domain.Account, error) {
	var a domain.Account
	err := row.Scan(&a.ID, &a.CustomerID, &a.AccountNumber, &a.Type, &a.Currency, &a.Status, &a.OpenedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, domain.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	return &a, nil
}

// Account returns an account by Andes id.
func (s *Store) Account(ctx context.Context, id string) (*domain.Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE account_id = $1::uuid`, id))
}

// AccountByNumber returns an account by core account number.
func (s *Store) AccountByNumber(ctx context.Context, number string) (*domain.Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE account_number = $1`, number))
}

// Accounts lists a customer's accounts, oldest first.
func (s *Store) Accounts(ctx context.Context, customerID string, includeClosed bool) ([]*domain.Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE customer_id = $1::uuid AND ($2 OR status <> 'closed') ORDER BY opened_at, account_id`, customerID, includeClosed)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	defer rows.Close()
	var out []*domain.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	return out, nil
}
