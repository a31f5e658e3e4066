package postgres_test

import (
	"testing"

	"github.com/andes-bank/andes/services/authorizer/domain"
)

// TestDecisionRules runs every DE39 rule of the authorization statement once, on a
// card of its own, and checks the balances the decision left.
func TestDecisionRules(t *testing.T) {
	l := newLedger(t)
	noECom := &domain.Channels{POS: true, ATM: true, International: true}
	noIntl := &domain.Channels{POS: true, ECommerce: true, ATM: true}
	mccBlocked := &domain.Channels{POS: true, ECommerce: true, ATM: true, International: true, BlockedMCCs: []string{"7995"}}

	tests := []struct {
		name         string
		card         cardSpec
		unknownCard  bool
		edit         func(in *domain.Input)
		wantCode     string
		wantApproved int64
		wantHeld     int64
	}{
		{name: "approved", card: cardSpec{balance: 100_000}, wantCode: "00", wantApproved: 25_000, wantHeld: 25_000},
		{name: "approved exactly the balance", card: cardSpec{balance: 25_000}, wantCode: "00", wantApproved: 25_000, wantHeld: 25_000},
		{name: "partial approval when the terminal can", card: cardSpec{balance: 10_000},
			edit: func(in *domain.Input) { in.PartialOK = true }, wantCode: "10", wantApproved: 10_000, wantHeld: 10_000},
		{name: "insufficient funds when it cannot", card: cardSpec{balance: 10_000}, wantCode: "51"},
		{name: "insufficient funds with nothing to approve in part", card: cardSpec{},
			edit: func(in *domain.Input) { in.PartialOK = true }, wantCode: "51"},
		{name: "unknown card", unknownCard: true, wantCode: "14"},
		{name: "lost card", card: cardSpec{balance: 100_000, status: domain.CardLost}, wantCode: "41"},
		{name: "blocked card", card: cardSpec{balance: 100_000, status: domain.CardBlocked}, wantCode: "62"},
		{name: "closed card", card: cardSpec{balance: 100_000, status: domain.CardClosed}, wantCode: "62"},
		{name: "expired card by date", card: cardSpec{balance: 100_000, expiry: "2602"}, wantCode: "54"},
		{name: "expired card by status", card: cardSpec{balance: 100_000, status: domain.CardExpired}, wantCode: "54"},
		{name: "expiry not the card's", card: cardSpec{balance: 100_000},
			edit: func(in *domain.Input) { in.Expiry = "3001" }, wantCode: "54"},
		{name: "expiry the card's", card: cardSpec{balance: 100_000},
			edit: func(in *domain.Input) { in.Expiry = "2912" }, wantCode: "00", wantApproved: 25_000, wantHeld: 25_000},
		{name: "HSM failed", card: cardSpec{balance: 100_000},
			edit: func(in *domain.Input) { in.CVV = domain.CVVError }, wantCode: "96"},
		{name: "bad CVV2", card: cardSpec{balance: 100_000},
			edit: func(in *domain.Input) { in.CVV = domain.CVVBad }, wantCode: "82"},
		{name: "good CVV2", card: cardSpec{balance: 100_000},
			edit: func(in *domain.Input) { in.CVV = domain.CVVOK }, wantCode: "00", wantApproved: 25_000, wantHeld: 25_000},
		{name: "wrong PIN", card: cardSpec{balance: 100_000, pvv: "1234"},
			edit: func(in *domain.Input) { in.PIN, in.PVVUsed = domain.PINWrong, "1234" }, wantCode: "55"},
		{name: "PIN on a card without one", card: cardSpec{balance: 100_000},
			edit: func(in *domain.Input) { in.PIN = domain.PINUnset }, wantCode: "55"},
		{name: "good PIN", card: cardSpec{balance: 100_000, pvv: "1234"},
			edit: func(in *domain.Input) { in.PIN, in.PVVUsed = domain.PINOK, "1234" }, wantCode: "00", wantApproved: 25_000, wantHeld: 25_000},
		{name: "PIN verified against an old PVV", card: cardSpec{balance: 100_000, pvv: "1234"},
			edit: func(in *domain.Input) { in.PIN, in.PVVUsed = domain.PINOK, "9999" }, wantCode: "RV"},
		{name: "e-commerce disabled", card: cardSpec{balance: 100_000, channels: noECom},
			edit: func(in *domain.Input) { in.Channel = domain.ChannelECommerce }, wantCode: "57"},
		{name: "international disabled", card: cardSpec{balance: 100_000, channels: noIntl},
			edit: func(in *domain.Input) { in.International = true }, wantCode: "57"},
		{name: "blocked merchant category", card: cardSpec{balance: 100_000, channels: mccBlocked},
			edit: func(in *domain.Input) { in.MCC = "7995" }, wantCode: "57"},
		{name: "inactive card at a terminal", card: cardSpec{balance: 100_000, status: domain.CardInactive}, wantCode: "57"},
		{name: "inactive card online", card: cardSpec{balance: 100_000, status: domain.CardInactive},
			edit: func(in *domain.Input) { in.Channel = domain.ChannelECommerce }, wantCode: "00", wantApproved: 25_000, wantHeld: 25_000},
		{name: "currency not the account's", card: cardSpec{balance: 100_000},
			edit: func(in *domain.Input) { in.Currency = "840" }, wantCode: "57"},
		{name: "converted by the network", card: cardSpec{balance: 100_000},
			edit:     func(in *domain.Input) { in.Currency, in.BillingAmount, in.BillingCurrency = "840", 30_000, "604" },
			wantCode: "00", wantApproved: 30_000, wantHeld: 30_000},
		{name: "unsupported transaction type", card: cardSpec{balance: 100_000},
			edit: func(in *domain.Input) { in.Kind = domain.KindUnsupported }, wantCode: "57"},
		{name: "per-transaction limit", card: cardSpec{balance: 100_000, limits: domain.Limits{PerTransaction: 20_000, Rolling30Days: 1_000_000, DailyATMCount: 1}},
			wantCode: "61"},
		{name: "rolling 30-day limit", card: cardSpec{balance: 100_000, limits: domain.Limits{PerTransaction: 25_000, Rolling30Days: 24_999, DailyATMCount: 1}},
			wantCode: "61"},
		{name: "ATM count at zero", card: cardSpec{balance: 100_000, limits: domain.Limits{PerTransaction: 25_000, Rolling30Days: 1_000_000, DailyATMCount: 0}},
			edit: func(in *domain.Input) { in.Channel, in.MCC, in.Cash = domain.ChannelATM, "6011", true }, wantCode: "65"},
		{name: "balance inquiry", card: cardSpec{balance: 100_000},
			edit: func(in *domain.Input) { in.Kind, in.Amount = domain.KindInquiry, 0 }, wantCode: "00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := l.card(tt.card)
			in := l.purchase(c, 25_000)
			if tt.unknownCard {
				in.Fingerprint = []byte("no such card")
			}
			if tt.edit != nil {
				tt.edit(in)
			}
			out := l.decide(in)
			if out.Code != tt.wantCode || out.Approved != tt.wantApproved {
				t.Fatalf("got %s approving %d, want %s approving %d", out.Code, out.Approved, tt.wantCode, tt.wantApproved)
			}
			if tt.unknownCard {
				return
			}
			b := l.balances(c, t0)
			if b.held != tt.wantHeld || b.available != tt.card.balance-tt.wantHeld || b.ledger != tt.card.balance {
				t.Errorf("balances %+v, want held %d available %d", b, tt.wantHeld, tt.card.balance-tt.wantHeld)
			}
			if b.spend != tt.wantHeld {
				t.Errorf("rolling spend %d, want %d", b.spend, tt.wantHeld)
			}
		})
	}
	l.checkBooks()
}

