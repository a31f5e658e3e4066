package ports

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/services/auth/app"
	"github.com/andes-bank/andes/services/auth/domain"
)

// oauthError answers a token, revocation or introspection request with an RFC
// 6749 section 5.2 error.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	body := map[string]string{"error": code}
	if desc != "" {
		body["error_description"] = desc
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// readForm parses a POSTed form body and refuses what RFC 6749 forbids:
// another method or content type, and a parameter given twice. Parameters in the
// query string are ignored: the body is the only source (a verifier or a secret in
// a URL ends up in logs).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "POST only")
		return nil, false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed body")
		return nil, false
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			oauthError(w, http.StatusBadRequest, "invalid_request", "parameter "+k+" repeated")
			return nil, false
		}
	}
	// What go-oauth2 reads with FormValue must come from the body only.
	r.URL.RawQuery = ""
	r.Form = r.PostForm
	return r.PostForm, true
}

// authenticateClient authenticates the client of a token, revocation or
// introspection request: client_secret_basic, client_secret_post, or for a public
// client its client_id alone. Using two methods at once is refused.
func (o *OAuth) authenticateClient(w http.ResponseWriter, r *http.Request, form url.Values) (*domain.Client, string, bool) {
	var id, secret string
	var given, basic bool
	if h := r.Header.Get("Authorization"); h != "" {
		u, p, ok := r.BasicAuth()
		if !ok {
			oauthError(w, http.StatusBadRequest, "invalid_request", "unsupported Authorization header")
			return nil, "", false
		}
		// RFC 6749 section 2.3.1: both are form-urlencoded before Basic encoding.
		var err1, err2 error
		id, err1 = url.QueryUnescape(u)
		secret, err2 = url.QueryUnescape(p)
		if err1 != nil || err2 != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "malformed client credentials")
			return nil, "", false
		}
		if _, ok := form["client_secret"]; ok || (form.Get("client_id") != "" && form.Get("client_id") != id) {
			oauthError(w, http.StatusBadRequest, "invalid_request", "more than one client authentication method")
			return nil, "", false
		}
		given, basic = true, true
	} else {
		id = form.Get("client_id")
		_, given = form["client_secret"]
		secret = form.Get("client_secret")
	}
	c, err := o.app.AuthenticateClient(r.Context(), id, secret, given)
	if err != nil {
		if !errors.Is(err, app.ErrClientAuthentication) {
			o.log.ErrorContext(r.Context(), "client authentication failed", "err", err)
			oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "")
			return nil, "", false
		}
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="andes"`)
		}
		origin := originOf(r)
		o.app.Audit(r.Context(), domain.AuditEvent{Action: domain.ActionTokenIssued, Failure: "invalid_client",
			ClientID: truncate(id, 100), OriginIP: origin.IP, UserAgent: origin.UserAgent, Detail: r.URL.Path})
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return nil, "", false
	}
	return c, secret, true
}

// token is the token endpoint (RFC 6749 section 3.2).
func (o *OAuth) token(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(w, r)
	if !ok {
		return
	}
	grant := form.Get("grant_type")
	switch grant {
	case domain.GrantAuthorizationCode, domain.GrantClientCredentials, domain.GrantRefreshToken:
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		// password and implicit above all (RFC 9700 sections 2.4 and 2.1.2).
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	client, secret, ok := o.authenticateClient(w, r, form)
	if !ok {
		return
	}
	if !client.AllowsGrant(grant) {
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "the client may not use this grant type")
		return
	}
	ctx, x := app.WithExchange(r.Context(), client.ID)
	x.Secret = secret
	if grant == domain.GrantAuthorizationCode {
		x.CodeVerifier = form.Get("code_verifier")
		if x.CodeVerifier == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "code_verifier is required (PKCE)")
			return
		}
	}
	rec := &recorder{ResponseWriter: w}
	o.srv.HandleTokenRequest(rec, r.WithContext(ctx))

	ev := domain.AuditEvent{Action: domain.ActionTokenIssued, ClientID: client.ID, Success: rec.status == http.StatusOK}
	if grant == domain.GrantRefreshToken {
		ev.Action = domain.ActionTokenRefreshed
	}
	if issued := x.Issued; issued.JTI != "" {
		ev.CustomerID, ev.Detail = issued.Customer, "jti="+issued.JTI
	}
	if !ev.Success {
		var body struct{ Error string }
		_ = json.Unmarshal(rec.head.Bytes(), &body)
		ev.Failure = body.Error
	}
	origin := originOf(r)
	ev.OriginIP, ev.UserAgent = origin.IP, origin.UserAgent
	o.app.Audit(ctx, ev)
}

// recorder notes the status and the start of the body of a response.
type recorder struct {
	http.ResponseWriter
	status int
	head   bytes.Buffer
}

func (rc *recorder) WriteHeader(code int) {
	rc.status = code
	rc.ResponseWriter.WriteHeader(code)
}

func (rc *recorder) Write(b []byte) (int, error) {
	if rc.status == 0 {
		rc.status = http.StatusOK
	}
	if rc.status != http.StatusOK && rc.head.Len() < 512 {
		rc.head.Write(b[:min(len(b), 512-rc.head.Len())])
	}
	return rc.ResponseWriter.Write(b)
}

// looksLikeJWT tells an access token (a compact JWS) from a refresh token (one
// base64url string).
func looksLikeJWT(t string) bool { return strings.Count(t, ".") == 2 }

// revoke is the revocation endpoint (RFC 7009). Revoking a refresh token revokes
// its whole grant; revoking an access token revokes it until it expires. Unknown,
// expired or malformed tokens answer 200: there is nothing left to revoke.
func (o *OAuth) revoke(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(w, r)
	if !ok {
		return
	}
	client, _, ok := o.authenticateClient(w, r, form)
	if !ok {
		return
	}
	token := form.Get("token")
	if token == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	var err error
	if looksLikeJWT(token) {
		var c *tokens.Claims
		if c, err = o.verifier.Claims(r.Context(), token); err == nil {
			err = o.app.RevokeAccessToken(r.Context(), client, accessToken(c), originOf(r))
		} else {
			err = nil
		}
	} else {
		err = o.app.RevokeRefreshToken(r.Context(), client, token, originOf(r))
	}
	switch {
	case errors.Is(err, app.ErrNotYourToken):
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "the token was issued to another client")
		return
	case err != nil:
		o.log.ErrorContext(r.Context(), "revocation failed", "err", err)
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func accessToken(c *tokens.Claims) app.AccessToken {
	return app.AccessToken{JTI: c.ID, Subject: c.Subject, ClientID: c.ClientID, IssuedAt: c.IssuedAt.Time, Expires: c.ExpiresAt.Time}
}

// introspect is the introspection endpoint (RFC 7662), for confidential clients
// only. A client learns about its own tokens; the web BFF and internal clients
// about any token of the platform.
func (o *OAuth) introspect(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(w, r)
	if !ok {
		return
	}
	client, _, ok := o.authenticateClient(w, r, form)
	if !ok {
		return
	}
	if client.Public() {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "introspection is for confidential clients")
		return
	}
	token := form.Get("token")
	if token == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	inactive := map[string]any{"active": false}
	if looksLikeJWT(token) {
		c, err := o.verifier.Claims(r.Context(), token)
		if err != nil || !app.MayIntrospect(client, c.ClientID) {
			writeJSON(w, http.StatusOK, inactive)
			return
		}
		revoked, err := o.app.AccessTokenRevoked(r.Context(), accessToken(c))
		if err != nil {
			o.log.ErrorContext(r.Context(), "introspection failed", "err", err)
			oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "")
			return
		}
		if revoked {
			writeJSON(w, http.StatusOK, inactive)
			return
		}
		resp := map[string]any{
			"active": true, "token_type": "Bearer", "scope": c.Scope, "client_id": c.ClientID, "sub": c.Subject,
			"iss": c.Issuer, "aud": c.Audience, "jti": c.ID, "exp": c.ExpiresAt.Unix(), "iat": c.IssuedAt.Unix(),
		}
		if c.PartnerID != "" {
			resp["partner_id"] = c.PartnerID
		}
		if c.AuthTime != nil {
			resp["auth_time"] = c.AuthTime.Unix()
		}
		writeJSON(w, http.StatusOK, resp)
		return
	}
	st, err := o.app.InspectRefresh(r.Context(), token)
	if err != nil {
		o.log.ErrorContext(r.Context(), "introspection failed", "err", err)
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "")
		return
	}
	if st == nil || !st.Active || st.ClientID != client.ID {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	resp := map[string]any{"active": true, "token_type": "refresh_token", "client_id": st.ClientID, "sub": st.Subject,
		"scope": st.Scope, "iss": o.cfg.Issuer, "iat": st.IssuedAt.Unix()}
	if !st.ExpiresAt.IsZero() {
		resp["exp"] = st.ExpiresAt.Unix()
	}
	writeJSON(w, http.StatusOK, resp)
}

// buildMetadata is the RFC 8414 document.
func (o *OAuth) buildMetadata() ([]byte, error) {
	scopes := make([]string, len(domain.AllScopes))
	for i, s := range domain.AllScopes {
		scopes[i] = string(s)
	}
	auth := []string{"client_secret_basic", "client_secret_post", "none"}
	return json.Marshal(map[string]any{
		"issuer":                                         o.cfg.Issuer,
		"authorization_endpoint":                         o.cfg.Issuer + PathAuthorize,
		"token_endpoint":                                 o.cfg.Issuer + PathToken,
		"jwks_uri":                                       o.cfg.Issuer + PathJWKS,
		"revocation_endpoint":                            o.cfg.Issuer + PathRevoke,
		"introspection_endpoint":                         o.cfg.Issuer + PathIntrospect,
		"scopes_supported":                               scopes,
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{domain.GrantAuthorizationCode, domain.GrantClientCredentials, domain.GrantRefreshToken},
		"token_endpoint_auth_methods_supported":          auth,
		"revocation_endpoint_auth_methods_supported":     auth,
		"introspection_endpoint_auth_methods_supported":  []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":               []string{domain.PKCEMethodS256},
		"authorization_response_iss_parameter_supported": true,
		"ui_locales_supported":                           []string{"es-PE", "en"},
		"access_token_lifetime_seconds":                  int(o.cfg.AccessTokenTTL / time.Second),
	})
}

func (o *OAuth) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(o.metadata)
}

func (o *OAuth) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	// Short: a verifier also refetches on an unknown kid.
	w.Header().Set("Cache-Control", "public, max-age=60")
	_, _ = w.Write(o.signer.JWKS())
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
