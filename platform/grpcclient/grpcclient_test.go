package grpcclient_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/server/servertest"
)

const policy = `{"name": "facade", "allow_rules": [{"name": "internal-api",
  "source": {"principals": ["spiffe://andes.local/controller"]}, "request": {"paths": ["/andes.test.v1.*"]}}]}`

// flakyServer answers UNAVAILABLE to the first two calls of each method, then
// succeeds, and counts attempts.
type flakyServer struct {
	mu       sync.Mutex
	attempts map[string]int
}

func (f *flakyServer) handler(method string) servertest.Handler {
	return func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		f.mu.Lock()
		f.attempts[method]++
		n := f.attempts[method]
		f.mu.Unlock()
		if n <= 2 {
			return nil, status.Error(codes.Unavailable, "warming up")
		}
		return in, nil
	}
}

func (f *flakyServer) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts[method]
}

func setup(t *testing.T, o grpcclient.Options) (*grpc.ClientConn, *flakyServer) {
	t.Helper()
	pk := pkitest.New(t, "facade", "controller")
	s, err := server.New(server.Options{Credentials: pk.Credentials(t, "facade"), Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyServer{attempts: map[string]int{}}
	s.RegisterService(servertest.Service("andes.test.v1.TestService", map[string]servertest.Handler{
		"Read":  f.handler("Read"),
		"Write": f.handler("Write"),
		"Trace": func(ctx context.Context, _ *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
			return wrapperspb.String(trace.SpanContextFromContext(ctx).TraceID().String()), nil
		},
		"Deadline": func(ctx context.Context, _ *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
			d, ok := ctx.Deadline()
			if !ok {
				return wrapperspb.String("none"), nil
			}
			return wrapperspb.String(time.Until(d).Round(time.Second).String()), nil
		},
	}), nil)
	s.RegisterService(servertest.Service("andes.test.v1.ReadOnlyService", map[string]servertest.Handler{
		"Get": f.handler("Get"),
	}), nil)
	addr := servertest.Serve(t, s)
	o.Credentials, o.Peer = pk.Credentials(t, "controller"), "facade"
	conn, err := grpcclient.New(addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, f
}

func call(t *testing.T, conn *grpc.ClientConn, method string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return servertest.Invoke(ctx, conn, "/andes.test.v1."+method, "x")
}

// Only the methods marked safe are sent again; a write that is not marked fails on
// the first UNAVAILABLE, because repeating it could do it twice.
func TestRetriesOnlyMethodsMarkedSafe(t *testing.T) {
	conn, f := setup(t, grpcclient.Options{Retry: []string{"andes.test.v1.TestService/Read", "andes.test.v1.ReadOnlyService"}})
	if _, err := call(t, conn, "TestService/Read"); err != nil {
		t.Errorf("marked method: %v", err)
	}
	if n := f.count("Read"); n != 3 {
		t.Errorf("marked method tried %d times, want 3", n)
	}
	if _, err := call(t, conn, "ReadOnlyService/Get"); err != nil {
		t.Errorf("method of a marked service: %v", err)
	}
	if _, err := call(t, conn, "TestService/Write"); status.Code(err) != codes.Unavailable {
		t.Errorf("unmarked method: got %v, want Unavailable", err)
	}
	if n := f.count("Write"); n != 1 {
		t.Errorf("unmarked method tried %d times, want 1", n)
	}
}

func TestCallsWithoutDeadlineGetTheDefault(t *testing.T) {
	conn, _ := setup(t, grpcclient.Options{Timeout: 3 * time.Second})
	got, err := servertest.Invoke(context.Background(), conn, "/andes.test.v1.TestService/Deadline", "")
	if err != nil || got != "3s" {
		t.Errorf("server saw deadline %q (%v), want 3s", got, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err = servertest.Invoke(ctx, conn, "/andes.test.v1.TestService/Deadline", "")
	if err != nil || got != "30s" {
		t.Errorf("the caller's own deadline was replaced: server saw %q (%v)", got, err)
	}
}

// The caller's trace continues on the server (W3C traceparent), so one trace id
// follows a request through every process's logs.
func TestTraceContextReachesTheServer(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	conn, _ := setup(t, grpcclient.Options{TracerProvider: tp})
	ctx, span := tp.Tracer("test").Start(context.Background(), "home")
	defer span.End()
	got, err := servertest.Invoke(ctx, conn, "/andes.test.v1.TestService/Trace", "")
	if err != nil || got != span.SpanContext().TraceID().String() {
		t.Errorf("server saw trace %q (%v), caller's is %s", got, err, span.SpanContext().TraceID())
	}
}

func TestServiceConfigRefusesVagueNames(t *testing.T) {
	for _, bad := range []string{"", "Read", "andes.test.v1.TestService/*", "a.B/c/d"} {
		if _, err := grpcclient.ServiceConfig([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	sc, err := grpcclient.ServiceConfig([]string{"/andes.facade.v1.FacadeService/GetSnapshot"})
	if err != nil || !strings.Contains(sc, `"method":"GetSnapshot"`) || !strings.Contains(sc, "UNAVAILABLE") {
		t.Errorf("service config %s, %v", sc, err)
	}
}

func TestNewNeedsIdentityAndPeer(t *testing.T) {
	if _, err := grpcclient.New("127.0.0.1:1", grpcclient.Options{}); err == nil {
		t.Error("dialled without credentials")
	}
}
