package tokens_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	"github.com/andes-bank/andes/platform/tokens"
)

// Every scope of the auth contract has a claim value, and the exported names
// cover them all.
func TestScopesComeFromTheAuthContract(t *testing.T) {
	exported := map[string]bool{}
	for _, s := range []string{tokens.ScopeAccountsRead, tokens.ScopeAccountsWrite, tokens.ScopeTransfersWrite,
		tokens.ScopeCustomersRead, tokens.ScopeCustomersWrite, tokens.ScopeCash, tokens.ScopeCardsRead,
		tokens.ScopeCardsWrite, tokens.ScopeOfflineAccess} {
		exported[s] = true
	}
	values := authv1.Scope(0).Descriptor().Values()
	for i := range values.Len() {
		v := authv1.Scope(values.Get(i).Number())
		got := tokens.ClaimValue(v)
		if v == authv1.Scope_SCOPE_UNSPECIFIED {
			if got != "" {
				t.Errorf("%v has claim value %q", v, got)
			}
			continue
		}
		if got == "" || !exported[got] {
			t.Errorf("%v: claim value %q not exported", v, got)
		}
		delete(exported, got)
	}
	if len(exported) != 0 {
		t.Errorf("exported scopes the contract lacks: %v", exported)
	}
	if tokens.ClaimValue(authv1.Scope(protoreflect.EnumNumber(99))) != "" || tokens.PlatformAudience() != "https://api.andes.bank" {
		t.Error("claim values of an unknown scope or the audience")
	}
}

func TestKindSaysForWhomATokenActs(t *testing.T) {
	for _, c := range []struct {
		p    tokens.Principal
		want tokens.Kind
	}{
		{tokens.Principal{Subject: "c-1", ClientID: "andes-mobile"}, tokens.KindCustomer},
		{tokens.Principal{Subject: "partner-kallpa", ClientID: "partner-kallpa", PartnerID: "kallpa"}, tokens.KindPartner},
		{tokens.Principal{Subject: "ops", ClientID: "ops"}, tokens.KindClient},
	} {
		if got := c.p.Kind(); got != c.want {
			t.Errorf("%+v: %v, want %v", c.p, got, c.want)
		}
	}
}
