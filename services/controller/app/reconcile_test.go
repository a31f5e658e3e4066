package app_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/services/controller/app"
	"github.com/andes-bank/andes/services/controller/domain"
)

var t0 = time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)

// resolution is what the reconciler stored for a key.
type resolution struct {
	lease  *app.Lease
	op     domain.Operation
	resp   app.Stored
	events []app.Event
}

// repo is the database as the reconciler sees it: keys whose outcome is pending
// and their operations. A claimed key stays claimable until it is resolved or
// released (the store's lease timeout is the store's own test). Methods the
// reconciler has no business calling are left to the nil interface: they panic.
type repo struct {
	app.Repository

	mu          sync.Mutex
	pending     []*app.Lease
	ops         map[string]domain.Operation
	resolved    map[string]resolution
	released    []string
	claimErr    error
	resolveErrs map[string]error
}

func newRepo() *repo {
	return &repo{ops: map[string]domain.Operation{}, resolved: map[string]resolution{}, resolveErrs: map[string]error{}}
}

// markPending records op as a pending outcome of its key, as a write whose answer
// never came leaves it.
func (r *repo) markPending(op domain.Operation, recorded bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, app.NewLease(op.ID, true, nil))
	if recorded {
		r.ops[op.ID] = op
	}
}

func (r *repo) isPending(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.pending, func(l *app.Lease) bool { return l.OperationID == id })
}

func (r *repo) drop(l *app.Lease) {
	r.pending = slices.DeleteFunc(r.pending, func(p *app.Lease) bool { return p == l })
}

func (r *repo) ClaimPending(_ context.Context, limit int) ([]*app.Lease, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.claimErr != nil {
		return nil, r.claimErr
	}
	return slices.Clone(r.pending[:min(limit, len(r.pending))]), nil
}

func (r *repo) Operation(_ context.Context, id string) (*domain.Operation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	op, ok := r.ops[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	return &op, nil // a copy: a change counts only once Resolve stores it
}

func (r *repo) Resolve(_ context.Context, l *app.Lease, op *domain.Operation, resp app.Stored, events []app.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.resolveErrs[op.ID]; err != nil {
		return err
	}
	if !slices.Contains(r.pending, l) {
		return errors.New("resolve with a lease that is not pending")
	}
	r.drop(l)
	r.ops[op.ID] = *op
	r.resolved[op.ID] = resolution{lease: l, op: *op, resp: resp, events: events}
	return nil
}

func (r *repo) Release(_ context.Context, l *app.Lease) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.pending, l) {
		return errors.New("release of a lease that is not pending")
	}
	r.drop(l)
	r.released = append(r.released, l.OperationID)
	return nil
}

// answer is what the core answers about, or to, one operation.
type answer struct {
	out app.Outcome
	err error
}

// sent is a write sent again to the core.
type sent struct {
	kind string // "transfer", "cash_in", "cash_out"
	id   string
}

// core is the facade, answering from scripts by operation id.
type core struct {
	app.Core

	mu       sync.Mutex
	status   map[string]answer // what Transaction answers
	resend   map[string]answer // what a write sent again answers
	asked    []string
	sent     []sent
	deadline bool // every question came with a deadline
}

func newCore() *core {
	return &core{status: map[string]answer{}, resend: map[string]answer{}, deadline: true}
}

func (c *core) answers(id string, a answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status[id] = a
}

func (c *core) Transaction(ctx context.Context, id string) (app.Outcome, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := ctx.Deadline()
	c.deadline = c.deadline && ok
	c.asked = append(c.asked, id)
	a, ok := c.status[id]
	if !ok {
		return app.Outcome{}, errors.New("no answer scripted")
	}
	return a.out, a.err
}

func (c *core) send(kind string, op *domain.Operation) (app.Outcome, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, sent{kind, op.ID})
	a, ok := c.resend[op.ID]
	if !ok {
		return app.Outcome{}, errors.New("no answer scripted")
	}
	return a.out, a.err
}

func (c *core) Transfer(_ context.Context, op *domain.Operation) (app.Outcome, error) {
	return c.send("transfer", op)
}

func (c *core) CashIn(_ context.Context, op *domain.Operation) (app.Outcome, error) {
	return c.send("cash_in", op)
}

