package pgledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/andes-bank/andes/simulators/corebank/adapters/pgledger"
	"github.com/andes-bank/andes/simulators/corebank/domain"
)

// TestLedgerInvariantsUnderConcurrency transfers at random, both directions,
// among a few accounts from many goroutines, mixing currencies and overdrafts,
// then audits the book: totals per currency unchanged, every transaction
// balanced, every stored balance the sum of its postings, nothing spent beyond
// its overdraft.
func TestLedgerInvariantsUnderConcurrency(t *testing.T) {
	pool := newPool(t, 24)
	f := newFixture(t, pool)
	ctx := context.Background()
	c := f.customer(t, "40000001")
	type acct struct {
		number, currency string
	}
	var accts []acct
	for i := range 8 {
		od := int64(0)
		typ := domain.TypeSavings
		if i%3 == 0 {
			typ, od = domain.TypeChecking, 20_000
		}
		accts = append(accts, acct{f.account(t, c.Number, typ, "PEN", od, int64(50_000+i*10_000)), "PEN"})
	}
	for range 3 {
		accts = append(accts, acct{f.account(t, c.Number, domain.TypeSavings, "USD", 0, 30_000), "USD"})
	}
	before := customerTotals(t, f.l, c.Number)

	const workers, each = 16, 150
	var (
		wg                               sync.WaitGroup
		mu                               sync.Mutex
		posted, insufficient, mismatched int
		unexpected                       []error
	)
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for range each {
				from, to := accts[rng.IntN(len(accts))], accts[rng.IntN(len(accts))]
				if from == to {
					continue
				}
				_, err := f.l.Post(ctx, f.post(transfer(from.number, to.number, int64(1+rng.IntN(40_000)), from.currency)))
				mu.Lock()
				switch {
				case err == nil:
					posted++
				case errors.Is(err, domain.ErrInsufficientFunds):
					insufficient++
				case errors.Is(err, domain.ErrCurrencyMismatch) && from.currency != to.currency:
					mismatched++
				default:
					unexpected = append(unexpected, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range unexpected {
		t.Errorf("unexpected error: %v", err)
	}
	t.Logf("posted %d, refused for funds %d, refused for currency %d", posted, insufficient, mismatched)
	if posted == 0 || insufficient == 0 || mismatched == 0 {
		t.Errorf("the workload should post, run out of funds and cross currencies; got %d/%d/%d", posted, insufficient, mismatched)
	}
	if after := customerTotals(t, f.l, c.Number); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("per-currency totals changed: before %v, after %v", before, after)
	}
	a := audit(t, f.l)
	if a.Transactions < posted {
		t.Errorf("audit sees %d transactions, %d were posted", a.Transactions, posted)
	}
}

func customerTotals(t *testing.T, l *pgledger.Ledger, customer string) map[string]int64 {
	t.Helper()
	accts, err := l.Accounts(context.Background(), customer)
	if err != nil {
		t.Fatal(err)
	}
	totals := map[string]int64{}
	for _, a := range accts {
		totals[a.Currency] += a.LedgerMinor
	}
	return totals
}

func TestPostRefusals(t *testing.T) {
	pool := newPool(t, 4)
	f := newFixture(t, pool)
	ctx := context.Background()
	c := f.customer(t, "40000002")
	pen := f.account(t, c.Number, domain.TypeSavings, "PEN", 0, 10_000)
	pen2 := f.account(t, c.Number, domain.TypeSavings, "PEN", 0, 0)
	checking := f.account(t, c.Number, domain.TypeChecking, "PEN", 5_000, 1_000)
	usd := f.account(t, c.Number, domain.TypeSavings, "USD", 0, 10_000)
	blocked := f.account(t, c.Number, domain.TypeSavings, "PEN", 0, 10_000)
	if _, err := f.l.SetAccountStatus(ctx, blocked, domain.StatusBlocked); err != nil {
		t.Fatal(err)
	}
	missing := domain.WithCheckDigits("191002999999")

	tests := []struct {
		name string
		post domain.Post
		want error
		side string
	}{
		{"insufficient funds", transfer(pen, pen2, 10_001, "PEN"), domain.ErrInsufficientFunds, ""},
		{"the whole balance", transfer(pen, pen2, 10_000, "PEN"), nil, ""},
		{"into the overdraft", transfer(checking, pen2, 6_000, "PEN"), nil, ""},
		{"beyond the overdraft", transfer(checking, pen2, 1, "PEN"), domain.ErrInsufficientFunds, ""},
		{"accounts in different currencies", transfer(usd, pen2, 100, "USD"), domain.ErrCurrencyMismatch, ""},
		{"amount in another currency", transfer(pen2, checking, 100, "USD"), domain.ErrCurrencyMismatch, ""},
		{"blocked debit", transfer(blocked, pen2, 100, "PEN"), domain.ErrAccountBlocked, "debit"},
		{"blocked credit", transfer(pen2, blocked, 100, "PEN"), domain.ErrAccountBlocked, "credit"},
		{"unknown debit", transfer(missing, pen2, 100, "PEN"), domain.ErrAccountNotFound, "debit"},
		{"unknown credit", transfer(pen2, missing, 100, "PEN"), domain.ErrAccountNotFound, "credit"},
		{"same account", transfer(pen2, pen2, 100, "PEN"), domain.ErrSameAccount, ""},
		{"debit from equity", transfer(domain.GLNumber(domain.ClassEquity, "PEN"), pen2, 100, "PEN"), domain.ErrAccountNotAllowed, "debit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.l.Post(ctx, f.post(tt.post))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.side != "" && domain.Fields(err)["side"] != tt.side {
				t.Errorf("fields %v, want side %s", domain.Fields(err), tt.side)
			}
		})
	}
	audit(t, f.l)
	a, err := f.l.Account(ctx, checking)
	if err != nil {
		t.Fatal(err)
	}
	if a.LedgerMinor != -5_000 || a.AvailableMinor() != -5_000 {
		t.Errorf("checking account: ledger %d available %d, want -5000 both", a.LedgerMinor, a.AvailableMinor())
	}
}

