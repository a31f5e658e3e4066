package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/policy"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/server/servertest"

	"github.com/andes-bank/andes/platform/testenv"
)

// facadeConfig is how a process declares its configuration.
type facadeConfig struct {
	config.Base
	EdgeAddr string `env:"ANDES_EDGE_ADDR,required,addr"`
}

func facadeEnv(t *testing.T, pk *pkitest.PKI, certOf string) map[string]string {
	t.Helper()
	wd, _ := os.Getwd()
	path, err := manifest.Find(wd)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"ANDES_NAME":             "facade",
		"ANDES_GRPC_ADDR":        testenv.FreeAddr(t),
		"ANDES_ADMIN_ADDR":       testenv.FreeAddr(t),
		"ANDES_EDGE_ADDR":        testenv.FreeAddr(t),
		"ANDES_TLS_CERT_FILE":    pk.Dir.CertFile(certOf),
		"ANDES_TLS_KEY_FILE":     pk.Dir.KeyFile(certOf),
		"ANDES_TLS_CA_FILE":      pk.Dir.CAFile(),
		"ANDES_POLICY_FILE":      policy.File(filepath.Dir(filepath.Dir(path)), "facade"),
		"ANDES_SHUTDOWN_TIMEOUT": "2s",
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// A whole process through Run: config, internal gRPC with the deployed policy,
// admin endpoints, an edge, readiness, and a clean shutdown on cancel.
func TestRunServesAProcessAndShutsDown(t *testing.T) {
	pk := pkitest.New(t, "facade", "supervisor", "controller")
	var cfg facadeConfig
	if err := config.LoadFrom(config.Map(facadeEnv(t, pk, "facade")), &cfg); err != nil {
		t.Fatal(err)
	}
	var dbUp atomic.Bool
	dbUp.Store(true)
	stopped := make(chan struct{})
	secureAddr := testenv.FreeAddr(t)

	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- server.Run(runCtx, &cfg, func(ctx context.Context, p *server.Process) error {
			p.GRPC.RegisterService(servertest.Service("andes.facade.v1.FacadeService", map[string]servertest.Handler{
				"Get": func(_ context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) { return in, nil },
			}), nil)
			p.Readiness.Add("corebank", func(context.Context) error {
				if !dbUp.Load() {
					return errors.New("corebank unreachable")
				}
				return nil
			})
			p.ServeHTTP("edge", cfg.EdgeAddr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				io.WriteString(w, "edge of facade")
			}))
			p.ServeHTTPS("secure", secureAddr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "secure edge, caller "+r.TLS.PeerCertificates[0].URIs[0].String())
			}), p.Credentials.ServerConfig())
			p.HandleAdmin("GET /knob", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				io.WriteString(w, "knob")
			}))
			p.OnStop(func(context.Context) error { close(stopped); return nil })
			return nil
		})
	}()

	admin := "http://" + cfg.AdminAddr
	deadline := time.Now().Add(10 * time.Second)
	for {
		if resp, err := http.Get(admin + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("admin listener never came up")
		}
		time.Sleep(20 * time.Millisecond)
	}

	if code, body := get(t, admin+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d %s", code, body)
	}
	dbUp.Store(false)
	if code, body := get(t, admin+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "corebank") {
		t.Errorf("/readyz with a dependency down: %d %s", code, body)
	}
	dbUp.Store(true)

	conn, err := grpcclient.New(cfg.GRPCAddr, grpcclient.Options{Credentials: pk.Credentials(t, "supervisor"), Peer: "facade"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if resp, err := healthpb.NewHealthClient(conn).Check(ctx(t), &healthpb.HealthCheckRequest{}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health: %v %v", resp, err)
	}
	api, err := grpcclient.New(cfg.GRPCAddr, grpcclient.Options{Credentials: pk.Credentials(t, "controller"), Peer: "facade"})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	if got, err := servertest.Invoke(ctx(t), api, "/andes.facade.v1.FacadeService/Get", "hola"); err != nil || got != "hola" {
		t.Errorf("controller calling facade: %q %v", got, err)
	}

	if code, body := get(t, admin+"/metrics"); code != http.StatusOK ||
		!strings.Contains(body, `grpc_server_handled_total{grpc_code="OK",grpc_method="Get",grpc_service="andes.facade.v1.FacadeService",grpc_type="unary",service="facade"} 1`) ||
		!strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics lacks the call or the runtime metrics:\n%s", body)
	}
	if code, _ := get(t, admin+"/debug/pprof/"); code != http.StatusOK {
		t.Errorf("/debug/pprof/: %d", code)
	}
	if code, body := get(t, "http://"+cfg.EdgeAddr+"/"); code != http.StatusOK || body != "edge of facade" {
		t.Errorf("edge: %d %q", code, body)
	}
	if code, body := get(t, admin+"/knob"); code != http.StatusOK || body != "knob" {
		t.Errorf("extra admin route: %d %q", code, body)
	}
	withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: pk.Credentials(t, "controller").ClientConfig("facade")}}
	if resp, err := withCert.Get("https://" + secureAddr + "/"); err != nil {
		t.Errorf("mTLS edge with a client certificate: %v", err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "secure edge, caller spiffe://andes.local/controller" {
			t.Errorf("mTLS edge: %q", body)
		}
	}
	noCert := pk.Credentials(t, "controller").ClientConfig("facade").Clone()
	noCert.Certificates, noCert.GetClientCertificate = nil, nil
	if resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: noCert}}).Get("https://" + secureAddr + "/"); err == nil {
		resp.Body.Close()
		t.Error("mTLS edge answered a client without a certificate")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	select {
	case <-stopped:
	default:
		t.Error("OnStop functions did not run")
	}
	if _, err := http.Get(admin + "/healthz"); err == nil {
		t.Error("admin listener still open after Run returned")
	}
}

func TestRunStopsOnStartProblemsNamingTheVariable(t *testing.T) {
	pk := pkitest.New(t, "facade", "supervisor")
	run := func(env map[string]string, setup server.SetupFunc) error {
		var cfg facadeConfig
		if err := config.LoadFrom(config.Map(env), &cfg); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return server.Run(ctx, &cfg, setup)
	}
	noop := func(context.Context, *server.Process) error { return nil }

	if err := run(facadeEnv(t, pk, "supervisor"), noop); err == nil || !strings.Contains(err.Error(), "ANDES_TLS_CERT_FILE") {
		t.Errorf("started with another identity's certificate: %v", err)
	}

	env := facadeEnv(t, pk, "facade")
	taken, err := net.Listen("tcp", env["ANDES_GRPC_ADDR"])
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if err := run(env, noop); err == nil || !strings.Contains(err.Error(), "ANDES_GRPC_ADDR") {
		t.Errorf("started on a taken port: %v", err)
	}

	broken := filepath.Join(t.TempDir(), "facade.json")
	if err := os.WriteFile(broken, []byte(`{"name": "facade", "allow_rules": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	env = facadeEnv(t, pk, "facade")
	env["ANDES_POLICY_FILE"] = broken
	if err := run(env, noop); err == nil || !strings.Contains(err.Error(), "ANDES_POLICY_FILE") {
		t.Errorf("started with a broken policy: %v", err)
	}

	errSetup := errors.New("migrations failed")
	if err := run(facadeEnv(t, pk, "facade"), func(context.Context, *server.Process) error { return errSetup }); !errors.Is(err, errSetup) {
		t.Errorf("setup error not returned: %v", err)
	}
}
