package facade_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	"github.com/andes-bank/andes/facade"
	"github.com/andes-bank/andes/facade/adapters/corebank"
	"github.com/andes-bank/andes/facade/app"
	"github.com/andes-bank/andes/facade/domain"
	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/pki/pkitest"
)

func transfer(op, from, to string, amount int64) *facadev1.TransferRequest {
	return &facadev1.TransferRequest{OperationId: op, SourceAccountNumber: from, DestinationAccountNumber: to,
		Amount: &moneyv1.Money{AmountMinor: amount, Currency: "PEN"}}
}

// refused reports whether a TCP connection to addr is refused.
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

func (s *stack) down(down bool) {
	s.t.Helper()
	s.faults(fmt.Sprintf(`{"down":%t,"down_for":"0s"}`, down))
	waitFor(s.t, "the core's edge going down or up", func() bool { return refused(s.coreAddr) == down })
}

func TestSlowCoreDeadlinesHoldAndWritesArePending(t *testing.T) {
	s := newStack(t, stackOptions{cfg: facade.Config{CoreReadTimeout: 300 * time.Millisecond,
		CoreWriteTimeout: 300 * time.Millisecond, CoreResolveTimeout: 500 * time.Millisecond, BreakerFailures: 1000}})
	maria, jose := s.demo.Customer("maria").Accounts[0].Number, s.demo.Customer("jose").Accounts[0].Number
	s.faults(`{"latency":"30s"}`)

	// The caller allows 10s; the facade's own deadline answers long before, and
	// says why, instead of leaving the caller to time out.
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.client.GetAccount(c, &facadev1.GetAccountRequest{AccountNumber: maria})
	wantReason(t, err, codes.Unavailable, "DEPENDENCY_UNAVAILABLE")

	// A write that left without an answer may have been posted: PENDING, never
	// failed.
	op := uuid.NewString()
	r, err := s.client.Transfer(c, transfer(op, maria, jose, 1_000))
	if err != nil {
		t.Fatal(err)
	}
	if r.GetTransaction().GetStatus() != facadev1.TransactionStatus_TRANSACTION_STATUS_PENDING || r.GetTransaction().GetOperationId() != op {
		t.Fatalf("slow write: %v", r.GetTransaction())
	}

	// Once the core is quick again the operation resolves: the slowed request
	// never reached the ledger.
	s.faults(`{"latency":"0s"}`)
	g, err := s.client.GetTransaction(ctx(t), &facadev1.GetTransactionRequest{OperationId: op})
	if err != nil {
		t.Fatal(err)
	}
	if g.GetTransaction().GetStatus() != facadev1.TransactionStatus_TRANSACTION_STATUS_NOT_RECEIVED {
		t.Fatalf("after the slowness: %v", g.GetTransaction())
	}
	// The caller sends it again with the same id: posted once.
	r, err = s.client.Transfer(ctx(t), transfer(op, maria, jose, 1_000))
	if err != nil || r.GetTransaction().GetStatus() != facadev1.TransactionStatus_TRANSACTION_STATUS_COMPLETED {
		t.Fatalf("resend: %v %v", r.GetTransaction(), err)
	}
	if n := s.postingsOf(app.Key("controller", op)); n != 2 {
		t.Fatalf("%d postings for the operation, want 2 (one transaction)", n)
	}
	s.audit()
}

func TestBreakerOpensFailsWritesFastAndCloses(t *testing.T) {
	s := newStack(t, stackOptions{cfg: facade.Config{BreakerFailures: 3, BreakerOpenFor: 1500 * time.Millisecond}})
	maria, jose := s.demo.Customer("maria").Accounts[0].Number, s.demo.Customer("jose").Accounts[0].Number

	// Every request answered 503: reads fail after their retries and trip
	// the breaker.
	s.faults(`{"error_share":1}`)
	for i := 0; !s.svc.Core.BreakerOpen(); i++ {
		if i == 10 {
			t.Fatal("the breaker never opened")
		}
		_, err := s.client.GetAccount(ctx(t), &facadev1.GetAccountRequest{AccountNumber: maria})
		wantReason(t, err, codes.Unavailable, "DEPENDENCY_UNAVAILABLE")
	}
	s.faults(`{"error_share":0}`)

	// While open, a write fails fast without reaching the core, even though
	// the core would answer now.
	before := s.coreCalls(transferRoute)
	op := uuid.NewString()
	_, err := s.client.Transfer(ctx(t), transfer(op, maria, jose, 500))
	wantReason(t, err, codes.Unavailable, "DEPENDENCY_UNAVAILABLE")
	if n := s.coreCalls(transferRoute); n != before {
		t.Fatalf("the core saw %d transfers while the circuit was open", n-before)
	}

	// After the open period one probe passes; it succeeds and the circuit
	// closes.
	waitFor(t, "the circuit letting a probe through", func() bool {
		_, err := s.client.GetAccount(ctx(t), &facadev1.GetAccountRequest{AccountNumber: maria})
		return err == nil
	})
	if s.svc.Core.BreakerOpen() {
		t.Fatal("the circuit is still open after a successful probe")
	}
	r, err := s.client.Transfer(ctx(t), transfer(op, maria, jose, 500))
	if err != nil || r.GetTransaction().GetStatus() != facadev1.TransactionStatus_TRANSACTION_STATUS_COMPLETED {
		t.Fatalf("after the circuit closed: %v %v", r.GetTransaction(), err)
	}
	if n := s.postingsOf(app.Key("controller", op)); n != 2 {
		t.Fatalf("%d postings, want 2", n)
	}
	s.audit()
}

