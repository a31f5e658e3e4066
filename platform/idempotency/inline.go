package idempotency

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Querier runs statements: what InlineWork gets. A pgx.Tx is one.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// InlineWork is the work of DoInline: Work on a Querier instead of a pgx.Tx. It
// may run twice (see DoInline), so it must do nothing outside q but compute.
type InlineWork func(ctx context.Context, q Querier, lease *Lease) (Response, error)

// acquirer hands out connections: the *pgxpool.Pool a Store is usually built on.
type acquirer interface {
	Acquire(ctx context.Context) (*pgxpool.Conn, error)
}

// DoInline is Do for work that stays in this database, in one transaction and in
// as few round trips as the work allows: the key is claimed, the work runs and
// its response is stored in a single transaction, one commit, where Do takes
// two (the claim commits on its own first). BEGIN and the claim travel with the
// work's first statement, and the response with COMMIT, so work of one
// statement costs two round trips. Same guarantees as Do:
//
//   - A key never seen before (the common case) is claimed by a plain INSERT.
//     When the key is already there — completed (replay), another request
//     (ErrMismatch), in progress or pending (a *BusyError), expired, or a stale
//     lease — that INSERT fails, the work's statement is skipped by the
//     server, everything rolls back, and Do settles the key as usual (and runs
//     work again if it hands out a lease): this is why work may run twice.
//   - The key row is invisible until its transaction commits with the response:
//     a concurrent request with the same key waits for that commit (one
//     transaction: milliseconds) on the key's unique index, then replays the
//     stored answer. Keys claimed by Begin stay visible in flight, so a request
//     meeting one is answered ErrInProgress as with Do.
//   - A failed work leaves nothing; one whose error wraps ErrOutcomeUnknown
//     leaves the key pending, as with Do.
//
// The work's first Exec or QueryRow is pipelined with the claim; a first Query
// waits for the claim. The Store's DB must hand out connections (a
// *pgxpool.Pool); otherwise DoInline is Do.
func (s *Store) DoInline(ctx context.Context, scope Scope, key string, request []byte, work InlineWork) (Response, error) {
	if err := validate(scope, key); err != nil {
		return Response{}, err
	}
	viaDo := func(ctx context.Context, tx pgx.Tx, lease *Lease) (Response, error) { return work(ctx, tx, lease) }
	pool, ok := s.db.(acquirer)
	if !ok {
		return s.Do(ctx, scope, key, request, viaDo)
	}
	resp, err := s.inline(ctx, pool, scope, key, FingerprintOf(request), work)
	if errors.Is(err, errKeyTaken) {
		return s.Do(ctx, scope, key, request, viaDo)
	}
	return resp, err
}

// errKeyTaken: the inline claim found the key already there.
var errKeyTaken = errors.New("idempotency: key already taken")

// inlineClaimSQL claims a fresh key; on a key that exists it fails with a unique
// violation, which skips the rest of the pipeline. The row is born done: nobody
// sees it before the commit that also stores its response (completeSQL, which
// then changes no indexed column — status is in a partial index's predicate —
// so PostgreSQL may update it in place, HOT).
const inlineClaimSQL = `
INSERT INTO idempotency_keys
       (caller, subject, key, request_hash, status, operation_id, lease, created_at, locked_at, expires_at)
VALUES ($1, $2, $3, $4, 'done', $5, $6, $7, $7, $8)`

// inlinePendingSQL parks the unknown outcome of inline work that rolled back.
const inlinePendingSQL = `
INSERT INTO idempotency_keys
       (caller, subject, key, request_hash, status, operation_id, created_at, expires_at)
VALUES ($1, $2, $3, $4, 'pending_outcome', $5, $6, $7)
ON CONFLICT (caller, subject, key) DO NOTHING`

