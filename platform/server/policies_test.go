package server_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/platform/pki"
	"github.com/andes-bank/andes/platform/policy"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/server/servertest"
)

// The policies in deploy/policies, enforced by real servers: for every process,
// exactly the identities the manifest implies get in.
func TestDeployedPoliciesOverRealGRPC(t *testing.T) {
	wd, _ := os.Getwd()
	path, err := manifest.Find(wd)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(path))
	dir := pki.Dir(t.TempDir())
	if err := pki.EnsureIdentities(string(dir), m.TrustDomain, append(m.IdentityNames(), "stranger")...); err != nil {
		t.Fatal(err)
	}
	creds := func(name string) *pki.Credentials {
		c, err := pki.Load(dir.CertFile(name), dir.KeyFile(name), dir.CAFile(), m.TrustDomain)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	callersOf := func(name string) []string {
		var out []string
		for _, p := range m.Processes {
			if slices.ContainsFunc(p.Peers, func(ref string) bool { return ref == name }) {
				out = append(out, p.Name)
			}
		}
		return out
	}
	echoHandler := map[string]servertest.Handler{
		"Echo": func(_ context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) { return in, nil },
	}

	for _, p := range m.Processes {
		t.Run(p.Name, func(t *testing.T) {
			s, err := server.New(server.Options{Credentials: creds(p.Name), PolicyFile: policy.File(root, p.Name)})
			if err != nil {
				t.Fatal(err)
			}
			api := "andes." + domainOf(p.Name) + ".v1.TestService"
			admin := "andes." + domainOf(p.Name) + ".admin.v1.TestAdminService"
			s.RegisterService(servertest.Service(api, echoHandler), nil)
			s.RegisterService(servertest.Service(admin, echoHandler), nil)
			addr := servertest.Serve(t, s)

			conns := map[string]*grpc.ClientConn{}
			as := func(who string) *grpc.ClientConn {
				if c := conns[who]; c != nil {
					return c
				}
				c, err := grpcclient.New(addr, grpcclient.Options{Credentials: creds(who), Peer: p.Name})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				conns[who] = c
				return c
			}
			expect := func(who, what string, err error, allowed bool) {
				t.Helper()
				switch {
				case allowed && err != nil:
					t.Errorf("%s should be allowed %s: %v", who, what, err)
				case !allowed && status.Code(err) != codes.PermissionDenied:
					t.Errorf("%s should be denied %s, got %v", who, what, err)
				}
			}

			for _, who := range []string{"operator", "supervisor", "monitor"} {
				_, err := check(ctx(t), as(who))
				expect(who, "health", err, true)
			}
			_, err = check(ctx(t), as("stranger"))
			expect("stranger", "health", err, false)

			_, err = listServices(ctx(t), as("operator"))
			expect("operator", "reflection", err, true)
			_, err = servertest.Invoke(ctx(t), as("operator"), "/"+admin+"/Echo", "x")
			expect("operator", "admin", err, true)
			_, err = servertest.Invoke(ctx(t), as("operator"), "/"+api+"/Echo", "x")
			expect("operator", "the internal API", err, false)

			callers := callersOf(p.Name)
			for _, caller := range callers {
				_, err := servertest.Invoke(ctx(t), as(caller), "/"+api+"/Echo", "x")
				expect(caller, "the internal API", err, true)
				_, err = servertest.Invoke(ctx(t), as(caller), "/"+admin+"/Echo", "x")
				expect(caller, "admin", err, false)
				if caller != "monitor" && caller != "supervisor" {
					_, err = listServices(ctx(t), as(caller))
					expect(caller, "reflection", err, false)
				}
			}
			for _, other := range []string{"stranger", "cardnet", "bff-web"} {
				if !slices.Contains(callers, other) {
					_, err := servertest.Invoke(ctx(t), as(other), "/"+api+"/Echo", "x")
					expect(other, "the internal API", err, false)
				}
			}
		})
	}
}

func domainOf(process string) string {
	out := []byte{}
	for i := range len(process) {
		if process[i] != '-' {
			out = append(out, process[i])
		}
	}
	return string(out)
}

func listServices(ctx context.Context, conn grpc.ClientConnInterface) ([]string, error) {
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, err
	}
	// Send reports io.EOF when the server has already ended the stream (denied
	// it); the reason is then what Recv returns.
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	_ = stream.CloseSend()
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names, nil
}
