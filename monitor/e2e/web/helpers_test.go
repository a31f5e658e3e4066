package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/monitor/platformtest"
)

// jwtShape matches anything that looks like a compact JWS (a JWT): three
// base64url parts, the first a JSON header.
var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)

const (
	mariaDocument = "45678912"
	mariaPassword = "Andes-Demo-2026!"
)

// webClient is a browser stand-in: a cookie jar, and every answer it saw, so a
// test can look for tokens in all of them.
type webClient struct {
	t       *testing.T
	base    string
	http    *http.Client
	seen    []*http.Response
	bodies  [][]byte
	csrf    string
	session *http.Cookie // the session cookie as the callback set it
}

func newWebClient(t *testing.T, base string) *webClient {
	jar, _ := cookiejar.New(nil)
	c := &webClient{t: t, base: base}
	c.http = &http.Client{Jar: jar, Timeout: platformtest.StepTimeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		c.note(req.Response, nil)
		if req.Response != nil && req.Response.Request.URL.Path == "/auth/callback" {
			for _, ck := range req.Response.Cookies() {
				if ck.Name == "andes_session" {
					c.session = ck
				}
			}
		}
		return nil
	}}
	return c
}

func (c *webClient) note(resp *http.Response, body []byte) {
	if resp != nil {
		c.seen = append(c.seen, resp)
	}
	if body != nil {
		c.bodies = append(c.bodies, body)
	}
}

func (c *webClient) do(req *http.Request) (*http.Response, []byte) {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	c.note(resp, body)
	return resp, body
}

var hiddenField = regexp.MustCompile(`name="(request|csrf)" value="([^"]*)"`)

// login runs the whole authorization code flow the way a browser does: the BFF's
// /login, auth's login page and form, the callback, the page.
func (c *webClient) login(document, password string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+"/", nil)
	resp, page := c.do(req)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `name="password"`) {
		c.t.Fatalf("GET / without a session did not end on auth's login page: %d %s\n%.400s", resp.StatusCode, resp.Request.URL, page)
	}
	form := url.Values{"document_type": {"DNI"}, "document": {document}, "password": {password}}
	for _, m := range hiddenField.FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	loginURL := resp.Request.URL.ResolveReference(&url.URL{Path: "/oauth2/login"})
	req, _ = http.NewRequest(http.MethodPost, loginURL.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, page = c.do(req)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Host != strings.TrimPrefix(c.base, "http://") || !strings.Contains(string(page), "app.js") {
		c.t.Fatalf("login did not end on the web banking page: %d %s\n%.400s", resp.StatusCode, resp.Request.URL, page)
	}
	var s struct {
		CsrfToken string `json:"csrfToken"`
	}
	c.rpcOK("GetSession", `{}`, &s)
	if s.CsrfToken == "" {
		c.t.Fatal("GetSession gave no CSRF token")
	}
	c.csrf = s.CsrfToken
}

// rpc calls a WebService method with Connect's JSON protocol; csrf may be empty.
func (c *webClient) rpc(method, body, csrf string, cookie *http.Cookie) (*http.Response, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+"/andes.web.v1.WebService/"+method, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connect-Protocol-Version", "1")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	if cookie != nil { // a cookie given by hand: send it instead of the jar's
		resp, err := (&http.Client{Timeout: platformtest.StepTimeout}).Do(withCookie(req, cookie))
		if err != nil {
			c.t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	return c.do(req)
}

func withCookie(req *http.Request, ck *http.Cookie) *http.Request {
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	return req
}

func (c *webClient) rpcOK(method, body string, out any) {
	c.t.Helper()
	resp, b := c.rpc(method, body, c.csrf, nil)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s: %d %s", method, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s: %v", method, err)
		}
	}
}

// connectError is Connect's JSON error body.
type connectError struct {
	Code    string `json:"code"`
	Details []struct {
		Type  string          `json:"type"`
		Debug json.RawMessage `json:"debug"`
	} `json:"details"`
}

func (e connectError) reason() string {
	for _, d := range e.Details {
		if d.Type == "google.rpc.ErrorInfo" {
			var info struct{ Reason string }
			_ = json.Unmarshal(d.Debug, &info)
			return info.Reason
		}
	}
	return ""
}

func parseError(t *testing.T, b []byte) connectError {
	t.Helper()
	var e connectError
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("not a Connect error: %s", b)
	}
	return e
}

// noTokens fails when anything the client saw looks like a JWT.
func (c *webClient) noTokens() {
	c.t.Helper()
	for _, b := range c.bodies {
		if m := jwtShape.Find(b); m != nil {
			c.t.Errorf("a response body carries something JWT-shaped: %.40s…", m)
		}
	}
	for _, r := range c.seen {
		for k, vs := range r.Header {
			for _, v := range vs {
				if jwtShape.MatchString(v) {
					c.t.Errorf("response header %s carries something JWT-shaped", k)
				}
			}
		}
	}
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if jwtShape.MatchString(ck.Value) {
			c.t.Errorf("cookie %s carries something JWT-shaped", ck.Name)
		}
	}
}

// artifacts is the folder for screenshots: ANDES_TEST_ARTIFACTS, or the
// git-ignored .run/test-artifacts of the checkout.
func artifacts(t *testing.T, root string) string {
	t.Helper()
	dir := os.Getenv("ANDES_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(root, ".run", "test-artifacts")
	}
	dir = filepath.Join(dir, "web-e2e", time.Now().UTC().Format("20060102-150405"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// money formats minor units as the page does, for messages.
func money(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	units := strconv.FormatInt(minor/100, 10)
	for i := len(units) - 3; i > 0; i -= 3 {
		units = units[:i] + "," + units[i:]
	}
	return fmt.Sprintf("%sS/ %s.%02d", sign, units, minor%100)
}

func jsonBody(v any) string {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	return b.String()
}
