// Package controller is the controller: every money movement a customer, partner
// or cash agent asks for — transfers, cash-in, cash-out — validated and executed
// through the facade with the controller's own operation ids as keys, with the
// callers' idempotency keys, the operations' records, daily limits, beneficiaries
// and the outbox of their events; and the reads that follow them (operations,
// statements, beneficiaries, limits). See README.md.
package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/natsjs"
	"github.com/andes-bank/andes/platform/outbox"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/retention"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/tokens"
	authclient "github.com/andes-bank/andes/services/controller/adapters/auth"
	customerclient "github.com/andes-bank/andes/services/controller/adapters/customer"
	"github.com/andes-bank/andes/services/controller/adapters/events"
	facadeclient "github.com/andes-bank/andes/services/controller/adapters/facade"
	controllerpg "github.com/andes-bank/andes/services/controller/adapters/postgres"
	"github.com/andes-bank/andes/services/controller/app"
	"github.com/andes-bank/andes/services/controller/domain"
	"github.com/andes-bank/andes/services/controller/ports"
)

// Config is the process's configuration, read from its environment.
type Config struct {
	config.Base

	FacadeAddr   string `env:"ANDES_FACADE_ADDR,required,addr"`
	CustomerAddr string `env:"ANDES_CUSTOMER_ADDR,required,addr"`
	AuthAddr     string `env:"ANDES_AUTH_ADDR,required,addr"`
	// AuthEdgeAddr is auth's OAuth2 edge, where its JWKS is published: every call
	// carries the end user's token, verified with it. Without it (or AuthIssuer)
	// every call is refused.
	AuthEdgeAddr string `env:"ANDES_AUTH_EDGE_ADDR"`
	// AuthIssuer overrides the issuer, http://<auth edge> by default.
	AuthIssuer string `env:"ANDES_AUTH_ISSUER"`

	DatabaseURL config.Secret `env:"DATABASE_URL,required"`
	NATSURL     config.Secret `env:"NATS_URL,required"`

	// Limits overrides the amount rules: "PEN:min:max:daily,USD:min:max:daily" in
	// minor units; empty keeps the bank's (domain.DefaultLimits).
	Limits string `env:"ANDES_CONTROLLER_LIMITS"`
	// WriteTimeout bounds one money movement through the facade; past it the
	// outcome is unknown and the operation stays PENDING for the reconciler.
	WriteTimeout time.Duration `env:"ANDES_CONTROLLER_WRITE_TIMEOUT" default:"20s"`
	// ReconcileInterval is how often PENDING operations are asked about.
	ReconcileInterval time.Duration `env:"ANDES_CONTROLLER_RECONCILE_INTERVAL" default:"2s"`
	// LeaseTimeout is how long a request (or the reconciler) holds a key before
	// another may take it over.
	LeaseTimeout time.Duration `env:"ANDES_CONTROLLER_LEASE_TIMEOUT" default:"1m"`
	// EventStream and EventSubjectPrefix name where the outbox publishes; tests
	// give their own so runs sharing a NATS server do not meet.
	EventStream        string `env:"ANDES_CONTROLLER_EVENT_STREAM" default:"ANDES_CONTROLLER"`
	EventSubjectPrefix string `env:"ANDES_CONTROLLER_EVENT_SUBJECT_PREFIX" default:"andes.events.controller."`
	// Retention is how long idempotency keys and published events are kept.
	Retention retention.Config
}

// Setup wires the process on p from c: its dependencies, then its API and the
// background loops (reconciler, outbox relay).
func (c *Config) Setup(ctx context.Context, p *server.Process) error {
	limits := domain.DefaultLimits()
	if c.Limits != "" {
		var err error
		if limits, err = domain.ParseLimits(c.Limits); err != nil {
			return fmt.Errorf("ANDES_CONTROLLER_LIMITS: %w", err)
		}
	}
	pool, err := p.OpenPostgres(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	if err := controllerpg.Migrate(ctx, pool, postgres.SchemaName(p.Config.Name)); err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	store := controllerpg.New(pool, idempotency.Options{LeaseTimeout: c.LeaseTimeout})

	nc, err := p.OpenNATS(ctx, c.NATSURL)
	if err != nil {
		return err
	}
	if _, err := natsjs.EnsureStream(ctx, nc.JS, jetstream.StreamConfig{
		Name: c.EventStream, Subjects: []string{c.EventSubjectPrefix + ">"},
	}); err != nil {
		return err
	}
	relay := outbox.NewRelay(pool, outbox.JetStreamPublisher(nc.JS), outbox.RelayOptions{})
	p.Go("outbox", func(ctx context.Context) error {
		return relay.Run(ctx, func(err error) { p.Logger.Warn("outbox relay", "err", err) })
	})
	if err := retention.Schedule(p, pool, c.Retention, retention.IdempotencyKeys, retention.Outbox); err != nil {
		return err
	}

	if issuer := tokens.Issuer(c.AuthIssuer, c.AuthEdgeAddr); issuer != "" {
		v, err := tokens.ForProcess(p, tokens.ProcessOptions{Issuer: issuer, Revocations: nc.JS, Logger: p.Logger})
		if err != nil {
			return err
		}
		// Not optional: every caller (a gateway) acts for an end user.
		p.GRPC.Use(v.ServerInterceptors(tokens.RPCOptions{Domain: "controller.andes.bank"}))
	} else {
		p.Logger.Warn("no ANDES_AUTH_EDGE_ADDR: end-user tokens cannot be verified, every call is refused")
	}

	facadeConn, err := p.Dial("facade", c.FacadeAddr, grpcclient.Options{Retry: facadeclient.RetryMethods, Timeout: c.WriteTimeout})
	if err != nil {
		return fmt.Errorf("ANDES_FACADE_ADDR: %w", err)
	}
	customerConn, err := p.Dial("customer", c.CustomerAddr, grpcclient.Options{Retry: customerclient.RetryMethods})
	if err != nil {
		return fmt.Errorf("ANDES_CUSTOMER_ADDR: %w", err)
	}
	authConn, err := p.Dial("auth", c.AuthAddr, grpcclient.Options{Retry: authclient.RetryMethods})
	if err != nil {
		return fmt.Errorf("ANDES_AUTH_ADDR: %w", err)
	}
	a := app.New(store, customerclient.New(customerConn), facadeclient.New(facadeConn), authclient.New(authConn),
		ports.Codec{}, events.Factory{Prefix: c.EventSubjectPrefix, Reason: rpcstatus.Parse},
		app.Options{Limits: limits, WriteTimeout: c.WriteTimeout, Logger: p.Logger})
	api, err := ports.NewGRPC(a)
	if err != nil {
		return err
	}
	controllerv1.RegisterControllerServiceServer(p.GRPC, api)
	p.Go("reconciler", func(ctx context.Context) error { return a.RunReconciler(ctx, c.ReconcileInterval) })
	return nil
}
