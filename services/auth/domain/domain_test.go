package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	"github.com/andes-bank/andes/services/auth/domain"
)

func claimValue(v protoreflect.EnumValueDescriptor) string {
	return proto.GetExtension(v.Options(), authv1.E_ClaimValue).(string)
}

func TestScopesMatchTheProto(t *testing.T) {
	values := authv1.Scope(0).Descriptor().Values()
	var fromProto []string
	for i := 0; i < values.Len(); i++ {
		if values.Get(i).Number() != 0 {
			fromProto = append(fromProto, claimValue(values.Get(i)))
		}
	}
	var ours []string
	for _, s := range domain.AllScopes {
		ours = append(ours, string(s))
	}
	if strings.Join(fromProto, " ") != strings.Join(ours, " ") {
		t.Fatalf("proto scopes %v, domain scopes %v", fromProto, ours)
	}
	aud := claimValue(authv1.Audience_AUDIENCE_PLATFORM.Descriptor().Values().ByNumber(1))
	if aud != domain.Audience {
		t.Fatalf("proto audience %q, domain %q", aud, domain.Audience)
	}
}

func TestParseScopes(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{"", "", false},
		{"accounts:read", "accounts:read", false},
		{"transfers:write accounts:read", "accounts:read transfers:write", false},
		{"accounts:read accounts:read", "", true},
		{"accounts:read  cash", "", true},
		{"admin", "", true},
		{" accounts:read", "", true},
	} {
		got, err := domain.ParseScopes(tc.in)
		if (err != nil) != tc.err || (err == nil && got.String() != tc.want) {
			t.Errorf("ParseScopes(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func TestGrantScopes(t *testing.T) {
	c := &domain.Client{Scopes: domain.MustScopes(domain.ScopeAccountsRead, domain.ScopeCash)}
	if got, _ := c.GrantScopes(nil); got.String() != "accounts:read cash" {
		t.Errorf("default scopes = %q", got)
	}
	if got, err := c.GrantScopes(domain.MustScopes(domain.ScopeCash)); err != nil || got.String() != "cash" {
		t.Errorf("narrowed = %q, %v", got, err)
	}
	if _, err := c.GrantScopes(domain.MustScopes(domain.ScopeCardsWrite)); !errors.Is(err, domain.ErrInvalidScope) {
		t.Errorf("scope beyond the client's = %v", err)
	}
}

func TestMatchRedirectURI(t *testing.T) {
	web := &domain.Client{RedirectURIs: []string{"http://127.0.0.1:8080/auth/callback"}}
	mobile := &domain.Client{RedirectURIs: []string{"pe.andes.mobile:/oauth2redirect", "http://127.0.0.1/oauth2redirect"}}
	for _, tc := range []struct {
		name   string
		client *domain.Client
		uri    string
		want   bool
	}{
		{"exact", web, "http://127.0.0.1:8080/auth/callback", true},
		{"other path", web, "http://127.0.0.1:8080/auth/callback2", false},
		{"path prefix", web, "http://127.0.0.1:8080/auth/callback/../evil", false},
		{"trailing slash", web, "http://127.0.0.1:8080/auth/callback/", false},
		{"look-alike host", web, "http://127.0.0.1.evil.example:8080/auth/callback", false},
		{"suffix host", web, "http://evil127.0.0.1:8080/auth/callback", false},
		{"other port", web, "http://127.0.0.1:8081/auth/callback", false},
		{"added query", web, "http://127.0.0.1:8080/auth/callback?x=1", false},
		{"fragment", web, "http://127.0.0.1:8080/auth/callback#x", false},
		{"userinfo", web, "http://evil@127.0.0.1:8080/auth/callback", false},
		{"scheme upgrade", web, "https://127.0.0.1:8080/auth/callback", false},
		{"upper case", web, "HTTP://127.0.0.1:8080/auth/callback", false},
		{"custom scheme", mobile, "pe.andes.mobile:/oauth2redirect", true},
		{"custom scheme other path", mobile, "pe.andes.mobile:/oauth2redirect/x", false},
		{"custom scheme look-alike", mobile, "pe.andes.mobile.evil:/oauth2redirect", false},
		{"loopback any port", mobile, "http://127.0.0.1:53124/oauth2redirect", true},
		{"loopback no port", mobile, "http://127.0.0.1/oauth2redirect", true},
		{"loopback other path", mobile, "http://127.0.0.1:53124/other", false},
		{"localhost is not loopback IP", mobile, "http://localhost:53124/oauth2redirect", false},
		{"loopback https", mobile, "https://127.0.0.1:53124/oauth2redirect", false},
		{"loopback query", mobile, "http://127.0.0.1:53124/oauth2redirect?a=b", false},
		{"web has no port wildcard", web, "http://127.0.0.1:9999/auth/callback", false},
		{"empty", web, "", false},
	} {
		if got := tc.client.MatchRedirectURI(tc.uri); got != tc.want {
			t.Errorf("%s: MatchRedirectURI(%q) = %v", tc.name, tc.uri, got)
		}
	}
}

func TestClientGrantsAndValidation(t *testing.T) {
	secret := []byte(strings.Repeat("x", 32))
	for _, tc := range []struct {
		client domain.Client
		grants []string
		valid  bool
	}{
		{domain.Client{Kind: domain.KindWeb, SecretHash: secret, RedirectURIs: []string{"https://a/cb"}},
			[]string{domain.GrantAuthorizationCode, domain.GrantRefreshToken}, true},
		{domain.Client{Kind: domain.KindMobile, RedirectURIs: []string{"pe.andes.mobile:/cb"}},
			[]string{domain.GrantAuthorizationCode, domain.GrantRefreshToken}, true},
		{domain.Client{Kind: domain.KindMobile, SecretHash: secret, RedirectURIs: []string{"pe.andes.mobile:/cb"}}, nil, false},
		{domain.Client{Kind: domain.KindWeb, SecretHash: secret}, nil, false},
		{domain.Client{Kind: domain.KindPartner, SecretHash: secret, PartnerID: "kallpa"}, []string{domain.GrantClientCredentials}, true},
		{domain.Client{Kind: domain.KindPartner, SecretHash: secret}, nil, false},
		{domain.Client{Kind: domain.KindAgent, SecretHash: secret, PartnerID: "kallpa"}, []string{domain.GrantClientCredentials}, true},
		{domain.Client{Kind: domain.KindInternal, SecretHash: secret}, []string{domain.GrantClientCredentials}, true},
		{domain.Client{Kind: domain.KindInternal}, nil, false},
		{domain.Client{Kind: "other", SecretHash: secret}, nil, false},
	} {
		err := tc.client.Validate()
		if (err == nil) != tc.valid {
			t.Errorf("%s client: Validate() = %v", tc.client.Kind, err)
		}
		if !tc.valid {
			continue
		}
		for _, g := range []string{domain.GrantAuthorizationCode, domain.GrantClientCredentials, domain.GrantRefreshToken, "password", "implicit"} {
			want := false
			for _, a := range tc.grants {
				want = want || a == g
			}
			if got := tc.client.AllowsGrant(g); got != want {
				t.Errorf("%s client: AllowsGrant(%s) = %v", tc.client.Kind, g, got)
			}
		}
	}
}

func TestPKCE(t *testing.T) {
	verifier := strings.Repeat("a1-._~", 8)
	challenge := domain.S256Challenge(verifier)
	if err := domain.CheckChallenge(challenge, "S256"); err != nil {
		t.Fatalf("a good challenge: %v", err)
	}
	for _, tc := range []struct {
		name, challenge, method string
		want                    error
	}{
		{"missing", "", "S256", domain.ErrPKCERequired},
		{"plain", challenge, "plain", domain.ErrPKCEMethod},
		{"no method means plain", challenge, "", domain.ErrPKCEMethod},
		{"short", challenge[:42], "S256", domain.ErrPKCEMalformed},
		{"bad alphabet", challenge[:42] + "=", "S256", domain.ErrPKCEMalformed},
	} {
		if err := domain.CheckChallenge(tc.challenge, tc.method); !errors.Is(err, tc.want) {
			t.Errorf("CheckChallenge %s = %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name, challenge, method, verifier string
		want                              error
	}{
		{"right", challenge, "S256", verifier, nil},
		{"wrong verifier", challenge, "S256", verifier + "x", domain.ErrPKCEMismatch},
		{"no verifier", challenge, "S256", "", domain.ErrPKCEVerifierMissing},
		{"verifier without challenge", "", "", verifier, domain.ErrPKCENoChallenge},
		{"neither", "", "", "", domain.ErrPKCERequired},
		{"plain stored", verifier, "plain", verifier, domain.ErrPKCEMethod},
		{"short verifier", challenge, "S256", "abc", domain.ErrPKCEMalformed},
		{"long verifier", challenge, "S256", strings.Repeat("a", 129), domain.ErrPKCEMalformed},
	} {
		if err := domain.VerifyPKCE(tc.challenge, tc.method, tc.verifier); !errors.Is(err, tc.want) {
			t.Errorf("VerifyPKCE %s = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestSecretHasher(t *testing.T) {
	if _, err := domain.NewSecretHasher([]byte("short")); err == nil {
		t.Fatal("a short pepper was accepted")
	}
	h, _ := domain.NewSecretHasher([]byte(strings.Repeat("p", 32)))
	other, _ := domain.NewSecretHasher([]byte(strings.Repeat("q", 32)))
	s := domain.NewClientSecret()
	if len(s) != 64 {
		t.Fatalf("secret %d hex digits", len(s))
	}
	hash := h.Hash(s)
	if !h.Verify(s, hash) || h.Verify(s+"x", hash) || other.Verify(s, hash) || h.Verify(s, hash[:31]) {
		t.Fatal("Verify disagrees with Hash")
	}
	if string(h.Derive("a")) == string(h.Derive("b")) {
		t.Fatal("derived keys collide")
	}
}

func TestPasswords(t *testing.T) {
	if err := domain.CheckPasswordPolicy("short"); !errors.Is(err, domain.ErrWeakPassword) {
		t.Errorf("short password: %v", err)
	}
	if err := domain.CheckPasswordPolicy(strings.Repeat("ñ", 128)); err != nil {
		t.Errorf("128 runes: %v", err)
	}
	p := domain.PasswordParams{Time: 1, Memory: 1024, Threads: 1}
	h := domain.HashPassword("correct horse battery", p)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if err := domain.VerifyPassword("correct horse battery", h); err != nil {
		t.Errorf("right password: %v", err)
	}
	if err := domain.VerifyPassword("correct horse battery!", h); !errors.Is(err, domain.ErrInvalidPassword) {
		t.Errorf("wrong password: %v", err)
	}
	if h2 := domain.HashPassword("correct horse battery", p); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$a$b", "$argon2id$v=19$m=1024,t=0,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$x$c2FsdA$aGFzaA"} {
		if err := domain.VerifyPassword("x", bad); !errors.Is(err, domain.ErrMalformedHash) {
			t.Errorf("VerifyPassword(%q) = %v", bad, err)
		}
	}
	if err := domain.VerifyPassword("x", domain.DummyPasswordHash); !errors.Is(err, domain.ErrInvalidPassword) {
		t.Errorf("dummy hash: %v", err)
	}
}

func TestNewUser(t *testing.T) {
	p := domain.PasswordParams{Time: 1, Memory: 1024, Threads: 1}
	now := time.Unix(1700000000, 0)
	id := "0b3e1a52-3c4d-5e6f-8a9b-0c1d2e3f4a5b"
	for _, tc := range []struct {
		name                      string
		id, typ, num, user, passw string
		want                      error
	}{
		{"ok", id, "DNI", "45678912", "", "Andes-Demo-2026!", nil},
		{"username", id, "DNI", "45678912", "maria.q", "Andes-Demo-2026!", nil},
		{"bad id", "nope", "DNI", "45678912", "", "Andes-Demo-2026!", domain.ErrInvalidCustomer},
		{"dni letters", id, "DNI", "4567891A", "", "Andes-Demo-2026!", domain.ErrInvalidDocument},
		{"ruc", id, "RUC", "20123456789", "", "Andes-Demo-2026!", nil},
		{"unknown type", id, "XX", "45678912", "", "Andes-Demo-2026!", domain.ErrInvalidDocument},
		{"bad username", id, "DNI", "45678912", "María", "Andes-Demo-2026!", domain.ErrInvalidUsername},
		{"weak", id, "DNI", "45678912", "", "short", domain.ErrWeakPassword},
	} {
		u, err := domain.NewUser(tc.id, tc.typ, tc.num, tc.user, tc.passw, p, now)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			continue
		}
		if err == nil && (u.Status != domain.UserActive || domain.VerifyPassword(tc.passw, u.PasswordHash) != nil) {
			t.Errorf("%s: user %+v", tc.name, u)
		}
	}
	if l := domain.NormalizeLogin("DNI", " 4567-8912 "); l.Identifier != "45678912" {
		t.Errorf("normalized %q", l.Identifier)
	}
	if l := domain.NormalizeLogin("", " Maria.Q "); l.Identifier != "maria.q" || l.DocumentType != "" {
		t.Errorf("normalized username %+v", l)
	}
}

func TestLockoutGrows(t *testing.T) {
	l := domain.Lockout{Base: time.Minute, Max: 10 * time.Minute}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for level, w := range want {
		if got := l.Duration(level); got != w {
			t.Errorf("level %d: %v, want %v", level, got, w)
		}
	}
}