func TestCoreDownServesStaleSnapshotsAndRefusesWrites(t *testing.T) {
	s := newStack(t, stackOptions{})
	maria, jose := s.demo.Customer("maria"), s.demo.Customer("jose")
	cached := s.mustSnapshot(maria.CoreNumber).GetSnapshot()
	s.clock.Advance(25 * time.Hour) // past freshness

	s.down(true)
	r := s.mustSnapshot(maria.CoreNumber)
	if r.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_STALE_CACHE || !r.GetSnapshot().GetStale() {
		t.Fatalf("while down: %s, stale %v", r.GetSource(), r.GetSnapshot().GetStale())
	}
	if !r.GetSnapshot().GetAsOf().AsTime().Equal(cached.GetAsOf().AsTime()) || balanceOf(r.GetSnapshot(), maria.Accounts[0].Number) != balanceOf(cached, maria.Accounts[0].Number) {
		t.Fatalf("stale snapshot as of %v, cached as of %v", r.GetSnapshot().GetAsOf().AsTime(), cached.GetAsOf().AsTime())
	}
	if s.counter("facade_snapshot_stale_serves_total") != 1 {
		t.Error("stale serve not counted")
	}
	// require_fresh never gets a stale one; a customer never cached has none.
	_, err := s.snapshot(maria.CoreNumber, true)
	wantReason(t, err, codes.Unavailable, "DEPENDENCY_UNAVAILABLE")
	_, err = s.snapshot(jose.CoreNumber, false)
	wantReason(t, err, codes.Unavailable, "DEPENDENCY_UNAVAILABLE")

	// Writes are refused cleanly: the request never left, nothing was done.
	op := uuid.NewString()
	_, err = s.client.Transfer(ctx(t), transfer(op, maria.Accounts[0].Number, jose.Accounts[0].Number, 700))
	wantReason(t, err, codes.Unavailable, "DEPENDENCY_UNAVAILABLE")
	_, err = s.client.CashIn(ctx(t), &facadev1.CashInRequest{OperationId: uuid.NewString(), AccountNumber: jose.Accounts[0].Number,
		AgentAccountNumber: s.demo.Agents[0].Account.Number, Amount: &moneyv1.Money{AmountMinor: 100, Currency: "PEN"}})
	wantReason(t, err, codes.Unavailable, "DEPENDENCY_UNAVAILABLE")

	s.down(false)
	waitFor(t, "the circuit closing", func() bool {
		_, err := s.client.GetTransaction(ctx(t), &facadev1.GetTransactionRequest{OperationId: op})
		return err == nil
	})
	g, err := s.client.GetTransaction(ctx(t), &facadev1.GetTransactionRequest{OperationId: op})
	if err != nil || g.GetTransaction().GetStatus() != facadev1.TransactionStatus_TRANSACTION_STATUS_NOT_RECEIVED {
		t.Fatalf("the refused write: %v %v", g.GetTransaction(), err)
	}
	if n := s.postingsOf(app.Key("controller", op)); n != 0 {
		t.Fatalf("%d postings of a refused write", n)
	}
	if r := s.mustSnapshot(maria.CoreNumber); r.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_CORE || r.GetSnapshot().GetStale() {
		t.Fatalf("core back: %s", r.GetSource())
	}
	s.audit()
}

