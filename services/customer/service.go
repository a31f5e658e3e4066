// Package customer is the customer service: the Andes customer id, profiles,
// preferences, ownership of accounts, partner tenancy and the mapping to the core's
// customer numbers; and the consolidated view for the gateways, built from the
// facade's snapshot.
package customer

import (
	"context"
	"errors"
	"fmt"
	"time"

	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/tokens"
	facadeclient "github.com/andes-bank/andes/services/customer/adapters/facade"
	customerpg "github.com/andes-bank/andes/services/customer/adapters/postgres"
	"github.com/andes-bank/andes/services/customer/app"
	"github.com/andes-bank/andes/services/customer/ports"
)

// Config is the process's configuration, read from its environment.
type Config struct {
	config.Base

	FacadeAddr string `env:"ANDES_FACADE_ADDR,required,addr"`

	DatabaseURL config.Secret `env:"DATABASE_URL,required"`
	NATSURL     config.Secret `env:"NATS_URL,required"`

	// DemoFile is the demo bank seeded at start; the checkout's
	// deploy/demo/demo.yaml when unset (platform/demo.Open).
	DemoFile string `env:"ANDES_DEMO_FILE"`
	// AuthEdgeAddr is auth's OAuth2 edge, where its JWKS is published; with it
	// the end user's token that gateways forward is verified. Without it, calls
	// from gateways are refused (they must carry a verified user).
	AuthEdgeAddr string `env:"ANDES_AUTH_EDGE_ADDR"`
	// AuthIssuer overrides the issuer, http://<auth edge> by default.
	AuthIssuer string `env:"ANDES_AUTH_ISSUER"`
}

// Setup wires the process on p from c: its dependencies, then its API.
func (c *Config) Setup(ctx context.Context, p *server.Process) error {
	pool, err := p.OpenPostgres(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	if err := customerpg.Migrate(ctx, pool, postgres.SchemaName(p.Config.Name)); err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	store := customerpg.New(pool)
	if err := c.seed(ctx, p, store); err != nil {
		return err
	}

	nc, err := p.OpenNATS(ctx, c.NATSURL)
	if err != nil {
		return err
	}
	if issuer := tokens.Issuer(c.AuthIssuer, c.AuthEdgeAddr); issuer != "" {
		v, err := tokens.ForProcess(p, tokens.ProcessOptions{Issuer: issuer, Revocations: nc.JS, Logger: p.Logger})
		if err != nil {
			return err
		}
		// Optional: the controller, onboarding and the migrator call on their own
		// account; the ports refuse gateways that come without a user.
		p.GRPC.Use(v.ServerInterceptors(tokens.RPCOptions{Domain: "customer.andes.bank", Optional: true}))
	} else {
		p.Logger.Warn("no ANDES_AUTH_EDGE_ADDR: end-user tokens cannot be verified, gateway calls are refused")
	}

	conn, err := p.Dial("facade", c.FacadeAddr, grpcclient.Options{Retry: facadeclient.RetryMethods})
	if err != nil {
		return fmt.Errorf("ANDES_FACADE_ADDR: %w", err)
	}
	api, err := ports.NewGRPC(app.New(store, facadeclient.New(conn), time.Now))
	if err != nil {
		return err
	}
	customerv1.RegisterCustomerServiceServer(p.GRPC, api)
	return nil
}

// seed loads the demo bank into the tables, once: what is already there stays.
func (c *Config) seed(ctx context.Context, p *server.Process, store *customerpg.Store) error {
	d, err := demo.Open(c.DemoFile)
	if errors.Is(err, demo.ErrNoDemoBank) {
		p.Logger.Warn("no demo bank to seed: set ANDES_DEMO_FILE", "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("ANDES_DEMO_FILE: %w", err)
	}
	start := time.Now()
	st, err := store.Seed(ctx, d, time.Now())
	if err != nil {
		return fmt.Errorf("seed demo bank: %w", err)
	}
	p.Logger.Info("demo bank seeded", "customers", st.Customers, "accounts", st.Accounts,
		"partners", st.Partners, "took", time.Since(start).String())
	return nil
}
