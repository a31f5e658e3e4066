package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/services/auth"
	authpg "github.com/andes-bank/andes/services/auth/adapters/postgres"
	"github.com/andes-bank/andes/services/auth/domain"
)

// harness is auth running for real: its own process bootstrap (mTLS gRPC, admin,
// edge), a fresh database, its own Redis prefix and NATS stream.
type harness struct {
	t     testing.TB
	svc   *auth.Service
	base  string
	grpc  string
	clock *testenv.Clock
	ds    *demo.Dataset
	feed  tokens.Feed
	pki   *pkitest.PKI
	http  *http.Client
	sms   *smsSim
}

type harnessOptions struct {
	passwordParams domain.PasswordParams
	logLevel       slog.Level
	sms            bool
}

func withSMS(o *harnessOptions) { o.sms = true }

var (
	demoOnce sync.Once
	demoSet  *demo.Dataset
	demoErr  error
)

func demoData(t testing.TB) *demo.Dataset {
	demoOnce.Do(func() { demoSet, demoErr = demo.Load("../../deploy/demo/demo.yaml") })
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoSet
}

func start(t testing.TB, opts ...func(*harnessOptions)) *harness {
	t.Helper()
	o := harnessOptions{passwordParams: domain.PasswordParams{Time: 1, Memory: 1024, Threads: 1}, logLevel: slog.LevelError}
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	p := pkitest.New(t, "auth")
	nc, prefix := testenv.NATS(t)
	rdb := testenv.Redis(t)
	pool, err := postgres.Open(ctx, postgres.Config{URL: testenv.PostgresURL(t), Schema: "auth"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	edge := testenv.FreeAddr(t)
	cfg := &auth.Config{
		Base: config.Base{
			Name: "auth", GRPCAddr: testenv.FreeAddr(t), AdminAddr: testenv.FreeAddr(t),
			TLS:        config.TLS{CertFile: p.Dir.CertFile("auth"), KeyFile: p.Dir.KeyFile("auth"), CAFile: p.Dir.CAFile()},
			PolicyFile: "../../deploy/policies/auth.json", TrustDomain: pkitest.TrustDomain,
			LogLevel: o.logLevel, ShutdownTimeout: 5 * time.Second,
		},
		EdgeAddr:          edge,
		WebEdgeAddr:       "127.0.0.1:18080",
		AccessTokenTTL:    10 * time.Minute,
		RefreshTokenTTL:   24 * time.Hour,
		CodeTTL:           time.Minute,
		KeyRotation:       24 * time.Hour,
		LoginMaxFailures:  5,
		RevocationStream:  prefix + "_REVOCATIONS",
		RevocationSubject: prefix + ".revocations",
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clock: testenv.NewRunningClock(), ds: demoData(t), feed: cfg.Feed(), pki: p, grpc: cfg.GRPCAddr}
	if o.sms {
		h.sms = startSMS(t, p)
		cfg.SMSEdgeAddr = h.sms.edge
	}
	deps := auth.Deps{DB: pool, Redis: rdb, NATS: nc, Demo: h.ds, Now: h.clock.Now, PasswordParams: o.passwordParams}
	if o.sms {
		deps.Customer = startCustomer(t, p)
	}

	runCtx, cancel := context.WithCancel(ctx)
	ready := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(runCtx, cfg, func(ctx context.Context, proc *server.Process) error {
			svc, err := auth.New(ctx, cfg, deps, proc.Logger)
			if err != nil {
				ready <- err
				return err
			}
			h.svc = svc
			svc.Register(proc)
			ready <- nil
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("auth stopped: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("auth did not stop")
		}
	})
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case err := <-done:
		t.Fatalf("auth did not start: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("auth did not start in time")
	}
	h.base = h.svc.Issuer()
	h.http = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// The edge binds after setup returns: wait until it answers.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := h.http.Get(h.base + "/.well-known/oauth-authorization-server")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("edge not answering: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return h
}

// tokenResponse is the token endpoint's answer, success or error.
type tokenResponse struct {
	Status       int    `json:"-"`
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
}

func (h *harness) postForm(path string, form url.Values, user, pass string) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

func (h *harness) token(form url.Values, user, pass string) tokenResponse {
	h.t.Helper()
	resp := h.postForm("/oauth2/token", form, user, pass)
	defer resp.Body.Close()
	var tr tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		h.t.Fatalf("token response: %v", err)
	}
	tr.Status = resp.StatusCode
	return tr
}

func (h *harness) partner(key string) (string, string) {
	p := h.ds.Partner(key)
	return p.ClientID, p.ClientSecret
}

func (h *harness) clientCredentials(id, secret, scope string) tokenResponse {
	h.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return h.token(form, id, secret)
}

// oauthClient is an OAuth2 client of the test: the web BFF (confidential) or the mobile
// app (public).
type oauthClient struct {
	id, secret, redirect string
}

func (h *harness) web() oauthClient {
	return oauthClient{id: authpg.WebClientID, secret: authpg.DemoWebSecret(h.ds), redirect: "http://127.0.0.1:18080/auth/callback"}
}

func (h *harness) mobile() oauthClient {
	return oauthClient{id: authpg.MobileClientID, redirect: "pe.andes.mobile:/oauth2redirect"}
}

// browser is a user agent with a cookie jar that does not follow redirects, so the
// test sees each hop.
func (h *harness) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func authorizeURL(base string, a oauthClient, challenge, state string, extra url.Values) string {
	q := url.Values{"response_type": {"code"}, "client_id": {a.id}, "redirect_uri": {a.redirect},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {state}}
	for k, v := range extra {
		q[k] = v
	}
	return base + "/oauth2/authorize?" + q.Encode()
}

var hiddenField = regexp.MustCompile(`name="(request|csrf)" value="([^"]*)"`)

// loginPage is the login form as the browser got it.
type loginPage struct {
	status int
	body   string
	fields url.Values
}

func (h *harness) openLogin(b *http.Client, authURL string) loginPage {
	h.t.Helper()
	resp, err := b.Get(authURL)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	lp := loginPage{status: resp.StatusCode, body: string(raw), fields: url.Values{}}
	for _, m := range hiddenField.FindAllStringSubmatch(lp.body, -1) {
		lp.fields.Set(m[1], html.UnescapeString(m[2]))
	}
	return lp
}

// submitLogin posts the login form; it returns the response (a 303 to the client
// on success).
func (h *harness) submitLogin(b *http.Client, lp loginPage, document, password string) (*http.Response, string) {
	h.t.Helper()
	form := url.Values{"request": {lp.fields.Get("request")}, "csrf": {lp.fields.Get("csrf")},
		"document_type": {"DNI"}, "document": {document}, "password": {password}}
	req, _ := http.NewRequest(http.MethodPost, h.base+"/oauth2/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.base)
	resp, err := b.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

// login runs the browser part of the code flow for a persona and returns the code.
func (h *harness) login(a oauthClient, persona, verifier string) string {
	h.t.Helper()
	c := h.ds.Customer(persona)
	b := h.browser()
	lp := h.openLogin(b, authorizeURL(h.base, a, domain.S256Challenge(verifier), "st-1", nil))
	if lp.status != http.StatusOK || lp.fields.Get("request") == "" {
		h.t.Fatalf("login page: %d %s", lp.status, lp.body)
	}
	resp, body := h.submitLogin(b, lp, c.DocumentNumber, c.Password)
	if resp.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		h.t.Fatal(err)
	}
	q := loc.Query()
	if q.Get("state") != "st-1" || q.Get("iss") != h.base || q.Get("code") == "" {
		h.t.Fatalf("redirect %s", loc)
	}
	return q.Get("code")
}

func (h *harness) exchange(a oauthClient, code, verifier string) tokenResponse {
	h.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {a.redirect}, "code_verifier": {verifier}}
	if a.secret == "" {
		form.Set("client_id", a.id)
		return h.token(form, "", "")
	}
	return h.token(form, a.id, a.secret)
}

func (h *harness) refresh(a oauthClient, refresh string) tokenResponse {
	h.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
	if a.secret == "" {
		form.Set("client_id", a.id)
		return h.token(form, "", "")
	}
	return h.token(form, a.id, a.secret)
}

// codeFlow logs a persona in and exchanges the code.
func (h *harness) codeFlow(a oauthClient, persona string) tokenResponse {
	h.t.Helper()
	verifier := newVerifier()
	tr := h.exchange(a, h.login(a, persona, verifier), verifier)
	if tr.Status != http.StatusOK {
		h.t.Fatalf("code exchange: %+v", tr)
	}
	return tr
}

func newVerifier() string {
	return strings.Repeat("v", 10) + fmt.Sprint(time.Now().UnixNano()) + strings.Repeat("x", 30)
}

// introspect asks auth about a token as the web BFF.
func (h *harness) introspect(token string) map[string]any {
	h.t.Helper()
	w := h.web()
	resp := h.postForm("/oauth2/introspect", url.Values{"token": {token}}, w.id, w.secret)
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("introspect: %d %v", resp.StatusCode, err)
	}
	return out
}

func (h *harness) active(token string) bool { return h.introspect(token)["active"] == true }

// verifier is what every other process runs: JWKS over HTTP and the revocation set
// from NATS.
func (h *harness) verifier(now func() time.Time) (*tokens.Verifier, *tokens.RevocationSet) {
	h.t.Helper()
	nc, _ := testenv.NATS(h.t)
	rs := tokens.NewRevocationSet(now)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = rs.Follow(ctx, nc.JS, h.feed, nil)
	}()
	h.t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := rs.WaitSynced(wctx); err != nil {
		h.t.Fatal(err)
	}
	v, err := tokens.NewVerifier(tokens.Options{Issuer: h.base, Audience: domain.Audience,
		Keys: tokens.NewJWKS(h.base+"/.well-known/jwks.json", tokens.JWKSOptions{}), Revocations: rs, Now: now})
	if err != nil {
		h.t.Fatal(err)
	}
	return v, rs
}

// eventually polls cond until it holds, for effects that travel through NATS.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, what, cond)
}

func isRefused(err error, reason string) bool {
	return errors.Is(err, tokens.ErrInvalidToken) && (reason == "" || tokens.ReasonOf(err) == reason)
}
