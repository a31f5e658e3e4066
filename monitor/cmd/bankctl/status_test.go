package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	onboardingv1 "github.com/andes-bank/andes/gen/andes/onboarding/v1"
	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/server/servertest"
	"github.com/andes-bank/andes/platform/testenv"
)

// Two processes: customer's API is built, onboarding's is the generated
// placeholder, declared as such.
const twoProcesses = `trust_domain: andes.local
processes:
  - {name: customer, kind: service, main: ./services/customer/cmd/customer, grpc: 7101, admin: 7201}
  - {name: onboarding, kind: service, main: ./services/onboarding/cmd/onboarding, grpc: 7102, admin: 7202}
`

func TestStatusSaysWhichProcessRunsWithItsAPINotBuilt(t *testing.T) {
	dir := t.TempDir()
	manifestFile := filepath.Join(dir, "manifest.yaml")
	if err := os.WriteFile(manifestFile, []byte(twoProcesses), 0o644); err != nil {
		t.Fatal(err)
	}
	certs := pkitest.New(t, "operator", "customer", "onboarding")
	serve := func(name string, register func(*server.Server)) string {
		policy := `{"name": "` + name + `", "allow_rules": [{"name": "health",
  "source": {"principals": ["spiffe://andes.local/operator"]},
  "request": {"paths": ["/grpc.health.v1.Health/*"]}}]}`
		s, err := server.New(server.Options{Credentials: certs.Credentials(t, name), Policy: policy})
		if err != nil {
			t.Fatal(err)
		}
		register(s)
		return servertest.Serve(t, s)
	}
	addrs := manifest.Addrs{
		"customer": {GRPC: serve("customer", func(*server.Server) {}), Admin: testenv.FreeAddr(t)},
		"onboarding": {GRPC: serve("onboarding", func(s *server.Server) {
			s.RegisterPlaceholder(&onboardingv1.OnboardingService_ServiceDesc, onboardingv1.UnimplementedOnboardingServiceServer{})
		}), Admin: testenv.FreeAddr(t)},
	}
	addrsFile := filepath.Join(dir, "addrs.json")
	if err := addrs.WriteFile(addrsFile); err != nil {
		t.Fatal(err)
	}

	out, err := bankctl(t, map[string]string{
		"ANDES_MANIFEST_FILE": manifestFile, "ANDES_ADDRS_FILE": addrsFile, "ANDES_PKI_DIR": string(certs.Dir),
	}, "status")
	if err != nil {
		t.Fatalf("status = %v, want success: both processes run\n%s", err, out)
	}
	for _, want := range []string{
		`(?m)^customer +SERVING +\S+ *$`,
		`(?m)^onboarding +SERVING +\S+ +API not built \(andes\.onboarding\.v1\.OnboardingService\)$`,
		`(?m)^2 of 2 processes SERVING, 1 of them with their API not built$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("status output does not match %s:\n%s", want, out)
		}
	}
}
