package postgres_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	authorizerv1 "github.com/andes-bank/andes/gen/andes/authorizer/v1"
	eventsv1 "github.com/andes-bank/andes/gen/andes/events/v1"
	"github.com/andes-bank/andes/services/authorizer/domain"
)

func (l *ledger) expect(c testCard, want balances) {
	l.t.Helper()
	got := l.balances(c, t0)
	got.atmCount, got.pinTries = want.atmCount, want.pinTries
	if got != want {
		l.t.Fatalf("balances %+v, want %+v", got, want)
	}
}

func wantCode(t *testing.T, out domain.Outcome, code string, approved int64) {
	t.Helper()
	if out.Code != code || out.Approved != approved {
		t.Fatalf("got %s approving %d, want %s approving %d", out.Code, out.Approved, code, approved)
	}
}

func TestDuplicatesAndRepeats(t *testing.T) {
	l := newLedger(t)
	c := l.card(cardSpec{balance: 100_000})
	in := l.purchase(c, 30_000)
	first := l.decide(in)
	wantCode(t, first, "00", 30_000)

	// The same message again, and its repeat (0101): the first decision, no money twice.
	for _, mti := range []string{"0100", "0101"} {
		again := *in
		again.MTI, again.ID, again.EventID = mti, "01900000-0000-7000-8000-000000000001", "dup-event"
		again.ApprovalCode = "ZZZZZZ"
		out := l.decide(&again)
		if !out.Duplicate || out.Code != "00" || out.Approved != 30_000 || out.ApprovalCode != first.ApprovalCode {
			t.Fatalf("%s duplicate: %+v, want the first decision %+v", mti, out, first)
		}
	}
	l.expect(c, balances{ledger: 100_000, held: 30_000, available: 70_000, spend: 30_000})

	// A declined one is replayed as declined, even once funds would allow it.
	big := l.purchase(c, 90_000)
	wantCode(t, l.decide(big), "51", 0)
	if _, err := l.store.Fund(context.Background(), fundOf(c, 100_000)); err != nil {
		t.Fatal(err)
	}
	repeat := *big
	repeat.MTI = "0101"
	if out := l.decide(&repeat); !out.Duplicate || out.Code != "51" {
		t.Fatalf("repeat of a decline: %+v", out)
	}
	// A repeat the authorizer never saw is decided as new.
	unseen := l.purchase(c, 10_000)
	unseen.MTI = "0101"
	if out := l.decide(unseen); out.Duplicate || out.Code != "00" {
		t.Fatalf("repeat of an unseen request: %+v", out)
	}
	l.checkBooks()
}

func TestIncrementalAuthorization(t *testing.T) {
	l := newLedger(t)
	c := l.card(cardSpec{balance: 100_000})
	first := l.purchase(c, 40_000)
	first.Preauth = true
	wantCode(t, l.decide(first), "00", 40_000)

	inc := l.purchase(c, 25_000)
	inc.NetworkTransactionID, inc.LCKey = first.NetworkTransactionID, first.LCKey
	out := l.decide(inc)
	wantCode(t, out, "00", 25_000)
	if out.Class != domain.ClassIncremental {
		t.Errorf("class %d, want incremental", out.Class)
	}
	l.expect(c, balances{ledger: 100_000, held: 65_000, available: 35_000, spend: 65_000})

	// An increment beyond the funds is declined and adds nothing.
	inc2 := l.purchase(c, 50_000)
	inc2.NetworkTransactionID, inc2.LCKey = first.NetworkTransactionID, first.LCKey
	wantCode(t, l.decide(inc2), "51", 0)

	// A full reversal of the life cycle releases the whole hold, increments included.
	wantCode(t, l.decide(l.reversalOf(first, "0400", 0)), "00", 0)
	l.expect(c, balances{ledger: 100_000, held: 0, available: 100_000, spend: 0})
	l.checkBooks()
}

