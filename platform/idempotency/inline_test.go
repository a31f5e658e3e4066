package idempotency_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/idempotency"
)

// transferWork inserts one business row named after the operation, in the
// transaction that stores its response, with its first statement pipelined
// behind the claim.
func transferWork(amount int64) idempotency.InlineWork {
	return func(ctx context.Context, q idempotency.Querier, l *idempotency.Lease) (idempotency.Response, error) {
		var id string
		if err := q.QueryRow(ctx, `INSERT INTO transfers (id, amount) VALUES ($1, $2) RETURNING id`, l.OperationID, amount).Scan(&id); err != nil {
			return idempotency.Response{}, err
		}
		return idempotency.Response{Code: 201, Body: []byte("transfer " + id)}, nil
	}
}

func (f fixture) transfers(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM transfers`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInlineRunsOnceAndReplaysIdenticalBytes(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	first, err := f.store.DoInline(ctx, web, "k", reqA, transferWork(100))
	if err != nil || first.Replayed || first.Code != 201 || !bytes.HasPrefix(first.Body, []byte("transfer ")) {
		t.Fatalf("first = %d %q replayed %v, %v", first.Code, first.Body, first.Replayed, err)
	}
	for range 3 {
		again, err := f.store.DoInline(ctx, web, "k", reqA, transferWork(100))
		if err != nil || !again.Replayed || again.Code != first.Code || !bytes.Equal(again.Body, first.Body) {
			t.Fatalf("retry = %d %q replayed %v, %v; want %q replayed", again.Code, again.Body, again.Replayed, err, first.Body)
		}
	}
	// The key is the platform's usual key: Begin replays it too.
	f.mustReplay(t, web, "k", reqA, idempotency.Response{Code: 201, Body: first.Body})
	if n := f.transfers(t); n != 1 {
		t.Fatalf("%d transfers for one key, want 1", n)
	}
	// Another caller's key of the same name is another key.
	other := idempotency.Scope{Caller: "bff-partner", Subject: "customer-1"}
	if r, err := f.store.DoInline(ctx, other, "k", reqA, transferWork(100)); err != nil || r.Replayed {
		t.Fatalf("other caller = %q replayed %v, %v", r.Body, r.Replayed, err)
	}
	if n := f.transfers(t); n != 2 {
		t.Fatalf("%d transfers for two callers, want 2", n)
	}
}

func TestInlineRefusesMismatchAndAnswersInProgress(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := f.store.DoInline(ctx, web, "done", reqA, transferWork(100)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.DoInline(ctx, web, "done", reqB, transferWork(999)); !errors.Is(err, idempotency.ErrMismatch) {
		t.Fatalf("same key, other request: err = %v, want ErrMismatch", err)
	}

	// A key claimed by Begin is visibly in flight.
	lease := f.mustLease(t, web, "flight", reqA)
	_, err := f.store.DoInline(ctx, web, "flight", reqA, transferWork(100))
	if !errors.Is(err, idempotency.ErrInProgress) {
		t.Fatalf("in flight: err = %v, want ErrInProgress", err)
	}
	if d, ok := idempotency.RetryAfter(err); !ok || d != 2*time.Second {
		t.Fatalf("RetryAfter = %v %v, want 2s", d, ok)
	}
	if _, err := f.store.DoInline(ctx, web, "flight", reqB, transferWork(100)); !errors.Is(err, idempotency.ErrMismatch) {
		t.Fatalf("in flight, other request: err = %v, want ErrMismatch", err)
	}
	if n := f.transfers(t); n != 1 {
		t.Fatalf("%d transfers, want 1: refused requests must leave nothing", n)
	}
	f.complete(t, lease, respA)
	r, err := f.store.DoInline(ctx, web, "flight", reqA, transferWork(100))
	if err != nil || !r.Replayed || !bytes.Equal(r.Body, respA.Body) {
		t.Fatalf("after completion = %q replayed %v, %v", r.Body, r.Replayed, err)
	}
}

// TestInlineConcurrentSameKeyRunsOnce sends one key from 20 goroutines at once:
// one transaction commits the work with its answer, every other request waits
// for it on the key and replays it.
func TestInlineConcurrentSameKeyRunsOnce(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	const n = 20
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]idempotency.Response, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = f.store.DoInline(ctx, web, "same-key", reqA, transferWork(100))
			// A key in flight elsewhere is answered busy; a client retries.
			for errors.Is(errs[i], idempotency.ErrInProgress) {
				time.Sleep(5 * time.Millisecond)
				results[i], errs[i] = f.store.DoInline(ctx, web, "same-key", reqA, transferWork(100))
			}
		})
	}
	close(start)
	wg.Wait()
	fresh := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if !bytes.Equal(results[i].Body, results[0].Body) || len(results[i].Body) == 0 {
			t.Fatalf("response %d = %q, want %q", i, results[i].Body, results[0].Body)
		}
		if !results[i].Replayed {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d answers were not replays, want exactly 1", fresh)
	}
	if got := f.transfers(t); got != 1 {
		t.Fatalf("%d transfers for one key, want 1", got)
	}
}

func TestInlineFailedWorkLeavesNothingAndUnknownOutcomesPark(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	failing := func(ctx context.Context, q idempotency.Querier, l *idempotency.Lease) (idempotency.Response, error) {
		if _, err := q.Exec(ctx, `INSERT INTO transfers (id, amount) VALUES ($1, 1)`, l.OperationID); err != nil {
			return idempotency.Response{}, err
		}
		return idempotency.Response{}, errors.New("core banking unavailable")
	}
	if _, err := f.store.DoInline(ctx, web, "k", reqA, failing); err == nil {
		t.Fatal("DoInline: want the work's error")
	}
	if n := f.transfers(t); n != 0 {
		t.Fatalf("%d transfers after failed work, want 0", n)
	}
	// Nothing was kept: the retry runs afresh.
	if r, err := f.store.DoInline(ctx, web, "k", reqA, transferWork(100)); err != nil || r.Replayed {
		t.Fatalf("retry = %q replayed %v, %v", r.Body, r.Replayed, err)
	}

	// A statement that fails inside the transaction is the work's error, too.
	broken := func(ctx context.Context, q idempotency.Querier, _ *idempotency.Lease) (idempotency.Response, error) {
		var x int
		err := q.QueryRow(ctx, `SELECT 1 / 0`).Scan(&x)
		return idempotency.Response{Code: x}, err
	}
	if _, err := f.store.DoInline(ctx, web, "division", reqA, broken); err == nil {
		t.Fatal("DoInline: want the statement's error")
	}
	if r, err := f.store.DoInline(ctx, web, "division", reqA, transferWork(7)); err != nil || r.Replayed {
		t.Fatalf("after a failed statement = %q replayed %v, %v", r.Body, r.Replayed, err)
	}

	var opID string
	_, err := f.store.DoInline(ctx, web, "timeout", reqA, func(ctx context.Context, q idempotency.Querier, l *idempotency.Lease) (idempotency.Response, error) {
		opID = l.OperationID
		if _, err := q.Exec(ctx, `INSERT INTO transfers (id, amount) VALUES ($1, 1)`, l.OperationID); err != nil {
			return idempotency.Response{}, err
		}
		return idempotency.Response{}, fmt.Errorf("downstream: deadline exceeded: %w", idempotency.ErrOutcomeUnknown)
	})
	if !errors.Is(err, idempotency.ErrOutcomeUnknown) {
		t.Fatalf("DoInline: err = %v, want ErrOutcomeUnknown", err)
	}
	if _, err := f.begin(t, web, "timeout", reqA); !errors.Is(err, idempotency.ErrPendingOutcome) {
		t.Fatalf("after an unknown outcome: err = %v, want ErrPendingOutcome", err)
	}
	claimed, err := f.store.ClaimPending(ctx, 10)
	if err != nil || len(claimed) != 1 || claimed[0].OperationID != opID {
		t.Fatalf("ClaimPending = %+v, %v; want the operation %s the work passed on", claimed, err, opID)
	}
}

func TestInlineWorkWithoutStatementsOrStartingWithAQuery(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	// A refusal decided without the database is stored in the one round trip.
	refuse := func(context.Context, idempotency.Querier, *idempotency.Lease) (idempotency.Response, error) {
		return refusal, nil
	}
	if r, err := f.store.DoInline(ctx, web, "refused", reqA, refuse); err != nil || r.Code != refusal.Code || r.Replayed {
		t.Fatalf("refusal = %d %q replayed %v, %v", r.Code, r.Body, r.Replayed, err)
	}
	f.mustReplay(t, web, "refused", reqA, refusal)
	if _, err := f.store.DoInline(ctx, web, "refused", reqB, refuse); !errors.Is(err, idempotency.ErrMismatch) {
		t.Fatalf("refused key, other request: err = %v, want ErrMismatch", err)
	}

	query := func(ctx context.Context, q idempotency.Querier, l *idempotency.Lease) (idempotency.Response, error) {
		rows, err := q.Query(ctx, `INSERT INTO transfers (id, amount) VALUES ($1, 5), ($1 || '-b', 6) RETURNING amount`, l.OperationID)
		if err != nil {
			return idempotency.Response{}, err
		}
		defer rows.Close()
		var sum int64
		for rows.Next() {
			var a int64
			if err := rows.Scan(&a); err != nil {
				return idempotency.Response{}, err
			}
			sum += a
		}
		return idempotency.Response{Code: 201, Body: []byte(fmt.Sprint(sum))}, rows.Err()
	}
	if r, err := f.store.DoInline(ctx, web, "query", reqA, query); err != nil || string(r.Body) != "11" {
		t.Fatalf("query work = %q, %v", r.Body, err)
	}
	if r, err := f.store.DoInline(ctx, web, "query", reqA, query); err != nil || !r.Replayed || string(r.Body) != "11" {
		t.Fatalf("query work replay = %q replayed %v, %v", r.Body, r.Replayed, err)
	}
	if n := f.transfers(t); n != 2 {
		t.Fatalf("%d transfers, want 2", n)
	}
}

func TestInlineExpiredKeyStartsANewLife(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	first, err := f.store.DoInline(ctx, web, "k", reqA, transferWork(100))
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(24*time.Hour - time.Second)
	if _, err := f.store.DoInline(ctx, web, "k", reqB, transferWork(999)); !errors.Is(err, idempotency.ErrMismatch) {
		t.Fatalf("before expiry: err = %v, want ErrMismatch", err)
	}
	f.clock.Advance(time.Second)
	second, err := f.store.DoInline(ctx, web, "k", reqB, transferWork(999))
	if err != nil || second.Replayed || bytes.Equal(second.Body, first.Body) {
		t.Fatalf("after expiry = %q replayed %v, %v; want a new operation", second.Body, second.Replayed, err)
	}
	if n := f.transfers(t); n != 2 {
		t.Fatalf("%d transfers, want 2", n)
	}
	if _, err := f.store.DoInline(ctx, idempotency.Scope{}, "k", reqA, transferWork(1)); !errors.Is(err, idempotency.ErrInvalidKey) {
		t.Fatalf("no caller: err = %v, want ErrInvalidKey", err)
	}
}
