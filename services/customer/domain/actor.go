package domain

import "strings"

// ActorKind says on whose behalf a call acts.
type ActorKind int

const (
	// ActorService is a trusted Andes process acting on its own account (the
	// controller, onboarding, the migrator, auth) without an end user's token.
	ActorService ActorKind = iota + 1
	// ActorCustomer is a retail customer's token: it may act for its own sub only.
	ActorCustomer
	// ActorPartner is a partner's (or its agents') client-credentials token: it may
	// act for the customers it onboarded only.
	ActorPartner
)

// Actor is who a request acts for: the end user's principal when a token came with
// the call, else the calling process.
type Actor struct {
	Kind       ActorKind
	CustomerID string // ActorCustomer
	PartnerID  string // ActorPartner
	Caller     string // the mTLS identity of the calling process
}

// gatewayPrefix names the processes that face end users: they always act for one
// and must pass the user's token.
const gatewayPrefix = "bff-"

// TokenKind says on whose behalf the end user's token that came with a call
// acts; the port reads it from the platform's verified principal.
type TokenKind int

const (
	// NoToken: the call came without an end user's token.
	NoToken TokenKind = iota
	// ClientToken is a machine client of the bank itself, acting for itself.
	ClientToken
	// CustomerToken acts for the customer it names.
	CustomerToken
	// PartnerToken acts for the customers its partner onboarded.
	PartnerToken
)

// NewActor decides who acts from the calling process and the token's kind,
// customer and partner. A gateway needs a customer's or a partner's token: it
// never acts on its own account, nor for a machine client of the bank.
func NewActor(caller string, token TokenKind, customerID, partnerID string) (Actor, error) {
	switch token {
	case CustomerToken:
		return Actor{Kind: ActorCustomer, CustomerID: customerID, Caller: caller}, nil
	case PartnerToken:
		return Actor{Kind: ActorPartner, PartnerID: partnerID, Caller: caller}, nil
	}
	// No token, or the bank's own machine client, which acts like the process
	// that forwarded it.
	if caller == "" || strings.HasPrefix(caller, gatewayPrefix) {
		return Actor{}, ErrUnauthenticated
	}
	return Actor{Kind: ActorService, Caller: caller}, nil
}

// CanSeeCustomer is the object-level rule for a customer and everything it owns.
func (a Actor) CanSeeCustomer(c *Customer) bool {
	switch a.Kind {
	case ActorService:
		return true
	case ActorCustomer:
		return c.ID == a.CustomerID
	case ActorPartner:
		return c.PartnerID != "" && c.PartnerID == a.PartnerID
	}
	return false
}

// CanSeePartner lets a partner see itself and the bank's processes see any.
func (a Actor) CanSeePartner(partnerID string) bool {
	switch a.Kind {
	case ActorService:
		return true
	case ActorPartner:
		return partnerID == a.PartnerID
	}
	return false
}

// SeesOwners reports whether an account's owner id may be shown for an account the
// actor does not own (payments to others show the masked name only).
func (a Actor) SeesOwners() bool { return a.Kind == ActorService }
