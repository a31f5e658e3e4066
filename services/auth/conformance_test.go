package auth_test

// The conformance suite of issue 6: one test per rule of RFC 9700 and DESIGN.md
// section 7, each against the real server over HTTP with real PostgreSQL, Redis
// and NATS.

import (
	"context"
	"crypto/ed25519"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/golang-jwt/jwt/v5"

	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/services/auth/app"
	"github.com/andes-bank/andes/services/auth/domain"
)

// authorizeError opens an authorization request and returns the error the server
// redirected with (or "" when it showed a page instead) and the page's status.
func (h *harness) authorizeError(u string) (redirected url.Values, status int) {
	h.t.Helper()
	resp, err := h.browser().Get(u)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		return nil, resp.StatusCode
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		h.t.Fatal(err)
	}
	return loc.Query(), resp.StatusCode
}

func TestRedirectURIOnlyExactMatch(t *testing.T) {
	h := start(t)
	web := h.web()
	challenge := domain.S256Challenge(newVerifier())
	for name, redirect := range map[string]string{
		"look-alike host":   "http://127.0.0.1.evil.example:18080/auth/callback",
		"other path":        "http://127.0.0.1:18080/auth/callback/../../evil",
		"path suffix":       "http://127.0.0.1:18080/auth/callback2",
		"other port":        "http://127.0.0.1:18081/auth/callback",
		"added query":       "http://127.0.0.1:18080/auth/callback?next=evil",
		"userinfo":          "http://attacker@127.0.0.1:18080/auth/callback",
		"missing":           "",
		"another client's":  "pe.andes.mobile:/oauth2redirect",
		"scheme downgraded": "https://127.0.0.1:18080/auth/callback",
	} {
		a := web
		a.redirect = redirect
		q, status := h.authorizeError(authorizeURL(h.base, a, challenge, "s", nil))
		if q != nil || status != http.StatusBadRequest {
			t.Errorf("%s redirect URI: status %d, redirected %v (must show an error page, never redirect)", name, status, q)
		}
	}
}

func TestImplicitGrantRefused(t *testing.T) {
	h := start(t)
	q, _ := h.authorizeError(authorizeURL(h.base, h.web(), domain.S256Challenge(newVerifier()), "s", url.Values{"response_type": {"token"}}))
	if q.Get("error") != "unsupported_response_type" || q.Get("state") != "s" || q.Get("access_token") != "" {
		t.Fatalf("response_type=token: %v", q)
	}
	q, _ = h.authorizeError(authorizeURL(h.base, h.web(), domain.S256Challenge(newVerifier()), "s", url.Values{"response_type": {"code token"}}))
	if q.Get("error") != "unsupported_response_type" {
		t.Fatalf("hybrid response type: %v", q)
	}
}

func TestPasswordGrantRefused(t *testing.T) {
	h := start(t)
	web, maria := h.web(), h.ds.Customer("maria")
	tr := h.token(url.Values{"grant_type": {"password"}, "username": {maria.DocumentNumber}, "password": {maria.Password}}, web.id, web.secret)
	if tr.Status != http.StatusBadRequest || tr.Error != "unsupported_grant_type" || tr.AccessToken != "" {
		t.Fatalf("password grant: %+v", tr)
	}
	for _, g := range []string{"implicit", "__implicit", "urn:ietf:params:oauth:grant-type:device_code"} {
		if tr := h.token(url.Values{"grant_type": {g}}, web.id, web.secret); tr.Error != "unsupported_grant_type" {
			t.Errorf("grant %s: %+v", g, tr)
		}
	}
}

func TestPKCEMissingRefused(t *testing.T) {
	h := start(t)
	u := authorizeURL(h.base, h.web(), "", "s", nil)
	u = strings.Replace(u, "code_challenge=&", "", 1)
	q, _ := h.authorizeError(u)
	if q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "PKCE") {
		t.Fatalf("no code_challenge: %v", q)
	}
	// And a token request without a verifier.
	verifier := newVerifier()
	code := h.login(h.web(), "maria", verifier)
	web := h.web()
	tr := h.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {web.redirect}}, web.id, web.secret)
	if tr.Status != http.StatusBadRequest || tr.AccessToken != "" {
		t.Fatalf("no code_verifier: %+v", tr)
	}
}

