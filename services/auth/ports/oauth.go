// Package ports turns HTTP and gRPC into calls of auth's application: the OAuth2
// edge (authorize with its login page, token, revocation, introspection, metadata,
// JWKS) built on go-oauth2, and the internal gRPC API.
//
// go-oauth2's defaults are not safe for a bank; this package closes each gap
// (DESIGN.md section 7, RFC 9700):
//
//   - only the code response type and the authorization_code, client_credentials and
//     refresh_token grants; implicit and password answer unsupported_response_type
//     and unsupported_grant_type;
//   - PKCE forced for every client, S256 only; a verifier for a code without a
//     challenge refused;
//   - redirect URIs matched exactly (domain.Client.MatchRedirectURI), checked before
//     anything is redirected, so errors never go to an unregistered URI;
//   - clients authenticated by the port for every grant (go-oauth2 does not for
//     refresh), refresh tokens bound to their client, rotated, reuse detected;
//   - codes redeemed atomically once (the token store), a reused code revoking its
//     tokens;
//   - parameters read from the request body only, never twice, never from the query
//     string of a token request; access tokens accepted only from the Authorization
//     header;
//   - no CORS anywhere, no framing of the login page, 303 after the login POST so
//     the password is never re-posted to the client (RFC 9700 section 4.11).
package ports

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/server"

	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/services/auth/app"
	"github.com/andes-bank/andes/services/auth/domain"
)

// Signer signs access tokens and publishes the verification keys.
type Signer interface {
	Sign(c *tokens.Claims) (string, error)
	JWKS() []byte
	tokens.KeySource
}

// OAuthConfig are the edge's settings.
type OAuthConfig struct {
	// Issuer is auth's issuer URL, the base of every endpoint URL.
	Issuer          string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	CodeTTL         time.Duration
	// CSRFKey signs the login form's hidden fields.
	CSRFKey []byte
	Logger  *slog.Logger
}

// Endpoint paths, relative to the issuer.
const (
	PathAuthorize  = "/oauth2/authorize"
	PathLogin      = "/oauth2/login"
	PathToken      = "/oauth2/token"
	PathRevoke     = "/oauth2/revoke"
	PathIntrospect = "/oauth2/introspect"
	PathJWKS       = "/.well-known/jwks.json"
	PathMetadata   = "/.well-known/oauth-authorization-server"
)

// OAuth is the OAuth2 edge.
type OAuth struct {
	cfg      OAuthConfig
	app      *app.App
	signer   Signer
	verifier *tokens.Verifier
	srv      *server.Server
	log      *slog.Logger
	metadata []byte
}

