package partner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/monitor/platformtest"
)

// httpClient bounds every request against a hang; it asserts nothing about speed.
var httpClient = &http.Client{Timeout: platformtest.StepTimeout}

// reply is one HTTP answer of the partner edge.
type reply struct {
	code   int
	header http.Header
	raw    string
	body   map[string]any
}

// str reads a string at a dotted path of the JSON body ("transfer.status").
func (r reply) str(path string) string {
	var v any = r.body
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}

// list reads an array of objects at key.
func (r reply) list(key string) []map[string]any {
	var out []map[string]any
	items, _ := r.body[key].([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// partnerClient calls the partner edge with one access token.
type partnerClient struct {
	base, token string
}

func (c partnerClient) do(t *testing.T, method, path, body string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{code: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("%s %s: %d with a body that is not JSON: %q", method, path, resp.StatusCode, raw)
	}
	return r
}

func (c partnerClient) get(t *testing.T, path string) reply {
	t.Helper()
	return c.do(t, "GET", path, "")
}

func (c partnerClient) post(t *testing.T, path, key, body string) reply {
	t.Helper()
	return c.do(t, "POST", path, body, "Idempotency-Key", key)
}

// ok fails the test unless r is a 200.
func ok(t *testing.T, r reply, what string) reply {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("%s: %d %s", what, r.code, r.raw)
	}
	return r
}

// refused checks the stable Error body: HTTP status, reason, its status field, a
// message and the request id.
func refused(t *testing.T, r reply, code int, reason, what string) {
	t.Helper()
	if r.code != code || r.str("reason") != reason || r.str("status") != strconv.Itoa(code) || r.str("message") == "" ||
		r.str("request_id") == "" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("%s: got %d %s, want %d %s as an Error body", what, r.code, r.raw, code, reason)
	}
}

// clientToken gets a client-credentials token from auth's edge.
func clientToken(t *testing.T, authEdge, clientID, secret string) (token, scope string) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+authEdge+"/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Scope       string `json:"scope"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token for %s: %d %v", clientID, resp.StatusCode, err)
	}
	if out.AccessToken == "" || !strings.EqualFold(out.TokenType, "Bearer") || out.ExpiresIn <= 0 {
		t.Fatalf("token for %s: %+v", clientID, out)
	}
	return out.AccessToken, out.Scope
}

func newKey(t *testing.T, label string) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return label + "-" + hex.EncodeToString(b[:])
}

// minor reads an amount_minor (int64 travels as a JSON string).
func minor(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return n
}

// ledger reads an account's ledger balance through the partner API.
func ledger(t *testing.T, c partnerClient, customerID, accountID string) int64 {
	t.Helper()
	r := ok(t, c.get(t, "/v1/customers/"+customerID+"/accounts/"+accountID), "read the account")
	return minor(t, r.str("account.ledger_balance.amount_minor"))
}

// waitLedger polls until the account's ledger balance is want: the view behind the
// partner API is served from the facade's cache, which learns of a change shortly
// after the core does.
func waitLedger(t *testing.T, c partnerClient, customerID, accountID string, want int64) {
	t.Helper()
	var last reply
	deadline := time.Now().Add(platformtest.StepTimeout)
	for {
		last = ok(t, c.get(t, "/v1/customers/"+customerID+"/accounts/"+accountID), "read the account")
		if minor(t, last.str("account.ledger_balance.amount_minor")) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the partner API still shows another ledger balance than %d after %s: %s",
				want, platformtest.StepTimeout, last.raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// smsCode waits for a message to phone sent after since and returns its one-time
// code, from the SMS simulator's API.
func smsCode(t *testing.T, smsEdge, phone string, seen map[string]bool) string {
	t.Helper()
	var code string
	platformtest.WaitFor(t, platformtest.StepTimeout, "the one-time code by SMS to "+phone, func() bool {
		resp, err := httpClient.Get("http://" + smsEdge + "/v1/messages?to=" + url.QueryEscape(phone))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var out struct {
			Messages []struct {
				ID         string    `json:"id"`
				Text       string    `json:"text"`
				ReceivedAt time.Time `json:"received_at"`
			} `json:"messages"`
		}
		if json.NewDecoder(resp.Body).Decode(&out) != nil {
			return false
		}
		sort.Slice(out.Messages, func(i, j int) bool { return out.Messages[i].ReceivedAt.After(out.Messages[j].ReceivedAt) })
		for _, m := range out.Messages {
			if seen[m.ID] {
				continue
			}
			if c := sixDigits.FindString(m.Text); c != "" {
				seen[m.ID], code = true, c
				return true
			}
		}
		return false
	})
	return code
}

// smsSeen marks every message already sent to phone, so that smsCode reads a new one.
func smsSeen(t *testing.T, smsEdge, phone string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	resp, err := httpClient.Get("http://" + smsEdge + "/v1/messages?to=" + url.QueryEscape(phone))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	for _, m := range out.Messages {
		seen[m.ID] = true
	}
	return seen
}

// withStepUp sends a write and, when it answers STEP_UP_REQUIRED, reads the code the
// customer got by SMS and sends the same body again with the proof and the same key.
func withStepUp(t *testing.T, c partnerClient, smsEdge, phone, path, key, body string) reply {
	t.Helper()
	seen := smsSeen(t, smsEdge, phone)
	r := c.post(t, path, key, body)
	if r.code != http.StatusForbidden || r.str("reason") != "STEP_UP_REQUIRED" {
		return r
	}
	challenge := r.str("step_up_challenge.challenge_id")
	if challenge == "" {
		t.Fatalf("STEP_UP_REQUIRED without a challenge: %s", r.raw)
	}
	code := smsCode(t, smsEdge, phone, seen)
	proof := fmt.Sprintf(`,"step_up":{"challenge_id":%q,"code":%q}}`, challenge, code)
	return c.post(t, path, key, strings.TrimSuffix(strings.TrimSpace(body), "}")+proof)
}

// dates is a statement range sure to hold today's movements whatever time zone the
// core books in, and never in the future.
func dates() (from, to string) {
	utc := time.Now().UTC()
	lima := utc.In(time.FixedZone("America/Lima", -5*3600))
	latest := utc.Format(time.DateOnly)
	if l := lima.Format(time.DateOnly); l > latest {
		latest = l
	}
	return utc.AddDate(0, 0, -2).Format(time.DateOnly), latest
}

func deadline(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), platformtest.StepTimeout)
	t.Cleanup(cancel)
	return ctx
}
