package app

import (
	"context"
	"errors"
	"time"

	"github.com/andes-bank/andes/services/auth/domain"
)

// ErrNotYourToken is a client revoking or introspecting a token issued to another
// client (RFC 7009 section 2.1 refuses it).
var ErrNotYourToken = errors.New("the token was issued to another client")

// AccessToken is a verified access token's identity, as the port read it.
type AccessToken struct {
	JTI      string
	Subject  string
	ClientID string
	IssuedAt time.Time
	Expires  time.Time
}

// RevokeAccessToken revokes an access token (RFC 7009) of the requesting client.
func (a *App) RevokeAccessToken(ctx context.Context, client *domain.Client, t AccessToken, origin Origin) error {
	if t.ClientID != client.ID {
		return ErrNotYourToken
	}
	revoked, err := a.d.Tokens.RevokeJTI(ctx, t.JTI, t.Expires)
	if err != nil {
		return err
	}
	if revoked {
		a.Audit(ctx, domain.AuditEvent{Action: domain.ActionTokenRevoked, Success: true, CustomerID: customerOf(t.Subject, t.ClientID),
			ClientID: client.ID, OriginIP: origin.IP, UserAgent: origin.UserAgent, Detail: "jti=" + t.JTI})
	}
	return nil
}

// RevokeRefreshToken revokes a refresh token's whole family (RFC 7009 section 2.1:
// revoking a refresh token should also revoke the access tokens of the grant). An
// unknown token is not an error.
func (a *App) RevokeRefreshToken(ctx context.Context, client *domain.Client, token string, origin Origin) error {
	st, err := a.d.Tokens.PeekRefresh(ctx, token)
	if err != nil || st == nil {
		return err
	}
	if st.ClientID != client.ID {
		return ErrNotYourToken
	}
	if _, err := a.d.Tokens.RevokeRefresh(ctx, token, client.ID); err != nil {
		return err
	}
	a.Audit(ctx, domain.AuditEvent{Action: domain.ActionTokenRevoked, Success: true, CustomerID: customerOf(st.Subject, client.ID),
		ClientID: client.ID, OriginIP: origin.IP, UserAgent: origin.UserAgent, Detail: "family=" + st.FamilyID})
	return nil
}

// AccessTokenRevoked reports whether a verified access token was revoked.
func (a *App) AccessTokenRevoked(ctx context.Context, t AccessToken) (bool, error) {
	return a.d.Tokens.Revoked(ctx, t.JTI, t.Subject, t.IssuedAt)
}

// InspectRefresh returns a refresh token's state, or nil when unknown.
func (a *App) InspectRefresh(ctx context.Context, token string) (*RefreshState, error) {
	return a.d.Tokens.PeekRefresh(ctx, token)
}

// MayIntrospect says whether client may learn about a token issued to owner: its
// own tokens always; the bank's web BFF and internal clients, which serve APIs,
// any token of the platform.
func MayIntrospect(client *domain.Client, owner string) bool {
	return client.ID == owner || client.Kind == domain.KindWeb || client.Kind == domain.KindInternal
}

// customerOf is the customer a token acts for: its subject, unless the subject is
// the client itself (client credentials).
func customerOf(subject, clientID string) string {
	if subject == clientID {
		return ""
	}
	return subject
}
