// Package partner is bff-partner, the gateway of partner fintechs and cash agents:
// andes.partner.v1 as REST/JSON through grpc-gateway, its OpenAPI document at
// /openapi.json, OAuth2 client-credentials tokens verified locally with their
// scopes, the token forwarded to the customer service and the controller, and a
// rate limit per partner in Redis. README.md shows it with curl.
package partner

import (
	"context"
	"fmt"
	"time"

	"github.com/andes-bank/andes/bff/partner/adapters/ratelimit"
	"github.com/andes-bank/andes/bff/partner/ports"
	"github.com/andes-bank/andes/gen"
	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/tokens"
)

// Config is the process's configuration, read from its environment.
type Config struct {
	config.Base
	EdgeAddr string `env:"ANDES_EDGE_ADDR,required,addr"`

	AuthAddr       string `env:"ANDES_AUTH_ADDR,required,addr"`
	AuthEdgeAddr   string `env:"ANDES_AUTH_EDGE_ADDR,required,addr"`
	CustomerAddr   string `env:"ANDES_CUSTOMER_ADDR,required,addr"`
	ControllerAddr string `env:"ANDES_CONTROLLER_ADDR,required,addr"`
	// OnboardingAddr is kept for the partner onboarding flow to come; no partner
	// route calls onboarding yet (customers are created by the customer service).
	OnboardingAddr string `env:"ANDES_ONBOARDING_ADDR,required,addr"`

	// AuthIssuer overrides the tokens' issuer, http://<auth edge> by default.
	AuthIssuer string `env:"ANDES_AUTH_ISSUER"`

	// RateBurst is how many requests a partner may send at once; RatePerSecond how
	// many per second it may sustain. One bucket per partner, shared by its clients
	// and agents and by every replica of the gateway.
	RateBurst     int     `env:"ANDES_PARTNER_RATE_BURST" default:"100"`
	RatePerSecond float64 `env:"ANDES_PARTNER_RATE_PER_SECOND" default:"50"`
	// MaxBodyBytes bounds request bodies.
	MaxBodyBytes int64 `env:"ANDES_PARTNER_MAX_BODY_BYTES" default:"65536"`

	RedisURL config.Secret `env:"REDIS_URL,required"`
	NATSURL  config.Secret `env:"NATS_URL,required"`
}

// Validate checks what tags cannot express.
func (c *Config) Validate() error {
	if err := (ratelimit.Limits{Burst: c.RateBurst, PerSecond: c.RatePerSecond}).Validate(); err != nil {
		return fmt.Errorf("ANDES_PARTNER_RATE_BURST / ANDES_PARTNER_RATE_PER_SECOND: %w", err)
	}
	if c.MaxBodyBytes < 1<<10 {
		return fmt.Errorf("ANDES_PARTNER_MAX_BODY_BYTES: at least 1024")
	}
	return nil
}

// Setup wires the process on p from c: its dependencies, then its edge.
func (c *Config) Setup(ctx context.Context, p *server.Process) error {
	rdb, err := p.OpenRedis(ctx, c.RedisURL)
	if err != nil {
		return err
	}
	limiter, err := ratelimit.New(rdb, ratelimit.Limits{Burst: c.RateBurst, PerSecond: c.RatePerSecond}, time.Now)
	if err != nil {
		return err
	}

	nc, err := p.OpenNATS(ctx, c.NATSURL)
	if err != nil {
		return err
	}
	verifier, err := tokens.ForProcess(p, tokens.ProcessOptions{Issuer: tokens.Issuer(c.AuthIssuer, c.AuthEdgeAddr),
		Revocations: nc.JS, Logger: p.Logger})
	if err != nil {
		return err
	}

	// Reads are retried on UNAVAILABLE. Writes are not: the partner sends them again
	// with the same Idempotency-Key, and the services replay the first outcome.
	// The edge puts the partner's token in the request context (tokens.ForwardBearer):
	// both connections carry it to the services.
	customerOpts := grpcclient.Options{Retry: []string{"andes.customer.v1.CustomerService/ListPartnerCustomers",
		"andes.customer.v1.CustomerService/GetCustomer", "andes.customer.v1.CustomerService/GetCustomerView",
		"andes.customer.v1.CustomerService/GetAccount", "andes.customer.v1.CustomerService/ListMovements"}}
	customerConn, err := p.Dial("customer", c.CustomerAddr, customerOpts)
	if err != nil {
		return fmt.Errorf("ANDES_CUSTOMER_ADDR: %w", err)
	}
	controllerOpts := grpcclient.Options{Retry: []string{"andes.controller.v1.ControllerService/GetOperation",
		"andes.controller.v1.ControllerService/ListOperations", "andes.controller.v1.ControllerService/GetStatement"}}
	controllerConn, err := p.Dial("controller", c.ControllerAddr, controllerOpts)
	if err != nil {
		return fmt.Errorf("ANDES_CONTROLLER_ADDR: %w", err)
	}

	api, err := ports.NewAPI(customerv1.NewCustomerServiceClient(customerConn),
		controllerv1.NewControllerServiceClient(controllerConn), p.Logger)
	if err != nil {
		return err
	}
	h, err := ports.NewREST(ctx, ports.Options{API: api, Verifier: verifier, Limiter: quota{limiter},
		OpenAPI: gen.PartnerOpenAPI, Logger: p.Logger, MaxBodyBytes: c.MaxBodyBytes})
	if err != nil {
		return err
	}
	p.ServeHTTP("edge", c.EdgeAddr, h)
	return nil
}

// quota adapts the Redis limiter to the edge's Limiter.
type quota struct{ l *ratelimit.Limiter }

func (q quota) Take(ctx context.Context, partnerID string) (ports.Quota, error) {
	d, err := q.l.Take(ctx, partnerID)
	return ports.Quota{Allowed: d.Allowed, Limit: d.Limit, Remaining: d.Remaining, RetryAfter: d.RetryAfter}, err
}