// TestPINTries: two wrong PINs answer 55, the third 75, and a right PIN after that
// is still 75; a right PIN before the third resets the count.
func TestPINTries(t *testing.T) {
	l := newLedger(t)
	c := l.card(cardSpec{balance: 100_000, pvv: "1234"})
	pin := func(v domain.PINVerdict) string {
		in := l.purchase(c, 1_000)
		in.PIN, in.PVVUsed = v, "1234"
		return l.decide(in).Code
	}
	steps := []struct {
		verdict domain.PINVerdict
		code    string
		tries   int
	}{
		{domain.PINWrong, "55", 1},
		{domain.PINOK, "00", 0},
		{domain.PINWrong, "55", 1},
		{domain.PINWrong, "55", 2},
		{domain.PINWrong, "75", 3},
		{domain.PINOK, "75", 3},
		{domain.PINWrong, "75", 3},
	}
	for i, s := range steps {
		if got := pin(s.verdict); got != s.code {
			t.Fatalf("step %d (%s): got %s, want %s", i, s.verdict, got, s.code)
		}
		if b := l.balances(c, t0); b.pinTries != s.tries {
			t.Fatalf("step %d: %d tries, want %d", i, b.pinTries, s.tries)
		}
	}
	// Without a PIN the card still works: the count only stops PIN transactions.
	if code := l.decide(l.purchase(c, 1_000)).Code; code != "00" {
		t.Errorf("purchase without PIN after the lockout: %s", code)
	}
	l.checkBooks()
}

// TestCounters: the rolling 30-day total and the ATM count are columns that move
// with each approval and forget what falls out of their window.
func TestCounters(t *testing.T) {
	l := newLedger(t)
	c := l.card(cardSpec{balance: 1_000_000, limits: domain.Limits{PerTransaction: 100_000, Rolling30Days: 150_000, DailyATMCount: 2}})
	at := func(days int, amount int64, atm bool) string {
		in := l.purchase(c, amount)
		in.Now = t0.AddDate(0, 0, days)
		if atm {
			in.Channel, in.MCC, in.Cash, in.ProcessingCode = domain.ChannelATM, "6011", true, "010000"
		}
		return l.decide(in).Code
	}
	for i, s := range []struct {
		day    int
		amount int64
		atm    bool
		code   string
	}{
		{0, 60_000, true, "00"},
		{0, 60_000, true, "00"},
		{0, 10_000, true, "65"},   // third ATM withdrawal today
		{1, 10_000, true, "00"},   // a new day
		{10, 30_000, false, "61"}, // 130,000 + 30,000 over 150,000 in 30 days
		{10, 20_000, false, "00"},
		{29, 10_000, false, "61"}, // days 0..29: 150,000 already
		{30, 60_000, false, "00"}, // day 0 has left the window: 30,000 + 60,000
		{31, 60_000, false, "00"}, // days 2..31: 20,000 + 60,000 + 60,000
		{31, 20_000, false, "61"},
	} {
		if got := at(s.day, s.amount, s.atm); got != s.code {
			t.Fatalf("step %d: got %s, want %s (%+v)", i, got, s.code, l.balances(c, t0.AddDate(0, 0, s.day)))
		}
	}
	if b := l.balances(c, t0.AddDate(0, 0, 31)); b.spend != 140_000 {
		t.Errorf("rolling spend on day 31: %d, want 140000", b.spend)
	}
	l.checkBooks()
}