func TestPKCEPlainRefused(t *testing.T) {
	h := start(t)
	verifier := newVerifier()
	for _, method := range []string{"plain", ""} {
		q, _ := h.authorizeError(authorizeURL(h.base, h.web(), verifier, "s", url.Values{"code_challenge_method": {method}}))
		if q.Get("error") != "invalid_request" {
			t.Errorf("code_challenge_method=%q: %v", method, q)
		}
	}
}

func TestPKCEWrongVerifierRefused(t *testing.T) {
	h := start(t)
	web := h.web()
	verifier := newVerifier()
	code := h.login(web, "maria", verifier)
	if tr := h.exchange(web, code, verifier+"x"); tr.Error != "invalid_grant" {
		t.Fatalf("wrong verifier: %+v", tr)
	}
	// The attempt burnt the code: the right verifier is too late.
	if tr := h.exchange(web, code, verifier); tr.Error != "invalid_grant" {
		t.Fatalf("code after a failed attempt: %+v", tr)
	}
}

func TestVerifierWithoutChallengeRefused(t *testing.T) {
	h := start(t)
	web := h.web()
	// A code without a challenge cannot come from the authorize endpoint; put one
	// in the store as a downgrade attack would need.
	ti := models.NewToken()
	ti.ClientID, ti.UserID, ti.RedirectURI, ti.Scope = web.id, h.ds.Customer("maria").ID, web.redirect, "accounts:read"
	ti.Code, ti.CodeCreateAt, ti.CodeExpiresIn = "no-challenge-code-0123456789abcdefghijklmno", time.Now(), time.Minute
	ti.Extension.Set(app.ExtFamily, "fam-downgrade")
	ti.Extension.Set(app.ExtFamilyCreated, strconv.FormatInt(time.Now().UnixMilli(), 10))
	if err := h.svc.Tokens().Create(context.Background(), ti); err != nil {
		t.Fatal(err)
	}
	if tr := h.exchange(web, ti.Code, newVerifier()); tr.Error != "invalid_grant" || tr.AccessToken != "" {
		t.Fatalf("verifier without challenge: %+v", tr)
	}
}

func TestCodeRedeemedTwiceRevokesFirstTokens(t *testing.T) {
	h := start(t)
	web := h.web()
	verifier := newVerifier()
	code := h.login(web, "maria", verifier)
	first := h.exchange(web, code, verifier)
	if first.Status != http.StatusOK {
		t.Fatalf("first redemption %+v", first)
	}
	v, _ := h.verifier(time.Now)
	if _, err := v.Verify(context.Background(), first.AccessToken); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	second := h.exchange(web, code, verifier)
	if second.Error != "invalid_grant" || second.AccessToken != "" {
		t.Fatalf("second redemption %+v", second)
	}
	if h.active(first.AccessToken) {
		t.Fatal("the first redemption's access token survived the reuse")
	}
	if r := h.refresh(web, first.RefreshToken); r.Error != "invalid_grant" {
		t.Fatalf("the first redemption's refresh token survived the reuse: %+v", r)
	}
	eventually(t, "verifiers learn the revocation", func() bool {
		_, err := v.Verify(context.Background(), first.AccessToken)
		return isRefused(err, tokens.ReasonRevoked)
	})
}

func TestCodeRedeemedConcurrentlyWorksAtMostOnce(t *testing.T) {
	h := start(t)
	web := h.web()
	verifier := newVerifier()
	code := h.login(web, "maria", verifier)
	const n = 8
	results := make([]tokenResponse, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			results[i] = h.exchange(web, code, verifier)
		}()
	}
	close(gate)
	wg.Wait()
	var won []tokenResponse
	for _, r := range results {
		if r.Status == http.StatusOK {
			won = append(won, r)
		} else if r.Error != "invalid_grant" {
			t.Errorf("a losing redemption answered %+v", r)
		}
	}
	// One request takes the code; the others are reuse and revoke the grant. When
	// a loser revokes before the winner has recorded its tokens, the winner is
	// refused too: tokens of a code presented twice never survive.
	if len(won) > 1 {
		t.Fatalf("%d redemptions of one code succeeded", len(won))
	}
	for _, r := range won {
		if h.active(r.AccessToken) {
			t.Fatal("the winning redemption's access token survived the concurrent reuse")
		}
		if rr := h.refresh(web, r.RefreshToken); rr.Error != "invalid_grant" {
			t.Fatalf("the winning redemption's refresh token survived: %+v", rr)
		}
	}
}

