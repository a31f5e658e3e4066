// Package postgres keeps auth's clients, users, signing keys, devices and audit
// events in its PostgreSQL schema.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/services/auth/domain"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates auth's tables; run with postgres.Migrate in auth's schema along
// with the platform's sets it uses.
func Migrations() postgres.Migrations {
	return postgres.Migrations{Name: "auth", FS: migrationFiles, Dir: "migrations"}
}

// Store is auth's repository.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a store on a pool opened with auth's schema.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

const clientColumns = `id, name, kind, secret_hash, redirect_uris, scopes, partner_id, disabled`

func scanClient(row pgx.Row) (*domain.Client, error) {
	var c domain.Client
	var kind string
	var scopes []string
	if err := row.Scan(&c.ID, &c.Name, &kind, &c.SecretHash, &c.RedirectURIs, &scopes, &c.PartnerID, &c.Disabled); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, domain.ErrUnknownClient
		}
		return nil, fmt.Errorf("postgres: client: %w", err)
	}
	c.Kind = domain.ClientKind(kind)
	for _, s := range scopes {
		c.Scopes = append(c.Scopes, domain.Scope(s))
	}
	c.Scopes = domain.MustScopes(c.Scopes...)
	return &c, nil
}

// Client returns a client by id, or domain.ErrUnknownClient.
func (s *Store) Client(ctx context.Context, id string) (*domain.Client, error) {
	return scanClient(s.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
}

// Clients returns every client, for the in-memory cache.
func (s *Store) Clients(ctx context.Context) ([]*domain.Client, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: clients: %w", err)
	}
	defer rows.Close()
	var out []*domain.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpsertClient registers a client or replaces its registration.
func (s *Store) UpsertClient(ctx context.Context, c *domain.Client, now time.Time) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("client %s: %w", c.ID, err)
	}
	scopes := make([]string, len(c.Scopes))
	for i, sc := range c.Scopes {
		scopes[i] = string(sc)
	}
	var secret []byte
	if len(c.SecretHash) > 0 {
		secret = c.SecretHash
	}
	redirects := c.RedirectURIs
	if redirects == nil {
		redirects = []string{}
	}
	_, err := s.pool.Exec(ctx, `
INSERT INTO clients (id, name, kind, secret_hash, redirect_uris, scopes, partner_id, disabled, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
ON CONFLICT (id) DO UPDATE SET
    name = EXCLUDED.name, kind = EXCLUDED.kind, secret_hash = EXCLUDED.secret_hash,
    redirect_uris = EXCLUDED.redirect_uris, scopes = EXCLUDED.scopes,
    partner_id = EXCLUDED.partner_id, disabled = EXCLUDED.disabled, updated_at = EXCLUDED.updated_at
WHERE (clients.name, clients.kind, clients.secret_hash, clients.redirect_uris, clients.scopes, clients.partner_id, clients.disabled)
      IS DISTINCT FROM
      (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.secret_hash, EXCLUDED.redirect_uris, EXCLUDED.scopes, EXCLUDED.partner_id, EXCLUDED.disabled)`,
		c.ID, c.Name, string(c.Kind), secret, redirects, scopes, c.PartnerID, c.Disabled, now)
	if err != nil {
		return fmt.Errorf("postgres: upsert client %s: %w", c.ID, err)
	}
	return nil
}

const userColumns = `customer_id::text, document_type, document_number, coalesce(username, ''), password_hash, status, disabled_reason, created_at, updated_at`

func scanUser(row pgx.Row) (*domain.User, error) {
	var u domain.User
	var status string
	if err := row.Scan(&u.CustomerID, &u.DocumentType, &u.DocumentNumber, &u.Username, &u.PasswordHash, &status,
		&u.DisabledReason, &u.CreatedAt, &u.UpdatedAt); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, domain.ErrUserNotFound
		}
		return nil, fmt.Errorf("postgres: user: %w", err)
	}
	u.Status = domain.UserStatus(status)
	return &u, nil
}

// CreateUser stores new credentials; domain.ErrUserExists when the customer, the
// document or the username already has some.
func (s *Store) CreateUser(ctx context.Context, u *domain.User) error {
	return s.CreateUserFor(ctx, u, "", nil)
}

// CreateUserFor stores new credentials remembering the request that created them
// (its idempotency scope and fingerprint), for CreateCredentials' replays.
func (s *Store) CreateUserFor(ctx context.Context, u *domain.User, key string, fingerprint []byte) error {
	var username, createdBy *string
	if u.Username != "" {
		username = &u.Username
	}
	if key != "" {
		createdBy = &key
	}
	_, err := s.pool.Exec(ctx, `
INSERT INTO users (customer_id, document_type, document_number, username, password_hash, status, disabled_reason, created_at, updated_at, created_by_key, request_fingerprint)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		u.CustomerID, u.DocumentType, u.DocumentNumber, username, u.PasswordHash, string(u.Status), u.DisabledReason, u.CreatedAt, u.UpdatedAt, createdBy, fingerprint)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return domain.ErrUserExists
	}
	if err != nil {
		return fmt.Errorf("postgres: create user: %w", err)
	}
	return nil
}

// UserCreatedBy returns the user a CreateCredentials request created, with its
// request fingerprint; domain.ErrUserNotFound when none.
func (s *Store) UserCreatedBy(ctx context.Context, key string) (*domain.User, []byte, error) {
	var fp []byte
	var u *domain.User
	row := s.pool.QueryRow(ctx, `SELECT `+userColumns+`, request_fingerprint FROM users WHERE created_by_key = $1`, key)
	var status string
	var uu domain.User
	if err := row.Scan(&uu.CustomerID, &uu.DocumentType, &uu.DocumentNumber, &uu.Username, &uu.PasswordHash, &status,
		&uu.DisabledReason, &uu.CreatedAt, &uu.UpdatedAt, &fp); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil, domain.ErrUserNotFound
		}
		return nil, nil, fmt.Errorf("postgres: user: %w", err)
	}
	uu.Status = domain.UserStatus(status)
	u = &uu
	return u, fp, nil
}

// User returns a customer's credentials, or domain.ErrUserNotFound.
func (s *Store) User(ctx context.Context, customerID string) (*domain.User, error) {
	if domain.CheckCustomerID(customerID) != nil {
		return nil, domain.ErrUserNotFound
	}
	return scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE customer_id = $1`, customerID))
}

