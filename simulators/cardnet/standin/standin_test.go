package standin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/standin"
)

var noon = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func req(code string, amount int64, opts ...func(*iso8583.Request)) *iso8583.Request {
	r := &iso8583.Request{MTI: "0100", PAN: "4000001234567899", ProcessingCode: code, Amount: amount, Currency: "604", Expiry: "2812"}
	for _, o := range opts {
		o(r)
	}
	return r
}

func TestDecide(t *testing.T) {
	limits := standin.Limits{PerTransaction: 10_000, DailyAmount: 15_000, DailyCount: 3, DailyCashCount: 1}
	withPIN := func(r *iso8583.Request) { r.PINBlock = make([]byte, 8) }
	expiredLastMonth := func(r *iso8583.Request) { r.Expiry = "2602" }
	converted := func(r *iso8583.Request) { r.Amount, r.BillingAmount, r.BillingCurrency = 100, 20_000, "604" }
	tests := []struct {
		name   string
		before []*iso8583.Request // approved first
		req    *iso8583.Request
		limits *standin.Limits
		want   string
	}{
		{name: "small purchase", req: req("000000", 5_000), want: "00"},
		{name: "at the per-transaction limit", req: req("000000", 10_000), want: "00"},
		{name: "over the per-transaction limit", req: req("000000", 10_001), want: "61"},
		{name: "billing amount counts when converted", req: req("000000", 0, converted), want: "61"},
		{name: "over the daily amount", before: []*iso8583.Request{req("000000", 10_000)}, req: req("000000", 5_001), want: "61"},
		{name: "up to the daily amount", before: []*iso8583.Request{req("000000", 10_000)}, req: req("000000", 5_000), want: "00"},
		{name: "over the daily count", before: []*iso8583.Request{req("000000", 1), req("000000", 1), req("000000", 1)}, req: req("000000", 1), want: "65"},
		{name: "PIN cannot be verified", req: req("010000", 1_000, withPIN), want: "91"},
		{name: "PIN trusted when configured", req: req("010000", 1_000, withPIN),
			limits: &standin.Limits{PerTransaction: 10_000, DailyAmount: 15_000, DailyCount: 3, DailyCashCount: 1, ApproveUnverifiedPIN: true}, want: "00"},
		{name: "second cash withdrawal", before: []*iso8583.Request{req("010000", 100)}, req: req("010000", 100), want: "65"},
		{name: "expired card", req: req("000000", 100, expiredLastMonth), want: "54"},
		{name: "refund always accepted", req: req("200000", 1_000_000), want: "00"},
		{name: "balance inquiry not stood in", req: req("300000", 0), want: "12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := limits
			if tt.limits != nil {
				l = *tt.limits
			}
			r := standin.New(l, func() time.Time { return noon })
			for _, b := range tt.before {
				if d := r.Decide(b); !d.Approved() {
					t.Fatalf("setup decision declined: %+v", d)
				}
			}
			d := r.Decide(tt.req)
			if d.ResponseCode != tt.want {
				t.Fatalf("got %s (%s), want %s", d.ResponseCode, d.Reason, tt.want)
			}
			if d.Approved() != strings.HasPrefix(d.ApprovalCode, "S") {
				t.Fatalf("approval code %q for %s", d.ApprovalCode, d.ResponseCode)
			}
		})
	}
}

func TestDailyUsageResetsAndReleaseGivesBack(t *testing.T) {
	now := noon
	r := standin.New(standin.Limits{PerTransaction: 10_000, DailyAmount: 10_000, DailyCount: 5}, func() time.Time { return now })
	first := req("000000", 10_000)
	if d := r.Decide(first); !d.Approved() {
		t.Fatal(d)
	}
	if d := r.Decide(req("000000", 1)); d.ResponseCode != "61" {
		t.Fatalf("after the daily amount: %+v", d)
	}
	r.Release(first, 4_000) // partially reversed down to 4,000
	if d := r.Decide(req("000000", 6_000)); !d.Approved() {
		t.Fatalf("after a partial reversal gave 6,000 back: %+v", d)
	}
	now = now.Add(24 * time.Hour)
	if d := r.Decide(req("000000", 10_000)); !d.Approved() {
		t.Fatalf("next day: %+v", d)
	}
}

func TestCardRefHidesThePAN(t *testing.T) {
	r := standin.New(standin.DefaultLimits, nil)
	ref := r.CardRef("4000001234567899")
	if strings.Contains(ref, "4000001234567899") || ref != r.CardRef("4000001234567899") || ref == r.CardRef("4000001234567881") {
		t.Fatalf("card ref %q", ref)
	}
}
