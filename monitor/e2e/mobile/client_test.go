package mobile_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	"github.com/andes-bank/andes/gen/andes/mobile/v1/mobilev1connect"
	"github.com/andes-bank/andes/monitor/platformtest"
	"github.com/andes-bank/andes/platform/rpcstatus"
)

// The mobile app as an OAuth2 public client (deploy/demo, services/auth/seed.go).
const (
	mobileClientID = "andes-mobile"
	mobileRedirect = "pe.andes.mobile:/oauth2redirect"
	mobileScopes   = "accounts:read transfers:write offline_access"
)

// app is the phone: the auth edge it logs in at, and the BFF it calls with
// Connect (HTTP/1.1 with JSON, like a web view) and with gRPC over h2c.
type app struct {
	authBase string
	smsBase  string
	json     mobilev1connect.MobileServiceClient
	grpc     mobilev1connect.MobileServiceClient
	binary   mobilev1connect.MobileServiceClient
}

func newApp(t testing.TB, p *platformtest.Platform) *app {
	t.Helper()
	base := "http://" + p.Edge(t, "bff-mobile", "")
	h1 := &http.Client{Timeout: platformtest.StepTimeout}
	h2 := &http.Transport{Protocols: new(http.Protocols)}
	h2.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(h2.CloseIdleConnections)
	h2c := &http.Client{Transport: h2, Timeout: platformtest.StepTimeout}
	return &app{
		authBase: "http://" + p.Edge(t, "auth", ""),
		smsBase:  "http://" + p.Edge(t, "sms", ""),
		json:     mobilev1connect.NewMobileServiceClient(h1, base, connect.WithProtoJSON()),
		grpc:     mobilev1connect.NewMobileServiceClient(h2c, base, connect.WithGRPC()),
		binary:   mobilev1connect.NewMobileServiceClient(h2c, base),
	}
}

var hiddenField = regexp.MustCompile(`name="(request|csrf)" value="([^"]*)"`)

// login runs the authorization code flow with PKCE (S256) through auth's login
// page, as the app's in-app browser does, and returns the access token.
func (a *app) login(t testing.TB, document, password string) string {
	t.Helper()
	verifierBytes := make([]byte, 32)
	_, _ = rand.Read(verifierBytes)
	verifier := base64.RawURLEncoding.EncodeToString(verifierBytes)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	state := base64.RawURLEncoding.EncodeToString(verifierBytes[:8])

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: platformtest.StepTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"response_type": {"code"}, "client_id": {mobileClientID}, "redirect_uri": {mobileRedirect},
		"scope": {mobileScopes}, "state": {state}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	resp, err := browser.Get(a.authBase + "/oauth2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fields := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(string(page), -1) {
		fields.Set(m[1], html.UnescapeString(m[2]))
	}
	if resp.StatusCode != http.StatusOK || fields.Get("request") == "" {
		t.Fatalf("login page: %d %s", resp.StatusCode, page)
	}

	form := url.Values{"request": {fields.Get("request")}, "csrf": {fields.Get("csrf")},
		"document_type": {"DNI"}, "document": {document}, "password": {password}}
	req, _ := http.NewRequest(http.MethodPost, a.authBase+"/oauth2/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", a.authBase)
	resp, err = browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + ":" + loc.Opaque + loc.Path; got != mobileRedirect || loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		t.Fatalf("redirected to %s", loc)
	}

	tr := a.token(t, url.Values{"grant_type": {"authorization_code"}, "client_id": {mobileClientID},
		"redirect_uri": {mobileRedirect}, "code": {loc.Query().Get("code")}, "code_verifier": {verifier}}, "", "")
	return tr
}

// token posts to auth's token endpoint and returns the access token.
func (a *app) token(t testing.TB, form url.Values, user, pass string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.authBase+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		t.Fatalf("token endpoint: %d %s %v", resp.StatusCode, out.Error, err)
	}
	return out.AccessToken
}

// smsMessages are the SMS the simulator received for a phone, newest first.
func (a *app) smsMessages(t testing.TB, phone string) []string {
	t.Helper()
	resp, err := http.Get(a.smsBase + "/v1/messages?to=" + url.QueryEscape(phone))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Messages []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	texts := make([]string, len(out.Messages))
	for i, m := range out.Messages {
		texts[i] = m.ID + "\x00" + m.Text
	}
	return texts
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// newCode waits for an SMS to phone that was not there before and returns its code.
func (a *app) newCode(t testing.TB, phone string, before []string) string {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range before {
		seen[m] = true
	}
	var code string
	platformtest.WaitFor(t, platformtest.StepTimeout, "the step-up SMS", func() bool {
		for _, m := range a.smsMessages(t, phone) {
			if !seen[m] {
				if c := sixDigits.FindStringSubmatch(m); c != nil {
					code = c[1]
					return true
				}
			}
		}
		return false
	})
	return code
}

func authorized[T any](msg *T, token string) *connect.Request[T] {
	req := connect.NewRequest(msg)
	if token != "" {
		req.Header().Set("Authorization", "Bearer "+token)
	}
	return req
}

// refusal is what the app reads from an error: code, reason, domain, details.
type refusal struct {
	code      connect.Code
	reason    string
	domain    string
	metadata  map[string]string
	challenge *authv1.StepUpChallenge
	message   string
}

func refusalOf(t testing.TB, err error) refusal {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want a Connect error, got %v", err)
	}
	read := rpcstatus.ReadConnect(err)
	r := refusal{code: connect.Code(read.Code), reason: read.Reason, domain: read.Domain, metadata: read.Metadata, message: read.Message}
	for _, d := range read.Details {
		if c, ok := d.(*authv1.StepUpChallenge); ok {
			r.challenge = c
		}
	}
	return r
}

func (r refusal) String() string {
	return fmt.Sprintf("%v %s (%s) %q %v", r.code, r.reason, r.domain, r.message, r.metadata)
}

func ctxStep(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