func TestReversals(t *testing.T) {
	t.Run("full", func(t *testing.T) {
		l := newLedger(t)
		c := l.card(cardSpec{balance: 100_000})
		orig := l.purchase(c, 30_000)
		l.decide(orig)
		rev := l.reversalOf(orig, "0400", 0)
		if out := l.decide(rev); out.Code != "00" || out.Class != domain.ClassReversal {
			t.Fatalf("reversal: %+v", out)
		}
		l.expect(c, balances{ledger: 100_000, available: 100_000})
		// Its repeat (0401) and an advice of the same reversal (0420) change nothing.
		rep := *rev
		rep.MTI = "0401"
		if out := l.decide(&rep); !out.Duplicate {
			t.Fatalf("0401 not a duplicate: %+v", out)
		}
		l.decide(l.reversalOf(orig, "0420", 0))
		l.expect(c, balances{ledger: 100_000, available: 100_000})
		l.checkBooks()
	})
	t.Run("partial twice gives the same hold", func(t *testing.T) {
		l := newLedger(t)
		c := l.card(cardSpec{balance: 100_000})
		orig := l.purchase(c, 30_000)
		l.decide(orig)
		for range 2 {
			out := l.decide(l.reversalOf(orig, "0400", 12_000))
			wantCode(t, out, "00", 12_000)
			l.expect(c, balances{ledger: 100_000, held: 12_000, available: 88_000, spend: 12_000})
		}
		// A later "final" amount above what is held now cannot raise the hold.
		l.decide(l.reversalOf(orig, "0420", 20_000))
		l.expect(c, balances{ledger: 100_000, held: 12_000, available: 88_000, spend: 12_000})
		l.checkBooks()
	})
	t.Run("matched by DE90 without a network transaction id", func(t *testing.T) {
		l := newLedger(t)
		c := l.card(cardSpec{balance: 100_000})
		orig := l.purchase(c, 30_000)
		orig.NetworkTransactionID, orig.LCKey = "", orig.OrigKey
		l.decide(orig)
		rev := l.reversalOf(orig, "0420", 0)
		rev.LCKey = rev.OrigKey // no id: the key DE90 gives
		l.decide(rev)
		l.expect(c, balances{ledger: 100_000, available: 100_000})
		l.checkBooks()
	})
	t.Run("early reversal then late original", func(t *testing.T) {
		l := newLedger(t)
		c := l.card(cardSpec{balance: 100_000})
		orig := l.purchase(c, 30_000)
		if out := l.decide(l.reversalOf(orig, "0420", 0)); out.Code != "00" {
			t.Fatalf("early reversal: %+v", out)
		}
		out := l.decide(orig)
		wantCode(t, out, "00", 30_000) // the network is answered, but no money moves
		l.expect(c, balances{ledger: 100_000, available: 100_000})
		// Its repeat too.
		rep := *orig
		rep.MTI = "0101"
		if out := l.decide(&rep); !out.Duplicate {
			t.Fatalf("repeat: %+v", out)
		}
		l.expect(c, balances{ledger: 100_000, available: 100_000})
		l.checkBooks()
	})
	t.Run("early partial reversal caps the late original", func(t *testing.T) {
		l := newLedger(t)
		c := l.card(cardSpec{balance: 100_000})
		orig := l.purchase(c, 30_000)
		l.decide(l.reversalOf(orig, "0400", 10_000))
		l.decide(orig)
		l.expect(c, balances{ledger: 100_000, held: 10_000, available: 90_000, spend: 10_000})
		l.checkBooks()
	})
	t.Run("reversal of a posted stand-in and of a refund", func(t *testing.T) {
		l := newLedger(t)
		c := l.card(cardSpec{balance: 100_000})
		orig := l.purchase(c, 30_000)
		l.decide(l.adviceOf(orig, "0120", 30_000, "00"))
		l.expect(c, balances{ledger: 70_000, available: 70_000, spend: 30_000})
		l.decide(l.reversalOf(orig, "0420", 5_000))
		l.expect(c, balances{ledger: 95_000, available: 95_000, spend: 5_000})

		refund := l.purchase(c, 8_000)
		refund.Kind, refund.ProcessingCode = domain.KindCredit, "200000"
		l.decide(refund)
		l.expect(c, balances{ledger: 103_000, available: 103_000, spend: 5_000})
		l.decide(l.reversalOf(refund, "0400", 0))
		l.expect(c, balances{ledger: 95_000, available: 95_000, spend: 5_000})
		l.checkBooks()
	})
}

