package corebank_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/simulators/corebank"
)

// TestTheProcessRunsOnTheChassis starts the process as main does (configuration
// from the environment, server.Run), twice on one database: the second start
// finds the demo bank seeded and serves the same data.
func TestTheProcessRunsOnTheChassis(t *testing.T) {
	p := pkitest.New(t, "corebank", "facade", "operator")
	dbURL := testenv.PostgresURL(t)
	for round := range 2 {
		edge, admin := testenv.FreeAddr(t), testenv.FreeAddr(t)
		env := map[string]string{
			"ANDES_NAME": "corebank", "ANDES_GRPC_ADDR": testenv.FreeAddr(t), "ANDES_ADMIN_ADDR": admin, "ANDES_EDGE_ADDR": edge,
			"ANDES_TLS_CERT_FILE": p.Dir.CertFile("corebank"), "ANDES_TLS_KEY_FILE": p.Dir.KeyFile("corebank"),
			"ANDES_TLS_CA_FILE": p.Dir.CAFile(), "ANDES_POLICY_FILE": "../../deploy/policies/corebank.json",
			"DATABASE_URL": dbURL, "ANDES_DEMO_FILE": "testdata/demo.yaml", "ANDES_COREBANK_SEED_HISTORY": "false",
			"ANDES_SHUTDOWN_TIMEOUT": "2s", "ANDES_LOG_LEVEL": "WARN",
		}
		var cfg corebank.Config
		if err := config.LoadFrom(config.Map(env), &cfg); err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- server.Run(ctx, &cfg, corebank.Setup(&cfg)) }()

		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: p.Credentials(t, "facade").ClientConfig("corebank"), ForceAttemptHTTP2: true}}
		waitFor(t, func() bool {
			resp, err := http.Get("http://" + admin + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		resp, err := client.Get("https://" + edge + api.Prefix + "/customers/CU00000001")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "María Elena") {
			t.Fatalf("round %d: %d %s", round, resp.StatusCode, body)
		}
		if round == 0 {
			// The fault knobs are on the admin listener, so "down" with no
			// duration can be undone: the edge is what goes down.
			putFaults(t, admin, `{"down": true}`)
			waitFor(t, func() bool { return refused(edge) })
			putFaults(t, admin, `{"down": false}`)
			waitFor(t, func() bool { return !refused(edge) })
		}
		metrics, err := http.Get("http://" + admin + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := io.ReadAll(metrics.Body)
		metrics.Body.Close()
		if !strings.Contains(string(m), "corebank_http_requests_total") {
			t.Errorf("round %d: /metrics lacks the API's counters", round)
		}
		stop()
		if err := <-done; err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}

func putFaults(t *testing.T, admin, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+admin+"/faults", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /faults %s: %d %s", body, resp.StatusCode, b)
	}
}