func (c *core) CashOut(_ context.Context, op *domain.Operation) (app.Outcome, error) {
	return c.send("cash_out", op)
}

// codec and events encode an operation's final state so a test can tell what was
// stored with it.
type codec struct{}

func (codec) Operation(op *domain.Operation) (app.Stored, error) {
	return app.Stored{Body: []byte(op.ID + "|" + string(op.Status) + "|" + op.CoreTransactionID + "|" + op.FailureReason)}, nil
}

func (codec) Refusal(err error) (app.Stored, error) {
	return app.Stored{Code: 9, Body: []byte(err.Error())}, nil
}

type events struct{}

func (events) Events(op *domain.Operation) ([]app.Event, error) {
	return []app.Event{{ID: "ev-" + op.ID, Type: string(op.Status), Subject: "operations." + op.ID, OccurredAt: op.ResolvedAt}}, nil
}

type fixture struct {
	app   *app.App
	repo  *repo
	core  *core
	clock *testenv.Clock
}

func setup() fixture {
	f := fixture{repo: newRepo(), core: newCore(), clock: testenv.NewClock(t0)}
	// No customer service and no step-up: the reconciler needs neither.
	f.app = app.New(f.repo, nil, f.core, nil, codec{}, events{}, app.Options{Now: f.clock.Now, WriteTimeout: time.Minute})
	return f
}

func operation(id string, t domain.OperationType) domain.Operation {
	return domain.Operation{ID: id, Type: t, Status: domain.StatusPending, CustomerID: "alice",
		Amount: domain.Money{Minor: 400, Currency: "PEN"}, CountsTowardLimit: t != domain.TypeCashIn,
		BusinessDate: "2026-11-22", CreatedAt: t0.Add(-time.Hour)}
}

