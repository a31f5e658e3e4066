package authorizertest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/testenv"
)

// HSM is an HSM simulator the authorizer talks to.
type HSM struct {
	// Addr is the host command protocol's address (platform/hsm).
	Addr string
	// Admin is its admin listener: the fault knobs (/faults) and the PIN pad
	// tests build PIN blocks with (/pin-blocks).
	Admin string
}

// StartHSM runs the HSM simulator with its development keys as its own
// process, built from its main as `make up` runs it, until the test ends. The
// authorizer never links the simulator: the keys and the PIN cryptography stay
// in that process.
func StartHSM(tb testing.TB) HSM {
	tb.Helper()
	p := testenv.StartProcess(tb, testenv.ProcessSpec{Name: "hsm", Main: "simulators/hsm/cmd/hsm",
		PKI: pkitest.New(tb, "hsm"), Edge: true, Env: []string{"ANDES_LOG_LEVEL=WARN", "ANDES_SHUTDOWN_TIMEOUT=2s"}})
	p.WaitReady(tb)
	return HSM{Addr: p.Edge, Admin: p.Admin}
}

// SetFaults changes the fault knobs the JSON body names, e.g.
// {"disabled_commands":["DC"]}; the others keep their value.
func (h HSM) SetFaults(tb testing.TB, body string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+h.Admin+"/faults", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	h.call(tb, req, nil)
}

// PINBlock is pin for pan as the network sends it: ISO 9564 format 0 under the
// zone PIN key, built by the HSM's PIN pad.
func (h HSM) PINBlock(tb testing.TB, pan, pin string) []byte {
	tb.Helper()
	body, _ := json.Marshal(map[string]string{"pan": pan, "pin": pin})
	req, err := http.NewRequest(http.MethodPost, "http://"+h.Admin+"/pin-blocks", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	var out struct {
		PINBlock string `json:"pin_block"`
	}
	h.call(tb, req, &out)
	block, err := hex.DecodeString(out.PINBlock)
	if err != nil {
		tb.Fatalf("authorizertest: the PIN pad answered %q", out.PINBlock)
	}
	return block
}

func (h HSM) call(tb testing.TB, req *http.Request, out any) {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("authorizertest: %s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.Fatalf("authorizertest: %s %s: %v", req.Method, req.URL.Path, err)
		}
	}
}
