package probe_test

import (
	"context"
	"testing"

	"github.com/andes-bank/andes/monitor/probe"
	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/server/servertest"

	"github.com/andes-bank/andes/platform/testenv"
)

func serve(t *testing.T, certs *pkitest.PKI, name string) string {
	t.Helper()
	s, err := server.New(server.Options{Credentials: certs.Credentials(t, name), Policy: policyFor(name)})
	if err != nil {
		t.Fatal(err)
	}
	return servertest.Serve(t, s)
}

func policyFor(name string) string {
	return `{"name": "` + name + `", "allow_rules": [{"name": "health",
  "source": {"principals": ["spiffe://andes.local/operator"]},
  "request": {"paths": ["/grpc.health.v1.Health/*"]}}]}`
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	return testenv.FreeAddr(t)
}

func TestAllTellsServingFromDownAndFromImpostors(t *testing.T) {
	certs := pkitest.New(t, "operator", "alpha", "beta", "gamma")
	m := &manifest.Manifest{TrustDomain: "andes.local", Processes: []manifest.Process{{Name: "alpha"}, {Name: "beta"}, {Name: "gamma"}}}
	addrs := manifest.Addrs{
		"alpha": {GRPC: serve(t, certs, "alpha")},
		"beta":  {GRPC: closedAddr(t)},
		// gamma's address answers with alpha's certificate: not gamma.
		"gamma": {GRPC: serve(t, certs, "alpha")},
	}
	results := probe.All(context.Background(), certs.Credentials(t, "operator"), m, addrs)
	want := map[string]bool{"alpha": true, "beta": false, "gamma": false}
	for _, r := range results {
		if r.Serving() != want[r.Name] {
			t.Errorf("%s: %s %v, want serving=%v", r.Name, r.Status, r.Err, want[r.Name])
		}
	}
	if probe.AllServing(results) {
		t.Error("AllServing with two processes down")
	}
}

func TestACallerThePolicyRefusesIsNotServing(t *testing.T) {
	certs := pkitest.New(t, "operator", "alpha", "stranger")
	addr := serve(t, certs, "alpha")
	if r := probe.Check(context.Background(), certs.Credentials(t, "stranger"), "alpha", addr); r.Serving() || r.Err == nil {
		t.Errorf("a caller outside the policy got %s %v", r.Status, r.Err)
	}
}
