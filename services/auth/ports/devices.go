package ports

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/services/auth/app"
	"github.com/andes-bank/andes/services/auth/domain"
)

// Device ("fingerprint") login for the mobile app, on the edge:
//
//	POST /devices/v1/bind/start   Bearer token of a fresh password login of the app;
//	                              {"public_key":{JWK P-256},"display_name","platform"}
//	                              → an SMS code goes to the customer's phone
//	POST /devices/v1/bind/finish  the same plus {"challenge_id","code"} → the device
//	POST /oauth2/device/challenge device_id → a one-time challenge
//	POST /oauth2/device/login     the authorization request's parameters plus
//	                              device_challenge and signature (ES256 by the
//	                              device key over domain.DeviceLoginMessage) → 303
//	                              to the redirect URI with a code, like the login page
const (
	PathBindStart       = "/devices/v1/bind/start"
	PathBindFinish      = "/devices/v1/bind/finish"
	PathDeviceChallenge = "/oauth2/device/challenge"
	PathDeviceLogin     = "/oauth2/device/login"
)

type jwkJSON struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

type bindRequest struct {
	PublicKey   jwkJSON `json:"public_key"`
	DisplayName string  `json:"display_name"`
	Platform    string  `json:"platform"`
	Language    string  `json:"language"`
	ChallengeID string  `json:"challenge_id"`
	Code        string  `json:"code"`
}

func challengeJSON(c domain.StepUpChallenge) map[string]any {
	return map[string]any{"challenge_id": c.ID, "purpose": string(c.Purpose), "channel": "sms", "masked_destination": c.MaskedDestination,
		"expires_at": c.ExpiresAt.UTC().Format(time.RFC3339), "resend_available_at": c.ResendAvailableAt.UTC().Format(time.RFC3339),
		"attempts_left": c.AttemptsLeft}
}

// bearerCaller verifies the request's access token (header only) and that it is
// not revoked.
func (o *OAuth) bearerCaller(w http.ResponseWriter, r *http.Request) (app.Caller, bool) {
	raw, ok := tokens.BearerToken(r.Header.Get("Authorization"))
	var c *tokens.Claims
	var err error
	if ok {
		c, err = o.verifier.Claims(r.Context(), raw)
	}
	if ok && err == nil {
		revoked, rerr := o.app.AccessTokenRevoked(r.Context(), accessToken(c))
		if rerr != nil {
			oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "")
			return app.Caller{}, false
		}
		ok = !revoked && c.Subject != c.ClientID
	}
	if !ok || err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="andes", error="invalid_token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_token", "")
		return app.Caller{}, false
	}
	caller := app.Caller{CustomerID: c.Subject, ClientID: c.ClientID, AMR: c.AMR}
	if c.AuthTime != nil {
		caller.AuthTime = c.AuthTime.Time
	}
	return caller, true
}

func readBind(w http.ResponseWriter, r *http.Request) (bindRequest, app.NewDevice, bool) {
	var in bindRequest
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "POST only")
		return in, app.NewDevice{}, false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "body must be JSON")
		return in, app.NewDevice{}, false
	}
	k := in.PublicKey
	key, err := domain.ParseDeviceJWK(k.Kty, k.Crv, k.X, k.Y)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return in, app.NewDevice{}, false
	}
	return in, app.NewDevice{Key: key, DisplayName: in.DisplayName, Platform: in.Platform, Lang: in.Language}, true
}

