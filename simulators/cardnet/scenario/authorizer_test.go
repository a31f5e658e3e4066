package scenario_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/andes-bank/andes/services/authorizer/authorizertest"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/scenario"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
)

// scenarioCards are the cards the scenarios ask for by name, one account each
// so that every scenario's balances start clean.
var scenarioCards = scenario.CardNames()

const scenarioFunding = 500_000 // PEN 5,000.00 on each card

// issuerLedger is the authorizer's card ledger as the scenarios read it.
type issuerLedger struct {
	stack *authorizertest.Stack
	cards map[string]authorizertest.Card // by PAN
}

func (l *issuerLedger) Balances(ctx context.Context, c terminal.Card) (available, held int64, err error) {
	card, ok := l.cards[c.PAN]
	if !ok {
		return 0, 0, fmt.Errorf("%s was not issued by this test", c)
	}
	b, err := l.stack.Balances(ctx, card)
	return b.Available, b.Held, err
}

func runAgainstInProcess(t *testing.T, enc iso8583.TextEncoding) {
	stack := authorizertest.Start(t, authorizertest.StartHSM(t), authorizertest.WithText(enc))
	ctx := context.Background()
	ledger := &issuerLedger{stack: stack, cards: map[string]authorizertest.Card{}}
	var cards []terminal.Card
	byName := map[string]authorizertest.Card{}
	for _, name := range scenarioCards {
		c := stack.IssueCard(ctx, authorizertest.CardOptions{Balance: scenarioFunding})
		ledger.cards[c.PAN] = c
		byName[name] = c
		cards = append(cards, terminal.Card{Name: name, PAN: c.PAN, Expiry: c.Expiry, CVV2: c.CVV2, PIN: c.PIN, PVKI: 1, Currency: c.Currency})
	}
	out := &syncBuffer{}
	env := newEnv(t, stack.ISOAddr(), enc, cards, ledger, out)
	rctx, cancel := context.WithTimeout(ctx, hangGuard)
	defer cancel()
	for _, s := range scenario.All() {
		if err := env.Run(rctx, s); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
	}
	if err := env.Network.Drain(rctx); err != nil {
		t.Fatal(err)
	}

	// What each account must hold at the end, from the scenarios' stories: the
	// ledger moved by what was spent, nothing left held but the card-present
	// purchases not yet cleared, nothing owed.
	want := map[string]authorizertest.Balances{
		"restaurant": {Ledger: scenarioFunding, Held: 18_550},
		"online":     {Ledger: scenarioFunding, Held: 25_990},
		"travel":     {Ledger: scenarioFunding - 5_000}, // a ticket cleared, the refund credited
		"fuel":       {Ledger: scenarioFunding - 6_543},
		"hotel":      {Ledger: scenarioFunding - 131_200},
		"atm":        {Ledger: scenarioFunding, Held: 3 * 10_000},
		// The cable cut: groceries held; the stood-in pharmacy purchases forced
		// posted; the late-answered approval reversed; the taxi reversed.
		"daily": {Ledger: scenarioFunding - 6_000 - 4_500, Held: 3_250},
	}
	for _, name := range scenarioCards {
		c := byName[name]
		got, err := stack.Balances(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		w := want[name]
		w.Available = w.Ledger - w.Held
		if got != w {
			t.Errorf("%s: ledger %+v, want %+v", name, got, w)
		}
	}
	counters := func(name string) authorizertest.Counters {
		k, err := stack.Counters(ctx, byName[name])
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if k := counters("atm"); k.ATMCount != 3 {
		t.Errorf("atm: %d withdrawals counted, want 3 (the program's daily count)", k.ATMCount)
	}
	if k := counters("restaurant"); k.PINTries != 0 || k.Spent30 != 18_550 {
		t.Errorf("restaurant: counters %+v, want no PIN tries left after the right PIN and 185.50 spent", k)
	}
	printed := out.String()
	for _, c := range cards {
		if strings.Contains(printed, c.PAN) {
			t.Fatalf("card %s printed in clear", c)
		}
	}
	if testing.Verbose() {
		t.Log("\n" + printed)
	}
}
