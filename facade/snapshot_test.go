package facade_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/google/uuid"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
)

func TestSnapshotMissThenHit(t *testing.T) {
	s := newStack(t, stackOptions{})
	maria := s.demo.Customer("maria")

	first := s.mustSnapshot(maria.CoreNumber)
	if first.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_CORE {
		t.Fatalf("first read came from %s", first.GetSource())
	}
	snap := first.GetSnapshot()
	if snap.GetProfile().GetCustomerNumber() != maria.CoreNumber || snap.GetProfile().GetGivenNames() != maria.GivenNames ||
		snap.GetProfile().GetDocument().GetNumber() != maria.DocumentNumber {
		t.Fatalf("profile: %v", snap.GetProfile())
	}
	if len(snap.GetAccounts()) != len(maria.Accounts) {
		t.Fatalf("%d accounts, want %d", len(snap.GetAccounts()), len(maria.Accounts))
	}
	for i, a := range snap.GetAccounts() {
		want := maria.Accounts[i]
		if a.GetAccountNumber() != want.Number || a.GetLedgerBalance().GetAmountMinor() != want.BalanceMinor ||
			a.GetAvailableBalance().GetAmountMinor() != want.BalanceMinor+want.OverdraftMinor || a.GetCurrency() != want.Currency {
			t.Errorf("account %d: %v, want %+v", i, a, want)
		}
	}
	if len(snap.GetProducts()) == 0 || len(snap.GetLatestMovements()) == 0 || len(snap.GetLatestMovements()) > 20 {
		t.Errorf("%d products, %d movements", len(snap.GetProducts()), len(snap.GetLatestMovements()))
	}
	if snap.GetStale() || !snap.GetFreshUntil().AsTime().After(s.clock.Now()) || snap.GetAsOf() == nil {
		t.Errorf("freshness: stale %v, as of %v, fresh until %v", snap.GetStale(), snap.GetAsOf().AsTime(), snap.GetFreshUntil().AsTime())
	}

	second := s.mustSnapshot(maria.CoreNumber)
	if second.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_CACHE {
		t.Fatalf("second read came from %s", second.GetSource())
	}
	if !second.GetSnapshot().GetAsOf().AsTime().Equal(snap.GetAsOf().AsTime()) || len(second.GetSnapshot().GetAccounts()) != len(snap.GetAccounts()) {
		t.Fatal("the cached snapshot differs from the one read")
	}
	if n := s.coreCalls(positionRoute); n != 1 {
		t.Fatalf("the core was asked %d times, want 1", n)
	}
	if hits, misses := s.counter("facade_snapshot_cache_hits_total"), s.counter("facade_snapshot_cache_misses_total"); hits != 1 || misses != 1 {
		t.Errorf("metrics: %v hits, %v misses", hits, misses)
	}

	// An unknown customer is NOT_FOUND, never cached as anything.
	_, err := s.snapshot("CU99999999", false)
	wantReason(t, err, codes.NotFound, "NOT_FOUND")
	// Bad input never reaches the core.
	_, err = s.snapshot("", false)
	wantReason(t, err, codes.InvalidArgument, "VALIDATION_FAILED")
}

func TestSnapshotFreshnessExpiresByTheClock(t *testing.T) {
	s := newStack(t, stackOptions{})
	jose := s.demo.Customer("jose").CoreNumber
	s.mustSnapshot(jose)

	// Freshness is 24h, jittered down by at most 10%: at 21h it still holds.
	s.clock.Advance(21 * time.Hour)
	if r := s.mustSnapshot(jose); r.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_CACHE {
		t.Fatalf("at 21h: %s", r.GetSource())
	}
	s.clock.Advance(3*time.Hour + time.Second)
	r := s.mustSnapshot(jose)
	if r.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_CORE {
		t.Fatalf("after 24h: %s", r.GetSource())
	}
	if !r.GetSnapshot().GetFreshUntil().AsTime().After(s.clock.Now().Add(21 * time.Hour)) {
		t.Errorf("refreshed until %v", r.GetSnapshot().GetFreshUntil().AsTime())
	}
	if n := s.coreCalls(positionRoute); n != 2 {
		t.Fatalf("the core was asked %d times, want 2", n)
	}
	// require_fresh always asks the core.
	if r, err := s.snapshot(jose, true); err != nil || r.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_CORE {
		t.Fatalf("require_fresh: %v %v", r.GetSource(), err)
	}
}

