package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/controller/domain"
)

func TestCheckAmount(t *testing.T) {
	l := domain.Limits{"PEN": {MinPerOperation: 100, MaxPerOperation: 1_000_000, Daily: 2_000_000}}
	cases := []struct {
		name      string
		amount    domain.Money
		account   string
		want      error
		wantTL    bool
		wantBelow bool
	}{
		{"within", domain.Money{Minor: 5000, Currency: "PEN"}, "PEN", nil, false, false},
		{"at the minimum", domain.Money{Minor: 100, Currency: "PEN"}, "PEN", nil, false, false},
		{"at the maximum", domain.Money{Minor: 1_000_000, Currency: "PEN"}, "PEN", nil, false, false},
		{"below the minimum", domain.Money{Minor: 99, Currency: "PEN"}, "PEN", nil, true, true},
		{"above the maximum", domain.Money{Minor: 1_000_001, Currency: "PEN"}, "PEN", nil, true, false},
		{"zero", domain.Money{Minor: 0, Currency: "PEN"}, "PEN", domain.ErrInvalid, false, false},
		{"negative", domain.Money{Minor: -5, Currency: "PEN"}, "PEN", domain.ErrInvalid, false, false},
		{"another currency than the account's", domain.Money{Minor: 5000, Currency: "USD"}, "PEN", domain.ErrCurrencyMismatch, false, false},
		{"a currency without rules", domain.Money{Minor: 5000, Currency: "CLP"}, "CLP", domain.ErrInvalid, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := l.CheckAmount(c.amount, c.account)
			var tl *domain.TransactionLimitError
			switch {
			case c.wantTL:
				if !errors.As(err, &tl) || tl.Below != c.wantBelow {
					t.Fatalf("got %v, want a transaction limit error (below %v)", err, c.wantBelow)
				}
			case c.want == nil && err != nil, c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestDailyLimit(t *testing.T) {
	cases := []struct {
		name             string
		limit, used, amt int64
		ok               bool
		remaining        int64
	}{
		{"nothing used", 200_000, 0, 200_000, true, 200_000},
		{"fits exactly", 200_000, 150_000, 50_000, true, 50_000},
		{"one cent too many", 200_000, 150_000, 50_001, false, 50_000},
		{"already over (limit lowered)", 100_000, 150_000, 1, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := domain.Daily{Limit: domain.Money{Minor: c.limit, Currency: "PEN"}, Used: domain.Money{Minor: c.used, Currency: "PEN"}}
			err := d.Allows(c.amt)
			var dl *domain.DailyLimitError
			if c.ok != (err == nil) || (!c.ok && (!errors.As(err, &dl) || dl.Remaining.Minor != c.remaining)) {
				t.Fatalf("Allows(%d) = %v", c.amt, err)
			}
			if got := d.Remaining().Minor; got != c.remaining {
				t.Errorf("remaining %d, want %d", got, c.remaining)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	l, err := domain.ParseLimits("PEN:1:1000000:2000000, USD:1:300000:600000")
	if err != nil || l["PEN"].Daily != 2_000_000 || l["USD"].MaxPerOperation != 300_000 {
		t.Fatalf("%v, %v", l, err)
	}
	for _, bad := range []string{"", "PEN:1:2", "pen:1:2:3", "PEN:0:2:3", "PEN:5:2:3", "PEN:1:x:3"} {
		if _, err := domain.ParseLimits(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestBusinessDateIsLima(t *testing.T) {
	cases := map[string]string{
		"2026-11-22T04:59:59Z": "2026-11-21", // still the 21st in Lima
		"2026-11-22T05:00:00Z": "2026-11-22",
		"2026-12-31T23:00:00Z": "2026-12-31",
	}
	for in, want := range cases {
		at, _ := time.Parse(time.RFC3339, in)
		if got := domain.BusinessDate(at); got != want {
			t.Errorf("BusinessDate(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestCheckRange(t *testing.T) {
	cases := []struct {
		from, to string
		ok       bool
	}{
		{"2026-01-01", "2026-01-01", true},
		{"2025-01-01", "2025-12-31", true},
		{"2024-01-01", "2024-12-31", true}, // 366 days in a leap year
		{"2024-01-01", "2025-01-01", false},
		{"2026-02-01", "2026-01-01", false},
		{"2026-02-30", "2026-03-01", false},
	}
	for _, c := range cases {
		if err := domain.CheckRange(c.from, c.to); (err == nil) != c.ok {
			t.Errorf("CheckRange(%s, %s) = %v", c.from, c.to, err)
		}
	}
}

func TestObjectLevelRules(t *testing.T) {
	customer := domain.Actor{Kind: domain.ActorCustomer, CustomerID: "c1", Caller: "bff-mobile"}
	partner := domain.Actor{Kind: domain.ActorPartner, PartnerID: "kallpa", Agent: true, Caller: "bff-partner"}
	op := &domain.Operation{CustomerID: "c1", CustomerPartnerID: "", AgentPartnerID: "kallpa"}
	cases := []struct {
		name string
		ok   bool
	}{
		{"customer acts for itself", customer.CanActFor("c1", "")},
		{"customer does not act for another", !customer.CanActFor("c2", "")},
		{"partner acts for its customer", partner.CanActFor("c9", "kallpa")},
		{"partner does not act for the bank's own", !partner.CanActFor("c1", "")},
		{"partner does not act for another partner's", !partner.CanActFor("c9", "yaku")},
		{"the agent sees its cash operation", partner.CanSee(op)},
		{"the customer sees its operation", customer.CanSee(op)},
		{"the agent's channel", partner.Channel() == domain.ChannelAgent},
		{"the mobile channel", customer.Channel() == domain.ChannelMobile},
	}
	for _, c := range cases {
		if !c.ok {
			t.Errorf("%s: no", c.name)
		}
	}
}
