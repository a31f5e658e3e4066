package domain

// ActorKind says on whose behalf a call acts.
type ActorKind int

const (
	// ActorCustomer is a retail customer's token: it acts for its own sub only.
	ActorCustomer ActorKind = iota + 1
	// ActorPartner is a partner's or agent's client-credentials token: it acts for
	// the customers its partner onboarded (and, with the cash scope, as an agent).
	ActorPartner
)

// Actor is who a request acts for: the end user's verified token and the gateway
// that forwarded it. Every controller call carries a token: the gateways always
// act for someone. The port builds it from the platform's principal; a machine
// client of the bank itself acts for no customer here.
type Actor struct {
	Kind       ActorKind
	CustomerID string // ActorCustomer
	PartnerID  string // ActorPartner
	// Agent says a partner's token carries the cash scope: it acts as one of the
	// partner's agents.
	Agent    bool
	ClientID string
	Subject  string
	Caller   string // the mTLS identity of the calling process
}

// CanActFor is the object-level rule for a customer: a customer only for itself, a
// partner only for the customers it onboarded.
func (a Actor) CanActFor(customerID, customerPartnerID string) bool {
	switch a.Kind {
	case ActorCustomer:
		return customerID == a.CustomerID
	case ActorPartner:
		return customerPartnerID != "" && customerPartnerID == a.PartnerID
	}
	return false
}

// CanSee is the object-level rule for an operation: its customer, the customer's
// partner, or the agent that took the cash.
func (a Actor) CanSee(o *Operation) bool {
	if a.CanActFor(o.CustomerID, o.CustomerPartnerID) {
		return true
	}
	return a.Kind == ActorPartner && o.AgentPartnerID != "" && o.AgentPartnerID == a.PartnerID
}

// Channel is where the call came from, by the gateway that forwarded it.
func (a Actor) Channel() Channel {
	switch {
	case a.Caller == "bff-web":
		return ChannelWeb
	case a.Caller == "bff-mobile":
		return ChannelMobile
	case a.Kind == ActorPartner && a.Agent:
		return ChannelAgent
	case a.Kind == ActorPartner:
		return ChannelPartner
	}
	return ""
}
