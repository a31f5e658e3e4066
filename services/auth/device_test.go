package auth_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	"github.com/andes-bank/andes/services/auth/domain"
)

// phone is a device of the test: its P-256 key, as a phone's key store holds it.
type phone struct {
	key *ecdsa.PrivateKey
	id  string
}

func newPhone(t *testing.T) *phone {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &phone{key: k}
}

func (p *phone) jwk() map[string]string {
	raw, _ := p.key.PublicKey.Bytes()
	return map[string]string{"kty": "EC", "crv": "P-256", "x": base64.RawURLEncoding.EncodeToString(raw[1:33]), "y": base64.RawURLEncoding.EncodeToString(raw[33:])}
}

// sign signs like the app: ES256, JWS form (r‖s).
func (p *phone) sign(t *testing.T, msg []byte) string {
	digest := sha256Sum(msg)
	r, s, err := ecdsa.Sign(rand.Reader, p.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return base64.RawURLEncoding.EncodeToString(out)
}

func (h *harness) postJSON(path, bearer string, body any) (int, map[string]any) {
	h.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, h.base+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func bindBody(p *phone, extra map[string]any) map[string]any {
	b := map[string]any{"public_key": p.jwk(), "display_name": "Pixel 8", "platform": "android"}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// bind binds a phone for a persona with a fresh password login of the app.
func (h *harness) bind(t *testing.T, persona string, p *phone) {
	t.Helper()
	tr := h.codeFlow(h.mobile(), persona)
	status, out := h.postJSON("/devices/v1/bind/start", tr.AccessToken, bindBody(p, nil))
	if status != http.StatusOK {
		t.Fatalf("bind start: %d %v", status, out)
	}
	ch := out["challenge"].(map[string]any)
	code := h.sms.lastCode(t, h.ds.Customer(persona).Phone)
	status, out = h.postJSON("/devices/v1/bind/finish", tr.AccessToken, bindBody(p, map[string]any{"challenge_id": ch["challenge_id"], "code": code}))
	if status != http.StatusCreated || out["device_id"] == "" {
		t.Fatalf("bind finish: %d %v", status, out)
	}
	p.id = out["device_id"].(string)
}

// deviceLogin runs the device login with PKCE; it returns the response.
func (h *harness) deviceLogin(t *testing.T, p *phone, verifier string, tamper func(challenge string, sig *string)) *http.Response {
	t.Helper()
	resp := h.postForm("/oauth2/device/challenge", url.Values{"device_id": {p.id}}, "", "")
	var ch struct{ Challenge string }
	json.NewDecoder(resp.Body).Decode(&ch)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp
	}
	challenge := domain.S256Challenge(verifier)
	sig := p.sign(t, domain.DeviceLoginMessage(ch.Challenge, challenge))
	if tamper != nil {
		tamper(ch.Challenge, &sig)
	}
	m := h.mobile()
	return h.postForm("/oauth2/device/login", url.Values{"response_type": {"code"}, "client_id": {m.id}, "redirect_uri": {m.redirect},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"dev"}, "device_challenge": {ch.Challenge}, "signature": {sig}}, "", "")
}

func codeFrom(t *testing.T, resp *http.Response) string {
	t.Helper()
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("device login: %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc.Query().Get("code")
}

func TestDeviceBindingAndLogin(t *testing.T) {
	h := start(t, withSMS)
	p := newPhone(t)
	h.bind(t, "maria", p)
	if msgs := h.sms.messages(t, h.ds.Customer("maria").Phone); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "vincular un nuevo celular") {
		t.Fatalf("SMS %v", msgs)
	}
	verifier := newVerifier()
	code := codeFrom(t, h.deviceLogin(t, p, verifier, nil))
	tr := h.exchange(h.mobile(), code, verifier)
	if tr.Status != http.StatusOK || tr.RefreshToken == "" {
		t.Fatalf("token %+v", tr)
	}
	if _, claims := decodeJWT(t, tr.AccessToken); claims["amr"].([]any)[0] != "hwk" || claims["sub"] != h.ds.Customer("maria").ID {
		t.Fatalf("claims %v", claims)
	}
	if r := h.refresh(h.mobile(), tr.RefreshToken); r.Status != http.StatusOK {
		t.Fatalf("refresh %+v", r)
	}
	devs := h.authClient(t, "bff-mobile").listDevices(t, h.ds.Customer("maria").ID)
	if len(devs) != 1 || devs[0].GetDeviceId() != p.id || devs[0].GetLastUsedAt() == nil || devs[0].GetPlatform() != authv1.DevicePlatform_DEVICE_PLATFORM_ANDROID {
		t.Fatalf("devices %v", devs)
	}
}

func TestDeviceBindingWithoutSMSCodeRefused(t *testing.T) {
	h := start(t, withSMS)
	p := newPhone(t)
	tr := h.codeFlow(h.mobile(), "jose")
	if status, _ := h.postJSON("/devices/v1/bind/finish", tr.AccessToken, bindBody(p, nil)); status != http.StatusBadRequest {
		t.Fatalf("no code: %d", status)
	}
	status, out := h.postJSON("/devices/v1/bind/start", tr.AccessToken, bindBody(p, nil))
	if status != http.StatusOK {
		t.Fatalf("start: %d %v", status, out)
	}
	ch := out["challenge"].(map[string]any)["challenge_id"]
	code := h.sms.lastCode(t, h.ds.Customer("jose").Phone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if status, out := h.postJSON("/devices/v1/bind/finish", tr.AccessToken, bindBody(p, map[string]any{"challenge_id": ch, "code": wrong})); status != http.StatusForbidden || out["attempts_left"] != float64(2) {
		t.Fatalf("wrong code: %d %v", status, out)
	}
	// The code is bound to the key: another key cannot use it.
	other := newPhone(t)
	if status, _ := h.postJSON("/devices/v1/bind/finish", tr.AccessToken, bindBody(other, map[string]any{"challenge_id": ch, "code": code})); status != http.StatusUnprocessableEntity {
		t.Fatalf("code for another key: %d", status)
	}
	if devs := h.authClient(t, "bff-mobile").listDevices(t, h.ds.Customer("jose").ID); len(devs) != 0 {
		t.Fatalf("a device was bound without its code: %v", devs)
	}
	// Without a password login of the app, no binding at all.
	web := h.codeFlow(h.web(), "jose")
	if status, _ := h.postJSON("/devices/v1/bind/start", web.AccessToken, bindBody(p, nil)); status != http.StatusForbidden {
		t.Fatalf("binding with the web BFF's token: %d", status)
	}
	if status, _ := h.postJSON("/devices/v1/bind/start", "", bindBody(p, nil)); status != http.StatusUnauthorized {
		t.Fatalf("binding without a token: %d", status)
	}
}

func TestDeviceLoginWithWrongSignatureRefused(t *testing.T) {
	h := start(t, withSMS)
	p := newPhone(t)
	h.bind(t, "maria", p)
	impostor := newPhone(t)
	for name, tamper := range map[string]func(string, *string){
		"another key": func(ch string, sig *string) { *sig = impostor.sign(t, domain.DeviceLoginMessage(ch, "x")) },
		"other PKCE challenge": func(ch string, sig *string) {
			*sig = p.sign(t, domain.DeviceLoginMessage(ch, domain.S256Challenge(newVerifier())))
		},
		"garbage":                     func(_ string, sig *string) { *sig = "AAAA" },
		"signature of the nonce only": func(ch string, sig *string) { *sig = p.sign(t, []byte(ch)) },
	} {
		resp := h.deviceLogin(t, p, newVerifier(), tamper)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}
}

func TestDeviceLoginWithReplayedChallengeRefused(t *testing.T) {
	h := start(t, withSMS)
	p := newPhone(t)
	h.bind(t, "maria", p)
	verifier := newVerifier()
	var form url.Values
	resp := h.deviceLogin(t, p, verifier, func(ch string, sig *string) {
		m := h.mobile()
		form = url.Values{"response_type": {"code"}, "client_id": {m.id}, "redirect_uri": {m.redirect},
			"code_challenge": {domain.S256Challenge(verifier)}, "code_challenge_method": {"S256"}, "device_challenge": {ch}, "signature": {*sig}}
	})
	codeFrom(t, resp)
	again := h.postForm("/oauth2/device/login", form, "", "")
	again.Body.Close()
	if again.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replayed challenge and signature: %d", again.StatusCode)
	}
}

func TestRevokedDeviceCannotLogIn(t *testing.T) {
	h := start(t, withSMS)
	p := newPhone(t)
	h.bind(t, "maria", p)
	verifier := newVerifier()
	tr := h.exchange(h.mobile(), codeFrom(t, h.deviceLogin(t, p, verifier, nil)), verifier)
	maria := h.ds.Customer("maria")
	resp, err := h.authClient(t, "bff-mobile").api.RevokeDevice(context.Background(), &authv1.RevokeDeviceRequest{CustomerId: maria.ID, DeviceId: p.id, Reason: "lost phone"})
	if err != nil || resp.GetDevice().GetStatus() != authv1.DeviceStatus_DEVICE_STATUS_REVOKED || resp.GetDevice().GetRevokeReason() != "lost phone" {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	// The tokens it obtained are revoked too.
	if h.active(tr.AccessToken) {
		t.Fatal("the revoked device's access token is active")
	}
	if r := h.refresh(h.mobile(), tr.RefreshToken); r.Error != "invalid_grant" {
		t.Fatalf("the revoked device's refresh token: %+v", r)
	}
	login := h.deviceLogin(t, p, newVerifier(), nil)
	login.Body.Close()
	if login.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked device login: %d", login.StatusCode)
	}
	// Another customer cannot see or revoke it.
	jose := h.ds.Customer("jose")
	_, err = h.authClient(t, "bff-mobile").api.RevokeDevice(context.Background(), &authv1.RevokeDeviceRequest{CustomerId: jose.ID, DeviceId: p.id, Reason: "x"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("another customer's device: %v", err)
	}
	if devs := h.authClient(t, "bff-mobile").listDevices(t, maria.ID); len(devs) != 0 {
		t.Fatalf("active devices after revocation: %v", devs)
	}
}

func TestDeviceBindingNeedsAPasswordLogin(t *testing.T) {
	h := start(t, withSMS)
	p := newPhone(t)
	h.bind(t, "maria", p)
	verifier := newVerifier()
	tr := h.exchange(h.mobile(), codeFrom(t, h.deviceLogin(t, p, verifier, nil)), verifier)
	// A device login cannot bind another device: that needs the password and SMS.
	if status, _ := h.postJSON("/devices/v1/bind/start", tr.AccessToken, bindBody(newPhone(t), nil)); status != http.StatusForbidden {
		t.Fatalf("binding from a device login: %d", status)
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