func TestReusedRefreshTokenRevokesFamily(t *testing.T) {
	h := start(t)
	mobile := h.mobile()
	t1 := h.codeFlow(mobile, "maria")
	t2 := h.refresh(mobile, t1.RefreshToken)
	if t2.Status != http.StatusOK {
		t.Fatalf("rotation %+v", t2)
	}
	if again := h.refresh(mobile, t1.RefreshToken); again.Error != "invalid_grant" {
		t.Fatalf("reuse %+v", again)
	}
	if r := h.refresh(mobile, t2.RefreshToken); r.Error != "invalid_grant" {
		t.Fatalf("the family's newest refresh token survived the reuse: %+v", r)
	}
	for i, at := range []string{t1.AccessToken, t2.AccessToken} {
		if h.active(at) {
			t.Errorf("access token %d of the family is still active", i+1)
		}
	}
}

func TestAnotherClientsRefreshTokenRefused(t *testing.T) {
	h := start(t)
	mobile, web := h.mobile(), h.web()
	tr := h.codeFlow(mobile, "maria")
	if r := h.refresh(web, tr.RefreshToken); r.Error != "invalid_grant" || r.AccessToken != "" {
		t.Fatalf("bff-web using andes-mobile's refresh token: %+v", r)
	}
	// Refused without effect: the rightful client still refreshes.
	if r := h.refresh(mobile, tr.RefreshToken); r.Status != http.StatusOK {
		t.Fatalf("rightful refresh after another client's attempt: %+v", r)
	}
}