// NewOAuth builds the edge on go-oauth2, with store as its token store.
func NewOAuth(cfg OAuthConfig, a *app.App, store oauth2.TokenStore, signer Signer) (*OAuth, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.CSRFKey) < 32 {
		return nil, errors.New("ports: CSRF key must be 32 bytes or more")
	}
	verifier, err := tokens.NewVerifier(tokens.Options{Issuer: cfg.Issuer, Audience: domain.Audience, Keys: signer, CacheSize: -1, Now: a.Now})
	if err != nil {
		return nil, err
	}
	o := &OAuth{cfg: cfg, app: a, signer: signer, verifier: verifier, log: cfg.Logger}

	m := manage.NewManager()
	m.SetAuthorizeCodeExp(cfg.CodeTTL)
	m.SetAuthorizeCodeTokenCfg(&manage.Config{AccessTokenExp: cfg.AccessTokenTTL, RefreshTokenExp: cfg.RefreshTokenTTL, IsGenerateRefresh: true})
	m.SetClientTokenCfg(&manage.Config{AccessTokenExp: cfg.AccessTokenTTL})
	// The refresh token's creation time is not reset on rotation: a grant lives
	// RefreshTokenTTL from the login, however often it is refreshed.
	m.SetRefreshTokenCfg(&manage.RefreshingConfig{AccessTokenExp: cfg.AccessTokenTTL, RefreshTokenExp: cfg.RefreshTokenTTL,
		IsGenerateRefresh: true, IsRemoveRefreshing: true})
	m.MapClientStorage(clientStore{o})
	m.MapTokenStorage(pkceStore{TokenStore: store})
	m.MapAuthorizeGenerate(randomCodes{})
	m.MapAccessGenerate(accessGenerator{o})
	m.SetValidateURIHandler(validateRedirect)
	m.SetExtractExtensionHandler(o.extension)

	srv := server.NewServer(&server.Config{
		TokenType:                   "Bearer",
		AllowedResponseTypes:        []oauth2.ResponseType{oauth2.Code},
		AllowedGrantTypes:           []oauth2.GrantType{oauth2.AuthorizationCode, oauth2.ClientCredentials, oauth2.Refreshing},
		AllowedCodeChallengeMethods: []oauth2.CodeChallengeMethod{oauth2.CodeChallengeS256},
		ForcePKCE:                   true,
	}, m)
	srv.SetClientInfoHandler(authenticatedClient)
	srv.SetClientAuthorizedHandler(func(clientID string, grant oauth2.GrantType) (bool, error) {
		c, err := a.Client(context.Background(), clientID)
		if err != nil {
			return false, nil
		}
		g := string(grant)
		if grant == oauth2.Implicit {
			g = "implicit"
		}
		return c.AllowsGrant(g), nil
	})
	srv.SetClientScopeHandler(o.clientScope)
	srv.SetRefreshingScopeHandler(func(tgr *oauth2.TokenGenerateRequest, oldScope string) (bool, error) {
		want, err1 := domain.ParseScopes(tgr.Scope)
		had, err2 := domain.ParseScopes(oldScope)
		if err1 != nil || err2 != nil || !want.Subset(had) {
			return false, nil
		}
		tgr.Scope = want.String()
		return true, nil
	})
	srv.SetUserAuthorizationHandler(func(w http.ResponseWriter, r *http.Request) (string, error) {
		if l := loginFrom(r.Context()); l != nil {
			return l.customerID, nil
		}
		return "", oerrors.ErrAccessDenied
	})
	// Only the Authorization header carries access tokens (RFC 9700 section
	// 4.3.2); go-oauth2's default also reads the query string.
	srv.SetAccessTokenResolveHandler(func(r *http.Request) (string, bool) {
		return tokens.BearerToken(r.Header.Get("Authorization"))
	})
	srv.SetInternalErrorHandler(o.internalError)
	srv.SetResponseErrorHandler(func(re *oerrors.Response) {
		// RFC 6749 section 5.2: 400 for every error but invalid_client (401);
		// go-oauth2 answers 401 for several.
		switch re.Error {
		case oerrors.ErrInvalidClient:
			re.StatusCode = http.StatusUnauthorized
		case oerrors.ErrServerError:
			re.StatusCode = http.StatusInternalServerError
		case oerrors.ErrTemporarilyUnavailable:
			re.StatusCode = http.StatusServiceUnavailable
		default:
			re.StatusCode = http.StatusBadRequest
		}
	})
	o.srv = srv
	if o.metadata, err = o.buildMetadata(); err != nil {
		return nil, err
	}
	return o, nil
}

