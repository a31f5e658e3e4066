package ports

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/andes-bank/andes/services/auth/app"
	"github.com/andes-bank/andes/services/auth/domain"
)

// csrfCookie holds the browser's half of the login form's CSRF token. It is a
// random value; the form carries an HMAC binding it to the authorization request,
// so a form posted from another site, or a form of another request, is refused.
const csrfCookie = "andes_login"

// requestTTL bounds how long a login page may be left open.
const requestTTL = 15 * time.Minute

// authzRequest is a validated authorization request, carried through the login
// page in a signed hidden field: no server state for pages that are never posted.
type authzRequest struct {
	ClientID    string `json:"c"`
	RedirectURI string `json:"r"`
	Scope       string `json:"s,omitempty"`
	State       string `json:"st,omitempty"`
	Challenge   string `json:"cc"`
	Method      string `json:"m"`
	Lang        string `json:"l,omitempty"`
	Issued      int64  `json:"t"`
}

// login is what a successful login establishes, handed to go-oauth2 in the context.
type login struct {
	customerID string
	authTime   time.Time
	amr        string // "pwd" or "hwk"
	deviceID   string
}

type loginKey struct{}

func withLogin(ctx context.Context, l *login) context.Context {
	return context.WithValue(ctx, loginKey{}, l)
}

func loginFrom(ctx context.Context) *login {
	l, _ := ctx.Value(loginKey{}).(*login)
	return l
}

func (o *OAuth) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, o.cfg.CSRFKey)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

func (o *OAuth) sealRequest(req authzRequest) string {
	raw, _ := json.Marshal(req)
	body := base64.RawURLEncoding.EncodeToString(raw)
	return body + "." + base64.RawURLEncoding.EncodeToString(o.mac("authz", body))
}

var errBadRequestBlob = errors.New("login form expired or altered")

func (o *OAuth) openRequest(blob string) (authzRequest, error) {
	var req authzRequest
	body, sig, ok := strings.Cut(blob, ".")
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(got, o.mac("authz", body)) {
		return req, errBadRequestBlob
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || json.Unmarshal(raw, &req) != nil {
		return req, errBadRequestBlob
	}
	if age := o.app.Now().Sub(time.Unix(req.Issued, 0)); age < 0 || age > requestTTL {
		return req, errBadRequestBlob
	}
	return req, nil
}

func (o *OAuth) csrfToken(cookie, blob string) string {
	return base64.RawURLEncoding.EncodeToString(o.mac("csrf", cookie, blob))
}

// csrfCookieValue returns the browser's CSRF cookie, setting a new one if absent.
func (o *OAuth) csrfCookieValue(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	v := randomToken(32)
	http.SetCookie(w, &http.Cookie{
		Name: csrfCookie, Value: v, Path: "/oauth2/", HttpOnly: true,
		Secure:   strings.HasPrefix(o.cfg.Issuer, "https://"),
		SameSite: http.SameSiteStrictMode,
	})
	return v
}

// authorize validates an authorization request (RFC 6749 section 4.1.1 with RFC
// 9700's rules) and shows the login page. Until the client and its redirect URI
// are known good, errors are shown here and never redirected.
func (o *OAuth) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	lang := pickLang(r)
	if err := r.ParseForm(); err != nil {
		o.errorPage(w, http.StatusBadRequest, lang, msgBadRequest)
		return
	}
	form := r.Form
	client, err := o.app.Client(r.Context(), form.Get("client_id"))
	if err != nil || len(form["client_id"]) != 1 {
		o.errorPage(w, http.StatusBadRequest, lang, msgUnknownClient)
		return
	}
	redirect := form.Get("redirect_uri")
	if len(form["redirect_uri"]) != 1 || !client.MatchRedirectURI(redirect) {
		o.errorPage(w, http.StatusBadRequest, lang, msgBadRedirect)
		return
	}
	state := form.Get("state")
	fail := func(code, desc string) { o.redirectError(w, r, redirect, state, code, desc) }
	for k, v := range form {
		if len(v) > 1 {
			fail("invalid_request", "parameter "+k+" repeated")
			return
		}
	}
	switch rt := form.Get("response_type"); {
	case rt == "":
		fail("invalid_request", "response_type is required")
		return
	case rt != "code":
		// The implicit grant (response_type=token) and hybrid flows are not
		// offered (RFC 9700 section 2.1.2).
		fail("unsupported_response_type", "only response_type=code is supported")
		return
	}
	if !client.AllowsGrant(domain.GrantAuthorizationCode) {
		fail("unauthorized_client", "the client may not use the authorization code grant")
		return
	}
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	if err := domain.CheckChallenge(challenge, method); err != nil {
		fail("invalid_request", err.Error())
		return
	}
	scopes, err := domain.ParseScopes(form.Get("scope"))
	if err == nil {
		scopes, err = client.GrantScopes(scopes)
	}
	if err != nil {
		fail("invalid_scope", "the requested scope is invalid or not allowed for the client")
		return
	}
	req := authzRequest{ClientID: client.ID, RedirectURI: redirect, Scope: scopes.String(), State: state,
		Challenge: challenge, Method: method, Lang: lang, Issued: o.app.Now().Unix()}
	blob := o.sealRequest(req)
	cookie := o.csrfCookieValue(w, r)
	o.loginPage(w, http.StatusOK, lang, loginView{Client: client.Name, Request: blob, CSRF: o.csrfToken(cookie, blob), DocType: domain.DocumentDNI})
}

