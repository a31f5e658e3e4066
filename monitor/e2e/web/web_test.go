// Package web tests the web banking page and bff-web against the whole platform
// (package platformtest): a real headless Chromium logs in through auth's login
// page and moves money; plain HTTP clients check the session's defences.
//
// It builds and starts every process, so it takes a while; -short skips it.
package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/andes-bank/andes/monitor/platformtest"
)

func TestWeb(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts every process; skipped under -short")
	}
	r := platformtest.NewRun(t)
	// The bank's daily limit (S/ 20,000.00 on money leaving to others) is more
	// than maria owns, so no transfer of hers could pass it: the controller runs
	// with S/ 500.00 instead, set through its ANDES_CONTROLLER_LIMITS (the
	// harness's BreakConfig wraps the binary to export one variable).
	r.BreakConfig(t, "controller", "ANDES_CONTROLLER_LIMITS=PEN:1:1000000:"+strconv.Itoa(dailyLimit)+",USD:1:300000:600000")
	p := r.Start(t)
	p.WaitServing(t)
	base := "http://" + p.Edge(t, "bff-web", "")

	t.Run("security headers", func(t *testing.T) { testHeaders(t, base) })
	t.Run("session defences", func(t *testing.T) { testSession(t, base) })
	t.Run("browser journey", func(t *testing.T) { testBrowser(t, p, base) })
}

func testHeaders(t *testing.T, base string) {
	c := newWebClient(t, base)
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	resp, _ := c.do(req)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("GET / without a session: %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	want := map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, d := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy allows inline script or eval: %q", csp)
	}
	// The page itself has no inline script to need it.
	req, _ = http.NewRequest(http.MethodGet, base+"/static/app.js", nil)
	if resp, _ := c.do(req); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Errorf("/static/app.js: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func testSession(t *testing.T, base string) {
	c := newWebClient(t, base)
	c.login(mariaDocument, mariaPassword)

	t.Run("the session cookie is HttpOnly, SameSite=Lax, whole-site, and random", func(t *testing.T) {
		ck := c.session
		if ck == nil {
			t.Fatal("the callback set no andes_session cookie")
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
			t.Errorf("cookie attributes: HttpOnly=%v SameSite=%v Path=%q Domain=%q", ck.HttpOnly, ck.SameSite, ck.Path, ck.Domain)
		}
		if ck.Secure { // the platform runs on plain http in tests; production sets ANDES_WEB_SECURE_COOKIES
			t.Error("Secure cookie on a plain-http development edge")
		}
		if len(ck.Value) < 43 {
			t.Errorf("session id %d characters, want 256 bits (43 base64url characters)", len(ck.Value))
		}
	})

	t.Run("reads work with the cookie alone, and answer no-store", func(t *testing.T) {
		resp, b := c.rpc("ListAccounts", `{}`, "", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"accounts"`) {
			t.Fatalf("ListAccounts: %d %s", resp.StatusCode, b)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("API Cache-Control %q", cc)
		}
	})

	t.Run("a state-changing call without the CSRF token is refused", func(t *testing.T) {
		for _, csrf := range []string{"", "wrong-" + c.csrf} {
			resp, b := c.rpc("SetLanguage", `{"language":"en"}`, csrf, nil)
			if resp.StatusCode != http.StatusForbidden || parseError(t, b).reason() != "CSRF_TOKEN_INVALID" {
				t.Errorf("SetLanguage with CSRF %q: %d %s", csrf, resp.StatusCode, b)
			}
			resp, b = c.rpc("Transfer", `{}`, csrf, nil)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("Transfer with CSRF %q: %d %s", csrf, resp.StatusCode, b)
			}
		}
		var s struct{ Language string }
		c.rpcOK("GetSession", `{}`, &s)
		if s.Language != "es-PE" {
			t.Errorf("language %q after refused changes", s.Language)
		}
		// Another site's page cannot call, even with the token.
		req, _ := http.NewRequest(http.MethodPost, base+"/andes.web.v1.WebService/SetLanguage", strings.NewReader(`{"language":"en"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", c.csrf)
		req.Header.Set("Origin", "http://evil.example")
		if resp, b := c.do(req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin SetLanguage: %d %s", resp.StatusCode, b)
		}
		// With the token it works (and is put back).
		c.rpcOK("SetLanguage", `{"language":"en"}`, nil)
		c.rpcOK("GetSession", `{}`, &s)
		if s.Language != "en" {
			t.Errorf("language %q after SetLanguage en", s.Language)
		}
		c.rpcOK("SetLanguage", `{"language":"es-PE"}`, nil)
	})

	t.Run("no token reaches the browser", func(t *testing.T) {
		var accounts struct {
			Accounts []struct{ AccountID string }
		}
		c.rpcOK("ListAccounts", `{}`, &accounts)
		if len(accounts.Accounts) > 0 {
			c.rpcOK("ListMovements", jsonBody(map[string]any{"accountId": accounts.Accounts[0].AccountID}), nil)
		}
		c.noTokens()
	})

	t.Run("a logged-out session cannot act", func(t *testing.T) {
		// Logout needs the CSRF token too: nobody else may end the session.
		req, _ := http.NewRequest(http.MethodPost, base+"/logout", nil)
		if resp, b := c.do(req); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("logout without CSRF: %d %s", resp.StatusCode, b)
		}
		c.rpcOK("GetSession", `{}`, nil)

		req, _ = http.NewRequest(http.MethodPost, base+"/logout", nil)
		req.Header.Set("X-CSRF-Token", c.csrf)
		if resp, b := c.do(req); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d %s", resp.StatusCode, b)
		}
		// The old cookie, replayed by hand, opens nothing.
		for _, m := range []string{"GetSession", "ListAccounts", "SetLanguage"} {
			resp, b := c.rpc(m, `{"language":"en"}`, c.csrf, c.session)
			if resp.StatusCode != http.StatusUnauthorized || parseError(t, b).reason() != "INVALID_TOKEN" {
				t.Errorf("%s after logout: %d %s", m, resp.StatusCode, b)
			}
		}
		req, _ = http.NewRequest(http.MethodGet, base+"/", nil)
		c2 := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c2.Do(withCookie(req, c.session))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("GET / after logout: %d, want 303 to /login", resp.StatusCode)
		}
	})
}

