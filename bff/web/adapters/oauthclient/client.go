// Package oauthclient is bff-web's side of auth's OAuth2 edge: the authorization
// URL with PKCE, and the token and revocation endpoints as a confidential client
// (client_secret_basic).
package oauthclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/andes-bank/andes/bff/web/app"
	"github.com/andes-bank/andes/bff/web/domain"
	"github.com/andes-bank/andes/platform/tokens"
)

// Scope is what the web page needs: accounts, transfers and the customer's own
// preferences; offline_access for the refresh token the session keeps.
var Scope = strings.Join([]string{tokens.ScopeAccountsRead, tokens.ScopeAccountsWrite, tokens.ScopeTransfersWrite,
	tokens.ScopeCustomersRead, tokens.ScopeCustomersWrite, tokens.ScopeOfflineAccess}, " ")

// Client talks to auth.
type Client struct {
	issuer, clientID, secret, redirectURI string
	http                                  *http.Client
}

var _ app.OAuth = (*Client)(nil)

// New returns a client of the authorization server at issuer.
func New(issuer, clientID, secret, redirectURI string) *Client {
	return &Client{issuer: strings.TrimSuffix(issuer, "/"), clientID: clientID, secret: secret, redirectURI: redirectURI,
		http: &http.Client{Timeout: 10 * time.Second}}
}

// AuthorizeURL is the authorization request (RFC 6749 4.1.1, PKCE S256).
func (c *Client) AuthorizeURL(state, challenge, language string) string {
	lang := "es"
	if language == domain.LangEnglish {
		lang = "en"
	}
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.clientID}, "redirect_uri": {c.redirectURI},
		"scope": {Scope}, "state": {state}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
		"lang": {lang},
	}
	return c.issuer + "/oauth2/authorize?" + q.Encode()
}

func (c *Client) Exchange(ctx context.Context, code, verifier string) (app.TokenGrant, error) {
	return c.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {c.redirectURI}, "code_verifier": {verifier}})
}

func (c *Client) Refresh(ctx context.Context, refreshToken string) (app.TokenGrant, error) {
	return c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

func (c *Client) Revoke(ctx context.Context, token, hint string) error {
	if token == "" {
		return nil
	}
	resp, err := c.post(ctx, "/oauth2/revoke", url.Values{"token": {token}, "token_type_hint": {hint}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: revocation answered %d", domain.ErrAuthUnavailable, resp.StatusCode)
	}
	return nil
}

func (c *Client) post(ctx context.Context, path string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.issuer+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// RFC 6749 section 2.3.1: form-encode both before the Basic encoding.
	req.SetBasicAuth(url.QueryEscape(c.clientID), url.QueryEscape(c.secret))
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", domain.ErrAuthUnavailable, err)
	}
	return resp, nil
}

func (c *Client) token(ctx context.Context, form url.Values) (app.TokenGrant, error) {
	resp, err := c.post(ctx, "/oauth2/token", form)
	if err != nil {
		return app.TokenGrant{}, err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
		Error        string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body); err != nil {
		return app.TokenGrant{}, fmt.Errorf("%w: token response: %v", domain.ErrAuthUnavailable, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK && body.AccessToken != "":
		return app.TokenGrant{Access: body.AccessToken, Refresh: body.RefreshToken, ExpiresIn: time.Duration(body.ExpiresIn) * time.Second}, nil
	case body.Error == "invalid_grant":
		// A used, expired or revoked code or refresh token: log in again.
		if form.Get("grant_type") == "refresh_token" {
			return app.TokenGrant{}, app.ErrGrantRevoked
		}
		return app.TokenGrant{}, domain.ErrLoginState
	}
	return app.TokenGrant{}, fmt.Errorf("%w: token endpoint answered %d %s", domain.ErrAuthUnavailable, resp.StatusCode, body.Error)
}
