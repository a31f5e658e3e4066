package server_test

import (
	"context"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/server/servertest"
)

const (
	builtService   = "andes.test.v1.TestService"
	pendingService = "andes.test.v1.PendingService"
)

// servePlaceholder serves a process with one built service and, when pending,
// one placeholder, and returns the supervisor's connection to it (the policy
// lets the supervisor check health).
func servePlaceholder(t *testing.T, pending bool) *grpc.ClientConn {
	t.Helper()
	certs := pkitest.New(t, "facade", "supervisor", "controller")
	s, err := server.New(server.Options{Credentials: certs.Credentials(t, "facade"), Policy: onlySupervisorChecksHealth})
	if err != nil {
		t.Fatal(err)
	}
	s.RegisterService(servertest.Service(builtService, map[string]servertest.Handler{
		"Echo": func(_ context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) { return in, nil },
	}), nil)
	if pending {
		// What a generated Unimplemented...Server does.
		s.RegisterPlaceholder(servertest.Service(pendingService, map[string]servertest.Handler{
			"Open": func(context.Context, *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				return nil, status.Error(codes.Unimplemented, "method Open not implemented")
			},
		}), nil)
	}
	addr := servertest.Serve(t, s)
	conn, err := grpcclient.New(addr, grpcclient.Options{Credentials: certs.Credentials(t, "supervisor"), Peer: "facade"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func checkWithHeader(t *testing.T, conn *grpc.ClientConn, service string) (healthpb.HealthCheckResponse_ServingStatus, metadata.MD) {
	t.Helper()
	var header metadata.MD
	resp, err := healthpb.NewHealthClient(conn).Check(ctx(t), &healthpb.HealthCheckRequest{Service: service}, grpc.Header(&header))
	if err != nil {
		t.Fatalf("health of %q: %v", service, err)
	}
	return resp.GetStatus(), header
}

func TestAPlaceholderSaysItsAPIIsNotBuilt(t *testing.T) {
	conn := servePlaceholder(t, true)

	st, header := checkWithHeader(t, conn, "")
	if st != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("the process: %v, want SERVING: it runs", st)
	}
	if got := header.Get(server.HeaderNotBuilt); !slices.Equal(got, []string{pendingService}) {
		t.Errorf("%s = %q, want [%s]", server.HeaderNotBuilt, got, pendingService)
	}
	if st, _ := checkWithHeader(t, conn, pendingService); st != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("the placeholder: %v, want NOT_SERVING", st)
	}
	if st, _ := checkWithHeader(t, conn, builtService); st != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("the built service: %v, want SERVING", st)
	}
}

func TestABuiltProcessNamesNoPlaceholder(t *testing.T) {
	conn := servePlaceholder(t, false)
	st, header := checkWithHeader(t, conn, "")
	if st != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("the process: %v, want SERVING", st)
	}
	if got := header.Get(server.HeaderNotBuilt); len(got) != 0 {
		t.Errorf("%s = %q, want none", server.HeaderNotBuilt, got)
	}
}