// UserByLogin finds the user a login names, or domain.ErrUserNotFound.
func (s *Store) UserByLogin(ctx context.Context, l domain.Login) (*domain.User, error) {
	if l.DocumentType == "" {
		return scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, l.Identifier))
	}
	return scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE document_type = $1 AND document_number = $2`,
		l.DocumentType, l.Identifier))
}

// SetUserStatus changes a user's status; setting the status it has changes nothing
// (not even updated_at) and answers the user as it is.
func (s *Store) SetUserStatus(ctx context.Context, customerID string, status domain.UserStatus, reason string, now time.Time) (*domain.User, bool, error) {
	if domain.CheckCustomerID(customerID) != nil {
		return nil, false, domain.ErrUserNotFound
	}
	if status == domain.UserActive {
		reason = ""
	}
	u, err := scanUser(s.pool.QueryRow(ctx, `
UPDATE users SET status = $2, disabled_reason = $3, updated_at = $4
 WHERE customer_id = $1 AND status <> $2
RETURNING `+userColumns, customerID, string(status), reason, now))
	if errors.Is(err, domain.ErrUserNotFound) {
		u, err = s.User(ctx, customerID)
		return u, false, err
	}
	return u, err == nil, err
}

// SigningKeys returns the stored signing keys, newest first.
func (s *Store) SigningKeys(ctx context.Context) ([]domain.SigningKeyRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT kid, alg, private_key, public_key, created_at FROM signing_keys ORDER BY created_at DESC, kid`)
	if err != nil {
		return nil, fmt.Errorf("postgres: signing keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.SigningKeyRecord, error) {
		var k domain.SigningKeyRecord
		err := row.Scan(&k.KID, &k.Alg, &k.SealedKey, &k.PublicKey, &k.CreatedAt)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: signing keys: %w", err)
	}
	return keys, nil
}

// AddSigningKey stores a new key unless one was created after notBefore: several
// instances rotating at once add one key, not one each. It reports whether it added.
func (s *Store) AddSigningKey(ctx context.Context, k domain.SigningKeyRecord, notBefore time.Time) (bool, error) {
	var added bool
	err := postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		// Serialize rotations: the check and the insert must see the same table.
		if _, err := tx.Exec(ctx, `LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
INSERT INTO signing_keys (kid, alg, private_key, public_key, created_at)
SELECT $1, $2, $3, $4, $5
 WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE created_at > $6)`,
			k.KID, k.Alg, k.SealedKey, k.PublicKey, k.CreatedAt, notBefore)
		added = tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: add signing key: %w", err)
	}
	return added, nil
}

// DeleteSigningKeysBefore drops keys created before t; the caller keeps the ones
// whose tokens may still be alive.
func (s *Store) DeleteSigningKeysBefore(ctx context.Context, t time.Time, keep string) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM signing_keys WHERE created_at < $1 AND kid <> $2`, t, keep)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete signing keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

// InsertAudit writes audit events in one round trip (COPY).
func (s *Store) InsertAudit(ctx context.Context, events []domain.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"audit_events"},
		[]string{"at", "action", "success", "failure", "customer_id", "client_id", "origin_ip", "user_agent", "detail"},
		pgx.CopyFromSlice(len(events), func(i int) ([]any, error) {
			e := events[i]
			return []any{e.At, string(e.Action), e.Success, e.Failure, e.CustomerID, e.ClientID, e.OriginIP, e.UserAgent, e.Detail}, nil
		}))
	if err != nil {
		return fmt.Errorf("postgres: audit: %w", err)
	}
	return nil
}

// AuditEvents returns the latest audit events, newest first, optionally of one
// customer; for support tools and tests.
func (s *Store) AuditEvents(ctx context.Context, customerID string, limit int) ([]domain.AuditEvent, error) {
	rows, err := s.pool.Query(ctx, `
SELECT at, action, success, failure, customer_id, client_id, origin_ip, user_agent, detail
  FROM audit_events WHERE $1 = '' OR customer_id = $1 ORDER BY id DESC LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.AuditEvent, error) {
		var e domain.AuditEvent
		var action string
		err := row.Scan(&e.At, &action, &e.Success, &e.Failure, &e.CustomerID, &e.ClientID, &e.OriginIP, &e.UserAgent, &e.Detail)
		e.Action = domain.AuditAction(action)
		return e, err
	})
}
