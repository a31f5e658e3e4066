package ports

import (
	"context"
	"errors"
	"testing"

	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/services/controller/domain"
)

// The actor comes from the verified principal: a customer or a partner (an agent
// with the cash scope); no token, or the bank's own machine client, acts for no
// one here.
func TestActorComesFromThePrincipal(t *testing.T) {
	for _, c := range []struct {
		name string
		p    *tokens.Principal
		want domain.Actor
		err  error
	}{
		{"customer", &tokens.Principal{Subject: "c1", ClientID: "andes-mobile", Scopes: []string{tokens.ScopeTransfersWrite}},
			domain.Actor{Kind: domain.ActorCustomer, CustomerID: "c1", ClientID: "andes-mobile", Subject: "c1"}, nil},
		{"partner", &tokens.Principal{Subject: "partner-kallpa", ClientID: "partner-kallpa", PartnerID: "kallpa"},
			domain.Actor{Kind: domain.ActorPartner, PartnerID: "kallpa", ClientID: "partner-kallpa", Subject: "partner-kallpa"}, nil},
		{"agent", &tokens.Principal{Subject: "agent-tambo", ClientID: "agent-tambo", PartnerID: "kallpa", Scopes: []string{tokens.ScopeCash}},
			domain.Actor{Kind: domain.ActorPartner, PartnerID: "kallpa", Agent: true, ClientID: "agent-tambo", Subject: "agent-tambo"}, nil},
		{"bank machine client", &tokens.Principal{Subject: "ops", ClientID: "ops"}, domain.Actor{}, domain.ErrUnauthenticated},
		{"no token", nil, domain.Actor{}, domain.ErrUnauthenticated},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			if c.p != nil {
				ctx = tokens.WithPrincipal(ctx, c.p)
			}
			got, err := actor(ctx)
			if !errors.Is(err, c.err) || got != c.want {
				t.Fatalf("%+v %v, want %+v %v", got, err, c.want, c.err)
			}
		})
	}
}