func TestReconcileSettlesWhatTheCoreSays(t *testing.T) {
	completed := func(id string) answer {
		return answer{out: app.Outcome{Status: app.OutcomeCompleted, CoreTransactionID: id, PostedAt: t0}}
	}
	rejected := func(err error) answer { return answer{out: app.Outcome{Status: app.OutcomeRejected, Refusal: err}} }
	notReceived := answer{out: app.Outcome{Status: app.OutcomeNotReceived}}
	cases := []struct {
		name   string
		typ    domain.OperationType
		status answer  // the core's answer about the operation
		resend *answer // its answer to the operation sent again, when asked
		sentAs string  // which write was sent again
		// The outcome: "" stays pending.
		want              domain.Status
		coreTransactionID string
		reason            string
	}{
		{name: "posted", typ: domain.TypeTransfer, status: completed("core-1"),
			want: domain.StatusCompleted, coreTransactionID: "core-1"},
		{name: "refused for funds", typ: domain.TypeTransfer, status: rejected(domain.ErrInsufficientFunds),
			want: domain.StatusFailed, reason: "INSUFFICIENT_FUNDS"},
		{name: "refused as closed", typ: domain.TypeCashOut, status: rejected(domain.ErrAccountClosed),
			want: domain.StatusFailed, reason: "ACCOUNT_CLOSED"},
		{name: "still in progress at the core", typ: domain.TypeTransfer, status: answer{out: app.Outcome{Status: app.OutcomePending}}},
		{name: "the facade cannot answer", typ: domain.TypeTransfer, status: answer{err: domain.ErrUnavailable}},
		{name: "the question gets no answer", typ: domain.TypeTransfer, status: answer{err: context.DeadlineExceeded}},

		// Never received: sent again with the same id, the core runs it at most once.
		{name: "a transfer sent again posts", typ: domain.TypeTransfer, status: notReceived,
			resend: &answer{out: app.Outcome{Status: app.OutcomeCompleted, CoreTransactionID: "core-2"}}, sentAs: "transfer",
			want: domain.StatusCompleted, coreTransactionID: "core-2"},
		{name: "a cash-in sent again posts", typ: domain.TypeCashIn, status: notReceived,
			resend: &answer{out: app.Outcome{Status: app.OutcomeCompleted, CoreTransactionID: "core-3"}}, sentAs: "cash_in",
			want: domain.StatusCompleted, coreTransactionID: "core-3"},
		{name: "a cash-out sent again is refused", typ: domain.TypeCashOut, status: notReceived,
			resend: &answer{err: &domain.AccountStateError{Err: domain.ErrAccountBlocked}}, sentAs: "cash_out",
			want: domain.StatusFailed, reason: "ACCOUNT_BLOCKED"},
		{name: "sent again to an account that is gone", typ: domain.TypeTransfer, status: notReceived,
			resend: &answer{err: domain.ErrNotFound}, sentAs: "transfer",
			want: domain.StatusFailed, reason: "NOT_FOUND"},
		{name: "sent again and found invalid", typ: domain.TypeTransfer, status: notReceived,
			resend: &answer{err: &domain.InvalidError{Field: "request", Description: "refused"}}, sentAs: "transfer",
			want: domain.StatusFailed, reason: "VALIDATION_FAILED"},
		{name: "sent again and answered rejected", typ: domain.TypeTransfer, status: notReceived,
			resend: &answer{out: app.Outcome{Status: app.OutcomeRejected, Refusal: domain.ErrCurrencyMismatch}}, sentAs: "transfer",
			want: domain.StatusFailed, reason: "CURRENCY_MISMATCH"},
		{name: "sent again while the core is unavailable", typ: domain.TypeCashOut, status: notReceived,
			resend: &answer{err: domain.ErrUnavailable}, sentAs: "cash_out"},
		{name: "sent again with no answer", typ: domain.TypeTransfer, status: notReceived,
			resend: &answer{err: errors.New("facade: outcome unknown")}, sentAs: "transfer"},
		{name: "sent again and still pending", typ: domain.TypeTransfer, status: notReceived,
			resend: &answer{out: app.Outcome{Status: app.OutcomePending}}, sentAs: "transfer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := setup()
			op := operation("op-1", c.typ)
			f.repo.markPending(op, true)
			f.core.answers(op.ID, c.status)
			if c.resend != nil {
				f.core.resend[op.ID] = *c.resend
			}
			f.clock.Advance(5 * time.Minute)

			n, err := f.app.Reconcile(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.core.asked, []string{op.ID}) || !f.core.deadline {
				t.Errorf("asked the core about %v (with a deadline: %v), want %s once", f.core.asked, f.core.deadline, op.ID)
			}
			var wantSent []sent
			if c.sentAs != "" {
				wantSent = []sent{{c.sentAs, op.ID}}
			}
			if !slices.Equal(f.core.sent, wantSent) {
				t.Errorf("sent again %v, want %v", f.core.sent, wantSent)
			}

			got, resolved := f.repo.resolved[op.ID]
			if c.want == "" {
				if n != 0 || resolved || !f.repo.isPending(op.ID) || f.repo.ops[op.ID].Status != domain.StatusPending {
					t.Errorf("resolved %d, %+v; want it left pending for a later round", n, got)
				}
				return
			}
			if n != 1 || !resolved {
				t.Fatalf("resolved %d, want the operation resolved", n)
			}
			want := op
			want.Status, want.ResolvedAt, want.CoreTransactionID, want.FailureReason = c.want, t0.Add(5*time.Minute), c.coreTransactionID, c.reason
			if !reflect.DeepEqual(got.op, want) {
				t.Errorf("stored\n%+v\nwant\n%+v", got.op, want)
			}
			wantResp, _ := codec{}.Operation(&want)
			wantEvents, _ := events{}.Events(&want)
			if !reflect.DeepEqual(got.resp, wantResp) || !reflect.DeepEqual(got.events, wantEvents) {
				t.Errorf("stored response %q and events %+v, want %q and %+v", got.resp.Body, got.events, wantResp.Body, wantEvents)
			}
			if f.repo.isPending(op.ID) {
				t.Error("the key is still pending")
			}
		})
	}
}

