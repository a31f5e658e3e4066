package domain

import (
	"errors"
	"net"
	"net/url"
	"slices"
)

// ClientKind says who a client is and so which grants it may use.
type ClientKind string

// The kinds of client (DESIGN.md sections 1 and 7).
const (
	// KindWeb is the web BFF: a confidential client using the authorization code
	// grant on the customer's behalf (token-handler pattern).
	KindWeb ClientKind = "web"
	// KindMobile is the mobile app: a public client (it cannot keep a secret), so
	// PKCE is all that binds its code to it.
	KindMobile ClientKind = "mobile"
	// KindPartner is a partner fintech, a BaaS tenant: client credentials only.
	KindPartner ClientKind = "partner"
	// KindAgent is a cash agent or branch: client credentials, under a partner.
	KindAgent ClientKind = "agent"
	// KindInternal is one of the bank's own machine clients: client credentials.
	KindInternal ClientKind = "internal"
)

// Grant types auth accepts. The implicit and password grants are not among them
// (RFC 9700 section 2.1.2 and 2.4).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
)

// Errors about clients.
var (
	ErrUnknownClient       = errors.New("unknown client")
	ErrClientDisabled      = errors.New("client disabled")
	ErrInvalidRedirectURI  = errors.New("redirect URI not registered for the client")
	ErrGrantNotAllowed     = errors.New("grant type not allowed for the client")
	ErrInvalidClientKind   = errors.New("invalid client kind")
	ErrMissingRedirectURIs = errors.New("a client using the authorization code grant needs redirect URIs")
)

// Client is an OAuth2 client registered with auth.
type Client struct {
	ID   string
	Name string
	Kind ClientKind
	// SecretHash is the keyed SHA-256 of the secret (see SecretHasher); empty for
	// public clients.
	SecretHash []byte
	// RedirectURIs are matched exactly (MatchRedirectURI); only clients of the
	// authorization code grant have them.
	RedirectURIs []string
	// Scopes are the most the client may ask for; what it asks for without naming
	// any.
	Scopes Scopes
	// PartnerID is the tenant a partner's or agent's tokens are confined to; it
	// travels as the partner_id claim.
	PartnerID string
	Disabled  bool
}

// Public reports whether the client cannot authenticate (RFC 6749 section 2.1).
func (c *Client) Public() bool { return c.Kind == KindMobile }

// Validate checks the registration is coherent.
func (c *Client) Validate() error {
	switch c.Kind {
	case KindWeb, KindMobile:
		if len(c.RedirectURIs) == 0 {
			return ErrMissingRedirectURIs
		}
		for _, u := range c.RedirectURIs {
			if _, err := parseRedirect(u); err != nil {
				return err
			}
		}
	case KindPartner, KindAgent, KindInternal:
		if len(c.RedirectURIs) > 0 {
			return errors.New("a client-credentials client has no redirect URIs")
		}
	default:
		return ErrInvalidClientKind
	}
	if c.Public() != (len(c.SecretHash) == 0) {
		return errors.New("a confidential client needs a secret and a public one has none")
	}
	if (c.Kind == KindPartner || c.Kind == KindAgent) && c.PartnerID == "" {
		return errors.New("a partner or agent client needs its partner id")
	}
	return nil
}

// AllowsGrant reports whether the client may use a grant type.
func (c *Client) AllowsGrant(grant string) bool {
	switch c.Kind {
	case KindWeb, KindMobile:
		return grant == GrantAuthorizationCode || grant == GrantRefreshToken
	case KindPartner, KindAgent, KindInternal:
		return grant == GrantClientCredentials
	}
	return false
}

// GrantScopes decides the scopes of a request: the client's own when it names none,
// else exactly those it names, which must all be allowed to it.
func (c *Client) GrantScopes(requested Scopes) (Scopes, error) {
	if len(requested) == 0 {
		return slices.Clone(c.Scopes), nil
	}
	if !requested.Subset(c.Scopes) {
		return nil, ErrInvalidScope
	}
	return requested, nil
}

// MatchRedirectURI reports whether uri is one of the client's redirect URIs, by
// exact comparison (RFC 9700 section 4.1.3): a look-alike host, another path, an
// added query or fragment are refused. The one exception is RFC 8252 section 7.3:
// a registered loopback IP URI without a port matches the same URI with any port,
// because a native app listens on whatever port the OS gives it.
func (c *Client) MatchRedirectURI(uri string) bool {
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	got, err := parseRedirect(uri)
	if err != nil || got.Scheme != "http" || !isLoopbackIP(got.Hostname()) || got.Port() == "" {
		return false
	}
	for _, reg := range c.RedirectURIs {
		want, err := parseRedirect(reg)
		if err != nil || want.Scheme != "http" || want.Port() != "" || !isLoopbackIP(want.Hostname()) {
			continue
		}
		if want.Hostname() == got.Hostname() && want.EscapedPath() == got.EscapedPath() && want.RawQuery == got.RawQuery {
			return true
		}
	}
	return false
}

// parseRedirect accepts absolute URIs without fragment or user information (RFC 6749
// section 3.1.2).
func parseRedirect(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque != "" || u.Fragment != "" || u.User != nil {
		return nil, ErrInvalidRedirectURI
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return nil, ErrInvalidRedirectURI
	}
	return u, nil
}

// isLoopbackIP is true for 127.0.0.1 and ::1 literals only: RFC 8252 section 8.3
// advises against "localhost", which DNS or a hosts file may point elsewhere.
func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