// login checks the login form and, on success, issues the code through go-oauth2.
func (o *OAuth) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	lang := pickLang(r)
	if err := r.ParseForm(); err != nil {
		o.errorPage(w, http.StatusBadRequest, lang, msgBadRequest)
		return
	}
	// Browsers send Origin on POST; a form posted from elsewhere is refused even
	// before the CSRF token is looked at.
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" && origin != issuerOrigin(o.cfg.Issuer) {
		o.errorPage(w, http.StatusForbidden, lang, msgSessionExpired)
		return
	}
	f := r.PostForm
	blob := f.Get("request")
	cookie, err := r.Cookie(csrfCookie)
	if err != nil || !hmac.Equal([]byte(f.Get("csrf")), []byte(o.csrfToken(cookie.Value, blob))) {
		o.errorPage(w, http.StatusForbidden, lang, msgSessionExpired)
		return
	}
	req, err := o.openRequest(blob)
	if err != nil {
		o.errorPage(w, http.StatusBadRequest, lang, msgSessionExpired)
		return
	}
	if req.Lang != "" {
		lang = req.Lang
	}
	client, err := o.app.Client(r.Context(), req.ClientID)
	if err != nil || !client.MatchRedirectURI(req.RedirectURI) {
		o.errorPage(w, http.StatusBadRequest, lang, msgUnknownClient)
		return
	}
	docType := f.Get("document_type")
	switch docType {
	case domain.DocumentDNI, domain.DocumentCE, domain.DocumentPassport, domain.DocumentRUC:
	case "USERNAME":
		docType = ""
	default:
		docType = domain.DocumentDNI
	}
	in := app.LoginInput{
		Login:    domain.NormalizeLogin(docType, f.Get("document")),
		Password: f.Get("password"),
		ClientID: client.ID,
		Origin:   originOf(r),
	}
	view := loginView{Client: client.Name, Request: blob, CSRF: f.Get("csrf"), DocType: f.Get("document_type"), Document: f.Get("document")}
	u, err := o.app.Login(r.Context(), in)
	var locked *app.LockedError
	switch {
	case errors.As(err, &locked):
		wait := max(int(time.Until(locked.Until).Seconds()), 1)
		w.Header().Set("Retry-After", strconv.Itoa(wait))
		view.Error = msgLocked
		o.loginPage(w, http.StatusTooManyRequests, lang, view)
		return
	case errors.Is(err, domain.ErrInvalidLogin):
		view.Error = msgInvalidLogin
		o.loginPage(w, http.StatusUnauthorized, lang, view)
		return
	case errors.Is(err, domain.ErrUserDisabled):
		view.Error = msgDisabled
		o.loginPage(w, http.StatusForbidden, lang, view)
		return
	case err != nil:
		o.log.ErrorContext(r.Context(), "login failed", "err", err)
		o.errorPage(w, http.StatusInternalServerError, lang, msgUnavailable)
		return
	}
	o.issueCode(w, r, req, &login{customerID: u.CustomerID, authTime: o.app.Now(), amr: "pwd"})
}

// issueCode hands a validated request and a login to go-oauth2, which stores the
// code and redirects to the client.
func (o *OAuth) issueCode(w http.ResponseWriter, r *http.Request, req authzRequest, l *login) {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {req.ClientID},
		"redirect_uri":          {req.RedirectURI},
		"code_challenge":        {req.Challenge},
		"code_challenge_method": {req.Method},
	}
	if req.Scope != "" {
		q.Set("scope", req.Scope)
	}
	if req.State != "" {
		q.Set("state", req.State)
	}
	r2, err := http.NewRequestWithContext(withLogin(r.Context(), l), http.MethodGet, PathAuthorize+"?"+q.Encode(), nil)
	if err != nil {
		o.errorPage(w, http.StatusInternalServerError, req.Lang, msgUnavailable)
		return
	}
	r2.RemoteAddr, r2.Header = r.RemoteAddr, r.Header.Clone()
	rw := &redirectWriter{ResponseWriter: w, issuer: o.cfg.Issuer}
	if err := o.srv.HandleAuthorizeRequest(rw, r2); err != nil {
		o.log.ErrorContext(r.Context(), "authorization code not issued", "err", err, "client_id", req.ClientID)
		o.errorPage(w, http.StatusInternalServerError, req.Lang, msgUnavailable)
	}
}

// redirectWriter turns go-oauth2's 302 into 303 (the login form was a POST: a 307
// would send the password to the client, RFC 9700 section 4.11) and adds the iss
// parameter of RFC 9207 against mix-up attacks.
type redirectWriter struct {
	http.ResponseWriter
	issuer string
}

func (rw *redirectWriter) WriteHeader(code int) {
	if code == http.StatusFound {
		if u, err := url.Parse(rw.Header().Get("Location")); err == nil {
			q := u.Query()
			q.Set("iss", rw.issuer)
			u.RawQuery = q.Encode()
			rw.Header().Set("Location", u.String())
		}
		rw.Header().Set("Cache-Control", "no-store")
		code = http.StatusSeeOther
	}
	rw.ResponseWriter.WriteHeader(code)
}

// redirectError sends an error to a redirect URI already known good (RFC 6749
// section 4.1.2.1).
func (o *OAuth) redirectError(w http.ResponseWriter, r *http.Request, redirect, state, code, desc string) {
	u, err := url.Parse(redirect)
	if err != nil {
		o.errorPage(w, http.StatusBadRequest, pickLang(r), msgBadRedirect)
		return
	}
	q := u.Query()
	q.Set("error", code)
	if desc != "" {
		q.Set("error_description", desc)
	}
	if state != "" {
		q.Set("state", state)
	}
	q.Set("iss", o.cfg.Issuer)
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func issuerOrigin(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// originOf is the client's address and agent. The edge is reached directly (no
// proxy is trusted), so X-Forwarded-For is not believed.
func originOf(r *http.Request) app.Origin {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return app.Origin{IP: host, UserAgent: r.UserAgent()}
}
