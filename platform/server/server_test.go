package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	supervisorv1 "github.com/andes-bank/andes/gen/andes/supervisor/v1"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/logging"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/server/servertest"
)

// A policy that lets exactly one identity check health, and one call the test API.
const onlySupervisorChecksHealth = `{
  "name": "facade",
  "allow_rules": [
    {"name": "health-check", "source": {"principals": ["spiffe://andes.local/supervisor"]},
     "request": {"paths": ["/grpc.health.v1.Health/Check"]}},
    {"name": "health-watch", "source": {"principals": ["spiffe://andes.local/monitor"]},
     "request": {"paths": ["/grpc.health.v1.Health/Watch"]}},
    {"name": "internal-api", "source": {"principals": ["spiffe://andes.local/controller"]},
     "request": {"paths": ["/andes.test.v1.*"]}}
  ]
}`

const (
	echo  = "/andes.test.v1.TestService/Echo"
	boom  = "/andes.test.v1.TestService/Panic"
	plain = "/andes.test.v1.TestService/Plain"
	slow  = "/andes.test.v1.TestService/Slow"
	who   = "/andes.test.v1.TestService/Who"
)

type fixture struct {
	pki  *pkitest.PKI
	addr string
	reg  *prometheus.Registry
	logs *bytes.Buffer
}