func (o *OAuth) deviceError(w http.ResponseWriter, r *http.Request, err error) {
	var invalid *domain.StepUpInvalid
	var locked *app.LockedError
	switch {
	case errors.Is(err, domain.ErrPasswordRequired):
		oauthError(w, http.StatusForbidden, "insufficient_user_authentication", err.Error())
	case errors.Is(err, domain.ErrInvalidDevice), errors.Is(err, domain.ErrDeviceKey):
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
	case errors.Is(err, domain.ErrDeviceExists):
		oauthError(w, http.StatusConflict, "device_exists", err.Error())
	case errors.As(err, &invalid):
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "step_up_code_invalid", "attempts_left": invalid.AttemptsLeft})
	case errors.Is(err, domain.ErrStepUpExpired):
		oauthError(w, http.StatusUnprocessableEntity, "step_up_expired", err.Error())
	case errors.Is(err, domain.ErrSMSUnavailable):
		w.Header().Set("Retry-After", "5")
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", err.Error())
	case errors.Is(err, domain.ErrNoPhone):
		oauthError(w, http.StatusUnprocessableEntity, "no_phone", err.Error())
	case errors.As(err, &locked):
		w.Header().Set("Retry-After", "60")
		oauthError(w, http.StatusTooManyRequests, "access_denied", "locked for a while")
	case errors.Is(err, domain.ErrDeviceNotFound), errors.Is(err, domain.ErrDeviceRevoked), errors.Is(err, domain.ErrDeviceChallenge),
		errors.Is(err, domain.ErrDeviceSignature), errors.Is(err, domain.ErrUserDisabled):
		// One answer for all, so a caller learns nothing about devices it holds no key of.
		oauthError(w, http.StatusUnauthorized, "access_denied", "device login refused")
	default:
		o.log.ErrorContext(r.Context(), "device request failed", "err", err)
		oauthError(w, http.StatusInternalServerError, "server_error", "")
	}
}

func (o *OAuth) bindStart(w http.ResponseWriter, r *http.Request) {
	_, dev, ok := readBind(w, r)
	if !ok {
		return
	}
	caller, ok := o.bearerCaller(w, r)
	if !ok {
		return
	}
	c, err := o.app.StartDeviceBinding(r.Context(), caller, dev, originOf(r))
	if err != nil {
		o.deviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"challenge": challengeJSON(c)})
}

func (o *OAuth) bindFinish(w http.ResponseWriter, r *http.Request) {
	in, dev, ok := readBind(w, r)
	if !ok {
		return
	}
	caller, ok := o.bearerCaller(w, r)
	if !ok {
		return
	}
	if in.ChallengeID == "" || in.Code == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "challenge_id and code are required: binding a device needs the SMS code")
		return
	}
	d, err := o.app.FinishDeviceBinding(r.Context(), caller, dev, in.ChallengeID, in.Code, originOf(r))
	if err != nil {
		o.deviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"device_id": d.ID, "key_thumbprint": d.Thumbprint, "bound_at": d.BoundAt.UTC().Format(time.RFC3339)})
}

func (o *OAuth) deviceChallenge(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(w, r)
	if !ok {
		return
	}
	ch, err := o.app.DeviceChallenge(r.Context(), form.Get("device_id"))
	if err != nil {
		o.deviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"challenge": ch, "expires_in": 120})
}

// deviceLogin validates the authorization request like authorize does, checks
// the device's signature instead of a password, and issues the code.
func (o *OAuth) deviceLogin(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(w, r)
	if !ok {
		return
	}
	client, err := o.app.Client(r.Context(), form.Get("client_id"))
	if err != nil || client.Kind != domain.KindMobile {
		oauthError(w, http.StatusBadRequest, "invalid_client", "device login is for the mobile app")
		return
	}
	redirect := form.Get("redirect_uri")
	if !client.MatchRedirectURI(redirect) {
		oauthError(w, http.StatusBadRequest, "invalid_request", "redirect_uri is not registered")
		return
	}
	if form.Get("response_type") != "code" {
		oauthError(w, http.StatusBadRequest, "unsupported_response_type", "")
		return
	}
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	if err := domain.CheckChallenge(challenge, method); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	scopes, err := domain.ParseScopes(form.Get("scope"))
	if err == nil {
		scopes, err = client.GrantScopes(scopes)
	}
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "")
		return
	}
	u, d, err := o.app.DeviceLogin(r.Context(), app.DeviceLoginInput{
		Challenge: form.Get("device_challenge"), CodeChallenge: challenge, Signature: form.Get("signature"),
		ClientID: client.ID, Origin: originOf(r),
	})
	if err != nil {
		o.deviceError(w, r, err)
		return
	}
	req := authzRequest{ClientID: client.ID, RedirectURI: redirect, Scope: scopes.String(), State: form.Get("state"),
		Challenge: challenge, Method: method, Issued: o.app.Now().Unix()}
	o.issueCode(w, r, req, &login{customerID: u.CustomerID, authTime: o.app.Now(), amr: "hwk", deviceID: d.ID})
}