func TestErroringCoreRefusesWritesWithoutPosting(t *testing.T) {
	s := newStack(t, stackOptions{cfg: facade.Config{BreakerFailures: 1000}})
	maria, jose := s.demo.Customer("maria").Accounts[0].Number, s.demo.Customer("jose").Accounts[0].Number
	s.faults(`{"error_share":1}`)

	op := uuid.NewString()
	_, err := s.client.Transfer(ctx(t), transfer(op, maria, jose, 900))
	wantReason(t, err, codes.Unavailable, "DEPENDENCY_UNAVAILABLE")
	if n := s.coreCalls(transferRoute); n != 1 {
		t.Fatalf("a write answered 503 was sent %d times; writes are not retried", n)
	}
	_, err = s.client.GetAccount(ctx(t), &facadev1.GetAccountRequest{AccountNumber: maria})
	wantReason(t, err, codes.Unavailable, "DEPENDENCY_UNAVAILABLE")
	if n := s.coreCalls("GET /core/v2/accounts/{number}"); n != 3 {
		t.Fatalf("a read was sent %d times, want 3 attempts", n)
	}

	s.faults(`{"error_share":0}`)
	if n := s.postingsOf(app.Key("controller", op)); n != 0 {
		t.Fatalf("%d postings of a refused write", n)
	}
	// The same operation id posts once the core is well.
	r, err := s.client.Transfer(ctx(t), transfer(op, maria, jose, 900))
	if err != nil || r.GetTransaction().GetStatus() != facadev1.TransactionStatus_TRANSACTION_STATUS_COMPLETED {
		t.Fatalf("after recovery: %v %v", r.GetTransaction(), err)
	}
	s.audit()
}

func TestTimeoutAfterPostingThenRetryPostsOnce(t *testing.T) {
	s := newStack(t, stackOptions{cfg: facade.Config{CoreWriteTimeout: 400 * time.Millisecond}})
	maria, jose := s.demo.Customer("maria"), s.demo.Customer("jose")
	from, to := maria.Accounts[0].Number, jose.Accounts[0].Number
	before := balanceOf(s.mustSnapshot(maria.CoreNumber).GetSnapshot(), from)
	s.faults(`{"timeout_after_post_share":1,"timeout_stall":"1m"}`)

	// The core posts, then never answers: the facade asks the operation's
	// status with the same key and answers what the core did.
	op := uuid.NewString()
	r, err := s.client.Transfer(ctx(t), transfer(op, from, to, 4_200))
	if err != nil {
		t.Fatal(err)
	}
	first := r.GetTransaction()
	if first.GetStatus() != facadev1.TransactionStatus_TRANSACTION_STATUS_COMPLETED || first.GetCoreTransactionId() == "" {
		t.Fatalf("unknown outcome resolved to %v", first)
	}
	if s.counter("facade_core_calls_total") == 0 {
		t.Error("core calls not counted")
	}

	// The caller, not trusting it, retries with the same operation id.
	s.faults(`{"timeout_after_post_share":0}`)
	r, err = s.client.Transfer(ctx(t), transfer(op, from, to, 4_200))
	if err != nil {
		t.Fatal(err)
	}
	if r.GetTransaction().GetCoreTransactionId() != first.GetCoreTransactionId() {
		t.Fatalf("retry answered %v, first %v", r.GetTransaction(), first)
	}
	if n := s.postingsOf(app.Key("controller", op)); n != 2 {
		t.Fatalf("%d postings, want 2 (one transfer)", n)
	}
	after := s.mustSnapshot(maria.CoreNumber)
	if got := balanceOf(after.GetSnapshot(), from); after.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_CORE || got != before-4_200 {
		t.Fatalf("balance %d (%s), want %d: posted once", got, after.GetSource(), before-4_200)
	}
	// The same id with another amount is refused, never posted.
	_, err = s.client.Transfer(ctx(t), transfer(op, from, to, 4_201))
	wantReason(t, err, codes.FailedPrecondition, "IDEMPOTENCY_MISMATCH")
	s.audit()
}

func TestCoreRefusesAClientWithoutTheFacadesCertificate(t *testing.T) {
	s := newStack(t, stackOptions{})
	maria := s.demo.Customer("maria").Accounts[0].Number
	call := func(tlsOwner string, p *pkitest.PKI) error {
		c, err := corebank.New(corebank.Options{Addr: s.coreAddr, TLS: p.Credentials(t, tlsOwner).ClientConfig("corebank"), Attempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = c.Account(ctx(t), maria)
		return err
	}
	if err := call("facade", s.pki); err != nil {
		t.Fatalf("the facade itself: %v", err)
	}
	// Another identity of the mesh: the core answers 403, which the facade
	// would report as the core being unavailable to it.
	if err := call("controller", s.pki); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("controller's certificate: %v", err)
	}
	if n := s.coreCalls("GET /core/v2/accounts/{number}"); n != 2 {
		t.Fatalf("the core saw %d account reads", n)
	}
	// A facade certificate from another CA: the handshake fails.
	if err := call("facade", pkitest.New(t, "facade")); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("a stranger's certificate: %v", err)
	}
	// And the facade will not talk to a server that is not the core.
	impostor := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("the facade sent a request to a server that is not the core")
	}))
	impostor.TLS = s.pki.Credentials(t, "customer").ServerConfig()
	impostor.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	impostor.StartTLS()
	defer impostor.Close()
	c, err := corebank.New(corebank.Options{Addr: impostor.Listener.Addr().String(), TLS: s.pki.Credentials(t, "facade").ClientConfig("corebank"), Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Account(ctx(t), maria); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("impostor: %v", err)
	}
}
