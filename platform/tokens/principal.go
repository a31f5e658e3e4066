package tokens

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Principal is who a verified access token speaks for.
type Principal struct {
	// Subject is the token's sub: the Andes customer id for a customer's token,
	// the client id for a client-credentials token.
	Subject string
	// ClientID is the OAuth2 client the token was issued to.
	ClientID string
	// PartnerID is the tenant a partner's or agent's token is confined to; empty
	// for the bank's own clients.
	PartnerID string
	// Scopes are the token's scopes.
	Scopes []string
	// TokenID is the jti: the token's id in audit trails and revocations.
	TokenID   string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// AuthTime and AMR say when and how a customer authenticated ("pwd", "hwk").
	AuthTime time.Time
	AMR      []string
}

// HasScope reports whether the token carries scope.
func (p *Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

// IsCustomer reports whether the token acts for a customer rather than for the
// client itself.
func (p *Principal) IsCustomer() bool { return p.Subject != p.ClientID }

// Kind says on whose behalf a token acts.
type Kind int

const (
	// KindClient is a client's own token without a tenant: a machine client of
	// the bank acting for itself.
	KindClient Kind = iota + 1
	// KindCustomer is a customer's token: it acts for its Subject, the Andes
	// customer id.
	KindCustomer
	// KindPartner is a partner's or agent's client-credentials token: it acts for
	// the customers its PartnerID onboarded.
	KindPartner
)

// Kind says on whose behalf the token acts; every process reads it here rather
// than from the claims.
func (p *Principal) Kind() Kind {
	switch {
	case p.IsCustomer():
		return KindCustomer
	case p.PartnerID != "":
		return KindPartner
	}
	return KindClient
}

// ScopeString is the space-separated scope claim.
func (p *Principal) ScopeString() string { return strings.Join(p.Scopes, " ") }

type principalKey struct{}

// WithPrincipal returns ctx carrying p; the middleware and interceptors call it,
// tests may too.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of the request, or nil when none was verified.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