// chromium finds the browser; CI must have it, elsewhere the test may skip.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := "Chromium is not installed: apt-get install -y chromium (.ci/run installs it)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// dailyLimit is the controller's PEN daily limit in these tests, minor units.
const dailyLimit = 50000

type pageAccount struct {
	ID, Kind, Currency, Text string
	Minor                    int64 `json:",string"`
}

const accountsJS = `Array.from(document.querySelectorAll('#accounts li.account')).map(li => ({
  ID: li.dataset.accountId, Kind: li.dataset.kind, Currency: li.dataset.currency,
  Text: li.querySelector('.available').textContent, Minor: li.querySelector('.available').dataset.minor}))`

func testBrowser(t *testing.T, p *platformtest.Platform, base string) {
	exe := chromium(t)
	out := artifacts(t, p.Root)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("lang", "es-PE"), chromedp.WindowSize(1200, 900))...)
	defer cancelAlloc()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	// A hang guard for the whole journey, never a speed assertion.
	ctx, cancelTimeout := context.WithTimeout(browser, 5*time.Minute)
	defer cancelTimeout()
	if err := chromedp.Do(browser); err != nil { // starts the browser on the untimed context
		t.Fatalf("starting %s: %v", exe, err)
	}

	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(out, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			shot("failed-" + strings.ReplaceAll(what, " ", "-"))
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(js string, out any) {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(`+js+`)`))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		if err := json.Unmarshal([]byte(s), out); err != nil {
			t.Fatalf("evaluate %s: %v (%s)", js, err, s)
		}
	}
	accounts := func() []pageAccount {
		var as []pageAccount
		eval(accountsJS, &as)
		for i := range as {
			as[i].Text = plain(as[i].Text)
		}
		return as
	}

	// 1. Log in through auth's login page.
	do("open the bank", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("document")))
	shot("01-login")
	do("log in", chromedp.SendKeys(chromedp.ID("document"), mariaDocument), chromedp.SendKeys(chromedp.ID("password"), mariaPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"] #accounts li.account`)))
	shot("02-accounts")

	// 2. The balances, in Peru's format.
	before := accounts()
	var src, dst pageAccount
	for _, a := range before {
		if a.Currency == "PEN" && a.Kind == "ACCOUNT_KIND_SAVINGS" && src.ID == "" {
			src = a
		}
		if a.Currency == "PEN" && a.Kind == "ACCOUNT_KIND_CHECKING" && dst.ID == "" {
			dst = a
		}
	}
	if src.ID == "" || dst.ID == "" {
		t.Fatalf("maria's PEN savings and checking accounts are not both on the page: %+v", before)
	}
	if want := money(src.Minor); src.Text != want {
		t.Errorf("savings balance shows %q, want %q", src.Text, want)
	}

	// 3. A transfer to her own account, with the confirmation step.
	const amount = 2550
	desc := fmt.Sprintf("E2E web %d", time.Now().UnixNano()%1e9)
	do("fill the transfer form", chromedp.Click(chromedp.ID("nav-transfer")), chromedp.WaitVisible(chromedp.ID("tf-form")),
		chromedp.SetValue(chromedp.ID("tf-source"), src.ID), chromedp.SetValue(chromedp.ID("tf-dest-account"), dst.ID),
		chromedp.SendKeys(chromedp.ID("tf-amount"), "25.50"), chromedp.SendKeys(chromedp.ID("tf-description"), desc))
	shot("03-transfer-form")
	do("continue", chromedp.Click(chromedp.ID("tf-continue")))
	waitStep(t, ctx, shot, "tf-confirm-panel", "tf-error")
	shot("04-confirm")
	var limitText string
	eval(`document.getElementById('tf-limit').dataset.minor`, &limitText)
	if limitText != strconv.Itoa(dailyLimit) {
		t.Errorf("the confirmation shows %q left of the daily limit, want %d (own accounts do not count)", limitText, dailyLimit)
	}
	do("confirm", chromedp.Click(chromedp.ID("tf-confirm")))
	waitStep(t, ctx, shot, "tf-result", "tf-confirm-error")
	waitFor(t, ctx, "the transfer to complete", func() bool {
		var st string
		eval(`document.getElementById('tf-result').dataset.status`, &st)
		return st == "TRANSFER_STATUS_COMPLETED"
	})
	shot("05-receipt")

	// 4. The new balances and the movement.
	var after []pageAccount
	defer func() {
		if t.Failed() {
			var stale string
			eval(`document.getElementById('stale').hidden ? '' : document.getElementById('stale').textContent`, &stale)
			t.Logf("balances before %+v, last seen %+v, stale notice %q", before, after, stale)
		}
	}()
	waitFor(t, ctx, "the new balances", func() bool {
		do("accounts", chromedp.Click(chromedp.ID("nav-accounts")), chromedp.WaitVisible(chromedp.CSS(`#accounts li.account`)))
		after = accounts()
		return minorOf(after, src.ID) == src.Minor-amount
	})
	if got := minorOf(after, dst.ID); got != dst.Minor+amount {
		t.Errorf("checking balance %s after the transfer, want %s", money(got), money(dst.Minor+amount))
	}
	shot("06-new-balances")
	do("movements", chromedp.Click(chromedp.CSS(`li[data-account-id="`+src.ID+`"] button.open`)),
		chromedp.WaitVisible(chromedp.CSS(`#movements li.movement`)))
	var first struct{ Desc, Minor, Text string }
	eval(`(() => { const li = document.querySelector('#movements li.movement');
	  return {Desc: li.querySelector('.desc').textContent, Minor: li.querySelector('.amt').dataset.minor, Text: li.querySelector('.amt').textContent}; })()`, &first)
	first.Text = plain(first.Text)
	if first.Desc != desc || first.Minor != "-2550" || first.Text != "-S/ 25.50" {
		t.Errorf("newest movement %+v, want %q for -S/ 25.50", first, desc)
	}
	shot("07-movements")

	// 5. A first payment to another customer: the SMS code step-up.
	jose := p.Demo.Customer("jose")
	if jose == nil || len(jose.Accounts) == 0 {
		t.Fatal("the demo bank has no jose with an account")
	}
	maria := p.Demo.Customer("maria")
	smsBase := "http://" + p.Edge(t, "sms", "")
	const paid = 10000
	do("fill a payment to jose", chromedp.Click(chromedp.ID("nav-transfer")), chromedp.WaitVisible(chromedp.ID("tf-form")),
		chromedp.SetValue(chromedp.ID("tf-source"), src.ID), chromedp.Click(chromedp.ID("tf-dest-other")),
		chromedp.WaitVisible(chromedp.ID("tf-dest-number")), chromedp.SendKeys(chromedp.ID("tf-dest-number"), jose.Accounts[0].Number),
		chromedp.SendKeys(chromedp.ID("tf-amount"), "100.00"),
		chromedp.Click(chromedp.ID("tf-continue")))
	waitStep(t, ctx, shot, "tf-confirm-panel", "tf-error")
	var note bool
	eval(`!document.getElementById('cf-stepup-note').hidden`, &note)
	if !note {
		t.Error("the confirmation does not say an SMS code will be needed for a new beneficiary")
	}
	shot("08-confirm-new-beneficiary")
	smsBefore := len(smsCodes(t, smsBase, maria.Phone))
	do("confirm, which asks for a code", chromedp.Click(chromedp.ID("tf-confirm")))
	waitStep(t, ctx, shot, "tf-stepup", "tf-confirm-error")
	shot("09-step-up")
	var code string
	waitFor(t, ctx, "the SMS code", func() bool {
		codes := smsCodes(t, smsBase, maria.Phone)
		if len(codes) > smsBefore {
			code = codes[len(codes)-1]
		}
		return code != ""
	})
	do("enter the code", chromedp.SendKeys(chromedp.ID("tf-code"), code), chromedp.Click(chromedp.ID("tf-confirm")))
	waitStep(t, ctx, shot, "tf-result", "tf-confirm-error")
	waitFor(t, ctx, "the payment to complete", func() bool {
		var st string
		eval(`document.getElementById('tf-result').dataset.status`, &st)
		return st == "TRANSFER_STATUS_COMPLETED"
	})
	shot("10-receipt-new-beneficiary")
	waitFor(t, ctx, "the balance after the payment", func() bool {
		do("accounts", chromedp.Click(chromedp.ID("nav-accounts")), chromedp.WaitVisible(chromedp.CSS(`#accounts li.account`)))
		after = accounts()
		return minorOf(after, src.ID) == src.Minor-amount-paid
	})

	// 6. Over the daily limit: refused with a clear message, nothing moves.
	over := int64(dailyLimit - paid + 100)
	do("fill an over-limit payment", chromedp.Click(chromedp.ID("nav-transfer")), chromedp.WaitVisible(chromedp.ID("tf-form")),
		chromedp.SetValue(chromedp.ID("tf-source"), src.ID), chromedp.Click(chromedp.ID("tf-dest-other")),
		chromedp.WaitVisible(chromedp.ID("tf-dest-number")), chromedp.SetValue(chromedp.ID("tf-dest-number"), jose.Accounts[0].Number),
		chromedp.SendKeys(chromedp.ID("tf-amount"), fmt.Sprintf("%d.%02d", over/100, over%100)),
		chromedp.Click(chromedp.ID("tf-continue")))
	errID := "tf-error"
	if waitStepSoft(t, ctx, "tf-confirm-panel", "tf-error") == "tf-confirm-panel" {
		do("confirm over the limit", chromedp.Click(chromedp.ID("tf-confirm")))
		errID = "tf-confirm-error"
		waitStepSoft(t, ctx, errID, errID)
	}
	var refusal struct{ Reason, Text string }
	eval(`({Reason: document.getElementById('`+errID+`').dataset.reason, Text: document.getElementById('`+errID+`').textContent})`, &refusal)
	shot("11-over-limit")
	refusal.Text = plain(refusal.Text)
	wantText := "Hoy puedes transferir hasta " + money(dailyLimit-paid)
	if refusal.Reason != "DAILY_LIMIT_EXCEEDED" || !strings.Contains(refusal.Text, "límite diario") || !strings.Contains(refusal.Text, wantText) {
		t.Errorf("over-limit refusal %+v, want DAILY_LIMIT_EXCEEDED explained in Spanish with %q", refusal, wantText)
	}
	do("accounts again", chromedp.Click(chromedp.ID("nav-accounts")), chromedp.WaitVisible(chromedp.CSS(`#accounts li.account`)))
	for _, a := range accounts() {
		if want := minorOf(after, a.ID); a.Minor != want {
			t.Errorf("account %s moved after a refused transfer: %s, was %s", a.ID, money(a.Minor), money(want))
		}
	}

	// A statement for this month, which holds today's movements.
	do("statement", chromedp.Click(chromedp.ID("nav-statement")), chromedp.WaitVisible(chromedp.ID("st-form")),
		chromedp.SetValue(chromedp.ID("st-account"), src.ID), chromedp.Click(chromedp.ID("st-show")))
	if waitStepSoft(t, ctx, "st-result", "st-error") == "st-error" {
		var e string
		eval(`document.getElementById('st-error').dataset.code + ' ' + document.getElementById('st-error').textContent`, &e)
		t.Errorf("the statement was refused: %s", e)
	} else {
		var rows int
		eval(`document.querySelectorAll('#st-rows tr').length`, &rows)
		if rows < 2 {
			t.Errorf("the statement shows %d movements, want at least today's 2", rows)
		}
	}
	shot("11b-statement")

	// 7. Nothing token-like in the browser's storage or cookies.
	var storage string
	eval(`JSON.stringify({l: Object.entries(localStorage), s: Object.entries(sessionStorage), c: document.cookie})`, &storage)
	if jwtShape.MatchString(storage) || strings.Contains(storage, "andes_session") {
		t.Errorf("script-visible storage holds a token or the session id: %s", storage)
	}
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range cookies.Cookies {
		if jwtShape.MatchString(ck.Value) {
			t.Errorf("cookie %s holds something JWT-shaped", ck.Name)
		}
		if ck.Name == "andes_session" && (!ck.HTTPOnly || ck.SameSite != network.CookieSameSiteLax) {
			t.Errorf("session cookie in the browser: HttpOnly=%v SameSite=%v", ck.HTTPOnly, ck.SameSite)
		}
	}

	// 8. English, and a phone-sized screen.
	do("English", chromedp.Click(chromedp.ID("lang-toggle")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)))
	var title string
	eval(`document.getElementById('h-accounts').textContent`, &title)
	if title != "My accounts" {
		t.Errorf("English title %q", title)
	}
	do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	shot("12-phone-english")
	do("Spanish again", chromedp.Click(chromedp.ID("lang-toggle")), chromedp.WaitVisible(chromedp.CSS(`html[lang="es-PE"]`)))
	shot("13-phone-spanish")
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// smsCodes lists the one-time codes the SMS simulator received for phone, oldest first.
func smsCodes(t *testing.T, base, phone string) []string {
	t.Helper()
	resp, err := http.Get(base + "/v1/messages?to=" + url.QueryEscape(phone))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Messages []struct {
			Text       string    `json:"text"`
			ReceivedAt time.Time `json:"received_at"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("SMS simulator: %v", err)
	}
	sort.SliceStable(body.Messages, func(i, j int) bool { return body.Messages[i].ReceivedAt.Before(body.Messages[j].ReceivedAt) })
	var codes []string
	for _, m := range body.Messages {
		if c := sixDigits.FindString(m.Text); c != "" {
			codes = append(codes, c)
		}
	}
	return codes
}

// plain turns the page's no-break spaces (between "S/" and the number) into spaces.
func plain(s string) string { return strings.ReplaceAll(s, "\u00a0", " ") }

func minorOf(as []pageAccount, id string) int64 {
	for _, a := range as {
		if a.ID == id {
			return a.Minor
		}
	}
	return -1 << 62
}

// waitStep waits until the next step (ok) or an error box shows; an error box fails
// the test with what the page said.
func waitStep(t *testing.T, ctx context.Context, shot func(string), ok, errBox string) {
	t.Helper()
	if got := waitStepSoft(t, ctx, ok, errBox); got == ok {
		return
	}
	var e struct{ Code, Reason, Text string }
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({Code: document.getElementById('`+errBox+`').dataset.code,
	  Reason: document.getElementById('`+errBox+`').dataset.reason, Text: document.getElementById('`+errBox+`').textContent})`))
	_ = json.Unmarshal([]byte(v), &e)
	shot("refused-" + ok)
	t.Fatalf("waiting for %s the page showed an error: %+v", ok, e)
}

// waitStepSoft waits until element ok or errBox is visible and says which.
func waitStepSoft(t *testing.T, ctx context.Context, ok, errBox string) string {
	t.Helper()
	var which string
	waitFor(t, ctx, ok, func() bool {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(['`+ok+`','`+errBox+`'].find(id => !document.getElementById(id).hidden) || '')`))
		which = v
		return err == nil && v != ""
	})
	return which
}

// waitFor polls cond until it holds; the deadline guards against a hang.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(platformtest.StepTimeout)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
