package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/andes-bank/andes/facade/app"
	"github.com/andes-bank/andes/facade/domain"
)

// fakeCore answers writes and operation lookups from scripts, one answer per call
// (the last one repeats), and records what it was asked.
type fakeCore struct {
	app.Core // reads are not scripted: calling one panics
	mu       sync.Mutex
	writes   []error
	ops      []opAnswer
	sent     int
	asked    int
	keys     []string
}

type opAnswer struct {
	op  domain.Operation
	err error
}

func next[T any](script []T, i int) T { return script[min(i, len(script)-1)] }

func (f *fakeCore) Transfer(_ context.Context, key string, _ domain.TransferOrder) (domain.Transaction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	err := next(f.writes, f.sent)
	f.sent++
	if err != nil {
		return domain.Transaction{}, err
	}
	return domain.Transaction{Status: domain.TransactionCompleted, CoreTransactionID: "TX000000000001", Customers: []string{"CU00000001"}}, nil
}

func (f *fakeCore) CreateCustomer(_ context.Context, key string, p domain.Profile) (domain.Profile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	err := next(f.writes, f.sent)
	f.sent++
	if err != nil {
		return domain.Profile{}, err
	}
	p.CustomerNumber = "CU00000099"
	return p, nil
}

func (f *fakeCore) Operation(_ context.Context, key string) (domain.Operation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := next(f.ops, f.asked)
	f.asked++
	return a.op, a.err
}

// fakeCache records invalidations.
type fakeCache struct {
	app.SnapshotCache
	mu          sync.Mutex
	customers   []string
	accounts    []string
	invalidated int
}

func (c *fakeCache) Invalidate(_ context.Context, customers ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.customers = append(c.customers, customers...)
	c.invalidated++
	return nil
}

func (c *fakeCache) InvalidateAccounts(_ context.Context, accounts ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.accounts = append(c.accounts, accounts...)
	return nil
}

var (
	unknown     = domain.Errorf(domain.ErrUnknownOutcome, "timeout")
	unavailable = domain.Errorf(domain.ErrUnavailable, "down")
	posted      = opAnswer{op: domain.Operation{State: domain.OperationDone,
		Transaction: &domain.Transaction{Status: domain.TransactionCompleted, CoreTransactionID: "TX000000000007"}}}
	refusedOp  = opAnswer{op: domain.Operation{State: domain.OperationDone, Refusal: domain.Errorf(domain.ErrInsufficientFunds, "x")}}
	inProgress = opAnswer{op: domain.Operation{State: domain.OperationInProgress}}
	notSeen    = opAnswer{op: domain.Operation{State: domain.OperationNotReceived}}
	lookupDown = opAnswer{err: unavailable}
)

