package auth_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/devdeps"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/services/auth/adapters/customer"
	customersvc "github.com/andes-bank/andes/services/customer"
)

// startCustomer runs the customer service, seeded with the demo bank, as make up
// does: auth asks it where one-time codes go. It returns auth's connection to it.
// Nothing here reaches the facade, so its address is one nobody listens on.
func startCustomer(t testing.TB, p *pkitest.PKI) grpc.ClientConnInterface {
	t.Helper()
	p.Issue(t, "customer")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	urls, err := testenv.Deps(ctx, devdeps.NATS)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &customersvc.Config{
		Base: config.Base{
			Name: "customer", GRPCAddr: testenv.FreeAddr(t), AdminAddr: testenv.FreeAddr(t),
			TLS:        config.TLS{CertFile: p.Dir.CertFile("customer"), KeyFile: p.Dir.KeyFile("customer"), CAFile: p.Dir.CAFile()},
			PolicyFile: "../../deploy/policies/customer.json", TrustDomain: pkitest.TrustDomain,
			LogLevel: slog.LevelError, ShutdownTimeout: 5 * time.Second,
		},
		FacadeAddr:  testenv.FreeAddr(t),
		DatabaseURL: config.Secret(testenv.PostgresURL(t)),
		NATSURL:     config.Secret(urls.NATSURL),
		DemoFile:    "../../deploy/demo/demo.yaml",
	}
	runCtx, stop := context.WithCancel(context.Background())
	ready := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(runCtx, cfg, func(ctx context.Context, proc *server.Process) error {
			err := cfg.Setup(ctx, proc)
			ready <- err
			return err
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("customer stopped: %v", err)
		}
	})
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case err := <-done:
		t.Fatalf("customer did not start: %v", err)
	}
	conn, err := grpcclient.New(cfg.GRPCAddr, grpcclient.Options{Credentials: p.Credentials(t, "auth"), Peer: "customer", Retry: customer.RetryMethods})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