// Handler serves every endpoint, with security headers and no CORS.
func (o *OAuth) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(PathMetadata, o.serveMetadata)
	mux.HandleFunc(PathJWKS, o.serveJWKS)
	mux.HandleFunc(PathAuthorize, o.authorize)
	mux.HandleFunc(PathLogin, o.login)
	mux.HandleFunc(PathToken, o.token)
	mux.HandleFunc(PathRevoke, o.revoke)
	mux.HandleFunc(PathIntrospect, o.introspect)
	mux.HandleFunc(PathBindStart, o.bindStart)
	mux.HandleFunc(PathBindFinish, o.bindFinish)
	mux.HandleFunc(PathDeviceChallenge, o.deviceChallenge)
	mux.HandleFunc(PathDeviceLogin, o.deviceLogin)
	return securityHeaders(mux)
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
		// No Access-Control-* header is ever sent: browsers refuse cross-origin
		// reads of every endpoint. A preflight gets no permission either.
		if r.Method == http.MethodOptions {
			h.Set("Allow", "GET, POST")
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// --- go-oauth2 hooks ----------------------------------------------------------

// clientInfo adapts a registered client to go-oauth2.
type clientInfo struct {
	c   *domain.Client
	app *app.App
}

func (ci clientInfo) GetID() string { return ci.c.ID }

// GetSecret never reveals anything: secrets are checked by VerifyPassword.
func (ci clientInfo) GetSecret() string { return "" }

// GetDomain carries the redirect URIs, space-separated (a space cannot occur in a
// URI), for validateRedirect.
func (ci clientInfo) GetDomain() string { return strings.Join(ci.c.RedirectURIs, " ") }
func (ci clientInfo) IsPublic() bool    { return ci.c.Public() }
func (ci clientInfo) GetUserID() string { return "" }

// VerifyPassword checks the secret again where go-oauth2 does (the port already
// did, for every grant).
func (ci clientInfo) VerifyPassword(secret string) bool {
	_, err := ci.app.AuthenticateClient(context.Background(), ci.c.ID, secret, secret != "")
	return err == nil
}

type clientStore struct{ o *OAuth }

func (s clientStore) GetByID(ctx context.Context, id string) (oauth2.ClientInfo, error) {
	c, err := s.o.app.Client(ctx, id)
	if err != nil {
		if errors.Is(err, domain.ErrUnknownClient) || errors.Is(err, domain.ErrClientDisabled) {
			return nil, oerrors.ErrInvalidClient
		}
		return nil, err
	}
	return clientInfo{c: c, app: s.o.app}, nil
}

func validateRedirect(registered, uri string) error {
	c := domain.Client{RedirectURIs: strings.Split(registered, " ")}
	if !c.MatchRedirectURI(uri) {
		return oerrors.ErrInvalidRedirectURI
	}
	return nil
}

// authenticatedClient hands go-oauth2 the client the port authenticated.
func authenticatedClient(r *http.Request) (string, string, error) {
	x := app.ExchangeFrom(r.Context())
	if x == nil {
		return "", "", oerrors.ErrInvalidClient
	}
	return x.ClientID, x.Secret, nil
}

// clientScope decides the scopes of a code or client-credentials request: the
// client's own when none are asked for; refused when one is beyond them.
func (o *OAuth) clientScope(tgr *oauth2.TokenGenerateRequest) (bool, error) {
	c, err := o.app.Client(context.Background(), tgr.ClientID)
	if err != nil {
		return false, nil
	}
	req, err := domain.ParseScopes(tgr.Scope)
	if err != nil {
		return false, nil
	}
	granted, err := c.GrantScopes(req)
	if err != nil {
		return false, nil
	}
	tgr.Scope = granted.String()
	return true, nil
}

// extension starts a grant when a code is issued after a login: its family id and
// what the login established travel with the code to every token.
func (o *OAuth) extension(tgr *oauth2.TokenGenerateRequest, ti oauth2.ExtendableTokenInfo) {
	ext := ti.GetExtension()
	if ext.Get(app.ExtFamily) != "" || tgr.Request == nil {
		return
	}
	l := loginFrom(tgr.Request.Context())
	if l == nil {
		return
	}
	ext.Set(app.ExtFamily, randomToken(16))
	ext.Set(app.ExtFamilyCreated, strconv.FormatInt(o.app.Now().UnixMilli(), 10))
	ext.Set(app.ExtAuthTime, strconv.FormatInt(l.authTime.Unix(), 10))
	ext.Set(app.ExtAMR, l.amr)
	if l.deviceID != "" {
		ext.Set(app.ExtDevice, l.deviceID)
	}
	ti.SetExtension(ext)
}

func (o *OAuth) internalError(err error) *oerrors.Response {
	switch {
	case errors.Is(err, oerrors.ErrMissingCodeVerifier), errors.Is(err, oerrors.ErrInvalidRedirectURI),
		errors.Is(err, app.ErrGrantRevoked), errors.Is(err, oerrors.ErrInvalidCodeChallenge):
		return &oerrors.Response{Error: oerrors.ErrInvalidGrant, Description: oerrors.Descriptions[oerrors.ErrInvalidGrant]}
	}
	o.log.Error("token endpoint failed", "err", err)
	return nil // go-oauth2 answers server_error
}

// randomCodes makes authorization codes of 256 random bits (go-oauth2's default is
// an MD5 of a UUID).
type randomCodes struct{}

func (randomCodes) Token(context.Context, *oauth2.GenerateBasic) (string, error) {
	return randomToken(32), nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b)
}