func TestAMovementsOutcomeIsSettledBeforeAnswering(t *testing.T) {
	cases := []struct {
		name       string
		writes     []error
		ops        []opAnswer
		wantStatus domain.TransactionStatus
		wantTx     string
		wantErr    error
		wantSent   int
	}{
		{"answered", []error{nil}, nil, domain.TransactionCompleted, "TX000000000001", nil, 1},
		{"refused", []error{domain.Errorf(domain.ErrAccountBlocked, "x")}, nil, 0, "", domain.ErrAccountBlocked, 1},
		{"not sent", []error{unavailable}, nil, 0, "", domain.ErrUnavailable, 1},
		{"timeout, posted", []error{unknown}, []opAnswer{posted}, domain.TransactionCompleted, "TX000000000007", nil, 1},
		{"timeout, refused", []error{unknown}, []opAnswer{refusedOp}, 0, "", domain.ErrInsufficientFunds, 1},
		{"timeout, still running", []error{unknown}, []opAnswer{inProgress}, domain.TransactionPending, "", nil, 1},
		{"timeout, status unreachable", []error{unknown}, []opAnswer{lookupDown}, domain.TransactionPending, "", nil, 1},
		{"timeout, never received, resent", []error{unknown, nil}, []opAnswer{notSeen}, domain.TransactionCompleted, "TX000000000001", nil, 2},
		{"timeout, never received, resend refused", []error{unknown, domain.Errorf(domain.ErrInsufficientFunds, "x")}, []opAnswer{notSeen}, 0, "", domain.ErrInsufficientFunds, 2},
		{"timeout twice, then posted", []error{unknown, unknown}, []opAnswer{notSeen, posted}, domain.TransactionCompleted, "TX000000000007", nil, 2},
		{"timeout twice, never received", []error{unknown, unknown}, []opAnswer{notSeen}, domain.TransactionPending, "", nil, 2},
		{"timeout, resend unavailable", []error{unknown, unavailable}, []opAnswer{notSeen}, domain.TransactionPending, "", nil, 2},
		{"key in flight", []error{domain.Errorf(domain.ErrInProgress, "x")}, nil, domain.TransactionPending, "", nil, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			core, cache := &fakeCore{writes: c.writes, ops: c.ops}, &fakeCache{}
			f := app.New(core, cache, app.Options{ResolveTimeout: time.Second})
			tx, err := f.Transfer(context.Background(), "controller", domain.TransferOrder{OperationID: "op-1", Source: "A", Destination: "B"})
			switch {
			case c.wantErr != nil:
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err %v, want %v", err, c.wantErr)
				}
				// A refusal or an outage changed nothing: nothing to mark stale.
				if len(cache.accounts) != 0 {
					t.Errorf("invalidated after %v", err)
				}
			case err != nil:
				t.Fatalf("err %v", err)
			default:
				if tx.Status != c.wantStatus || tx.CoreTransactionID != c.wantTx || tx.OperationID != "op-1" {
					t.Fatalf("got %+v, want status %v tx %q", tx, c.wantStatus, c.wantTx)
				}
				if len(cache.accounts) != 2 {
					t.Errorf("accounts marked stale: %v", cache.accounts)
				}
			}
			if core.sent != c.wantSent {
				t.Errorf("sent %d times, want %d", core.sent, c.wantSent)
			}
			for _, k := range core.keys {
				if k != "controller:op-1" {
					t.Errorf("key %q: every attempt uses the caller's namespaced key", k)
				}
			}
		})
	}
}

func TestACreationIsNeverPending(t *testing.T) {
	profile := domain.Profile{CustomerNumber: "CU00000042"}
	cases := []struct {
		name    string
		writes  []error
		ops     []opAnswer
		want    string
		wantErr error
	}{
		{"answered", []error{nil}, nil, "CU00000099", nil},
		{"timeout, created", []error{unknown}, []opAnswer{{op: domain.Operation{State: domain.OperationDone, Profile: &profile}}}, "CU00000042", nil},
		{"timeout, refused", []error{unknown}, []opAnswer{{op: domain.Operation{State: domain.OperationDone, Refusal: domain.Errorf(domain.ErrAlreadyExists, "x")}}}, "", domain.ErrAlreadyExists},
		{"timeout, never received, resent", []error{unknown, nil}, []opAnswer{notSeen}, "CU00000099", nil},
		{"timeout, in progress, then created", []error{unknown}, []opAnswer{inProgress, {op: domain.Operation{State: domain.OperationDone, Profile: &profile}}}, "CU00000042", nil},
		{"the core never says", []error{unknown}, []opAnswer{lookupDown}, "", domain.ErrUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			core := &fakeCore{writes: c.writes, ops: c.ops}
			f := app.New(core, &fakeCache{}, app.Options{ResolveTimeout: 300 * time.Millisecond})
			p, err := f.CreateCustomer(context.Background(), "onboarding", domain.NewCustomer{OperationID: "op-2"})
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil || p.CustomerNumber != c.want {
				t.Fatalf("got %+v %v, want %s", p, err, c.want)
			}
		})
	}
}
