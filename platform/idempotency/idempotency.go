// Package idempotency stores idempotency keys in PostgreSQL so that a write sent
// twice happens once and its first answer is replayed byte for byte (design
// handbook, section 8; after Stripe and brandur's "atomic phases").
//
// A key is scoped to its caller: (caller, subject, key). The life of a key:
//
//  1. Begin, in its own short transaction, records the key as in progress and hands
//     the caller a Lease — or answers at once: a stored Response to replay,
//     ErrMismatch when the key came with a different request, ErrInProgress while
//     another request holds it.
//  2. The caller does the work. Its final transaction changes the business state,
//     writes its outbox events and calls Complete with the response, so the three
//     commit together or not at all.
//  3. When the outcome is unknown (a downstream call timed out after the request
//     left), MarkPending keeps the key blocked; a reconciler claims it with
//     ClaimPending, asks the downstream with Lease.OperationID, and completes or
//     releases it. When the work failed without effect, Release frees the key so a
//     retry runs afresh.
//
// DoInline is the fast path for work that stays in this database: the claim, the
// work and the stored response make one transaction, in two round trips for work
// of one statement; a key that already exists falls back to the phases above.
//
// A worker that dies mid-work leaves an in-progress lease; after LeaseTimeout the
// same request may take it over (Lease.Recovered), keeping the operation id so
// downstream calls stay deduplicated. Keys expire TTL (24 h) after their first
// request. Time comes from Options.Now, never from the database, so tests control it.
//
// The table comes from Migrations, run in the owning service's schema.
package idempotency

import (
	"context"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/andes-bank/andes/platform/postgres"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the idempotency_keys table; run it with postgres.Migrate in
// the service's schema.
func Migrations() postgres.Migrations {
	return postgres.Migrations{Name: "idempotency", FS: migrationFiles, Dir: "migrations"}
}

// Errors Begin and the lease methods return. Ports map them once: ErrMismatch to
// FailedPrecondition with reason IDEMPOTENCY_MISMATCH (HTTP 422); ErrInProgress to
// Aborted with Retry-After (HTTP 409).
var (
	ErrMismatch   = errors.New("idempotency: key already used with a different request")
	ErrInProgress = errors.New("idempotency: a request with this key is in progress")
	// ErrPendingOutcome is an ErrInProgress whose work has an unknown outcome that a
	// reconciler has yet to resolve.
	ErrPendingOutcome = fmt.Errorf("idempotency: outcome not yet known: %w", ErrInProgress)
	// ErrLeaseLost means the lease went stale and another request took it over, or
	// the key was released or completed meanwhile: the holder must not commit.
	ErrLeaseLost = errors.New("idempotency: lease no longer held")
	// ErrOutcomeUnknown is for work to wrap when it cannot tell whether its effect
	// happened; Do then marks the key pending instead of releasing it.
	ErrOutcomeUnknown = errors.New("idempotency: outcome unknown")
	ErrInvalidKey     = errors.New("idempotency: invalid key")
)

// BusyError carries ErrInProgress or ErrPendingOutcome with the wait to advise.
type BusyError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *BusyError) Error() string { return e.Err.Error() }
func (e *BusyError) Unwrap() error { return e.Err }

// RetryAfter returns the wait a busy answer advises (Retry-After).
func RetryAfter(err error) (time.Duration, bool) {
	var b *BusyError
	if errors.As(err, &b) {
		return b.RetryAfter, true
	}
	return 0, false
}

// MaxKeyLen bounds keys, as Stripe does at 255 characters.
const MaxKeyLen = 255

// Scope says whose key it is: keys of two callers, or of two subjects of one
// caller, never collide.
type Scope struct {
	Caller  string // the calling identity: an OAuth2 client id or a SPIFFE process name
	Subject string // the end user the call acts for; empty for machine calls
}

// Fingerprint identifies a request: SHA-256 of its bytes. Hash deterministic bytes
// (proto.MarshalOptions{Deterministic: true}), or equal requests may differ.
type Fingerprint [sha256.Size]byte

// FingerprintOf hashes request bytes.
func FingerprintOf(request []byte) Fingerprint { return sha256.Sum256(request) }

// Response is the stored outcome: a status code (a gRPC code, or an HTTP status at
// an HTTP edge) and the response's proto bytes. Business refusals are outcomes
// too, and are stored and replayed like successes.
type Response struct {
	Code int
	Body []byte
	// Replayed is set on answers that come from the store rather than from work
	// done now (Stripe's Idempotent-Replayed header).
	Replayed bool
}