func TestSnapshotAfterATransferShowsTheNewBalance(t *testing.T) {
	s := newStack(t, stackOptions{})
	maria, jose := s.demo.Customer("maria"), s.demo.Customer("jose")
	from, to := maria.Accounts[0].Number, jose.Accounts[0].Number
	before := s.mustSnapshot(maria.CoreNumber).GetSnapshot()
	beforeJose := s.mustSnapshot(jose.CoreNumber).GetSnapshot()

	op := uuid.NewString()
	r, err := s.client.Transfer(ctx(t), &facadev1.TransferRequest{OperationId: op, SourceAccountNumber: from,
		DestinationAccountNumber: to, Amount: &moneyv1.Money{AmountMinor: 12_345, Currency: "PEN"}, Description: "rent"})
	if err != nil {
		t.Fatal(err)
	}
	tx := r.GetTransaction()
	if tx.GetStatus() != facadev1.TransactionStatus_TRANSACTION_STATUS_COMPLETED || tx.GetOperationId() != op || tx.GetCoreTransactionId() == "" {
		t.Fatalf("transfer: %v", tx)
	}

	after := s.mustSnapshot(maria.CoreNumber)
	if after.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_CORE {
		t.Fatalf("after the transfer the snapshot came from %s", after.GetSource())
	}
	if got, want := balanceOf(after.GetSnapshot(), from), balanceOf(before, from)-12_345; got != want {
		t.Fatalf("maria's balance %d, want %d", got, want)
	}
	latest := after.GetSnapshot().GetLatestMovements()[0]
	if latest.GetOperationId() != op || latest.GetKind() != facadev1.MovementKind_MOVEMENT_KIND_TRANSFER_OUT ||
		latest.GetAmount().GetAmountMinor() != -12_345 {
		t.Fatalf("latest movement: %v", latest)
	}
	// The other side's snapshot is stale too: the core named its customer.
	afterJose := s.mustSnapshot(jose.CoreNumber)
	if got, want := balanceOf(afterJose.GetSnapshot(), to), balanceOf(beforeJose, to)+12_345; afterJose.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_CORE || got != want {
		t.Fatalf("jose: %s, balance %d, want %d", afterJose.GetSource(), got, want)
	}
	s.audit()
}

func TestInjectedSalaryIsVisibleInTheNextSnapshot(t *testing.T) {
	s := newStack(t, stackOptions{follow: true})
	ana := s.demo.Customer("ana")
	account := ana.Accounts[0].Number
	before := s.mustSnapshot(ana.CoreNumber).GetSnapshot()
	if r := s.mustSnapshot(ana.CoreNumber); r.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_CACHE {
		t.Fatalf("second read: %s", r.GetSource())
	}

	// A movement Andes did not make, posted by the core itself.
	s.admin(http.MethodPost, "/admin/movements", api.MovementRequest{Kind: "salary", Account: account, AmountMinor: 350_000,
		Currency: "PEN", Description: "Payroll November"}, nil)

	// The change feed marks the snapshot stale; the next read goes to the core.
	var after *facadev1.GetCustomerSnapshotResponse
	waitFor(t, "the feed marking ana's snapshot stale", func() bool {
		after = s.mustSnapshot(ana.CoreNumber)
		return after.GetSource() == facadev1.SnapshotSource_SNAPSHOT_SOURCE_CORE
	})
	if got, want := balanceOf(after.GetSnapshot(), account), balanceOf(before, account)+350_000; got != want {
		t.Fatalf("balance %d, want %d", got, want)
	}
	m := after.GetSnapshot().GetLatestMovements()[0]
	if m.GetKind() != facadev1.MovementKind_MOVEMENT_KIND_SALARY || m.GetAmount().GetAmountMinor() != 350_000 || m.GetOperationId() != "" {
		t.Fatalf("latest movement: %v", m)
	}
	if s.counter("facade_snapshot_invalidations_total") == 0 {
		t.Error("no invalidation counted")
	}
}

func TestConcurrentMissesMakeOneCoreCall(t *testing.T) {
	s := newStack(t, stackOptions{})
	maria := s.demo.Customer("maria").CoreNumber
	// A slow core keeps the first load in flight while the others arrive.
	s.faults(`{"latency":"300ms"}`)

	const callers = 100
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		errs   = make(chan error, callers)
		asOf   sync.Map
		client = s.client
	)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := client.GetCustomerSnapshot(ctx(t), &facadev1.GetCustomerSnapshotRequest{CustomerNumber: maria})
			if err != nil {
				errs <- err
				return
			}
			asOf.Store(r.GetSnapshot().GetAsOf().AsTime(), true)
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := s.coreCalls(positionRoute); n != 1 {
		t.Fatalf("%d callers made %d core calls, want 1", callers, n)
	}
	versions := 0
	asOf.Range(func(any, any) bool { versions++; return true })
	if versions != 1 {
		t.Fatalf("%d different snapshots served", versions)
	}
}
