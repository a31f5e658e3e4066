package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/idempotency"
	platformpg "github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
	controllerpg "github.com/andes-bank/andes/services/controller/adapters/postgres"
	"github.com/andes-bank/andes/services/controller/app"
	"github.com/andes-bank/andes/services/controller/domain"
)

// databaseURL is the package's database, made by TestMain; each test migrates a
// schema of its own there, as the composition root migrates the process's schema.
var databaseURL string

func TestMain(m *testing.M) { os.Exit(testenv.MainWithDatabase(m, "controller_store", &databaseURL)) }

// t0 is 10:00 in Lima: business date 2026-11-22.
var t0 = time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)

const (
	leaseTimeout = time.Minute
	retryAfter   = 2 * time.Second
	caller       = "bff-mobile"
)

type fixture struct {
	store *controllerpg.Store
	pool  *pgxpool.Pool
	clock *testenv.Clock
}

func setup(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	schema := testenv.Prefix("controller")
	pool, err := platformpg.Open(ctx, platformpg.Config{URL: databaseURL, Schema: schema, MaxConns: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := controllerpg.Migrate(ctx, pool, schema); err != nil {
		t.Fatal(err)
	}
	c := testenv.NewClock(t0)
	store := controllerpg.New(pool, idempotency.Options{LeaseTimeout: leaseTimeout, RetryAfter: retryAfter, Now: c.Now})
	return fixture{store: store, pool: pool, clock: c}
}

func newID() string { return uuid.NewString() }

func pen(minor int64) domain.Money { return domain.Money{Minor: minor, Currency: "PEN"} }

// lease claims key for subject's request, failing the test otherwise.
func (f fixture) lease(t *testing.T, subject, key, request string) *app.Lease {
	t.Helper()
	b, err := f.store.Begin(context.Background(), caller, subject, key, []byte(request))
	if err != nil {
		t.Fatalf("Begin(%s): %v", key, err)
	}
	if b.Lease == nil {
		t.Fatalf("Begin(%s): a replay, want a lease", key)
	}
	return b.Lease
}

// replay begins key again and returns the stored response it must replay.
func (f fixture) replay(t *testing.T, subject, key, request string) app.Stored {
	t.Helper()
	b, err := f.store.Begin(context.Background(), caller, subject, key, []byte(request))
	if err != nil {
		t.Fatalf("Begin(%s) again: %v", key, err)
	}
	if b.Replay == nil {
		t.Fatalf("Begin(%s) again: a lease, want the stored response", key)
	}
	return *b.Replay
}

// transfer is a transfer to another customer's account, counted toward the
// daily limit, as the app builds it.
func transfer(id, customer string, amount domain.Money, at time.Time) *domain.Operation {
	return &domain.Operation{
		ID: id, Type: domain.TypeTransfer, Status: domain.StatusPending, CustomerID: customer, Amount: amount,
		Channel: domain.ChannelMobile, ClientID: "andes-mobile", Description: "rent",
		SourceAccountID: "a-" + customer, SourceAccountNumber: "19100000000101", DestinationAccountNumber: "19100000000202",
		MaskedBeneficiaryName: "Ana P***", CountsTowardLimit: true, BusinessDate: domain.BusinessDate(at), CreatedAt: at,
	}
}

func (f fixture) accept(t *testing.T, op *domain.Operation, limit domain.Money) {
	t.Helper()
	if _, err := f.store.Accept(context.Background(), op, limit); err != nil {
		t.Fatalf("Accept(%s): %v", op.ID, err)
	}
}

func (f fixture) used(t *testing.T, customer, currency, date string) int64 {
	t.Helper()
	n, err := f.store.DailyUsed(context.Background(), customer, currency, date)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pay records a completed transfer of customer to account, resolved at at.
func (f fixture) pay(t *testing.T, customer, account, masked string, at time.Time) {
	t.Helper()
	l := f.lease(t, customer, newID(), "pay")
	op := transfer(l.OperationID, customer, pen(100), at)
	op.DestinationAccountNumber, op.MaskedBeneficiaryName, op.CountsTowardLimit = account, masked, false
	f.accept(t, op, pen(0))
	op.Status, op.ResolvedAt, op.CoreTransactionID = domain.StatusCompleted, at, "core-"+op.ID
	if err := f.store.Resolve(context.Background(), l, op, app.Stored{Body: []byte("ok")}, nil); err != nil {
		t.Fatal(err)
	}
}

type outboxRow struct {
	ID, Type, Subject string
	Payload           []byte
	OccurredAt        time.Time
}

func (f fixture) outbox(t *testing.T) []outboxRow {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), `SELECT id, event_type, subject, payload, occurred_at FROM outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.ID, &r.Type, &r.Subject, &r.Payload, &r.OccurredAt); err != nil {
			t.Fatal(err)
		}
		r.OccurredAt = r.OccurredAt.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f fixture) status(t *testing.T, id string) domain.Status {
	t.Helper()
	op, err := f.store.Operation(context.Background(), id)
	if err != nil {
		t.Fatalf("Operation(%s): %v", id, err)
	}
	return op.Status
}

func TestBeginClaimsAKeyForOneRequestOfOneCaller(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	l := f.lease(t, "alice", "k1", "transfer 100")
	if l.Recovered {
		t.Error("a fresh key is marked recovered")
	}
	if _, err := uuid.Parse(l.OperationID); err != nil {
		t.Errorf("operation id %q: %v", l.OperationID, err)
	}

	_, err := f.store.Begin(ctx, caller, "alice", "k1", []byte("transfer 100"))
	var busy *app.RetryAfterError
	if !errors.Is(err, domain.ErrInProgress) || !errors.As(err, &busy) || busy.RetryAfter != retryAfter {
		t.Errorf("the same request while in progress: %v, want ErrInProgress after %v", err, retryAfter)
	}
	if _, err := f.store.Begin(ctx, caller, "alice", "k1", []byte("transfer 999")); !errors.Is(err, domain.ErrMismatch) {
		t.Errorf("another request with the key: %v, want ErrMismatch", err)
	}
	for _, other := range []struct{ caller, subject string }{{caller, "bob"}, {"bff-web", "alice"}} {
		b, err := f.store.Begin(ctx, other.caller, other.subject, "k1", []byte("transfer 100"))
		if err != nil || b.Lease == nil || b.Lease.OperationID == l.OperationID {
			t.Errorf("key k1 of %v: %+v, %v; want its own lease", other, b, err)
		}
	}
	for _, key := range []string{"", strings.Repeat("k", idempotency.MaxKeyLen+1)} {
		_, err := f.store.Begin(ctx, caller, "alice", key, []byte("transfer 100"))
		var invalid *domain.InvalidError
		if !errors.As(err, &invalid) || invalid.Field != "idempotency_key" {
			t.Errorf("key of %d bytes: %v, want an invalid idempotency_key", len(key), err)
		}
	}

	resp := app.Stored{Code: 0, Body: []byte("\x0a\x24op\x00\xff")}
	if err := f.store.Store(ctx, l, resp); err != nil {
		t.Fatal(err)
	}
	if got := f.replay(t, "alice", "k1", "transfer 100"); got.Code != resp.Code || !bytes.Equal(got.Body, resp.Body) {
		t.Errorf("replay %+v, want %+v", got, resp)
	}
	if _, err := f.store.Begin(ctx, caller, "alice", "k1", []byte("transfer 999")); !errors.Is(err, domain.ErrMismatch) {
		t.Errorf("another request with a completed key: %v, want ErrMismatch", err)
	}
}

func TestReleaseLetsTheKeyRunAfresh(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	first := f.lease(t, "alice", "k1", "transfer 100")
	if err := f.store.Release(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := f.lease(t, "alice", "k1", "transfer 100")
	if again.Recovered || again.OperationID == first.OperationID {
		t.Errorf("after release: %+v, want a fresh lease with a new operation id", again)
	}
	if err := f.store.Release(ctx, first); err == nil {
		t.Error("a released lease was released twice")
	}
}

func TestStaleLeaseIsTakenOverWithItsOperationID(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	dead := f.lease(t, "alice", "k1", "transfer 100")
	f.clock.Advance(leaseTimeout - time.Second)
	if _, err := f.store.Begin(ctx, caller, "alice", "k1", []byte("transfer 100")); !errors.Is(err, domain.ErrInProgress) {
		t.Fatalf("before the lease timeout: %v, want ErrInProgress", err)
	}
	f.clock.Advance(time.Second)
	taken := f.lease(t, "alice", "k1", "transfer 100")
	if !taken.Recovered || taken.OperationID != dead.OperationID {
		t.Fatalf("takeover %+v, want recovered with operation id %s", taken, dead.OperationID)
	}
	if err := f.store.Store(ctx, dead, app.Stored{Body: []byte("late")}); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Errorf("the dead worker stored its response: %v", err)
	}
	if err := f.store.Store(ctx, taken, app.Stored{Body: []byte("mine")}); err != nil {
		t.Fatal(err)
	}
	if got := f.replay(t, "alice", "k1", "transfer 100"); string(got.Body) != "mine" {
		t.Errorf("replay %q, want the taker's", got.Body)
	}
}

func TestConcurrentBeginsOfOneKeyOneWins(t *testing.T) {
	f := setup(t)
	const n = 8
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		leases = make(chan *app.Lease, n)
		busy   = make(chan error, n)
	)
	for range n {
		wg.Go(func() {
			<-start
			b, err := f.store.Begin(context.Background(), caller, "alice", "k1", []byte("transfer 100"))
			if err != nil {
				busy <- err
				return
			}
			leases <- b.Lease
		})
	}
	close(start)
	wg.Wait()
	close(leases)
	close(busy)
	if len(leases) != 1 {
		t.Errorf("%d leases, want exactly 1", len(leases))
	}
	for err := range busy {
		if !errors.Is(err, domain.ErrInProgress) {
			t.Errorf("a loser got %v, want ErrInProgress", err)
		}
	}
}

func TestAcceptRecordsThePendingOperation(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	op := transfer(newID(), "alice", pen(600), t0)
	got, err := f.store.Accept(ctx, op, pen(1000))
	if err != nil || got != op {
		t.Fatalf("Accept: %v, %v", got, err)
	}
	read, err := f.store.Operation(ctx, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(read, op) {
		t.Errorf("read back\n%+v\nwant\n%+v", read, op)
	}
	if _, err := f.store.Operation(ctx, newID()); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("an unknown operation: %v, want ErrNotFound", err)
	}

	// A recovered lease whose operation was recorded gets the record back, and its
	// amount is not reserved twice.
	again := *op
	again.Amount, again.Description = pen(50), "changed"
	got, err = f.store.Accept(ctx, &again, pen(1000))
	if err != nil {
		t.Fatalf("Accept of a recorded operation: %v", err)
	}
	if !reflect.DeepEqual(got, op) {
		t.Errorf("Accept of a recorded operation answered\n%+v\nwant the record\n%+v", got, op)
	}
	if used := f.used(t, "alice", "PEN", "2026-11-22"); used != 600 {
		t.Errorf("used %d, want 600", used)
	}
}

func TestDailyLimitCountsPerCustomerCurrencyAndBusinessDay(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	lateOn21st := time.Date(2026, 11, 22, 4, 59, 59, 0, time.UTC) // 23:59:59 in Lima
	steps := []struct {
		name      string
		customer  string
		amount    domain.Money
		at        time.Time
		uncounted bool // an own transfer or a cash-in
		refused   bool
		remaining int64
		date      string // the business day whose use is then checked
		used      int64
	}{
		{name: "within the limit", customer: "alice", amount: pen(600), at: t0, date: "2026-11-22", used: 600},
		{name: "past what is left", customer: "alice", amount: pen(500), at: t0, refused: true, remaining: 400, date: "2026-11-22", used: 600},
		{name: "exactly what is left", customer: "alice", amount: pen(400), at: t0, date: "2026-11-22", used: 1000},
		{name: "one cent over a used-up day", customer: "alice", amount: pen(1), at: t0, refused: true, remaining: 0, date: "2026-11-22", used: 1000},
		{name: "uncounted operations pass", customer: "alice", amount: pen(5000), at: t0, uncounted: true, date: "2026-11-22", used: 1000},
		{name: "the previous Lima day is its own", customer: "alice", amount: pen(1000), at: lateOn21st, date: "2026-11-21", used: 1000},
		{name: "the next day starts afresh", customer: "alice", amount: pen(700), at: t0.Add(24 * time.Hour), date: "2026-11-23", used: 700},
		{name: "another currency is its own", customer: "alice", amount: domain.Money{Minor: 1000, Currency: "USD"}, at: t0, date: "2026-11-22", used: 1000},
		{name: "another customer is its own", customer: "bob", amount: pen(1000), at: t0, date: "2026-11-22", used: 1000},
		{name: "above the limit on a fresh day", customer: "carla", amount: pen(1001), at: t0, refused: true, remaining: 1000, date: "2026-11-22", used: 0},
	}
	for _, s := range steps {
		op := transfer(newID(), s.customer, s.amount, s.at)
		op.CountsTowardLimit = !s.uncounted
		limit := domain.Money{Minor: 1000, Currency: s.amount.Currency}
		_, err := f.store.Accept(ctx, op, limit)
		var dl *domain.DailyLimitError
		switch {
		case s.refused && !errors.As(err, &dl):
			t.Errorf("%s: %v, want a daily limit error", s.name, err)
		case s.refused && (dl.Remaining != domain.Money{Minor: s.remaining, Currency: s.amount.Currency} || dl.Limit != limit):
			t.Errorf("%s: %+v, want %d left of %v", s.name, dl, s.remaining, limit)
		case !s.refused && err != nil:
			t.Errorf("%s: %v", s.name, err)
		}
		if _, err := f.store.Operation(ctx, op.ID); s.refused != errors.Is(err, domain.ErrNotFound) {
			t.Errorf("%s: the operation's record: %v (refused %v)", s.name, err, s.refused)
		}
		if used := f.used(t, s.customer, s.amount.Currency, s.date); used != s.used {
			t.Errorf("%s: %s used %d %s on %s, want %d", s.name, s.customer, used, s.amount.Currency, s.date, s.used)
		}
	}
}

func TestConcurrentAcceptsNeverPassTheLimit(t *testing.T) {
	f := setup(t)
	const n = 10
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		errs     = make(chan error, n)
		accepted = make(chan string, n)
	)
	for range n {
		wg.Go(func() {
			<-start
			op := transfer(newID(), "alice", pen(300), t0)
			if _, err := f.store.Accept(context.Background(), op, pen(1000)); err != nil {
				errs <- err
				return
			}
			accepted <- op.ID
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	close(accepted)
	if len(accepted) != 3 {
		t.Errorf("%d of %d operations of 300 accepted under a limit of 1000, want 3", len(accepted), n)
	}
	for err := range errs {
		var dl *domain.DailyLimitError
		if !errors.As(err, &dl) || dl.Remaining.Minor != 100 {
			t.Errorf("a refused operation: %v, want a daily limit error with 100 left", err)
		}
	}
	if used := f.used(t, "alice", "PEN", "2026-11-22"); used != 900 {
		t.Errorf("used %d, want 900", used)
	}
	ops, _, err := f.store.Operations(context.Background(), "alice", 50, "")
	if err != nil || len(ops) != 3 {
		t.Errorf("recorded %d operations (%v), want 3", len(ops), err)
	}
}

// Every way an operation ends, and what it leaves: its record, its reservation
// and its key.
func TestEndingsGiveBackTheReservationOrKeepIt(t *testing.T) {
	f := setup(t)
	refusal := app.Stored{Code: 9, Body: []byte("INSUFFICIENT_FUNDS")}
	cases := []struct {
		name   string
		end    func(ctx context.Context, l *app.Lease, op *domain.Operation) error
		record domain.Status // "" when the operation is forgotten
		used   int64
		key    string // "replay", "fresh"
		reply  []byte
	}{
		{
			name: "refused",
			end: func(ctx context.Context, l *app.Lease, op *domain.Operation) error {
				return f.store.Refuse(ctx, l, op, refusal)
			},
			used:   0,
			key:    "replay",
			reply:  refusal.Body,
			record: "",
		},
		{
			name: "abandoned",
			end: func(ctx context.Context, l *app.Lease, op *domain.Operation) error {
				return f.store.Abandon(ctx, l, op)
			},
			used: 0,
			key:  "fresh",
		},
		{
			name: "failed",
			end: func(ctx context.Context, l *app.Lease, op *domain.Operation) error {
				op.Status, op.ResolvedAt, op.FailureReason = domain.StatusFailed, t0.Add(time.Minute), "ACCOUNT_BLOCKED"
				return f.store.Resolve(ctx, l, op, app.Stored{Body: []byte("failed")}, nil)
			},
			record: domain.StatusFailed,
			used:   0,
			key:    "replay",
			reply:  []byte("failed"),
		},
		{
			name: "completed",
			end: func(ctx context.Context, l *app.Lease, op *domain.Operation) error {
				op.Status, op.ResolvedAt, op.CoreTransactionID = domain.StatusCompleted, t0.Add(time.Minute), "core-1"
				return f.store.Resolve(ctx, l, op, app.Stored{Body: []byte("completed")}, nil)
			},
			record: domain.StatusCompleted,
			used:   400,
			key:    "replay",
			reply:  []byte("completed"),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			customer := "customer-" + c.name
			l := f.lease(t, customer, "k1", "transfer 400")
			op := transfer(l.OperationID, customer, pen(400), t0)
			f.accept(t, op, pen(1000))
			if used := f.used(t, customer, "PEN", "2026-11-22"); used != 400 {
				t.Fatalf("reserved %d, want 400", used)
			}
			if err := c.end(ctx, l, op); err != nil {
				t.Fatal(err)
			}
			if used := f.used(t, customer, "PEN", "2026-11-22"); used != c.used {
				t.Errorf("used %d after the end, want %d", used, c.used)
			}
			read, err := f.store.Operation(ctx, op.ID)
			switch {
			case c.record == "" && !errors.Is(err, domain.ErrNotFound):
				t.Errorf("the record: %+v, %v; want it forgotten", read, err)
			case c.record != "" && (err != nil || read.Status != c.record || !read.ResolvedAt.Equal(op.ResolvedAt) ||
				read.FailureReason != op.FailureReason || read.CoreTransactionID != op.CoreTransactionID):
				t.Errorf("the record: %+v, %v; want %s as resolved", read, err, c.record)
			}
			switch c.key {
			case "replay":
				if got := f.replay(t, customer, "k1", "transfer 400"); !bytes.Equal(got.Body, c.reply) {
					t.Errorf("replay %q, want %q", got.Body, c.reply)
				}
			case "fresh":
				if again := f.lease(t, customer, "k1", "transfer 400"); again.OperationID == l.OperationID {
					t.Error("the retry reuses the abandoned operation id")
				}
			}
		})
	}
}

func TestResolveWritesTheEventsTheBeneficiaryAndTheResponseTogether(t *testing.T) {
	ctx := context.Background()
	resolvedAt := t0.Add(90 * time.Second)
	cases := []struct {
		name        string
		op          func(id string) *domain.Operation
		beneficiary bool
	}{
		{"a transfer to another customer", func(id string) *domain.Operation { return transfer(id, "alice", pen(400), t0) }, true},
		{"a transfer between own accounts", func(id string) *domain.Operation {
			op := transfer(id, "alice", pen(400), t0)
			op.DestinationAccountID, op.CountsTowardLimit = "a-alice-2", false
			return op
		}, false},
		{"a cash-in", func(id string) *domain.Operation {
			op := transfer(id, "alice", pen(400), t0)
			op.Type, op.CountsTowardLimit, op.AgentPartnerID, op.AccountNumber = domain.TypeCashIn, false, "kallpa", "19100000000202"
			return op
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := setup(t)
			l := f.lease(t, "alice", "k1", "req")
			op := c.op(l.OperationID)
			f.accept(t, op, pen(1000))
			op.Status, op.ResolvedAt, op.CoreTransactionID = domain.StatusCompleted, resolvedAt, "core-77"
			events := []app.Event{
				{ID: newID(), Type: "andes.events.v1.TransferCompleted", Subject: "andes.events.controller.transfer_completed",
					Payload: []byte("\x0a\x01\x00\xff"), OccurredAt: resolvedAt},
				{ID: newID(), Type: "andes.events.v1.Second", Subject: "andes.events.controller.second",
					Payload: []byte("two"), OccurredAt: resolvedAt},
			}
			if err := f.store.Resolve(ctx, l, op, app.Stored{Code: 0, Body: []byte("done")}, events); err != nil {
				t.Fatal(err)
			}

			var want []outboxRow
			for _, e := range events {
				want = append(want, outboxRow{ID: e.ID, Type: e.Type, Subject: e.Subject, Payload: e.Payload, OccurredAt: e.OccurredAt})
			}
			if got := f.outbox(t); !reflect.DeepEqual(got, want) {
				t.Errorf("outbox\n%+v\nwant\n%+v", got, want)
			}
			read, err := f.store.Operation(ctx, op.ID)
			if err != nil || read.Status != domain.StatusCompleted || read.CoreTransactionID != "core-77" || !read.ResolvedAt.Equal(resolvedAt) {
				t.Errorf("record %+v, %v", read, err)
			}
			var (
				status string
				at     time.Time
			)
			if err := f.pool.QueryRow(ctx, `SELECT status, resolved_at FROM operations WHERE operation_id = $1`, op.ID).Scan(&status, &at); err != nil ||
				status != "completed" || !at.Equal(resolvedAt) {
				t.Errorf("row: %s at %v, %v", status, at, err)
			}
			if got := f.replay(t, "alice", "k1", "req"); string(got.Body) != "done" {
				t.Errorf("replay %q", got.Body)
			}

			is, err := f.store.IsBeneficiary(ctx, "alice", "19100000000202")
			if err != nil || is != c.beneficiary {
				t.Errorf("IsBeneficiary = %v, %v; want %v", is, err, c.beneficiary)
			}
			bs, _, err := f.store.Beneficiaries(ctx, "alice", 10, "")
			if err != nil {
				t.Fatal(err)
			}
			if !c.beneficiary {
				if len(bs) != 0 {
					t.Errorf("beneficiaries %+v, want none", bs)
				}
				return
			}
			if len(bs) != 1 || bs[0].AccountNumber != "19100000000202" || bs[0].MaskedHolderName != "Ana P***" || bs[0].Currency != "PEN" ||
				!bs[0].FirstPaidAt.Equal(resolvedAt) || !bs[0].LastPaidAt.Equal(resolvedAt) {
				t.Errorf("beneficiaries %+v", bs)
			}
		})
	}
}

// A resolution that cannot complete the key, or cannot write its events, leaves
// everything as it was: no event without its change, no change without its event.
func TestResolveThatFailsChangesNothing(t *testing.T) {
	cases := []struct {
		name    string
		breakIt func(t *testing.T, f fixture, l *app.Lease) (*app.Lease, []app.Event)
		want    error
	}{
		{
			name: "the lease was taken over",
			breakIt: func(t *testing.T, f fixture, l *app.Lease) (*app.Lease, []app.Event) {
				f.clock.Advance(leaseTimeout)
				f.lease(t, "alice", "k1", "req")
				return l, []app.Event{{ID: newID(), Type: "t", Subject: "s", OccurredAt: t0}}
			},
			want: idempotency.ErrLeaseLost,
		},
		{
			name: "an event cannot be written",
			breakIt: func(t *testing.T, f fixture, l *app.Lease) (*app.Lease, []app.Event) {
				return l, []app.Event{{ID: newID(), Type: "t", Subject: "s", OccurredAt: t0}, {ID: newID(), Type: "t", OccurredAt: t0}}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			f := setup(t)
			l := f.lease(t, "alice", "k1", "req")
			op := transfer(l.OperationID, "alice", pen(400), t0)
			f.accept(t, op, pen(1000))
			l, events := c.breakIt(t, f, l)
			resolved := *op
			resolved.Status, resolved.ResolvedAt = domain.StatusFailed, t0.Add(time.Minute)
			err := f.store.Resolve(ctx, l, &resolved, app.Stored{Body: []byte("failed")}, events)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("Resolve: %v, want %v", err, c.want)
			}
			if s := f.status(t, op.ID); s != domain.StatusPending {
				t.Errorf("status %s, want still pending", s)
			}
			if used := f.used(t, "alice", "PEN", "2026-11-22"); used != 400 {
				t.Errorf("used %d, want the reservation kept", used)
			}
			if rows := f.outbox(t); len(rows) != 0 {
				t.Errorf("outbox %+v, want empty", rows)
			}
			if _, err := f.store.Begin(ctx, caller, "alice", "k1", []byte("req")); !errors.Is(err, domain.ErrInProgress) {
				t.Errorf("the key after a failed resolution: %v, want still in progress", err)
			}
		})
	}
}

func TestBeneficiaryKeepsTheFirstAndTheLatestPayment(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	f.pay(t, "alice", "19100000000303", "Ana P***", t1)
	f.pay(t, "alice", "19100000000303", "Ana P*** Q***", t2)
	f.pay(t, "alice", "19100000000303", "Ana P*** Q***", t1.Add(time.Minute)) // resolved late: not the latest
	bs, next, err := f.store.Beneficiaries(ctx, "alice", 10, "")
	if err != nil || next != "" || len(bs) != 1 {
		t.Fatalf("beneficiaries %+v, %q, %v", bs, next, err)
	}
	if b := bs[0]; !b.FirstPaidAt.Equal(t1) || !b.LastPaidAt.Equal(t2) {
		t.Errorf("first paid %v, last paid %v; want %v and %v", b.FirstPaidAt, b.LastPaidAt, t1, t2)
	}
}

func TestPendingOutcomesAreClaimedOldestFirstAndOnce(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	var ids []string
	for i := range 3 {
		key := fmt.Sprintf("k%d", i)
		l := f.lease(t, "alice", key, "req")
		f.accept(t, transfer(l.OperationID, "alice", pen(100), f.clock.Now()), pen(1000))
		if err := f.store.MarkPending(ctx, l); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.OperationID)
		f.clock.Advance(time.Second)
	}
	if _, err := f.store.Begin(ctx, caller, "alice", "k0", []byte("req")); !errors.Is(err, domain.ErrInProgress) {
		t.Errorf("a retry of a pending key: %v, want ErrInProgress", err)
	}

	claim := func(limit int) []string {
		t.Helper()
		ls, err := f.store.ClaimPending(ctx, limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range ls {
			if !l.Recovered {
				t.Errorf("claimed lease of %s not marked recovered", l.OperationID)
			}
			got = append(got, l.OperationID)
		}
		return got
	}
	if got := claim(2); !slices.Equal(got, ids[:2]) {
		t.Errorf("first claim %v, want the two oldest %v", got, ids[:2])
	}
	if got := claim(10); !slices.Equal(got, ids[2:]) {
		t.Errorf("second claim %v, want the rest %v", got, ids[2:])
	}
	if got := claim(10); len(got) != 0 {
		t.Errorf("a claim while all are held: %v", got)
	}
	f.clock.Advance(leaseTimeout)
	ls, err := f.store.ClaimPending(ctx, 10)
	if err != nil || len(ls) != 3 {
		t.Fatalf("after the lease timeout: %d claimed, %v; want all 3 again", len(ls), err)
	}

	// The reconciler resolves one with its claim: the client's retry then replays.
	op, err := f.store.Operation(ctx, ls[0].OperationID)
	if err != nil {
		t.Fatal(err)
	}
	op.Status, op.ResolvedAt, op.CoreTransactionID = domain.StatusCompleted, f.clock.Now(), "core-1"
	if err := f.store.Resolve(ctx, ls[0], op, app.Stored{Body: []byte("resolved")}, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.replay(t, "alice", "k0", "req"); string(got.Body) != "resolved" {
		t.Errorf("replay %q", got.Body)
	}
}

func TestConcurrentClaimsTakeEachPendingKeyOnce(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	const keys, claimers = 5, 8
	for i := range keys {
		l := f.lease(t, "alice", fmt.Sprintf("k%d", i), "req")
		if err := f.store.MarkPending(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		seen  = map[string]int{}
	)
	for range claimers {
		wg.Go(func() {
			<-start
			ls, err := f.store.ClaimPending(ctx, 2)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, l := range ls {
				seen[l.OperationID]++
			}
		})
	}
	close(start)
	wg.Wait()
	if len(seen) != keys {
		t.Errorf("%d keys claimed, want all %d", len(seen), keys)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
}

func TestOperationsArePagedNewestFirstPerCustomer(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	var want []*domain.Operation
	add := func(customer string, at time.Time) *domain.Operation {
		op := transfer(newID(), customer, pen(100), at)
		op.CountsTowardLimit = false
		f.accept(t, op, pen(0))
		return op
	}
	for i := range 5 {
		want = append(want, add("alice", t0.Add(time.Duration(i)*time.Minute)))
		add("bob", t0.Add(time.Duration(i)*time.Minute+time.Second))
	}
	// Two at the same instant: the id breaks the tie.
	tie := t0.Add(time.Hour)
	want = append(want, add("alice", tie), add("alice", tie))
	slices.SortFunc(want, func(a, b *domain.Operation) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})

	for _, size := range []int{1, 3, 7, 50} {
		t.Run(fmt.Sprint("pages of ", size), func(t *testing.T) {
			var got []*domain.Operation
			token := ""
			for pages := 1; ; pages++ {
				page, next, err := f.store.Operations(ctx, "alice", size, token)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > size || (next != "" && len(page) != size) {
					t.Fatalf("page %d: %d operations, next %q", pages, len(page), next)
				}
				got = append(got, page...)
				if next == "" {
					break
				}
				if pages > len(want) {
					t.Fatal("the pages never end")
				}
				token = next
			}
			if len(got) != len(want) {
				t.Fatalf("%d operations, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].ID != want[i].ID || got[i].CustomerID != "alice" || !got[i].CreatedAt.Equal(want[i].CreatedAt) || got[i].Amount != pen(100) {
					t.Errorf("#%d: %s at %v, want %s at %v", i, got[i].ID, got[i].CreatedAt, want[i].ID, want[i].CreatedAt)
				}
			}
		})
	}

	if ops, next, err := f.store.Operations(ctx, "nobody", 10, ""); err != nil || len(ops) != 0 || next != "" {
		t.Errorf("an unknown customer: %v, %q, %v", ops, next, err)
	}
	for _, token := range []string{"%%%", "MTIz", "eHw"} { // not base64; "123"; "x|"
		_, _, err := f.store.Operations(ctx, "alice", 10, token)
		var invalid *domain.InvalidError
		if !errors.As(err, &invalid) || invalid.Field != "page_token" {
			t.Errorf("token %q: %v, want an invalid page_token", token, err)
		}
	}
}

func TestBeneficiariesArePagedByLatestPaymentPerCustomer(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	type paid struct {
		account string
		at      time.Time
	}
	payments := []paid{
		{"19100000000101", t0},
		{"19100000000102", t0.Add(3 * time.Hour)},
		{"19100000000104", t0.Add(time.Hour)}, // the same instant: the account number breaks the tie
		{"19100000000103", t0.Add(time.Hour)},
		{"19100000000105", t0.Add(30 * time.Minute)},
	}
	for _, p := range payments {
		f.pay(t, "alice", p.account, "Ana P***", p.at)
	}
	f.pay(t, "bob", "19100000000999", "Eva R***", t0.Add(5*time.Hour))
	// Pages of two split the tie.
	want := []string{"19100000000102", "19100000000103", "19100000000104", "19100000000105", "19100000000101"}

	var got []string
	token := ""
	for pages := 1; ; pages++ {
		page, next, err := f.store.Beneficiaries(ctx, "alice", 2, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page {
			got = append(got, b.AccountNumber)
		}
		if next == "" {
			break
		}
		if pages > len(want) {
			t.Fatal("the pages never end")
		}
		token = next
	}
	if !slices.Equal(got, want) {
		t.Errorf("beneficiaries %v, want %v", got, want)
	}
	if is, err := f.store.IsBeneficiary(ctx, "alice", "19100000000999"); err != nil || is {
		t.Errorf("bob's beneficiary is alice's: %v, %v", is, err)
	}
	_, _, err := f.store.Beneficiaries(ctx, "alice", 2, "MTIz")
	var invalid *domain.InvalidError
	if !errors.As(err, &invalid) || invalid.Field != "page_token" {
		t.Errorf("a bad token: %v, want an invalid page_token", err)
	}
}