// Outcome is Begin's answer: exactly one of Replay and Lease is set.
type Outcome struct {
	Replay *Response // the key completed before: answer with this, do nothing
	Lease  *Lease    // this request does the work
}

// Lease is the right to do a key's work and to complete it.
type Lease struct {
	Scope Scope
	Key   string
	// OperationID is stable for the key's whole life: pass it downstream as this
	// service's own idempotency key, never the caller's raw key.
	OperationID string
	// Recovered is set when the work may already have partly run: a stale lease
	// was taken over, or a reconciler claimed a pending outcome. Downstream calls
	// must reuse OperationID, and the work must check what already happened.
	Recovered bool
	token     string
}

// Options tune a Store; zero values take the defaults.
type Options struct {
	TTL          time.Duration    // how long a key is remembered; default 24 h
	LeaseTimeout time.Duration    // after this an in-progress lease may be taken over; default 1 min
	RetryAfter   time.Duration    // the wait advised to a request that finds its key busy; default 1 s
	Now          func() time.Time // the clock; default time.Now
}

// DB is what the Store needs: a *pgxpool.Pool. Not a pgx.Tx: Begin's row must be
// visible to concurrent requests before the work starts.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Execer runs one statement: the caller's pgx.Tx, or a pool.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Store keeps the keys of one service.
type Store struct {
	db   DB
	opts Options
}

// New returns a Store on db.
func New(db DB, opts Options) *Store {
	if opts.TTL <= 0 {
		opts.TTL = 24 * time.Hour
	}
	if opts.LeaseTimeout <= 0 {
		opts.LeaseTimeout = time.Minute
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{db: db, opts: opts}
}

// beginSQL claims the key in one statement. It inserts a fresh row, or takes over
// an existing one that has expired (a new life: new operation id) or whose
// in-progress lease went stale under the same request (the same life: operation id
// kept). ON CONFLICT DO UPDATE locks the row and re-checks the condition against
// the latest committed version, so of many concurrent requests exactly one gets a
// row back. A pending outcome is never taken over here: only a reconciler may.
//
// Recovered: a takeover keeps created_at, which precedes the stale locked_at and so
// differs from now; a fresh insert and an expiry takeover set created_at to now.
const beginSQL = `
INSERT INTO idempotency_keys AS k
       (caller, subject, key, request_hash, status, operation_id, lease, created_at, locked_at, expires_at)
VALUES ($1, $2, $3, $4, 'in_progress', gen_random_uuid(), gen_random_uuid(), $5, $5, $6)
ON CONFLICT (caller, subject, key) DO UPDATE SET
       request_hash  = EXCLUDED.request_hash,
       status        = 'in_progress',
       operation_id  = CASE WHEN k.expires_at <= $5 THEN EXCLUDED.operation_id ELSE k.operation_id END,
       created_at    = CASE WHEN k.expires_at <= $5 THEN EXCLUDED.created_at ELSE k.created_at END,
       expires_at    = CASE WHEN k.expires_at <= $5 THEN EXCLUDED.expires_at ELSE k.expires_at END,
       lease         = EXCLUDED.lease,
       locked_at     = EXCLUDED.locked_at,
       response_code = NULL,
       response      = NULL,
       completed_at  = NULL
 WHERE (k.expires_at <= $5 AND k.status <> 'pending_outcome')
    OR (k.status = 'in_progress' AND k.locked_at <= $7 AND k.request_hash = EXCLUDED.request_hash)
RETURNING operation_id::text, lease::text, created_at <> $5`

const lookupSQL = `
SELECT request_hash, status, response_code, response, expires_at
  FROM idempotency_keys
 WHERE caller = $1 AND subject = $2 AND key = $3`

// Begin claims key for a request with fingerprint fp, or answers from the store.
// Errors: ErrMismatch, ErrInProgress (a *BusyError; ErrPendingOutcome for an
// unknown outcome), ErrInvalidKey.
func (s *Store) Begin(ctx context.Context, scope Scope, key string, fp Fingerprint) (Outcome, error) {
	if err := validate(scope, key); err != nil {
		return Outcome{}, err
	}
	// A row may vanish (released, purged) or expire between the two statements; a
	// few rounds settle it.
	for range 5 {
		now := s.opts.Now().UTC()
		lease := &Lease{Scope: scope, Key: key}
		err := s.db.QueryRow(ctx, beginSQL, scope.Caller, scope.Subject, key, fp[:],
			now, now.Add(s.opts.TTL), now.Add(-s.opts.LeaseTimeout),
		).Scan(&lease.OperationID, &lease.token, &lease.Recovered)
		if err == nil {
			return Outcome{Lease: lease}, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Outcome{}, fmt.Errorf("idempotency: begin: %w", err)
		}

		var (
			hash      []byte
			status    string
			code      *int32
			body      []byte
			expiresAt time.Time
		)
		err = s.db.QueryRow(ctx, lookupSQL, scope.Caller, scope.Subject, key).
			Scan(&hash, &status, &code, &body, &expiresAt)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return Outcome{}, fmt.Errorf("idempotency: begin: %w", err)
		}
		if !expiresAt.After(now) && status != statusPending {
			continue
		}
		if string(hash) != string(fp[:]) {
			return Outcome{}, ErrMismatch
		}
		switch status {
		case statusDone:
			r := &Response{Body: body, Replayed: true}
			if code != nil {
				r.Code = int(*code)
			}
			if r.Body == nil {
				r.Body = []byte{}
			}
			return Outcome{Replay: r}, nil
		case statusPending:
			return Outcome{}, &BusyError{Err: ErrPendingOutcome, RetryAfter: s.opts.RetryAfter}
		default:
			return Outcome{}, &BusyError{Err: ErrInProgress, RetryAfter: s.opts.RetryAfter}
		}
	}
	return Outcome{}, fmt.Errorf("idempotency: begin: key %q keeps changing under us", key)
}