func TestTokenInQueryStringIgnored(t *testing.T) {
	h := start(t)
	id, secret := h.partner("kallpa")
	tr := h.clientCredentials(id, secret, "")
	v, _ := h.verifier(time.Now)
	api := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, tokens.FromContext(r.Context()).Subject)
	}), tokens.HTTPOptions{}))
	defer api.Close()
	resp, err := http.Get(api.URL + "/v1/customers?access_token=" + url.QueryEscape(tr.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("token in the query string: %d", resp.StatusCode)
	}
	form, _ := http.NewRequest(http.MethodPost, api.URL, strings.NewReader("access_token="+url.QueryEscape(tr.AccessToken)))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = http.DefaultClient.Do(form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("token in a form body: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != id {
		t.Fatalf("token in the header: %d %s", resp.StatusCode, body)
	}
	// The token endpoint reads its parameters from the body only.
	web := h.web()
	verifier := newVerifier()
	code := h.login(web, "maria", verifier)
	req, _ = http.NewRequest(http.MethodPost, h.base+"/oauth2/token?code_verifier="+verifier,
		strings.NewReader(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {web.redirect}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(web.id, web.secret)
	resp, err = h.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("code_verifier in the token endpoint's query string was used: %d", resp.StatusCode)
	}
}

func TestRevokedTokenFailsIntrospectionAndLocalVerification(t *testing.T) {
	h := start(t)
	id, secret := h.partner("yaku")
	tr := h.clientCredentials(id, secret, "")
	v, rs := h.verifier(time.Now)
	if _, err := v.Verify(context.Background(), tr.AccessToken); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	if !h.active(tr.AccessToken) {
		t.Fatal("inactive before revocation")
	}
	// Another partner may not revoke it.
	other, otherSecret := h.partner("kallpa")
	resp := h.postForm("/oauth2/revoke", url.Values{"token": {tr.AccessToken}}, other, otherSecret)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !h.active(tr.AccessToken) {
		t.Fatalf("another client's revocation: %d", resp.StatusCode)
	}
	resp = h.postForm("/oauth2/revoke", url.Values{"token": {tr.AccessToken}, "token_type_hint": {"access_token"}}, id, secret)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if h.active(tr.AccessToken) {
		t.Fatal("introspection still says active")
	}
	eventually(t, "the revocation reaches the verifier", func() bool {
		_, err := v.Verify(context.Background(), tr.AccessToken)
		return isRefused(err, tokens.ReasonRevoked)
	})
	if rs.Len() == 0 {
		t.Fatal("empty revocation set")
	}
	// A verifier started afterwards replays the feed and refuses it too.
	v2, _ := h.verifier(time.Now)
	if _, err := v2.Verify(context.Background(), tr.AccessToken); !isRefused(err, tokens.ReasonRevoked) {
		t.Fatalf("a verifier started after the revocation: %v", err)
	}
}

// forged signs claims with auth's real current key, so that only the rule under
// test can refuse the token.
func (h *harness) forged(t *testing.T, header map[string]any, mutate func(*tokens.Claims)) string {
	t.Helper()
	now := time.Now()
	c := &tokens.Claims{Issuer: h.base, Subject: "partner-kallpa", Audience: tokens.Audience{domain.Audience},
		IssuedAt: tokens.At(now), ExpiresAt: tokens.At(now.Add(5 * time.Minute)), ID: "forged-" + strconv.FormatInt(now.UnixNano(), 36),
		ClientID: "partner-kallpa", Scope: "cash"}
	if mutate != nil {
		mutate(c)
	}
	if header == nil {
		header = map[string]any{"typ": "at+jwt"}
	}
	s, err := h.svc.Keyring().SignJWT(header, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLocalVerificationRules(t *testing.T) {
	h := start(t)
	v, _ := h.verifier(time.Now)
	if _, err := v.Verify(context.Background(), h.forged(t, nil, nil)); err != nil {
		t.Fatalf("the control token is refused: %v", err)
	}
	noneToken := func() string {
		c := &tokens.Claims{Issuer: h.base, Subject: "x", Audience: tokens.Audience{domain.Audience}, IssuedAt: tokens.At(time.Now()),
			ExpiresAt: tokens.At(time.Now().Add(time.Minute)), ID: "n", ClientID: "x"}
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, c)
		tok.Header["typ"], tok.Header["kid"] = "at+jwt", h.svc.Keyring().KID()
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hmacToken := func() string {
		// The classic confusion: HS256 keyed with the public key's bytes.
		c := &tokens.Claims{Issuer: h.base, Subject: "x", Audience: tokens.Audience{domain.Audience}, IssuedAt: tokens.At(time.Now()),
			ExpiresAt: tokens.At(time.Now().Add(time.Minute)), ID: "h", ClientID: "x"}
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		tok.Header["typ"], tok.Header["kid"] = "at+jwt", h.svc.Keyring().KID()
		k, _ := h.svc.Keyring().Key(context.Background(), h.svc.Keyring().KID())
		s, _ := tok.SignedString([]byte(k.Key.(ed25519.PublicKey)))
		return s
	}
	for _, tc := range []struct {
		name, reason string
		token        string
	}{
		{"expired", tokens.ReasonExpired, h.forged(t, nil, func(c *tokens.Claims) {
			c.IssuedAt, c.ExpiresAt = tokens.At(time.Now().Add(-20*time.Minute)), tokens.At(time.Now().Add(-10*time.Minute))
		})},
		{"alg none", tokens.ReasonAlgorithm, noneToken()},
		{"alg HS256 with the public key", tokens.ReasonAlgorithm, hmacToken()},
		{"wrong typ", tokens.ReasonType, h.forged(t, map[string]any{"typ": "JWT"}, nil)},
		{"no typ", tokens.ReasonType, h.forged(t, map[string]any{}, nil)},
		{"wrong iss", tokens.ReasonIssuer, h.forged(t, nil, func(c *tokens.Claims) { c.Issuer = "http://evil.example" })},
		{"wrong aud", tokens.ReasonAudience, h.forged(t, nil, func(c *tokens.Claims) { c.Audience = tokens.Audience{"https://other.example"} })},
		{"unknown key", tokens.ReasonUnknownKey, h.forged(t, map[string]any{"typ": "at+jwt", "kid": "not-a-key-of-auth"}, nil)},
		{"issued in the future", tokens.ReasonNotYetValid, h.forged(t, nil, func(c *tokens.Claims) { c.IssuedAt = tokens.At(time.Now().Add(time.Hour)) })},
		{"tampered", tokens.ReasonSignature, func() string {
			// Same header and signature, claims of another subject.
			s := h.forged(t, nil, nil)
			other := h.forged(t, nil, func(c *tokens.Claims) { c.Subject = "partner-yaku" })
			p, o := strings.Split(s, "."), strings.Split(other, ".")
			return p[0] + "." + o[1] + "." + p[2]
		}()},
	} {
		if _, err := v.Verify(context.Background(), tc.token); !isRefused(err, "") {
			t.Errorf("%s: accepted (%v)", tc.name, err)
		} else if got := tokens.ReasonOf(err); got != tc.reason {
			t.Errorf("%s: refused for %q, want %q", tc.name, got, tc.reason)
		}
		if h.active(tc.token) {
			t.Errorf("%s: introspection says active", tc.name)
		}
	}
}

func TestKeyRotationKeepsOldTokensValid(t *testing.T) {
	h := start(t)
	id, secret := h.partner("kallpa")
	old := h.clientCredentials(id, secret, "")
	oldKID := h.svc.Keyring().KID()
	v, _ := h.verifier(time.Now)
	if _, err := v.Verify(context.Background(), old.AccessToken); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Keyring().Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.svc.Keyring().KID() == oldKID {
		t.Fatal("rotation kept the key")
	}
	fresh := h.clientCredentials(id, secret, "")
	if header, _ := decodeJWT(t, fresh.AccessToken); header["kid"] != h.svc.Keyring().KID() {
		t.Fatalf("new token signed with %v", header["kid"])
	}
	// A verifier started now knows both keys from the JWKS; one that fetched
	// before this unscheduled rotation learns the new key on its unknown kid
	// (scheduled rotations publish the next key ahead: adapters/signing).
	v2, _ := h.verifier(time.Now)
	for _, tok := range []string{old.AccessToken, fresh.AccessToken} {
		if _, err := v2.Verify(context.Background(), tok); err != nil {
			t.Errorf("after rotation, new verifier: %v", err)
		}
	}
	if _, err := v.Verify(context.Background(), old.AccessToken); err != nil {
		t.Errorf("after rotation, old token: %v", err)
	}
	eventually(t, "the running verifier learns the new key", func() bool {
		_, err := v.Verify(context.Background(), fresh.AccessToken)
		return err == nil
	})
	if !h.active(old.AccessToken) {
		t.Fatal("introspection refuses a token of the previous key")
	}
}

func TestLockoutAfterFailedLogins(t *testing.T) {
	h := start(t)
	web, maria := h.web(), h.ds.Customer("maria")
	b := h.browser()
	attempt := func(password string) (int, string) {
		lp := h.openLogin(b, authorizeURL(h.base, web, domain.S256Challenge(newVerifier()), "s", nil))
		resp, body := h.submitLogin(b, lp, maria.DocumentNumber, password)
		return resp.StatusCode, body
	}
	for i := range 4 {
		if status, body := attempt("wrong-password"); status != http.StatusUnauthorized || !strings.Contains(body, "incorrectos") {
			t.Fatalf("failure %d: %d", i+1, status)
		}
	}
	if status, body := attempt("wrong-password"); status != http.StatusTooManyRequests || !strings.Contains(body, "bloqueado") {
		t.Fatalf("fifth failure: %d", status)
	}
	// Locked: even the right password is refused, and says so.
	if status, _ := attempt(maria.Password); status != http.StatusTooManyRequests {
		t.Fatalf("right password while locked: %d", status)
	}
	h.clock.Advance(61 * time.Second)
	if status, _ := attempt(maria.Password); status != http.StatusSeeOther {
		t.Fatalf("right password after the lockout: %d", status)
	}
	// The next lockout lasts twice as long.
	for range 5 {
		attempt("wrong-password")
	}
	h.clock.Advance(61 * time.Second)
	if status, _ := attempt(maria.Password); status != http.StatusTooManyRequests {
		t.Fatalf("second lockout ended after one minute: %d", status)
	}
	h.clock.Advance(60 * time.Second)
	if status, _ := attempt(maria.Password); status != http.StatusSeeOther {
		t.Fatalf("after the second lockout: %d", status)
	}
	h.svc.FlushAudit(context.Background())
	events, err := h.svc.Store().AuditEvents(context.Background(), maria.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var failures, locked, successes int
	for _, e := range events {
		switch {
		case e.Action == domain.ActionLogin && e.Success:
			successes++
		case e.Failure == "invalid_password":
			failures++
		case e.Failure == "locked":
			locked++
		}
		if e.Action == domain.ActionLogin && (e.OriginIP != "127.0.0.1" || e.ClientID != web.id) {
			t.Fatalf("audit event without origin or client: %+v", e)
		}
	}
	if successes != 2 || failures != 10 {
		t.Fatalf("audit: %d successes, %d failures, %d while locked", successes, failures, locked)
	}
}

func TestLockoutPerClientIP(t *testing.T) {
	h := start(t)
	web := h.web()
	b := h.browser()
	// Guessing across many documents from one address locks the address.
	var status int
	for i := range 30 {
		lp := h.openLogin(b, authorizeURL(h.base, web, domain.S256Challenge(newVerifier()), "s", nil))
		resp, _ := h.submitLogin(b, lp, strconv.Itoa(10000000+i), "wrong-password")
		status = resp.StatusCode
	}
	if status != http.StatusTooManyRequests {
		t.Fatalf("30th failure from one IP: %d", status)
	}
	maria := h.ds.Customer("maria")
	lp := h.openLogin(b, authorizeURL(h.base, web, domain.S256Challenge(newVerifier()), "s", nil))
	if resp, _ := h.submitLogin(b, lp, maria.DocumentNumber, maria.Password); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a locked IP logged in: %d", resp.StatusCode)
	}
}

func TestLoginFormCSRFProtected(t *testing.T) {
	h := start(t)
	web, maria := h.web(), h.ds.Customer("maria")
	b := h.browser()
	lp := h.openLogin(b, authorizeURL(h.base, web, domain.S256Challenge(newVerifier()), "s", nil))
	// A form posted by another browser (no cookie): refused.
	if resp, _ := h.submitLogin(h.browser(), lp, maria.DocumentNumber, maria.Password); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("no CSRF cookie: %d", resp.StatusCode)
	}
	// A tampered token: refused.
	bad := lp
	bad.fields = url.Values{"request": {lp.fields.Get("request")}, "csrf": {"x" + lp.fields.Get("csrf")}}
	if resp, _ := h.submitLogin(b, bad, maria.DocumentNumber, maria.Password); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("bad CSRF token: %d", resp.StatusCode)
	}
	// Posted from another origin: refused.
	form := url.Values{"request": {lp.fields.Get("request")}, "csrf": {lp.fields.Get("csrf")}, "document": {maria.DocumentNumber}, "password": {maria.Password}}
	req, _ := http.NewRequest(http.MethodPost, h.base+"/oauth2/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin post: %d", resp.StatusCode)
	}
	// The genuine form still works, and answers 303 (never 307) to the client.
	resp, _ = h.submitLogin(b, lp, maria.DocumentNumber, maria.Password)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), web.redirect+"?") {
		t.Fatalf("genuine form: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestLoginPageSpanishFirstAndNotFramable(t *testing.T) {
	h := start(t)
	lp := h.openLogin(h.browser(), authorizeURL(h.base, h.web(), domain.S256Challenge(newVerifier()), "s", nil))
	if !strings.Contains(lp.body, `lang="es-PE"`) || !strings.Contains(lp.body, "Contraseña") || strings.Contains(lp.body, "<script") {
		t.Fatalf("login page: %s", lp.body)
	}
	resp, err := h.browser().Get(authorizeURL(h.base, h.web(), domain.S256Challenge(newVerifier()), "s", nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", resp.Header)
	}
}

func TestNoCORSOnAuthorize(t *testing.T) {
	h := start(t)
	u := authorizeURL(h.base, h.web(), domain.S256Challenge(newVerifier()), "s", nil)
	for _, method := range []string{http.MethodOptions, http.MethodGet} {
		req, _ := http.NewRequest(method, u, nil)
		req.Header.Set("Origin", "http://evil.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, err := h.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s answered %s", method, k)
			}
		}
		if method == http.MethodOptions && resp.StatusCode < 400 {
			t.Errorf("preflight answered %d", resp.StatusCode)
		}
	}
}