func TestRefund(t *testing.T) {
	l := newLedger(t)
	// A refund is never declined for funds or limits, nor approved in part.
	c := l.card(cardSpec{limits: domain.Limits{PerTransaction: 1_000, Rolling30Days: 1_000, DailyATMCount: 0}})
	in := l.purchase(c, 50_000)
	in.Kind, in.ProcessingCode, in.PartialOK = domain.KindCredit, "200000", true
	out := l.decide(in)
	wantCode(t, out, "00", 50_000)
	if out.Class != domain.ClassRefund {
		t.Errorf("class %d, want refund", out.Class)
	}
	l.expect(c, balances{ledger: 50_000, available: 50_000})
	l.checkBooks()
}

func TestAdvices(t *testing.T) {
	t.Run("stand-in approval overdraws and books a receivable", func(t *testing.T) {
		l := newLedger(t)
		c := l.card(cardSpec{balance: 10_000})
		adv := l.adviceOf(l.purchase(c, 0), "0120", 25_000, "00")
		out := l.decide(adv)
		if out.Code != "00" || out.Class != domain.ClassStandInAdvice || out.Available != -15_000 {
			t.Fatalf("stand-in advice: %+v", out)
		}
		l.expect(c, balances{ledger: -15_000, available: -15_000, receivable: 15_000, spend: 25_000})
		// Its repeat books nothing more.
		rep := *adv
		rep.MTI = "0121"
		if out := l.decide(&rep); !out.Duplicate {
			t.Fatalf("0121: %+v", out)
		}
		// Funding pays the receivable back first.
		if _, err := l.store.Fund(context.Background(), fundOf(c, 20_000)); err != nil {
			t.Fatal(err)
		}
		l.expect(c, balances{ledger: 5_000, available: 5_000, spend: 25_000})
		// Purchases are declined while it is short, forced posts are not.
		l.checkBooks()
	})
	t.Run("stand-in decline is recorded without money", func(t *testing.T) {
		l := newLedger(t)
		c := l.card(cardSpec{balance: 10_000})
		out := l.decide(l.adviceOf(l.purchase(c, 0), "0120", 25_000, "51"))
		if out.Code != "51" || out.Approved != 0 {
			t.Fatalf("stand-in decline: %+v", out)
		}
		l.expect(c, balances{ledger: 10_000, available: 10_000})
		l.checkBooks()
	})
	t.Run("completion replaces the hold", func(t *testing.T) {
		l := newLedger(t)
		c := l.card(cardSpec{balance: 100_000})
		pre := l.purchase(c, 50_000)
		pre.Preauth = true
		l.decide(pre)
		out := l.decide(l.adviceOf(pre, "0120", 42_000, ""))
		if out.Code != "00" || out.Class != domain.ClassCompletionAdvice {
			t.Fatalf("completion: %+v", out)
		}
		l.expect(c, balances{ledger: 100_000, held: 42_000, available: 58_000, spend: 42_000})
		// Above the hold too: an advice is never declined.
		l.decide(l.adviceOf(pre, "0120", 130_000, "00"))
		l.expect(c, balances{ledger: 100_000, held: 130_000, available: -30_000, spend: 130_000})
		l.checkBooks()
	})
	t.Run("financial advice posts the hold", func(t *testing.T) {
		l := newLedger(t)
		c := l.card(cardSpec{balance: 100_000})
		orig := l.purchase(c, 50_000)
		l.decide(orig)
		out := l.decide(l.adviceOf(orig, "0220", 48_000, "00"))
		if out.Code != "00" || out.Class != domain.ClassFinancialAdvice {
			t.Fatalf("0220: %+v", out)
		}
		l.expect(c, balances{ledger: 52_000, available: 52_000, spend: 48_000})
		// A 0221 repeat and a second 0220 for the posted life cycle post nothing.
		l.decide(l.adviceOf(orig, "0220", 48_000, "00"))
		l.expect(c, balances{ledger: 52_000, available: 52_000, spend: 48_000})
		l.checkBooks()
	})
	t.Run("financial advice after the hold expired is a forced post", func(t *testing.T) {
		l := newLedger(t)
		c := l.card(cardSpec{balance: 30_000})
		orig := l.purchase(c, 30_000)
		l.decide(orig)
		ctx := context.Background()
		later := orig.HoldExpiresAt.Add(time.Minute)
		ids, err := l.store.DueHolds(ctx, later, 10)
		if err != nil || len(ids) != 1 {
			t.Fatalf("due holds: %v %v", ids, err)
		}
		if released, err := l.store.ExpireHold(ctx, ids[0], later); err != nil || released != 30_000 {
			t.Fatalf("expire: %d %v", released, err)
		}
		if released, err := l.store.ExpireHold(ctx, ids[0], later); err != nil || released != 0 {
			t.Fatalf("expire twice: %d %v", released, err)
		}
		l.expect(c, balances{ledger: 30_000, available: 30_000, spend: 30_000})
		spend := l.purchase(c, 20_000)
		l.decide(spend)
		l.decide(l.adviceOf(orig, "0220", 30_000, "00"))
		l.expect(c, balances{ledger: 0, held: 20_000, available: -20_000, spend: 80_000})
		l.checkBooks()
	})
}