func TestTheLedgerRefusesASecondPostingOfOneOperation(t *testing.T) {
	pool := newPool(t, 4)
	f := newFixture(t, pool)
	c := f.customer(t, "40000003")
	a := f.account(t, c.Number, domain.TypeSavings, "PEN", 0, 10_000)
	b := f.account(t, c.Number, domain.TypeSavings, "PEN", 0, 0)
	p := f.post(transfer(a, b, 100, "PEN"))
	if _, err := f.l.Post(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.l.Post(context.Background(), p); !errors.Is(err, domain.ErrDuplicateOperation) {
		t.Fatalf("second posting of one operation: %v, want ErrDuplicateOperation", err)
	}
	acct, _ := f.l.Account(context.Background(), b)
	if acct.LedgerMinor != 100 {
		t.Errorf("credited %d, want 100 once", acct.LedgerMinor)
	}
}

func TestHolds(t *testing.T) {
	pool := newPool(t, 4)
	f := newFixture(t, pool)
	ctx := context.Background()
	c := f.customer(t, "40000004")
	acct := f.account(t, c.Number, domain.TypeSavings, "PEN", 0, 10_000)
	merchant := domain.GLNumber(domain.ClassMerchant, "PEN")
	hold := func(amount int64, ttl time.Duration) (domain.Hold, error) {
		return f.l.CreateHold(ctx, domain.HoldRequest{Account: acct, AmountMinor: amount, Currency: "PEN",
			Description: "POS", OperationRef: fmt.Sprintf("hold-%d", f.ops.Add(1)), At: f.now, ExpiresAt: f.now.Add(ttl)})
	}
	balance := func() domain.Account {
		a, err := f.l.Account(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	h1, err := hold(6_000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if b := balance(); b.LedgerMinor != 10_000 || b.AvailableMinor() != 4_000 {
		t.Fatalf("after a hold of 6000: ledger %d available %d", b.LedgerMinor, b.AvailableMinor())
	}
	if _, err := hold(4_001, time.Hour); !errors.Is(err, domain.ErrInsufficientFunds) {
		t.Fatalf("hold beyond the available balance: %v", err)
	}
	// A transfer sees the hold too.
	other := f.account(t, c.Number, domain.TypeSavings, "PEN", 0, 0)
	if _, err := f.l.Post(ctx, f.post(transfer(acct, other, 4_001, "PEN"))); !errors.Is(err, domain.ErrInsufficientFunds) {
		t.Fatalf("transfer beyond the available balance: %v", err)
	}

	// Capture in part: 2500 of 6000 posts, the rest is released.
	got, tx, err := f.l.CaptureHold(ctx, domain.Capture{HoldID: h1.ID, AmountMinor: 2_500, Credit: merchant,
		Description: "clearing", OperationRef: "cap-1", At: f.now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != domain.HoldCaptured || got.CapturedMinor != 2_500 || tx.ID == 0 || len(tx.Postings) != 2 {
		t.Fatalf("capture: %+v %+v", got, tx)
	}
	if b := balance(); b.LedgerMinor != 7_500 || b.AvailableMinor() != 7_500 {
		t.Fatalf("after capturing 2500: ledger %d available %d", b.LedgerMinor, b.AvailableMinor())
	}
	if _, _, err := f.l.CaptureHold(ctx, domain.Capture{HoldID: h1.ID, Credit: merchant, OperationRef: "cap-2", At: f.now}); !errors.Is(err, domain.ErrHoldNotPending) {
		t.Fatalf("second capture: %v", err)
	}

	// Capture in full, and more than the hold.
	h2, err := hold(1_000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.l.CaptureHold(ctx, domain.Capture{HoldID: h2.ID, AmountMinor: 1_001, Credit: merchant, OperationRef: "cap-3", At: f.now}); !errors.Is(err, domain.ErrExceedsHold) {
		t.Fatalf("capture beyond the hold: %v", err)
	}
	if got, _, err := f.l.CaptureHold(ctx, domain.Capture{HoldID: h2.ID, Credit: merchant, OperationRef: "cap-4", At: f.now}); err != nil || got.CapturedMinor != 1_000 {
		t.Fatalf("full capture: %+v %v", got, err)
	}

	// Void.
	h3, err := hold(2_000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.l.VoidHold(ctx, h3.ID, f.now); err != nil || got.Status != domain.HoldVoided {
		t.Fatalf("void: %+v %v", got, err)
	}
	if _, err := f.l.VoidHold(ctx, h3.ID, f.now); !errors.Is(err, domain.ErrHoldNotPending) {
		t.Fatalf("second void: %v", err)
	}

	// Expiry: not before it is due; captures after it are refused.
	h4, err := hold(3_000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := f.l.ExpireHold(ctx, h4.ID, f.now.Add(59*time.Minute)); err != nil || ok {
		t.Fatalf("expired early: %v %v", ok, err)
	}
	later := f.now.Add(2 * time.Hour)
	if _, _, err := f.l.CaptureHold(ctx, domain.Capture{HoldID: h4.ID, Credit: merchant, OperationRef: "cap-5", At: later}); !errors.Is(err, domain.ErrHoldExpired) {
		t.Fatalf("capture after expiry: %v", err)
	}
	due, err := f.l.DueHolds(ctx, later, 10)
	if err != nil || len(due) != 1 || due[0] != h4.ID {
		t.Fatalf("due holds: %v %v", due, err)
	}
	if ok, err := f.l.ExpireHold(ctx, h4.ID, later); err != nil || !ok {
		t.Fatalf("expire: %v %v", ok, err)
	}
	if got, _ := f.l.Hold(ctx, h4.ID); got.Status != domain.HoldExpired {
		t.Fatalf("hold after expiry: %+v", got)
	}
	if b := balance(); b.LedgerMinor != 6_500 || b.HeldMinor != 0 {
		t.Fatalf("at the end: ledger %d held %d, want 6500 and 0", b.LedgerMinor, b.HeldMinor)
	}
	if _, _, err := f.l.CaptureHold(ctx, domain.Capture{HoldID: 999, Credit: merchant, OperationRef: "cap-6", At: f.now}); !errors.Is(err, domain.ErrHoldNotFound) {
		t.Fatalf("capture of no hold: %v", err)
	}
	audit(t, f.l)
}

// TestConcurrentHoldsAndTransfersOnOneAccount races holds, captures and
// transfers on one account: the available balance never goes negative.
func TestConcurrentHoldsAndTransfersOnOneAccount(t *testing.T) {
	pool := newPool(t, 16)
	f := newFixture(t, pool)
	ctx := context.Background()
	c := f.customer(t, "40000005")
	hot := f.account(t, c.Number, domain.TypeSavings, "PEN", 0, 100_000)
	sink := f.account(t, c.Number, domain.TypeSavings, "PEN", 0, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range 8 {
		wg.Go(func() {
			for i := range 40 {
				op := fmt.Sprintf("w%d-%d", w, i)
				if w%2 == 0 {
					_, err := f.l.Post(ctx, f.post(transfer(hot, sink, 1_500, "PEN")))
					if err != nil && !errors.Is(err, domain.ErrInsufficientFunds) {
						errs <- err
					}
					continue
				}
				h, err := f.l.CreateHold(ctx, domain.HoldRequest{Account: hot, AmountMinor: 1_000, Currency: "PEN",
					OperationRef: op, At: f.now, ExpiresAt: f.now.Add(time.Hour)})
				if errors.Is(err, domain.ErrInsufficientFunds) {
					continue
				}
				if err != nil {
					errs <- err
					continue
				}
				if i%2 == 0 {
					_, err = f.l.VoidHold(ctx, h.ID, f.now)
				} else {
					_, _, err = f.l.CaptureHold(ctx, domain.Capture{HoldID: h.ID, AmountMinor: 700, Credit: sink, OperationRef: op + "c", At: f.now})
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	audit(t, f.l)
}

func TestCashInAndOutMoveMoneyBetweenAgentAndCustomer(t *testing.T) {
	pool := newPool(t, 4)
	d := loadDemo(t, "../../testdata/demo.yaml")
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	if _, err := pgledger.Seed(ctx, pool, d, now, false); err != nil {
		t.Fatal(err)
	}
	l := pgledger.On(pool)
	agent := d.Agents[0].Account.Number
	maria := d.Customer("maria").Accounts[0].Number
	agentOnly, customerOnly := []domain.Class{domain.ClassAgent}, []domain.Class{domain.ClassCustomer}
	cash := func(kind domain.MovementKind, amount int64, op string) error {
		p := domain.Post{Kind: kind, AmountMinor: amount, Currency: "PEN", Description: string(kind), OperationRef: op, At: now}
		if kind == domain.KindCashIn {
			p.Debit, p.Credit, p.DebitClasses, p.CreditClasses = agent, maria, agentOnly, customerOnly
		} else {
			p.Debit, p.Credit, p.DebitClasses, p.CreditClasses = maria, agent, customerOnly, agentOnly
		}
		_, err := l.Post(ctx, p)
		return err
	}
	bal := func(n string) int64 {
		a, err := l.Account(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return a.LedgerMinor
	}
	agent0, maria0 := bal(agent), bal(maria)
	if err := cash(domain.KindCashIn, 20_000, "ci-1"); err != nil {
		t.Fatal(err)
	}
	if bal(agent) != agent0-20_000 || bal(maria) != maria0+20_000 {
		t.Fatalf("cash-in: agent %d→%d, maria %d→%d", agent0, bal(agent), maria0, bal(maria))
	}
	if err := cash(domain.KindCashOut, 5_000, "co-1"); err != nil {
		t.Fatal(err)
	}
	if bal(agent) != agent0-15_000 || bal(maria) != maria0+15_000 {
		t.Fatalf("cash-out: agent %d, maria %d", bal(agent), bal(maria))
	}
	// The agent's float bounds cash-in: no money from nothing.
	if err := cash(domain.KindCashIn, bal(agent)+1, "ci-2"); !errors.Is(err, domain.ErrInsufficientFunds) {
		t.Fatalf("cash-in beyond the agent's float: %v", err)
	}
	// A customer account is not an agent.
	p := domain.Post{Kind: domain.KindCashIn, Debit: d.Customer("jose").Accounts[0].Number, Credit: maria, AmountMinor: 100,
		Currency: "PEN", DebitClasses: agentOnly, CreditClasses: customerOnly, OperationRef: "ci-3", At: now}
	if _, err := l.Post(ctx, p); !errors.Is(err, domain.ErrAccountNotAllowed) {
		t.Fatalf("cash-in from a customer's account: %v", err)
	}
	audit(t, l)
}

func TestSeedTheDemoBank(t *testing.T) {
	pool := newPool(t, 4)
	d := loadDemo(t, "../../../../deploy/demo/demo.yaml")
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	start := time.Now()
	rep, err := pgledger.Seed(ctx, pool, d, now, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d customers, %d accounts, %d transactions in %v", rep.Customers, rep.Accounts, rep.Transactions, time.Since(start))
	if rep.Skipped || rep.Customers != len(d.Customers) {
		t.Fatalf("report %+v, want %d customers", rep, len(d.Customers))
	}
	if again, err := pgledger.Seed(ctx, pool, d, now.Add(time.Hour), true); err != nil || !again.Skipped {
		t.Fatalf("second seed: %+v %v, want skipped", again, err)
	}
	l := pgledger.On(pool)
	for _, c := range d.Customers[:4] {
		accts, err := l.Accounts(ctx, c.CoreNumber)
		if err != nil {
			t.Fatal(err)
		}
		if len(accts) != len(c.Accounts) {
			t.Fatalf("%s has %d accounts, want %d", c.Key, len(accts), len(c.Accounts))
		}
		for i, a := range accts {
			want := c.Accounts[i]
			if a.Number != want.Number || a.LedgerMinor != want.BalanceMinor || a.Status != want.Status || a.OverdraftMinor != want.OverdraftMinor {
				t.Errorf("%s account %d: %+v, want %+v", c.Key, i, a, want)
			}
		}
	}
	ps, err := l.Postings(ctx, d.Customer("maria").Accounts[0].Number, domain.PostingFilter{Limit: 100})
	if err != nil || len(ps) < 30 {
		t.Fatalf("maria's history: %d postings, %v", len(ps), err)
	}
	for _, p := range ps {
		if !p.PostedAt.Before(now) || p.Seq == 0 {
			t.Fatalf("history posting %+v: in the future or without a feed number", p)
		}
	}
	prods, err := l.Products(ctx, d.Customer("maria").CoreNumber)
	if err != nil || len(prods.TermDeposits) != 1 || prods.CardProgram.SettlementAccount != d.Bank.Settlement.Number {
		t.Fatalf("maria's products: %+v %v", prods, err)
	}
	audit(t, l)
}

func TestFeedNumbersPostingsInCommitOrder(t *testing.T) {
	pool := newPool(t, 4)
	f := newFixture(t, pool)
	ctx := context.Background()
	c := f.customer(t, "40000006")
	a := f.account(t, c.Number, domain.TypeSavings, "PEN", 0, 10_000)
	b := f.account(t, c.Number, domain.TypeSavings, "PEN", 0, 0)
	if n, head, err := f.l.Sequence(ctx, 100); err != nil || n != 1 || head != 2 {
		t.Fatalf("first sequencing: %d transactions, head %d, %v", n, head, err)
	}
	for range 5 {
		if _, err := f.l.Post(ctx, f.post(transfer(a, b, 100, "PEN"))); err != nil {
			t.Fatal(err)
		}
	}
	// Before the sequencer runs, the feed shows nothing new.
	ps, head, err := f.l.Feed(ctx, 2, 100)
	if err != nil || len(ps) != 0 || head != 2 {
		t.Fatalf("feed before sequencing: %d postings, head %d, %v", len(ps), head, err)
	}
	if n, head, err := f.l.Sequence(ctx, 3); err != nil || n != 3 || head != 8 {
		t.Fatalf("sequencing 3: %d, head %d, %v", n, head, err)
	}
	if n, head, err := f.l.Sequence(ctx, 100); err != nil || n != 2 || head != 12 {
		t.Fatalf("sequencing the rest: %d, head %d, %v", n, head, err)
	}
	ps, head, err = f.l.Feed(ctx, 0, 100)
	if err != nil || head != 12 || len(ps) != 12 {
		t.Fatalf("feed: %d postings, head %d, %v", len(ps), head, err)
	}
	for i, p := range ps {
		if p.Seq != int64(i+1) {
			t.Fatalf("posting %d has seq %d", i, p.Seq)
		}
	}
	// Reading from the middle of a transaction returns its later leg first.
	ps, _, err = f.l.Feed(ctx, 3, 2)
	if err != nil || len(ps) != 2 || ps[0].Seq != 4 || ps[0].Leg != 1 || ps[1].Seq != 5 {
		t.Fatalf("feed after 3: %+v %v", ps, err)
	}
}
