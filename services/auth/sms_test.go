package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/testenv"
)

// The SMS gateway simulator runs as its own process, as in `make up`: the tests
// read the one-time codes from its API.

type smsSim struct {
	edge, admin string
}

func startSMS(t testing.TB, p *pkitest.PKI) *smsSim {
	t.Helper()
	proc := testenv.StartProcess(t, testenv.ProcessSpec{Name: "sms", Main: "simulators/sms/cmd/sms", PKI: p, Edge: true,
		Env: []string{"ANDES_LOG_LEVEL=ERROR"}})
	proc.WaitReady(t)
	return &smsSim{edge: proc.Edge, admin: proc.Admin}
}

type smsMessage struct {
	ID   string `json:"id"`
	To   string `json:"to"`
	Text string `json:"text"`
}

func (s *smsSim) messages(t testing.TB, phone string) []smsMessage {
	t.Helper()
	resp, err := http.Get("http://" + s.edge + "/v1/messages?to=" + url.QueryEscape(phone))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Messages []smsMessage }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// lastCode is the one-time code of the newest SMS to a phone.
func (s *smsSim) lastCode(t testing.TB, phone string) string {
	t.Helper()
	msgs := s.messages(t, phone)
	if len(msgs) == 0 {
		t.Fatalf("no SMS to %s", phone)
	}
	m := sixDigits.FindStringSubmatch(msgs[0].Text)
	if m == nil {
		t.Fatalf("no code in %q", msgs[0].Text)
	}
	return m[1]
}

func (s *smsSim) faults(t testing.TB, body string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, "http://"+s.admin+"/faults", bytes.NewBufferString(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("faults: %d", resp.StatusCode)
	}
}