const (
	statusInProgress = "in_progress"
	statusDone       = "done"
	statusPending    = "pending_outcome"
)

// completeSQL stores the outcome of the lease's holder ($4).
const completeSQL = `
UPDATE idempotency_keys
   SET status = 'done', response_code = $5, response = $6, completed_at = $7, lease = NULL, locked_at = NULL,
       expires_at = CASE WHEN status = 'pending_outcome' THEN greatest(expires_at, $8) ELSE expires_at END
 WHERE caller = $1 AND subject = $2 AND key = $3 AND lease = $4`

// Complete stores resp as the key's outcome. Call it inside the transaction that
// makes the business change, so the change and the stored response commit
// together. ErrLeaseLost means the lease was taken over: roll back.
//
// A pending outcome resolved late stays replayable for a full TTL after its
// resolution: the client is likely still retrying.
func (s *Store) Complete(ctx context.Context, tx Execer, lease *Lease, resp Response) error {
	body := resp.Body
	if body == nil {
		body = []byte{}
	}
	now := s.opts.Now().UTC()
	tag, err := tx.Exec(ctx, completeSQL,
		lease.Scope.Caller, lease.Scope.Subject, lease.Key, lease.token, resp.Code, body, now, now.Add(s.opts.TTL))
	if err != nil {
		return fmt.Errorf("idempotency: complete: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseLost
	}
	return nil
}

// MarkPending records that the work's outcome is unknown: the key stays blocked
// (ErrPendingOutcome) until a reconciler resolves it. It may run in the caller's
// transaction, next to the operation's own pending state.
func (s *Store) MarkPending(ctx context.Context, db Execer, lease *Lease) error {
	tag, err := db.Exec(ctx, `
UPDATE idempotency_keys
   SET status = 'pending_outcome', lease = NULL, locked_at = NULL
 WHERE caller = $1 AND subject = $2 AND key = $3 AND lease = $4 AND status = 'in_progress'`,
		lease.Scope.Caller, lease.Scope.Subject, lease.Key, lease.token)
	if err != nil {
		return fmt.Errorf("idempotency: mark pending: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Release forgets the key so that a retry runs the work afresh. Use it when the
// work failed and changed nothing anywhere (a transient error before any
// downstream call); never after an effect might have happened.
func (s *Store) Release(ctx context.Context, db Execer, lease *Lease) error {
	tag, err := db.Exec(ctx, `
DELETE FROM idempotency_keys
 WHERE caller = $1 AND subject = $2 AND key = $3 AND lease = $4`,
		lease.Scope.Caller, lease.Scope.Subject, lease.Key, lease.token)
	if err != nil {
		return fmt.Errorf("idempotency: release: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseLost
	}
	return nil
}

// ClaimPending hands up to limit pending outcomes to a reconciler, oldest first,
// each with a fresh lease; reconcilers running at once claim different keys, and a
// claim older than LeaseTimeout may be claimed again. Resolve each with Complete
// (the downstream did it, or refused) or Release (it never happened).
func (s *Store) ClaimPending(ctx context.Context, limit int) ([]*Lease, error) {
	now := s.opts.Now().UTC()
	rows, err := s.db.Query(ctx, `
UPDATE idempotency_keys k
   SET lease = gen_random_uuid(), locked_at = $1
  FROM (SELECT caller, subject, key
          FROM idempotency_keys
         WHERE status = 'pending_outcome' AND (locked_at IS NULL OR locked_at <= $2)
         ORDER BY created_at
         LIMIT $3
           FOR UPDATE SKIP LOCKED) c
 WHERE k.caller = c.caller AND k.subject = c.subject AND k.key = c.key
RETURNING k.caller, k.subject, k.key, k.operation_id::text, k.lease::text`,
		now, now.Add(-s.opts.LeaseTimeout), limit)
	if err != nil {
		return nil, fmt.Errorf("idempotency: claim pending: %w", err)
	}
	leases, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Lease, error) {
		l := &Lease{Recovered: true}
		err := row.Scan(&l.Scope.Caller, &l.Scope.Subject, &l.Key, &l.OperationID, &l.token)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("idempotency: claim pending: %w", err)
	}
	return leases, nil
}

// Purge deletes up to limit expired keys and reports how many went. Pending
// outcomes are kept until resolved, whatever their age.
func (s *Store) Purge(ctx context.Context, limit int) (int64, error) {
	now := s.opts.Now().UTC()
	return PurgeExpired(ctx, s.db, now, now, limit)
}

// PurgeExpired deletes up to limit keys that expired by now and were first used
// before usedBefore, and reports how many went: a key is kept for a retention
// period, yet never purged while it could still be replayed. Pending outcomes are
// kept until resolved, whatever their age. Keys being worked on are skipped, not
// waited for.
func PurgeExpired(ctx context.Context, db Execer, now, usedBefore time.Time, limit int) (int64, error) {
	tag, err := db.Exec(ctx, `
DELETE FROM idempotency_keys k
 USING (SELECT caller, subject, key
          FROM idempotency_keys
         WHERE expires_at <= $1 AND created_at <= $2 AND status <> 'pending_outcome'
         LIMIT $3
           FOR UPDATE SKIP LOCKED) x
 WHERE k.caller = x.caller AND k.subject = x.subject AND k.key = x.key`,
		now, usedBefore, limit)
	if err != nil {
		return 0, fmt.Errorf("idempotency: purge: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Work is the work of Do. It runs inside the transaction that will also store its
// response: make the business change and write outbox events with tx. Return a
// refusal as a Response (it is stored and replayed); return an error only when
// nothing should be stored — wrapped in ErrOutcomeUnknown when an effect elsewhere
// may have happened.
type Work func(ctx context.Context, tx pgx.Tx, lease *Lease) (Response, error)

// Do runs a request at most once per key: it replays the stored response, or runs
// work and stores its response in work's own transaction. After an error the key
// is released (so a retry runs again) unless the error wraps ErrOutcomeUnknown,
// which marks it pending.
//
// Do holds a transaction open while work runs: good for work that stays in this
// database. Work that calls other services should use Begin, the calls, then a
// short transaction with Complete (the atomic phases).
func (s *Store) Do(ctx context.Context, scope Scope, key string, request []byte, work Work) (Response, error) {
	out, err := s.Begin(ctx, scope, key, FingerprintOf(request))
	if err != nil {
		return Response{}, err
	}
	if out.Replay != nil {
		return *out.Replay, nil
	}
	lease := out.Lease
	var resp Response
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		r, err := work(ctx, tx, lease)
		if err != nil {
			return err
		}
		resp = r
		return s.Complete(ctx, tx, lease, r)
	})
	if err == nil {
		return resp, nil
	}
	// The lease must be settled even when the caller's context is what failed.
	settle := context.WithoutCancel(ctx)
	switch {
	case errors.Is(err, ErrLeaseLost):
	case errors.Is(err, ErrOutcomeUnknown):
		if merr := s.MarkPending(settle, s.db, lease); merr != nil && !errors.Is(merr, ErrLeaseLost) {
			err = errors.Join(err, merr)
		}
	default:
		// Conditioned on the lease token, so a commit that did happen despite an
		// error (a connection lost during COMMIT) leaves the done row alone.
		if rerr := s.Release(settle, s.db, lease); rerr != nil && !errors.Is(rerr, ErrLeaseLost) {
			err = errors.Join(err, rerr)
		}
	}
	return Response{}, err
}

func validate(scope Scope, key string) error {
	switch {
	case scope.Caller == "":
		return fmt.Errorf("%w: no caller", ErrInvalidKey)
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyLen)
	}
	return nil
}
