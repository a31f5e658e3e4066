package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/customer/domain"
)

func TestActorRules(t *testing.T) {
	retail := &domain.Customer{ID: "c-retail"}
	kallpa := &domain.Customer{ID: "c-kallpa", PartnerID: "kallpa"}
	cases := []struct {
		name                          string
		caller                        string
		token                         domain.TokenKind
		customer, partner             string
		wantErr                       error
		seesRetail, seesKallpa, seesP bool
	}{
		{"customer sees only self", "bff-mobile", domain.CustomerToken, "c-retail", "", nil, true, false, false},
		{"partner's customer sees only self", "bff-web", domain.CustomerToken, "c-kallpa", "", nil, false, true, false},
		{"partner sees its customers", "bff-partner", domain.PartnerToken, "", "kallpa", nil, false, true, true},
		{"other partner sees none", "bff-partner", domain.PartnerToken, "", "yaku", nil, false, false, false},
		{"controller on its own account", "controller", domain.NoToken, "", "", nil, true, true, true},
		{"a bank machine client through the controller", "controller", domain.ClientToken, "", "", nil, true, true, true},
		{"gateway without a token", "bff-mobile", domain.NoToken, "", "", domain.ErrUnauthenticated, false, false, false},
		{"gateway with a bank machine token", "bff-partner", domain.ClientToken, "", "", domain.ErrUnauthenticated, false, false, false},
		{"no caller identity", "", domain.NoToken, "", "", domain.ErrUnauthenticated, false, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := domain.NewActor(c.caller, c.token, c.customer, c.partner)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if err != nil {
				return
			}
			if a.CanSeeCustomer(retail) != c.seesRetail || a.CanSeeCustomer(kallpa) != c.seesKallpa || a.CanSeePartner("kallpa") != c.seesP {
				t.Fatalf("actor %+v: retail %v kallpa %v partner %v", a, a.CanSeeCustomer(retail), a.CanSeeCustomer(kallpa), a.CanSeePartner("kallpa"))
			}
		})
	}
}

func TestMasks(t *testing.T) {
	if got := domain.MaskName("Juan", "Pérez García"); got != "Juan P*** G***" {
		t.Fatal(got)
	}
	if got := domain.MaskAccountNumber("19100100000777"); got != "**********0777" {
		t.Fatal(got)
	}
}

func TestBuildViewStaleness(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	c := &domain.Customer{ID: "c"}
	cases := []struct {
		name  string
		snap  domain.Snapshot
		stale bool
	}{
		{"fresh", domain.Snapshot{FreshUntil: now.Add(time.Minute)}, false},
		{"past freshness", domain.Snapshot{FreshUntil: now.Add(-time.Second)}, true},
		{"facade says stale", domain.Snapshot{FreshUntil: now.Add(time.Minute), Stale: true}, true},
	}
	for _, tc := range cases {
		if got := domain.BuildView(c, nil, &tc.snap, now).Stale; got != tc.stale {
			t.Errorf("%s: stale %v", tc.name, got)
		}
	}
}
