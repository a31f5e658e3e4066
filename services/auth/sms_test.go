package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/pki/pkitest"

	"github.com/andes-bank/andes/platform/testenv"
)

// The SMS gateway simulator runs as its own process, as in `make up`: the tests
// read the one-time codes from its API.

var (
	smsBuild     sync.Once
	smsBinary    string
	smsBuildErr  error
	smsBuildDir  string
	smsBuildLock sync.Mutex
)

func TestMain(m *testing.M) {
	code := m.Run()
	if smsBuildDir != "" {
		os.RemoveAll(smsBuildDir)
	}
	os.Exit(code)
}

type smsSim struct {
	edge, admin string
}

func startSMS(t testing.TB, p *pkitest.PKI) *smsSim {
	t.Helper()
	smsBuildLock.Lock()
	smsBuild.Do(func() {
		smsBuildDir, smsBuildErr = os.MkdirTemp("", "auth-test-sms-")
		if smsBuildErr != nil {
			return
		}
		smsBinary = filepath.Join(smsBuildDir, "sms")
		out, err := exec.Command("go", "build", "-o", smsBinary, "github.com/andes-bank/andes/simulators/sms/cmd/sms").CombinedOutput()
		if err != nil {
			smsBuildErr = fmt.Errorf("build the SMS simulator: %v\n%s", err, out)
		}
	})
	smsBuildLock.Unlock()
	if smsBuildErr != nil {
		t.Fatal(smsBuildErr)
	}
	p.Issue(t, "sms")
	s := &smsSim{edge: testenv.FreeAddr(t), admin: testenv.FreeAddr(t)}
	cmd := exec.Command(smsBinary)
	cmd.Env = append(os.Environ(), "ANDES_NAME=sms", "ANDES_GRPC_ADDR="+testenv.FreeAddr(t), "ANDES_ADMIN_ADDR="+s.admin,
		"ANDES_EDGE_ADDR="+s.edge, "ANDES_TLS_CERT_FILE="+p.Dir.CertFile("sms"), "ANDES_TLS_KEY_FILE="+p.Dir.KeyFile("sms"),
		"ANDES_TLS_CA_FILE="+p.Dir.CAFile(), "ANDES_POLICY_FILE=../../deploy/policies/sms.json", "ANDES_LOG_LEVEL=ERROR")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	eventually(t, "the SMS simulator answers", func() bool {
		resp, err := http.Get("http://" + s.edge + "/v1/messages")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
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
