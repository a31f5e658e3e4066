package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/auth/domain"
)

func decodeJWT(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", token)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, dst) != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	return header, claims
}

func TestCodeFlowThroughLoginPageWithRefresh(t *testing.T) {
	h := start(t)
	web := h.web()
	maria := h.ds.Customer("maria")
	tr := h.codeFlow(web, "maria")
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 600 || tr.RefreshToken == "" ||
		tr.Scope != "accounts:read accounts:write cards:read cards:write customers:read customers:write offline_access transfers:write" {
		t.Fatalf("token response %+v", tr)
	}
	header, claims := decodeJWT(t, tr.AccessToken)
	if header["typ"] != "at+jwt" || header["alg"] != "EdDSA" || header["kid"] == "" {
		t.Fatalf("header %v", header)
	}
	if claims["iss"] != h.base || claims["sub"] != maria.ID || claims["aud"] != domain.Audience || claims["client_id"] != web.id ||
		claims["scope"] != tr.Scope || claims["jti"] == "" || claims["amr"].([]any)[0] != "pwd" {
		t.Fatalf("claims %v", claims)
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat < 599 || exp-iat > 600 {
		t.Fatalf("lifetime %v", exp-iat)
	}

	v, _ := h.verifier(time.Now)
	p, err := v.Verify(context.Background(), tr.AccessToken)
	if err != nil || p.Subject != maria.ID || p.ClientID != web.id || !p.HasScope("transfers:write") || !p.IsCustomer() {
		t.Fatalf("local verification: %+v %v", p, err)
	}
	if got := h.introspect(tr.AccessToken); got["active"] != true || got["sub"] != maria.ID {
		t.Fatalf("introspection %v", got)
	}

	// Refresh rotates: a new pair, the old refresh token spent.
	r2 := h.refresh(web, tr.RefreshToken)
	if r2.Status != http.StatusOK || r2.RefreshToken == "" || r2.RefreshToken == tr.RefreshToken || r2.AccessToken == tr.AccessToken {
		t.Fatalf("refresh %+v", r2)
	}
	if _, c2 := decodeJWT(t, r2.AccessToken); c2["sub"] != maria.ID || c2["auth_time"] != claims["auth_time"] {
		t.Fatalf("refreshed claims %v", c2)
	}
	// Narrowing the scope on refresh is allowed, widening is not.
	r3 := h.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r2.RefreshToken}, "scope": {"accounts:read offline_access"}}, web.id, web.secret)
	if r3.Status != http.StatusOK || r3.Scope != "accounts:read offline_access" {
		t.Fatalf("narrowed refresh %+v", r3)
	}

	// Revoking the refresh token ends the grant.
	resp := h.postForm("/oauth2/revoke", url.Values{"token": {r3.RefreshToken}, "token_type_hint": {"refresh_token"}}, web.id, web.secret)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if again := h.refresh(web, r3.RefreshToken); again.Error != "invalid_grant" {
		t.Fatalf("refresh after revocation %+v", again)
	}
	if h.active(r3.AccessToken) {
		t.Fatal("the grant's access token is active after its refresh token was revoked")
	}
}

func TestMobileAppCodeFlowWithLoopbackRedirect(t *testing.T) {
	h := start(t)
	mobile := h.mobile()
	mobile.redirect = "http://127.0.0.1:49152/oauth2redirect"
	tr := h.codeFlow(mobile, "jose")
	if tr.RefreshToken == "" {
		t.Fatalf("token response %+v", tr)
	}
	if r := h.refresh(mobile, tr.RefreshToken); r.Status != http.StatusOK {
		t.Fatalf("public client refresh %+v", r)
	}
}

func TestClientCredentialsForAPartner(t *testing.T) {
	h := start(t)
	id, secret := h.partner("kallpa")
	tr := h.clientCredentials(id, secret, "")
	if tr.Status != http.StatusOK || tr.RefreshToken != "" || tr.Scope != "accounts:read cash customers:read customers:write transfers:write" {
		t.Fatalf("token response %+v", tr)
	}
	_, claims := decodeJWT(t, tr.AccessToken)
	if claims["sub"] != id || claims["client_id"] != id || claims["partner_id"] != "kallpa" {
		t.Fatalf("claims %v", claims)
	}
	narrow := h.clientCredentials(id, secret, "cash")
	if narrow.Status != http.StatusOK || narrow.Scope != "cash" {
		t.Fatalf("narrowed %+v", narrow)
	}
	// client_secret_post works too.
	post := h.token(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}, "", "")
	if post.Status != http.StatusOK {
		t.Fatalf("client_secret_post %+v", post)
	}
	agent := h.ds.Agents[0]
	at := h.clientCredentials(agent.ClientID, agent.ClientSecret, "")
	if _, c := decodeJWT(t, at.AccessToken); at.Status != http.StatusOK || at.Scope != "cash" || c["partner_id"] != agent.Partner {
		t.Fatalf("agent token %+v %v", at, c)
	}
	h.svc.FlushAudit(context.Background())
	events, err := h.svc.Store().AuditEvents(context.Background(), "", 10)
	if err != nil || len(events) != 4 || events[0].Action != domain.ActionTokenIssued || !events[0].Success || !strings.HasPrefix(events[0].Detail, "jti=") {
		t.Fatalf("audit %+v %v", events, err)
	}
}

func TestMetadataAndJWKS(t *testing.T) {
	h := start(t)
	resp, err := h.http.Get(h.base + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	var md map[string]any
	json.NewDecoder(resp.Body).Decode(&md)
	resp.Body.Close()
	if md["issuer"] != h.base || md["token_endpoint"] != h.base+"/oauth2/token" || md["jwks_uri"] != h.base+"/.well-known/jwks.json" ||
		md["code_challenge_methods_supported"].([]any)[0] != "S256" || len(md["response_types_supported"].([]any)) != 1 {
		t.Fatalf("metadata %v", md)
	}
	for _, g := range md["grant_types_supported"].([]any) {
		if g == "password" || g == "implicit" {
			t.Fatalf("metadata offers %v", g)
		}
	}
	resp, err = h.http.Get(h.base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []map[string]string }
	json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if len(set.Keys) != 1 || set.Keys[0]["kty"] != "OKP" || set.Keys[0]["alg"] != "EdDSA" || set.Keys[0]["kid"] != h.svc.Keyring().KID() || set.Keys[0]["d"] != "" {
		t.Fatalf("jwks %v", set)
	}
}
