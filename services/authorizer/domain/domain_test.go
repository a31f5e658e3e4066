package domain_test

import (
	"testing"

	"github.com/andes-bank/andes/platform/checkdigit"
	"github.com/andes-bank/andes/services/authorizer/domain"
)

func TestKindOf(t *testing.T) {
	for _, tt := range []struct {
		pc   string
		kind domain.Kind
		cash bool
	}{
		{"000000", domain.KindDebit, false}, {"010000", domain.KindDebit, true}, {"090000", domain.KindDebit, false},
		{"110000", domain.KindDebit, false}, {"200000", domain.KindCredit, false}, {"300000", domain.KindInquiry, false},
		{"400000", domain.KindUnsupported, false}, {"", domain.KindUnsupported, false},
	} {
		if kind, cash := domain.KindOf(tt.pc); kind != tt.kind || cash != tt.cash {
			t.Errorf("KindOf(%q) = %s %v, want %s %v", tt.pc, kind, cash, tt.kind, tt.cash)
		}
	}
}

func TestChannelOf(t *testing.T) {
	for _, tt := range []struct {
		mcc, entry, eci string
		want            domain.Channel
	}{
		{"6011", "051", "", domain.ChannelATM},
		{"5411", "051", "", domain.ChannelPOS},
		{"5411", "071", "", domain.ChannelPOS},
		{"5411", "010", "", domain.ChannelECommerce},
		{"5411", "812", "", domain.ChannelECommerce},
		{"5411", "", "05", domain.ChannelECommerce},
	} {
		if got := domain.ChannelOf(tt.mcc, tt.entry, tt.eci); got != tt.want {
			t.Errorf("ChannelOf(%q, %q, %q) = %s, want %s", tt.mcc, tt.entry, tt.eci, got, tt.want)
		}
	}
}

func TestFamilyOf(t *testing.T) {
	for mti, want := range map[string]domain.Family{
		"0100": domain.FamilyAuthorization, "0101": domain.FamilyAuthorization,
		"0120": domain.FamilyAdvice, "0121": domain.FamilyAdvice, "0220": domain.FamilyFinancial, "0221": domain.FamilyFinancial,
		"0400": domain.FamilyReversal, "0401": domain.FamilyReversal, "0420": domain.FamilyReversal, "0421": domain.FamilyReversal,
		"0800": domain.FamilyNetwork,
	} {
		if got, ok := domain.FamilyOf(mti); !ok || got != want {
			t.Errorf("FamilyOf(%s) = %d %v", mti, got, ok)
		}
	}
	if _, ok := domain.FamilyOf("0200"); ok {
		t.Error("0200 accepted")
	}
	if domain.FamilyAuthorization.MustAcknowledge() || !domain.FamilyReversal.MustAcknowledge() || !domain.FamilyAdvice.MustAcknowledge() {
		t.Error("MustAcknowledge")
	}
}

func TestPartialAmounts(t *testing.T) {
	m := &domain.NetworkMessage{Amount: 8_000}
	if a, b := domain.PartialAmounts(m, 5_000); a != 5_000 || b != 0 {
		t.Errorf("unconverted: %d %d", a, b)
	}
	m = &domain.NetworkMessage{Amount: 8_000, BillingAmount: 30_000, BillingCurrency: "604"}
	if a, b := domain.PartialAmounts(m, 10_000); a != 2_666 || b != 10_000 {
		t.Errorf("converted: %d %d", a, b)
	}
	if a, _ := domain.PartialAmounts(m, 1); a != 1 {
		t.Errorf("a share that rounds to zero: %d", a)
	}
	big := &domain.NetworkMessage{Amount: 999_999_999_999, BillingAmount: 999_999_999_999, BillingCurrency: "604"}
	if a, _ := domain.PartialAmounts(big, 999_999_999_998); a != 999_999_999_998 {
		t.Errorf("12-digit amounts: %d", a)
	}
}

func TestNewPAN(t *testing.T) {
	pan, err := domain.NewPAN("476134", "123456789")
	if err != nil || len(pan) != 16 || !checkdigit.ValidLuhn(pan) || pan[:6] != "476134" {
		t.Fatalf("NewPAN = %q, %v", pan, err)
	}
	if _, err := domain.NewPAN("476134", "12345678"); err == nil {
		t.Error("short serial accepted")
	}
	if got := domain.MaskPAN(pan); got != "476134******"+pan[12:] {
		t.Errorf("MaskPAN = %s", got)
	}
}

func TestTrack2Expiry(t *testing.T) {
	for track, want := range map[string]string{
		"4761340000000019D29121011234": "2912", "4761340000000019=2912": "2912", "4761340000000019D29": "", "": "",
	} {
		if got := domain.Track2Expiry(track); got != want {
			t.Errorf("Track2Expiry(%q) = %q, want %q", track, got, want)
		}
	}
}

func TestLimitsValidate(t *testing.T) {
	if (domain.Limits{PerTransaction: 1, Rolling30Days: 1}).Validate() != nil {
		t.Error("valid limits refused")
	}
	for _, l := range []domain.Limits{{}, {PerTransaction: 2, Rolling30Days: 1}, {PerTransaction: 1, Rolling30Days: 1, DailyATMCount: -1}} {
		if l.Validate() == nil {
			t.Errorf("%+v accepted", l)
		}
	}
}