// accessGenerator signs RFC 9068 access tokens and makes refresh tokens.
type accessGenerator struct{ o *OAuth }

func (g accessGenerator) Token(ctx context.Context, data *oauth2.GenerateBasic, genRefresh bool) (string, string, error) {
	ti := data.TokenInfo
	ci, ok := data.Client.(clientInfo)
	if !ok {
		return "", "", errors.New("ports: unexpected client type")
	}
	now := data.CreateAt
	sub := ti.GetUserID()
	if sub == "" {
		sub = ci.c.ID
	}
	c := &tokens.Claims{
		Issuer:    g.o.cfg.Issuer,
		Subject:   sub,
		Audience:  tokens.Audience{domain.Audience},
		IssuedAt:  tokens.At(now),
		ExpiresAt: tokens.At(now.Add(ti.GetAccessExpiresIn()).Truncate(time.Second)),
		ID:        randomToken(16),
		ClientID:  ci.c.ID,
		Scope:     ti.GetScope(),
		PartnerID: ci.c.PartnerID,
	}
	var ext map[string][]string
	if e, ok := ti.(oauth2.ExtendableTokenInfo); ok {
		ext = e.GetExtension()
		if at, err := strconv.ParseInt(first(ext[app.ExtAuthTime]), 10, 64); err == nil {
			t := tokens.At(time.Unix(at, 0))
			c.AuthTime = &t
		}
		if amr := first(ext[app.ExtAMR]); amr != "" {
			c.AMR = []string{amr}
		}
	}
	access, err := g.o.signer.Sign(c)
	if err != nil {
		return "", "", err
	}
	if e, ok := ti.(oauth2.ExtendableTokenInfo); ok && first(ext[app.ExtFamily]) != "" {
		ext := e.GetExtension()
		ext.Set(app.ExtJTI, c.ID)
		ext.Set(app.ExtExpires, strconv.FormatInt(c.ExpiresAt.Unix(), 10))
		e.SetExtension(ext)
	}
	if x := app.ExchangeFrom(ctx); x != nil {
		x.Issued = app.Issued{JTI: c.ID}
		if sub != ci.c.ID {
			x.Issued.Customer = sub
		}
	}
	refresh := ""
	if genRefresh && sub != ci.c.ID && strings.Contains(" "+ti.GetScope()+" ", " "+string(domain.ScopeOfflineAccess)+" ") {
		refresh = randomToken(32)
	}
	return access, refresh, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// pkceStore enforces the domain's PKCE rule on every code redeemed, on top of
// go-oauth2's own check: S256 only, and a verifier for a code without a challenge
// refused. The code is consumed either way: a failed attempt burns it.
type pkceStore struct {
	oauth2.TokenStore
}

func verifierOf(ctx context.Context) string {
	if x := app.ExchangeFrom(ctx); x != nil {
		return x.CodeVerifier
	}
	return ""
}

func (s pkceStore) GetByCode(ctx context.Context, code string) (oauth2.TokenInfo, error) {
	ti, err := s.TokenStore.GetByCode(ctx, code)
	if err != nil || ti == nil {
		return ti, err
	}
	if err := domain.VerifyPKCE(ti.GetCodeChallenge(), string(ti.GetCodeChallengeMethod()), verifierOf(ctx)); err != nil {
		return nil, nil // invalid_grant
	}
	return ti, nil
}