func (s *Store) inline(ctx context.Context, pool acquirer, scope Scope, key string, fp Fingerprint, work InlineWork) (resp Response, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return Response{}, fmt.Errorf("idempotency: %w", err)
	}
	defer conn.Release() // a connection left inside a transaction is closed, not reused
	now := s.opts.Now().UTC()
	lease := &Lease{Scope: scope, Key: key, OperationID: uuid.NewString(), token: uuid.NewString()}
	p := &pipeline{conn: conn.Conn(), claim: []any{scope.Caller, scope.Subject, key, fp[:],
		lease.OperationID, lease.token, now, now.Add(s.opts.TTL)}}
	defer func() {
		if err != nil {
			p.rollback(ctx)
		}
	}()

	resp, err = work(ctx, p, lease)
	switch {
	case p.taken:
		return Response{}, errKeyTaken
	case errors.Is(err, ErrOutcomeUnknown):
		p.rollback(ctx)
		tag, perr := conn.Exec(context.WithoutCancel(ctx), inlinePendingSQL, scope.Caller, scope.Subject, key, fp[:],
			lease.OperationID, now, now.Add(s.opts.TTL))
		switch {
		case perr != nil:
			err = errors.Join(err, fmt.Errorf("idempotency: mark pending: %w", perr))
		case tag.RowsAffected() == 0:
			err = errors.Join(err, ErrLeaseLost)
		}
		return Response{}, err
	case err != nil:
		return Response{}, err
	}

	body := resp.Body
	if body == nil {
		body = []byte{}
	}
	b := &pgx.Batch{}
	p.queueClaim(b)
	done := b.Queue(completeSQL, scope.Caller, scope.Subject, key, lease.token, resp.Code, body, now, now.Add(s.opts.TTL))
	commit := b.Queue("commit")
	var doneTag, commitTag pgconn.CommandTag
	done.Exec(func(tag pgconn.CommandTag) error { doneTag = tag; return nil })
	commit.Exec(func(tag pgconn.CommandTag) error { commitTag = tag; return nil })
	if err := p.send(ctx, b); err != nil {
		if p.taken {
			return Response{}, errKeyTaken
		}
		return Response{}, fmt.Errorf("idempotency: complete: %w", err)
	}
	if doneTag.RowsAffected() != 1 || commitTag.String() != "COMMIT" {
		// Only work that touched the key itself gets here.
		return Response{}, fmt.Errorf("idempotency: complete: %w (%s, %s)", ErrLeaseLost, doneTag, commitTag)
	}
	return resp, nil
}

// pipeline is the Querier of inline work: a connection whose BEGIN and claim are
// sent with the first statement.
type pipeline struct {
	conn  *pgx.Conn
	claim []any
	sent  bool // BEGIN and the claim have been sent
	taken bool // the claim failed: the key exists
}

var _ Querier = (*pipeline)(nil)

// queueClaim adds BEGIN and the claim to b, once.
func (p *pipeline) queueClaim(b *pgx.Batch) {
	if p.sent {
		return
	}
	p.sent = true
	b.Queue("begin")
	b.Queue(inlineClaimSQL, p.claim...).Exec(func(pgconn.CommandTag) error { return nil })
}

// send runs b and notes a failed claim.
func (p *pipeline) send(ctx context.Context, b *pgx.Batch) error {
	err := p.conn.SendBatch(ctx, b).Close()
	p.noteClaim(err)
	return err
}

func (p *pipeline) noteClaim(err error) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "idempotency_keys_pkey" {
		p.taken = true
	}
}

// failed is what the work sees when its statement was skipped.
func (p *pipeline) failed(err error) error {
	if p.taken {
		return errKeyTaken
	}
	return err
}

func (p *pipeline) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if p.sent {
		return p.conn.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	p.queueClaim(b)
	var tag pgconn.CommandTag
	b.Queue(sql, args...).Exec(func(t pgconn.CommandTag) error { tag = t; return nil })
	if err := p.send(ctx, b); err != nil {
		return pgconn.CommandTag{}, p.failed(err)
	}
	return tag, nil
}

func (p *pipeline) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if !p.sent {
		b := &pgx.Batch{}
		p.queueClaim(b)
		if err := p.send(ctx, b); err != nil {
			return nil, p.failed(err)
		}
	}
	return p.conn.Query(ctx, sql, args...)
}

func (p *pipeline) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if p.sent {
		return p.conn.QueryRow(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	p.queueClaim(b)
	b.Queue(sql, args...)
	br := p.conn.SendBatch(ctx, b)
	// BEGIN and the claim answer first; the work's row follows on the wire.
	for range 2 {
		if _, err := br.Exec(); err != nil {
			p.noteClaim(err)
			_ = br.Close()
			return errRow{p.failed(err)}
		}
	}
	return &batchRow{row: br.QueryRow(), br: br}
}

// batchRow is the work's row in the first batch; scanning it ends the batch.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r *batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// rollback ends the transaction if one is open; a connection it cannot clean is
// closed by the pool on release.
func (p *pipeline) rollback(ctx context.Context) {
	if !p.sent || p.conn.PgConn().TxStatus() == 'I' {
		return
	}
	_, _ = p.conn.Exec(context.WithoutCancel(ctx), "rollback")
}