// TestOutboxEvent decodes the event the statement wrote with the generated types.
func TestOutboxEvent(t *testing.T) {
	l := newLedger(t)
	c := l.card(cardSpec{balance: 100_000})
	in := l.purchase(c, 25_000)
	l.decide(in)
	var payload []byte
	if err := l.pool.QueryRow(context.Background(), `SELECT payload FROM outbox WHERE id = $1`, in.EventID).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	var env eventsv1.Envelope
	if err := proto.Unmarshal(payload, &env); err != nil {
		t.Fatal(err)
	}
	var ev eventsv1.AuthorizationDecided
	if err := env.GetPayload().UnmarshalTo(&ev); err != nil {
		t.Fatalf("payload %s: %v", env.GetPayload().GetTypeUrl(), err)
	}
	if env.GetEventId() != in.EventID || env.GetType() != "andes.events.v1.AuthorizationDecided" || env.GetSource() != "authorizer" ||
		env.GetSchemaVersion() != 1 || !env.GetOccurredAt().AsTime().Equal(t0) ||
		env.GetSubjectIds()["card_id"] != c.id || env.GetSubjectIds()["customer_id"] != c.customerID {
		t.Errorf("envelope %v", &env)
	}
	if ev.GetAuthorizationId() != in.ID || ev.GetCardId() != c.id || ev.GetCardAccountId() != c.accountID ||
		ev.GetCustomerId() != c.customerID || ev.GetResponseCode() != "00" ||
		ev.GetDecision() != authorizerv1.Decision_DECISION_APPROVED ||
		ev.GetMessageClass() != authorizerv1.MessageClass_MESSAGE_CLASS_AUTHORIZATION ||
		ev.GetApprovedAmount().GetAmountMinor() != 25_000 || ev.GetApprovedAmount().GetCurrency() != "PEN" ||
		ev.GetTransactionAmount().GetAmountMinor() != 25_000 || ev.GetTransactionAmount().GetCurrency() != "PEN" ||
		ev.GetAvailableAfter().GetAmountMinor() != 75_000 || ev.GetMcc() != "5411" || ev.GetMerchantName() != "BODEGA LIMA" ||
		!ev.GetDecidedAt().AsTime().Equal(t0) {
		t.Errorf("event %v", &ev)
	}

	// Negative amounts (an overdrawn account) survive the varint encoding.
	adv := l.adviceOf(l.purchase(c, 0), "0220", 200_000, "00")
	l.decide(adv)
	if err := l.pool.QueryRow(context.Background(), `SELECT payload FROM outbox WHERE id = $1`, adv.EventID).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(payload, &env); err != nil {
		t.Fatal(err)
	}
	if err := env.GetPayload().UnmarshalTo(&ev); err != nil {
		t.Fatal(err)
	}
	if got := ev.GetAvailableAfter().GetAmountMinor(); got != -125_000 {
		t.Errorf("available after the forced post: %d, want -125000", got)
	}
}
