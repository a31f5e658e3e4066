package app

import (
	"context"
	"errors"
	"sync"
)

// ErrGrantRevoked is a token request whose grant was revoked meanwhile: a reused
// code or refresh token raced it, or the subject's tokens were revoked.
var ErrGrantRevoked = errors.New("grant revoked")

// Keys of the values a grant carries from the authorization code to every token
// issued under it (go-oauth2's token "extension"): the port sets them when the code
// is issued, the signer reads them into claims, the token store into its records.
const (
	// ExtFamily is the grant's id: the code and every access and refresh token
	// issued from it, rotations included, share it, so reuse of any of them
	// revokes all of them.
	ExtFamily = "fam"
	// ExtFamilyCreated is when the grant began (Unix milliseconds); a subject's
	// "revoked before" time kills the families created before it.
	ExtFamilyCreated = "fam_at"
	// ExtAuthTime is when the customer authenticated (Unix seconds).
	ExtAuthTime = "auth_time"
	// ExtAMR is how they authenticated: "pwd" or "hwk" (a device key), RFC 8176.
	ExtAMR = "amr"
	// ExtDevice is the device whose key authenticated the customer, if any.
	ExtDevice = "device"
	// ExtJTI and ExtExpires are the last access token's id and expiry (Unix
	// seconds), set by the signer for the store.
	ExtJTI     = "jti"
	ExtExpires = "exp"
)

// Exchange is one token-endpoint request in flight: the client the port
// authenticated, which the token store checks a refresh token against, and the
// records the store already claimed for this request, because go-oauth2 loads a
// refresh token more than once per request and a second claim would look like
// reuse.
type Exchange struct {
	ClientID string
	// Secret is what the client authenticated with, for go-oauth2's own check.
	Secret string
	// CodeVerifier is the PKCE verifier of an authorization_code request.
	CodeVerifier string
	// Issued is what the signer issued, for the audit.
	Issued Issued

	mu      sync.Mutex
	claimed map[string]any
}

// Issued names the access token an exchange produced.
type Issued struct {
	JTI      string
	Customer string // empty for client-credentials tokens
}

type exchangeKey struct{}

// WithExchange starts an exchange for an authenticated client.
func WithExchange(ctx context.Context, clientID string) (context.Context, *Exchange) {
	e := &Exchange{ClientID: clientID}
	return context.WithValue(ctx, exchangeKey{}, e), e
}

// ExchangeFrom returns the request's exchange, or nil outside the token endpoint.
func ExchangeFrom(ctx context.Context) *Exchange {
	e, _ := ctx.Value(exchangeKey{}).(*Exchange)
	return e
}

// Remember keeps what was claimed under key for the rest of the request.
func (e *Exchange) Remember(key string, v any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.claimed == nil {
		e.claimed = map[string]any{}
	}
	e.claimed[key] = v
}

// Recall returns what Remember kept.
func (e *Exchange) Recall(key string) (any, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.claimed[key]
	return v, ok
}
