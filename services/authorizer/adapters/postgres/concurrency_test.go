package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/andes-bank/andes/services/authorizer/domain"
)

// run decides all inputs from workers goroutines at once and returns the outcomes
// in input order.
func (l *ledger) run(workers int, inputs []*domain.Input) []domain.Outcome {
	l.t.Helper()
	outs := make([]domain.Outcome, len(inputs))
	errs := make([]error, len(inputs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				outs[i], errs[i] = l.store.Decide(context.Background(), inputs[i])
			}
		})
	}
	for i := range inputs {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			l.t.Fatalf("input %d (%s): %v", i, inputs[i].MTI, err)
		}
	}
	return outs
}

func count(outs []domain.Outcome, code string) (n int, approved int64) {
	for _, o := range outs {
		if o.Code == code {
			n++
			approved += o.Approved
		}
	}
	return n, approved
}

// TestConcurrentAuthorizationsNeverOverspend: many authorizations on one account
// at once approve exactly what the balance covers.
func TestConcurrentAuthorizationsNeverOverspend(t *testing.T) {
	l := newLedger(t)
	c := l.card(cardSpec{balance: 100_000, limits: domain.Limits{PerTransaction: 1_000_000, Rolling30Days: 10_000_000, DailyATMCount: 1}})
	var inputs []*domain.Input
	for i := range 300 {
		in := l.purchase(c, 1_000)
		in.PartialOK = i%3 == 0
		inputs = append(inputs, in)
	}
	outs := l.run(16, inputs)
	n00, a00 := count(outs, "00")
	_, a10 := count(outs, "10")
	n51, _ := count(outs, "51")
	if a00+a10 != 100_000 || n00+n51 < 290 {
		t.Errorf("approved %d in %d approvals (+%d partial), %d declined; want 100000 in total", a00+a10, n00, a10, n51)
	}
	l.expect(c, balances{ledger: 100_000, held: 100_000, available: 0, spend: 100_000})
	l.checkBooks()
}

// TestConcurrentPartialApprovals: amounts that do not divide the balance, half of
// them with partial approval, never take more than the balance.
func TestConcurrentPartialApprovals(t *testing.T) {
	l := newLedger(t)
	c := l.card(cardSpec{balance: 100_000, limits: domain.Limits{PerTransaction: 1_000_000, Rolling30Days: 10_000_000, DailyATMCount: 1}})
	var inputs []*domain.Input
	for i := range 120 {
		in := l.purchase(c, int64(1_000+i*37))
		in.PartialOK = i%2 == 0
		inputs = append(inputs, in)
	}
	outs := l.run(12, inputs)
	_, a00 := count(outs, "00")
	n10, a10 := count(outs, "10")
	if a00+a10 != 100_000 || n10 > 1 {
		t.Errorf("approved %d (%d partial approvals), want exactly 100000 and at most one partial", a00+a10, n10)
	}
	l.expect(c, balances{ledger: 100_000, held: 100_000, available: 0, spend: 100_000})
	l.checkBooks()
}

// TestConcurrentPINTries: wrong PINs at once never count past three, and exactly
// the first two are answered 55.
func TestConcurrentPINTries(t *testing.T) {
	l := newLedger(t)
	c := l.card(cardSpec{balance: 100_000, pvv: "1234"})
	var inputs []*domain.Input
	for range 60 {
		in := l.purchase(c, 100)
		in.PIN, in.PVVUsed = domain.PINWrong, "1234"
		inputs = append(inputs, in)
	}
	outs := l.run(16, inputs)
	n55, _ := count(outs, "55")
	n75, _ := count(outs, "75")
	if n55 != 2 || n75 != 58 {
		t.Errorf("%d answered 55 and %d answered 75; want 2 and 58", n55, n75)
	}
	if b := l.balances(c, t0); b.pinTries != 3 {
		t.Errorf("%d PIN tries, want 3", b.pinTries)
	}
}

// TestConcurrentDuplicates: copies of one message racing each other take the money
// once, and every copy gets the same answer.
func TestConcurrentDuplicates(t *testing.T) {
	l := newLedger(t)
	c := l.card(cardSpec{balance: 100_000})
	for round := range 20 {
		orig := l.purchase(c, 1_000)
		var inputs []*domain.Input
		for i := range 6 {
			in := *orig
			in.ID, in.EventID = l.newID(), l.newID()
			if i%2 == 1 {
				in.MTI = "0101"
			}
			inputs = append(inputs, &in)
		}
		outs := l.run(6, inputs)
		fresh := 0
		for _, o := range outs {
			if !o.Duplicate {
				fresh++
			}
			if o.Code != "00" || o.Approved != 1_000 || o.ApprovalCode != orig.ApprovalCode {
				t.Fatalf("round %d: %+v", round, o)
			}
		}
		if fresh != 1 {
			t.Fatalf("round %d: %d copies decided afresh, want 1", round, fresh)
		}
	}
	l.expect(c, balances{ledger: 100_000, held: 20_000, available: 80_000, spend: 20_000})
	l.checkBooks()
}

// TestConcurrentEarlyReversals: originals racing their full reversals never leave
// money held, whichever comes first.
func TestConcurrentEarlyReversals(t *testing.T) {
	l := newLedger(t)
	c := l.card(cardSpec{balance: 1_000_000})
	var inputs []*domain.Input
	for range 60 {
		orig := l.purchase(c, 1_000)
		inputs = append(inputs, l.reversalOf(orig, "0420", 0), orig)
	}
	l.run(8, inputs)
	l.expect(c, balances{ledger: 1_000_000, held: 0, available: 1_000_000, spend: 0})
	l.checkBooks()
}

// TestConcurrentMixedTraffic: purchases, partial reversals, completions, financial
// and stand-in advices and refunds on one account at once keep the books balanced.
func TestConcurrentMixedTraffic(t *testing.T) {
	l := newLedger(t)
	c := l.card(cardSpec{balance: 200_000, limits: domain.Limits{PerTransaction: 1_000_000, Rolling30Days: 10_000_000, DailyATMCount: 1}})
	var inputs []*domain.Input
	for i := range 50 {
		orig := l.purchase(c, 3_000)
		switch i % 5 {
		case 0:
			inputs = append(inputs, orig, l.reversalOf(orig, "0400", 1_000))
		case 1:
			inputs = append(inputs, orig, l.adviceOf(orig, "0220", 2_500, "00"))
		case 2:
			inputs = append(inputs, orig, l.adviceOf(orig, "0120", 3_500, ""))
		case 3:
			inputs = append(inputs, l.adviceOf(orig, "0120", 4_000, "00"))
		case 4:
			orig.Kind, orig.ProcessingCode = domain.KindCredit, "200000"
			inputs = append(inputs, orig, l.reversalOf(orig, "0420", 0))
		}
	}
	l.run(10, inputs)
	l.checkBooks()
}

func (l *ledger) newID() string { return l.purchase(testCard{}, 0).ID }
