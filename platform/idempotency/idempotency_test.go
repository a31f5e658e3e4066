package idempotency_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
)

// databaseURL is the package's database, made by TestMain; each test works in a
// schema of its own there, which is cheaper than a database per test.
var databaseURL string

func TestMain(m *testing.M) { os.Exit(testenv.MainWithDatabase(m, "idempotency", &databaseURL)) }

// testSchema plays the owning service's schema, one per test.
func testSchema(t *testing.T) string {
	return "controller_" + strings.ToLower(strings.TrimPrefix(t.Name(), "Test"))
}

// clock is a settable clock: expiry and stale leases are tested by moving it, never
// by sleeping.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type fixture struct {
	store *idempotency.Store
	pool  *pgxpool.Pool
	clock *clock
}

func setup(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	schema := testSchema(t)
	pool, err := postgres.Open(ctx, postgres.Config{URL: databaseURL, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := postgres.Migrate(ctx, pool, schema, idempotency.Migrations()); err != nil {
		t.Fatal(err)
	}
	// A business table, so tests can check that work commits with its response.
	if _, err := pool.Exec(ctx, `CREATE TABLE transfers (id text PRIMARY KEY, amount bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	store := idempotency.New(pool, idempotency.Options{
		TTL:          24 * time.Hour,
		LeaseTimeout: time.Minute,
		RetryAfter:   2 * time.Second,
		Now:          c.Now,
	})
	return fixture{store: store, pool: pool, clock: c}
}

var (
	web     = idempotency.Scope{Caller: "bff-web", Subject: "customer-1"}
	reqA    = []byte("\x0a\x05transfer-100-PEN\x00\xff")
	reqB    = []byte("\x0a\x05transfer-999-PEN")
	respA   = idempotency.Response{Code: 0, Body: []byte("\x08\x01\x12\x04op-1\x00\x00\xfe")}
	refusal = idempotency.Response{Code: 9, Body: []byte("INSUFFICIENT_FUNDS")}
)

func (f fixture) begin(t *testing.T, scope idempotency.Scope, key string, req []byte) (idempotency.Outcome, error) {
	t.Helper()
	return f.store.Begin(context.Background(), scope, key, idempotency.FingerprintOf(req))
}

func (f fixture) mustLease(t *testing.T, scope idempotency.Scope, key string, req []byte) *idempotency.Lease {
	t.Helper()
	out, err := f.begin(t, scope, key, req)
	if err != nil {
		t.Fatalf("Begin(%s): %v", key, err)
	}
	if out.Lease == nil {
		t.Fatalf("Begin(%s): want a lease, got a replay", key)
	}
	return out.Lease
}

func (f fixture) complete(t *testing.T, lease *idempotency.Lease, resp idempotency.Response) {
	t.Helper()
	err := postgres.InTx(context.Background(), f.pool, func(tx pgx.Tx) error {
		return f.store.Complete(context.Background(), tx, lease, resp)
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
}

func (f fixture) mustReplay(t *testing.T, scope idempotency.Scope, key string, req []byte, want idempotency.Response) {
	t.Helper()
	out, err := f.begin(t, scope, key, req)
	if err != nil {
		t.Fatalf("Begin(%s) replay: %v", key, err)
	}
	if out.Replay == nil {
		t.Fatalf("Begin(%s): want a replay, got a lease", key)
	}
	if out.Replay.Code != want.Code || !bytes.Equal(out.Replay.Body, want.Body) || !out.Replay.Replayed {
		t.Fatalf("replay = %d %q (replayed %v), want %d %q", out.Replay.Code, out.Replay.Body, out.Replay.Replayed, want.Code, want.Body)
	}
}

func TestReplayReturnsIdenticalBytes(t *testing.T) {
	f := setup(t)
	for _, resp := range []idempotency.Response{respA, refusal, {Code: 0, Body: []byte{}}} {
		key := fmt.Sprintf("key-%d-%d", resp.Code, len(resp.Body))
		lease := f.mustLease(t, web, key, reqA)
		if lease.OperationID == "" || lease.Recovered {
			t.Fatalf("fresh lease = %+v", lease)
		}
		f.complete(t, lease, resp)
		for range 3 {
			f.mustReplay(t, web, key, reqA, resp)
		}
	}
}

func TestMismatchIsRefused(t *testing.T) {
	f := setup(t)
	// While in flight, and after completion: a different request never runs.
	lease := f.mustLease(t, web, "k", reqA)
	if _, err := f.begin(t, web, "k", reqB); !errors.Is(err, idempotency.ErrMismatch) {
		t.Fatalf("in flight, different request: err = %v, want ErrMismatch", err)
	}
	f.complete(t, lease, respA)
	if _, err := f.begin(t, web, "k", reqB); !errors.Is(err, idempotency.ErrMismatch) {
		t.Fatalf("done, different request: err = %v, want ErrMismatch", err)
	}
	f.mustReplay(t, web, "k", reqA, respA)
}

func TestKeyInFlightAnswersInProgress(t *testing.T) {
	f := setup(t)
	f.mustLease(t, web, "k", reqA)
	_, err := f.begin(t, web, "k", reqA)
	if !errors.Is(err, idempotency.ErrInProgress) || errors.Is(err, idempotency.ErrPendingOutcome) {
		t.Fatalf("err = %v, want ErrInProgress", err)
	}
	if d, ok := idempotency.RetryAfter(err); !ok || d != 2*time.Second {
		t.Fatalf("RetryAfter = %v %v, want 2s", d, ok)
	}
}

// TestConcurrentSameKeyRunsOnce sends one key from 20 goroutines at once. The one
// that wins holds its work open until the other 19 have been answered, so all of
// them meet the key in flight; then each retries and gets the winner's bytes.
func TestConcurrentSameKeyRunsOnce(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	const n = 20
	var (
		runs     atomic.Int32
		losers   sync.WaitGroup
		start    = make(chan struct{})
		results  = make([]idempotency.Response, n)
		firstErr = make([]error, n)
		wg       sync.WaitGroup
	)
	losers.Add(n - 1)
	work := func(ctx context.Context, tx pgx.Tx, lease *idempotency.Lease) (idempotency.Response, error) {
		runs.Add(1)
		if _, err := tx.Exec(ctx, `INSERT INTO transfers (id, amount) VALUES ($1, 100)`, lease.OperationID); err != nil {
			return idempotency.Response{}, err
		}
		done := make(chan struct{})
		go func() { losers.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			return idempotency.Response{}, errors.New("the other requests were never answered")
		}
		return idempotency.Response{Code: 0, Body: []byte("transfer " + lease.OperationID)}, nil
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := f.store.Do(ctx, web, "same-key", reqA, work)
			if err != nil {
				firstErr[i] = err
				losers.Done()
				// Retry as a client would, after the advised wait (here: until the
				// winner is done, without sleeping a fixed time).
				for errors.Is(err, idempotency.ErrInProgress) {
					time.Sleep(5 * time.Millisecond)
					resp, err = f.store.Do(ctx, web, "same-key", reqA, work)
				}
			}
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			}
			results[i] = resp
		}()
	}
	close(start)
	wg.Wait()

	if got := runs.Load(); got != 1 {
		t.Fatalf("work ran %d times, want 1", got)
	}
	inProgress := 0
	for _, err := range firstErr {
		if errors.Is(err, idempotency.ErrInProgress) {
			inProgress++
		}
	}
	if inProgress != n-1 {
		t.Fatalf("%d requests met the key in flight, want %d", inProgress, n-1)
	}
	replayed := 0
	for i, r := range results {
		if !bytes.Equal(r.Body, results[0].Body) || len(r.Body) == 0 {
			t.Fatalf("response %d = %q, want %q", i, r.Body, results[0].Body)
		}
		if r.Replayed {
			replayed++
		}
	}
	if replayed != n-1 {
		t.Fatalf("%d responses replayed, want %d", replayed, n-1)
	}
	var count int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM transfers`).Scan(&count); err != nil || count != 1 {
		t.Fatalf("transfers = %d (%v), want 1", count, err)
	}
}

func TestKeysOfTwoCallersNeverCollide(t *testing.T) {
	f := setup(t)
	scopes := []idempotency.Scope{
		{Caller: "bff-web", Subject: "customer-1"},
		{Caller: "bff-partner", Subject: "customer-1"},
		{Caller: "bff-web", Subject: "customer-2"},
		{Caller: "bff-web", Subject: ""},
		// Would collide if scope parts were joined into one string.
		{Caller: "a:b", Subject: "c"},
		{Caller: "a", Subject: "b:c"},
	}
	for i, s := range scopes {
		req := []byte(fmt.Sprintf("request of %d", i))
		lease := f.mustLease(t, s, "shared-key", req)
		f.complete(t, lease, idempotency.Response{Code: i, Body: []byte(fmt.Sprintf("response of %d", i))})
	}
	for i, s := range scopes {
		f.mustReplay(t, s, "shared-key", []byte(fmt.Sprintf("request of %d", i)),
			idempotency.Response{Code: i, Body: []byte(fmt.Sprintf("response of %d", i))})
	}
}

func TestKeysExpire(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	first := f.mustLease(t, web, "k", reqA)
	f.complete(t, first, respA)

	f.clock.Advance(24*time.Hour - time.Second)
	f.mustReplay(t, web, "k", reqA, respA)
	if n, err := f.store.Purge(ctx, 100); err != nil || n != 0 {
		t.Fatalf("Purge before expiry = %d, %v; want 0", n, err)
	}

	f.clock.Advance(time.Second)
	// Expired: the key starts a new life, even for another request.
	second := f.mustLease(t, web, "k", reqB)
	if second.OperationID == first.OperationID || second.Recovered {
		t.Fatalf("after expiry: lease %+v, want a new operation", second)
	}
	f.complete(t, second, refusal)
	f.mustReplay(t, web, "k", reqB, refusal)

	f.clock.Advance(25 * time.Hour)
	if n, err := f.store.Purge(ctx, 100); err != nil || n != 1 {
		t.Fatalf("Purge after expiry = %d, %v; want 1", n, err)
	}
}

func TestStaleLeaseIsRecovered(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	crashed := f.mustLease(t, web, "k", reqA)

	f.clock.Advance(59 * time.Second)
	if _, err := f.begin(t, web, "k", reqA); !errors.Is(err, idempotency.ErrInProgress) {
		t.Fatalf("before the lease timeout: err = %v, want ErrInProgress", err)
	}
	f.clock.Advance(time.Second)
	if _, err := f.begin(t, web, "k", reqB); !errors.Is(err, idempotency.ErrMismatch) {
		t.Fatalf("stale lease, other request: err = %v, want ErrMismatch", err)
	}
	taken := f.mustLease(t, web, "k", reqA)
	if !taken.Recovered || taken.OperationID != crashed.OperationID {
		t.Fatalf("takeover = %+v, want Recovered with operation %s", taken, crashed.OperationID)
	}
	// The old holder wakes up: it must not commit.
	err := postgres.InTx(ctx, f.pool, func(tx pgx.Tx) error {
		return f.store.Complete(ctx, tx, crashed, respA)
	})
	if !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Fatalf("old holder's Complete: err = %v, want ErrLeaseLost", err)
	}
	f.complete(t, taken, respA)
	f.mustReplay(t, web, "k", reqA, respA)
}

func TestPendingOutcomeWaitsForTheReconciler(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	lease := f.mustLease(t, web, "k", reqA)
	if err := f.store.MarkPending(ctx, f.pool, lease); err != nil {
		t.Fatal(err)
	}
	// Neither time nor a stale lease frees a key whose outcome is unknown.
	f.clock.Advance(48 * time.Hour)
	_, err := f.begin(t, web, "k", reqA)
	if !errors.Is(err, idempotency.ErrPendingOutcome) || !errors.Is(err, idempotency.ErrInProgress) {
		t.Fatalf("pending: err = %v, want ErrPendingOutcome", err)
	}
	if n, err := f.store.Purge(ctx, 100); err != nil || n != 0 {
		t.Fatalf("Purge = %d, %v; want the pending key kept", n, err)
	}

	claimed, err := f.store.ClaimPending(ctx, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimPending = %v, %v; want one", claimed, err)
	}
	c := claimed[0]
	if c.OperationID != lease.OperationID || !c.Recovered || c.Scope != web || c.Key != "k" {
		t.Fatalf("claimed %+v, want operation %s of %v", c, lease.OperationID, web)
	}
	if again, err := f.store.ClaimPending(ctx, 10); err != nil || len(again) != 0 {
		t.Fatalf("second ClaimPending = %v, %v; want none while claimed", again, err)
	}
	// The reconciler asked the downstream with the operation id: it did happen.
	f.complete(t, c, respA)
	f.mustReplay(t, web, "k", reqA, respA)
}

func TestDoReleasesFailedWorkAndParksUnknownOutcomes(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	var runs atomic.Int32
	failing := func(ctx context.Context, tx pgx.Tx, l *idempotency.Lease) (idempotency.Response, error) {
		runs.Add(1)
		if _, err := tx.Exec(ctx, `INSERT INTO transfers (id, amount) VALUES ($1, 1)`, l.OperationID); err != nil {
			return idempotency.Response{}, err
		}
		return idempotency.Response{}, errors.New("core banking unavailable")
	}
	if _, err := f.store.Do(ctx, web, "k", reqA, failing); err == nil {
		t.Fatal("Do: want the work's error")
	}
	// Released: the retry runs the work again, and the failed attempt left nothing.
	resp, err := f.store.Do(ctx, web, "k", reqA, func(ctx context.Context, tx pgx.Tx, l *idempotency.Lease) (idempotency.Response, error) {
		runs.Add(1)
		return respA, nil
	})
	if err != nil || !bytes.Equal(resp.Body, respA.Body) || resp.Replayed {
		t.Fatalf("retry = %q %v, %v", resp.Body, resp.Replayed, err)
	}
	if runs.Load() != 2 {
		t.Fatalf("work ran %d times, want 2", runs.Load())
	}
	var count int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM transfers`).Scan(&count); err != nil || count != 0 {
		t.Fatalf("transfers = %d (%v), want 0: the failed work rolled back", count, err)
	}

	_, err = f.store.Do(ctx, web, "timeout", reqA, func(context.Context, pgx.Tx, *idempotency.Lease) (idempotency.Response, error) {
		return idempotency.Response{}, fmt.Errorf("core call: deadline exceeded: %w", idempotency.ErrOutcomeUnknown)
	})
	if !errors.Is(err, idempotency.ErrOutcomeUnknown) {
		t.Fatalf("Do: err = %v, want ErrOutcomeUnknown", err)
	}
	if _, err := f.begin(t, web, "timeout", reqA); !errors.Is(err, idempotency.ErrPendingOutcome) {
		t.Fatalf("after an unknown outcome: err = %v, want ErrPendingOutcome", err)
	}
}

func TestInvalidKeys(t *testing.T) {
	f := setup(t)
	long := string(bytes.Repeat([]byte("k"), idempotency.MaxKeyLen+1))
	for _, tc := range []struct {
		scope idempotency.Scope
		key   string
	}{
		{web, ""},
		{web, long},
		{idempotency.Scope{Subject: "customer-1"}, "k"},
	} {
		if _, err := f.begin(t, tc.scope, tc.key, reqA); !errors.Is(err, idempotency.ErrInvalidKey) {
			t.Errorf("Begin(%+v, %.10q): err = %v, want ErrInvalidKey", tc.scope, tc.key, err)
		}
	}
}