func TestClientAuthenticationRules(t *testing.T) {
	h := start(t)
	id, secret := h.partner("kallpa")
	web, mobile := h.web(), h.mobile()
	for _, tc := range []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		code       string
	}{
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}}, id, secret + "0", 401, "invalid_client"},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}}, "partner-nobody", secret, 401, "invalid_client"},
		{"no authentication", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}}, "", "", 401, "invalid_client"},
		{"two methods", url.Values{"grant_type": {"client_credentials"}, "client_secret": {secret}}, id, secret, 400, "invalid_request"},
		{"public client, client credentials", url.Values{"grant_type": {"client_credentials"}, "client_id": {mobile.id}}, "", "", 400, "unauthorized_client"},
		{"public client with a secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {mobile.id}, "client_secret": {"x"}}, "", "", 401, "invalid_client"},
		{"web BFF, client credentials", url.Values{"grant_type": {"client_credentials"}}, web.id, web.secret, 400, "unauthorized_client"},
		{"partner, authorization code", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "code_verifier": {newVerifier()}, "redirect_uri": {"x"}}, id, secret, 400, "unauthorized_client"},
		{"scope beyond the client", url.Values{"grant_type": {"client_credentials"}, "scope": {"cards:write"}}, id, secret, 400, "invalid_scope"},
		{"unknown scope", url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}}, id, secret, 400, "invalid_scope"},
		{"repeated parameter", url.Values{"grant_type": {"client_credentials", "client_credentials"}}, id, secret, 400, "invalid_request"},
	} {
		tr := h.token(tc.form, tc.user, tc.pass)
		if tr.Status != tc.status || tr.Error != tc.code || tr.AccessToken != "" {
			t.Errorf("%s: %d %q, want %d %q", tc.name, tr.Status, tr.Error, tc.status, tc.code)
		}
	}
	// Introspection is for confidential clients.
	resp := h.postForm("/oauth2/introspect", url.Values{"token": {"x"}, "client_id": {mobile.id}}, "", "")
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("public client introspecting: %d", resp.StatusCode)
	}
	// A partner cannot introspect another partner's token.
	yakuID, yakuSecret := h.partner("yaku")
	other := h.clientCredentials(yakuID, yakuSecret, "")
	resp = h.postForm("/oauth2/introspect", url.Values{"token": {other.AccessToken}}, id, secret)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"active":false`) {
		t.Errorf("a partner introspected another's token: %s", body)
	}
}

func TestRevokeUserTokensRefusesRefreshAndAccess(t *testing.T) {
	h := start(t)
	mobile := h.mobile()
	tr := h.codeFlow(mobile, "ana")
	ana := h.ds.Customer("ana")
	v, _ := h.verifier(time.Now)
	if _, err := h.svc.Tokens().RevokeSubject(context.Background(), ana.ID); err != nil {
		t.Fatal(err)
	}
	if r := h.refresh(mobile, tr.RefreshToken); r.Error != "invalid_grant" {
		t.Fatalf("refresh after the subject's revocation: %+v", r)
	}
	if h.active(tr.AccessToken) {
		t.Fatal("access token active after the subject's revocation")
	}
	eventually(t, "verifiers learn the subject's revocation", func() bool {
		_, err := v.Verify(context.Background(), tr.AccessToken)
		return isRefused(err, tokens.ReasonRevoked)
	})
	// A login right after gets tokens that work.
	fresh := h.codeFlow(mobile, "ana")
	if _, err := v.Verify(context.Background(), fresh.AccessToken); err != nil {
		t.Fatalf("token issued after the revocation: %v", err)
	}
}