func TestReconcileAsksAgainInALaterRound(t *testing.T) {
	ctx := context.Background()
	f := setup()
	op := operation("op-1", domain.TypeTransfer)
	f.repo.markPending(op, true)
	f.core.answers(op.ID, answer{err: domain.ErrUnavailable})
	if n, err := f.app.Reconcile(ctx); n != 0 || err != nil {
		t.Fatalf("first round: %d, %v", n, err)
	}

	f.clock.Advance(2 * time.Second)
	f.core.answers(op.ID, answer{out: app.Outcome{Status: app.OutcomeCompleted, CoreTransactionID: "core-9"}})
	if n, err := f.app.Reconcile(ctx); n != 1 || err != nil {
		t.Fatalf("second round: %d, %v", n, err)
	}
	got := f.repo.resolved[op.ID].op
	if got.Status != domain.StatusCompleted || got.CoreTransactionID != "core-9" || !got.ResolvedAt.Equal(t0.Add(2*time.Second)) {
		t.Errorf("resolved as %s, %s at %v", got.Status, got.CoreTransactionID, got.ResolvedAt)
	}

	if n, err := f.app.Reconcile(ctx); n != 0 || err != nil {
		t.Errorf("a round with nothing pending: %d, %v", n, err)
	}
	if len(f.core.asked) != 2 {
		t.Errorf("asked the core %d times, want 2", len(f.core.asked))
	}
}

func TestReconcileReleasesAKeyWithoutAnOperation(t *testing.T) {
	f := setup()
	f.repo.markPending(operation("op-1", domain.TypeTransfer), false)
	n, err := f.app.Reconcile(context.Background())
	if n != 1 || err != nil {
		t.Fatalf("Reconcile: %d, %v", n, err)
	}
	if !slices.Equal(f.repo.released, []string{"op-1"}) || f.repo.isPending("op-1") {
		t.Errorf("released %v, want op-1", f.repo.released)
	}
	if len(f.core.asked) != 0 {
		t.Errorf("asked the core about %v", f.core.asked)
	}
}

func TestReconcileGoesOnPastAnOperationItCannotSettle(t *testing.T) {
	f := setup()
	for _, id := range []string{"op-unavailable", "op-lost-lease", "op-posted"} {
		f.repo.markPending(operation(id, domain.TypeTransfer), true)
		f.core.answers(id, answer{out: app.Outcome{Status: app.OutcomeCompleted, CoreTransactionID: "core-" + id}})
	}
	f.core.answers("op-unavailable", answer{err: domain.ErrUnavailable})
	f.repo.resolveErrs["op-lost-lease"] = errors.New("lease no longer held")

	n, err := f.app.Reconcile(context.Background())
	if n != 1 || err != nil {
		t.Fatalf("Reconcile: %d, %v; want 1 resolved", n, err)
	}
	if _, ok := f.repo.resolved["op-posted"]; !ok {
		t.Error("op-posted not resolved")
	}
	for _, id := range []string{"op-unavailable", "op-lost-lease"} {
		if !f.repo.isPending(id) {
			t.Errorf("%s is no longer pending", id)
		}
	}
}

func TestReconcileReportsAFailedClaim(t *testing.T) {
	f := setup()
	f.repo.claimErr = errors.New("database down")
	if n, err := f.app.Reconcile(context.Background()); n != 0 || !errors.Is(err, f.repo.claimErr) {
		t.Errorf("Reconcile: %d, %v; want the claim's error", n, err)
	}
}

func TestReasonOfNamesEachRefusal(t *testing.T) {
	cases := map[string]error{
		"INSUFFICIENT_FUNDS":         domain.ErrInsufficientFunds,
		"ACCOUNT_BLOCKED":            &domain.AccountStateError{Err: domain.ErrAccountBlocked, AccountID: "a1"},
		"ACCOUNT_CLOSED":             domain.ErrAccountClosed,
		"CURRENCY_MISMATCH":          domain.ErrCurrencyMismatch,
		"SAME_ACCOUNT":               domain.ErrSameAccount,
		"CUSTOMER_BLOCKED":           domain.ErrCustomerBlocked,
		"AGENT_NOT_ENABLED":          domain.ErrAgentNotEnabled,
		"NOT_FOUND":                  domain.ErrNotFound,
		"TRANSACTION_LIMIT_EXCEEDED": &domain.TransactionLimitError{Limit: domain.Money{Minor: 100, Currency: "PEN"}},
		"DAILY_LIMIT_EXCEEDED":       &domain.DailyLimitError{},
		"VALIDATION_FAILED":          &domain.InvalidError{Field: "request", Description: "refused"},
	}
	for want, err := range cases {
		if got := app.ReasonOf(err); got != want {
			t.Errorf("ReasonOf(%v) = %s, want %s", err, got, want)
		}
	}
}