func start(t *testing.T, policy string) *fixture {
	t.Helper()
	f := &fixture{
		pki:  pkitest.New(t, "facade", "supervisor", "monitor", "controller", "customer"),
		reg:  prometheus.NewRegistry(),
		logs: &bytes.Buffer{},
	}
	s, err := server.New(server.Options{
		Credentials:     f.pki.Credentials(t, "facade"),
		Policy:          policy,
		Logger:          logging.New(f.logs, "facade", slog.LevelInfo),
		Registerer:      f.reg,
		ShutdownTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.RegisterService(servertest.Service("andes.test.v1.TestService", map[string]servertest.Handler{
		"Echo": func(_ context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
			return in, nil
		},
		"Panic": func(context.Context, *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
			panic("ledger row 42 for card 4111111111111111 is corrupt")
		},
		"Plain": func(context.Context, *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
			return nil, errors.New(`pq: relation "controller.secret_table" does not exist`)
		},
		"Who": func(ctx context.Context, _ *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
			name, err := server.CallerName(ctx)
			if err != nil {
				return nil, status.Error(codes.Unauthenticated, err.Error())
			}
			return wrapperspb.String(name), nil
		},
	}), nil)
	f.addr = servertest.Serve(t, s)
	return f
}

// dial connects as the named identity of the fixture's PKI.
func (f *fixture) dial(t *testing.T, as string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpcclient.New(f.addr, grpcclient.Options{Credentials: f.pki.Credentials(t, as), Peer: "facade"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// dialRaw connects with a hand-made TLS configuration that trusts the server's
// CA, so that only what the client presents differs between cases.
func (f *fixture) dialRaw(t *testing.T, clientCerts []tls.Certificate) *grpc.ClientConn {
	t.Helper()
	caPEM, err := os.ReadFile(f.pki.Dir.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	cfg := &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: clientCerts, MinVersion: tls.VersionTLS13}
	conn, err := grpc.NewClient(f.addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return lis, lis.Addr().String()
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func check(ctx context.Context, conn grpc.ClientConnInterface) (healthpb.HealthCheckResponse_ServingStatus, error) {
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return resp.GetStatus(), err
}

func TestAllowedIdentitySucceeds(t *testing.T) {
	f := start(t, onlySupervisorChecksHealth)
	st, err := check(ctx(t), f.dial(t, "supervisor"))
	if err != nil || st != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("supervisor health check: %v %v", st, err)
	}
	got, err := servertest.Invoke(ctx(t), f.dial(t, "controller"), echo, "hola")
	if err != nil || got != "hola" {
		t.Fatalf("controller echo: %q %v", got, err)
	}
}

func TestIdentityOutsideThePolicyIsDenied(t *testing.T) {
	f := start(t, onlySupervisorChecksHealth)
	for _, tc := range []struct{ as, method string }{
		{"controller", "health"},                          // allowed elsewhere, not here
		{"customer", "health"},                            // allowed nowhere
		{"supervisor", echo},                              // may check health, not call the API
		{"customer", echo},                                // a real process, not a caller of this API
		{"monitor", "health"},                             // may Watch, not Check
		{"controller", "/andes.test.v1.TestService/Nope"}, // unknown method
	} {
		conn := f.dial(t, tc.as)
		var err error
		if tc.method == "health" {
			_, err = check(ctx(t), conn)
		} else {
			_, err = servertest.Invoke(ctx(t), conn, tc.method, "x")
		}
		want := codes.PermissionDenied
		if strings.HasSuffix(tc.method, "/Nope") {
			want = codes.Unimplemented // no such method: nothing to authorize
		}
		if status.Code(err) != want {
			t.Errorf("%s calling %s: got %v, want %v", tc.as, tc.method, err, want)
		}
	}
}

func TestClientWithoutCertificateFailsTheHandshake(t *testing.T) {
	f := start(t, onlySupervisorChecksHealth)
	_, err := check(ctx(t), f.dialRaw(t, nil))
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("got %v, want the connection refused", err)
	}
	// The same hand-made client with the supervisor's certificate gets in: the
	// failure above is the missing certificate, not the test's TLS settings.
	sup, err := tls.LoadX509KeyPair(f.pki.Dir.CertFile("supervisor"), f.pki.Dir.KeyFile("supervisor"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := check(ctx(t), f.dialRaw(t, []tls.Certificate{sup})); err != nil {
		t.Fatalf("control call with a valid certificate failed: %v", err)
	}
}

func TestClientWithCertificateFromAnotherCAFailsTheHandshake(t *testing.T) {
	f := start(t, onlySupervisorChecksHealth)
	other := pkitest.New(t, "supervisor") // same name, same SPIFFE id, wrong CA
	forged, err := tls.LoadX509KeyPair(other.Dir.CertFile("supervisor"), other.Dir.KeyFile("supervisor"))
	if err != nil {
		t.Fatal(err)
	}
	// In TLS 1.3 the server judges the client's certificate after the client
	// has finished its side, so the client sees either the server's alert or
	// the closed connection; both are Unavailable, never an answer.
	_, err = check(ctx(t), f.dialRaw(t, []tls.Certificate{forged}))
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("got %v, want the connection refused", err)
	}
	// The server is up and the genuine certificate of the same name gets in.
	if _, err := check(ctx(t), f.dial(t, "supervisor")); err != nil {
		t.Fatalf("control call with the genuine certificate failed: %v", err)
	}
}

// The client checks the server's identity too: a server that is not the peer the
// caller meant to reach is refused, whatever its address.
func TestClientRefusesTheWrongServer(t *testing.T) {
	f := start(t, onlySupervisorChecksHealth)
	conn, err := grpcclient.New(f.addr, grpcclient.Options{Credentials: f.pki.Credentials(t, "supervisor"), Peer: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = check(ctx(t), conn)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "want spiffe://andes.local/customer") {
		t.Fatalf("got %v, want the server's identity refused", err)
	}
}

func TestPanicBecomesInternalAndTheServerLivesOn(t *testing.T) {
	f := start(t, onlySupervisorChecksHealth)
	conn := f.dial(t, "controller")
	_, err := servertest.Invoke(ctx(t), conn, boom, "x")
	if status.Code(err) != codes.Internal {
		t.Fatalf("got %v, want Internal", err)
	}
	if strings.Contains(err.Error(), "ledger") || strings.Contains(err.Error(), "4111") {
		t.Errorf("the panic's details reached the caller: %v", err)
	}
	if got, err := servertest.Invoke(ctx(t), conn, echo, "still here"); err != nil || got != "still here" {
		t.Fatalf("after the panic: %q %v", got, err)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "panic in grpc handler") || !strings.Contains(logs, "ledger row 42") {
		t.Errorf("the panic was not logged: %s", logs)
	}
	if strings.Contains(logs, "4111111111111111") {
		t.Error("the panic's card number reached the log unmasked")
	}
}

func TestUnmappedErrorIsNotPassedThrough(t *testing.T) {
	f := start(t, onlySupervisorChecksHealth)
	_, err := servertest.Invoke(ctx(t), f.dial(t, "controller"), plain, "x")
	if status.Code(err) != codes.Internal || strings.Contains(err.Error(), "secret_table") {
		t.Fatalf("got %v, want Internal without the cause", err)
	}
	if r := rpcstatus.Read(err); r.Reason != "INTERNAL" || r.Domain != "facade.andes.bank" {
		t.Errorf("error info %+v, want INTERNAL in facade.andes.bank", r)
	}
	if !strings.Contains(f.logs.String(), "secret_table") {
		t.Error("the original error was not logged")
	}
}

func TestHandlersSeeTheCallersName(t *testing.T) {
	f := start(t, onlySupervisorChecksHealth)
	if got, err := servertest.Invoke(ctx(t), f.dial(t, "controller"), who, ""); err != nil || got != "controller" {
		t.Fatalf("CallerName: %q %v", got, err)
	}
	if _, err := server.CallerName(context.Background()); !errors.Is(err, server.ErrNoCaller) {
		t.Errorf("CallerName without a peer: %v", err)
	}
}

func TestMetricsCountCallsByMethodAndCode(t *testing.T) {
	f := start(t, onlySupervisorChecksHealth)
	servertest.Invoke(ctx(t), f.dial(t, "controller"), echo, "x")
	servertest.Invoke(ctx(t), f.dial(t, "supervisor"), echo, "x")
	families, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]float64{}
	for _, fam := range families {
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch fam.GetName() {
			case "grpc_server_handled_total":
				seen[labels["grpc_method"]+" "+labels["grpc_code"]] += m.GetCounter().GetValue()
			case "grpc_server_handling_seconds":
				seen["histogram "+labels["grpc_method"]] += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	for key, want := range map[string]float64{"Echo OK": 1, "Echo PermissionDenied": 1, "histogram Echo": 2} {
		if seen[key] != want {
			t.Errorf("%s: %v, want %v (all: %v)", key, seen[key], want, seen)
		}
	}
}

// Shutdown lets a call in flight finish, and does not wait for health watchers,
// which would otherwise hold it to the full timeout.
func TestGracefulShutdown(t *testing.T) {
	pk := pkitest.New(t, "facade", "controller", "monitor")
	s, err := server.New(server.Options{
		Credentials: pk.Credentials(t, "facade"), Policy: onlySupervisorChecksHealth,
		ShutdownTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	arrived := make(chan struct{})
	s.RegisterService(servertest.Service("andes.test.v1.TestService", map[string]servertest.Handler{
		"Slow": func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
			close(arrived)
			time.Sleep(300 * time.Millisecond) // the work still running when shutdown begins
			return in, nil
		},
	}), nil)
	lis, addr := listen(t)
	serveCtx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(serveCtx, lis) }()

	dial := func(as string) *grpc.ClientConn {
		conn, err := grpcclient.New(addr, grpcclient.Options{Credentials: pk.Credentials(t, as), Peer: "facade"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	watch, err := healthpb.NewHealthClient(dial("monitor")).Watch(ctx(t), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := watch.Recv(); err != nil || first.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("watch: %v %v", first, err)
	}
	inFlight := make(chan error, 1)
	go func() {
		_, err := servertest.Invoke(ctx(t), dial("controller"), slow, "x")
		inFlight <- err
	}()
	select {
	case <-arrived: // shut down only once the call is in its handler
	case err := <-inFlight:
		t.Fatalf("the slow call ended before reaching its handler: %v", err)
	}
	began := time.Now()
	stop()
	if err := <-inFlight; err != nil {
		t.Errorf("the call in flight failed during shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("shutdown took %v: the health watcher held it", d)
	}
	for {
		msg, err := watch.Recv()
		if err != nil {
			break // the stream ended, as it must
		}
		if msg.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Errorf("watcher saw %v while draining", msg.GetStatus())
		}
	}
}

func TestNewRefusesAServerWithoutPolicy(t *testing.T) {
	pk := pkitest.New(t, "facade")
	if _, err := server.New(server.Options{Credentials: pk.Credentials(t, "facade")}); err == nil {
		t.Error("built a server with no policy")
	}
	if _, err := server.New(server.Options{Credentials: pk.Credentials(t, "facade"), Policy: `{"name":"x","allow_rules":[]}`}); err == nil {
		t.Error("built a server with an empty policy")
	}
	if _, err := server.New(server.Options{Policy: onlySupervisorChecksHealth}); err == nil {
		t.Error("built a server without credentials")
	}
}

// Interceptors a process adds (token verification) see authorized calls only.
func TestUseAddsInterceptorsAfterAuthorization(t *testing.T) {
	pk := pkitest.New(t, "facade", "controller", "customer")
	s, err := server.New(server.Options{Credentials: pk.Credentials(t, "facade"), Policy: onlySupervisorChecksHealth})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	var mu sync.Mutex
	s.Use(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		mu.Lock()
		seen = append(seen, info.FullMethod)
		mu.Unlock()
		if md, _ := metadata.FromIncomingContext(ctx); len(md.Get("authorization")) == 0 {
			return nil, status.Error(codes.Unauthenticated, "no end-user token")
		}
		return handler(ctx, req)
	}, nil)
	s.RegisterService(servertest.Service("andes.test.v1.TestService", map[string]servertest.Handler{
		"Echo": func(_ context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) { return in, nil },
	}), nil)
	addr := servertest.Serve(t, s)
	dial := func(as string) *grpc.ClientConn {
		conn, err := grpcclient.New(addr, grpcclient.Options{Credentials: pk.Credentials(t, as), Peer: "facade"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	if _, err := servertest.Invoke(ctx(t), dial("customer"), echo, "x"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("customer: %v", err)
	}
	if _, err := servertest.Invoke(ctx(t), dial("controller"), echo, "x"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("controller without token: %v", err)
	}
	withToken := metadata.AppendToOutgoingContext(ctx(t), "authorization", "Bearer t")
	if _, err := servertest.Invoke(withToken, dial("controller"), echo, "x"); err != nil {
		t.Errorf("controller with token: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Errorf("the interceptor saw %v; want only the two authorized calls", seen)
	}
}

// restarter reaches its handler only with valid requests.
type restarter struct {
	supervisorv1.UnimplementedSupervisorServiceServer
	t *testing.T
}

func (r restarter) RestartProcess(_ context.Context, req *supervisorv1.RestartProcessRequest) (*supervisorv1.RestartProcessResponse, error) {
	if req.GetIdempotencyKey() == "" {
		r.t.Error("the handler saw an invalid request")
	}
	return &supervisorv1.RestartProcessResponse{}, nil
}

func TestRequestsAreValidatedAfterTheProcessesInterceptors(t *testing.T) {
	pk := pkitest.New(t, "supervisor", "monitor")
	s, err := server.New(server.Options{Credentials: pk.Credentials(t, "supervisor"), Policy: `{"name":"supervisor","allow_rules":[
		{"name":"monitor","source":{"principals":["spiffe://andes.local/monitor"]},"request":{"paths":["/andes.supervisor.v1.*"]}}]}`})
	if err != nil {
		t.Fatal(err)
	}
	s.Use(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if md, _ := metadata.FromIncomingContext(ctx); len(md.Get("authorization")) == 0 {
			return nil, status.Error(codes.Unauthenticated, "no end-user token")
		}
		return handler(ctx, req)
	}, nil)
	supervisorv1.RegisterSupervisorServiceServer(s, restarter{t: t})
	conn, err := grpcclient.New(servertest.Serve(t, s), grpcclient.Options{Credentials: pk.Credentials(t, "monitor"), Peer: "supervisor"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := supervisorv1.NewSupervisorServiceClient(conn)
	invalid := &supervisorv1.RestartProcessRequest{Name: "alpha"}

	if _, err := client.RestartProcess(ctx(t), invalid); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without a token: %v; the process's interceptor must answer before the rules", err)
	}
	withToken := metadata.AppendToOutgoingContext(ctx(t), "authorization", "Bearer t")
	_, err = client.RestartProcess(withToken, invalid)
	r := rpcstatus.Read(err)
	if r.Code != codes.InvalidArgument || r.Reason != "VALIDATION_FAILED" || r.Domain != "supervisor.andes.bank" ||
		len(r.Violations) != 1 || r.Violations[0].GetField() != "idempotency_key" {
		t.Fatalf("invalid request: %+v", r)
	}
	if _, err := client.RestartProcess(withToken, &supervisorv1.RestartProcessRequest{IdempotencyKey: "k", Name: "alpha"}); err != nil {
		t.Fatalf("valid request: %v", err)
	}
}
