// Package web is bff-web, the web banking gateway: it serves the web banking page
// and its Connect API (andes.web.v1) and holds the customer's session in Redis
// behind an HttpOnly cookie, as the OAuth2 confidential client (the token-handler
// pattern): tokens never reach the browser.
//
// This file is the composition root.
package web

import (
	"context"
	"fmt"
	"time"

	"github.com/andes-bank/andes/bff/web/adapters/customer"
	"github.com/andes-bank/andes/bff/web/adapters/oauthclient"
	"github.com/andes-bank/andes/bff/web/adapters/redisstore"
	"github.com/andes-bank/andes/bff/web/app"
	"github.com/andes-bank/andes/bff/web/domain"
	"github.com/andes-bank/andes/bff/web/ports"
	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/tokens"
)

// ClientID is the web BFF's OAuth2 client at auth.
const ClientID = "bff-web"

// Config is the process's configuration, read from its environment.
type Config struct {
	config.Base
	EdgeAddr string `env:"ANDES_EDGE_ADDR,required,addr"`

	AuthAddr       string `env:"ANDES_AUTH_ADDR,required,addr"`
	AuthEdgeAddr   string `env:"ANDES_AUTH_EDGE_ADDR,required,addr"`
	CustomerAddr   string `env:"ANDES_CUSTOMER_ADDR,required,addr"`
	ControllerAddr string `env:"ANDES_CONTROLLER_ADDR,required,addr"`

	RedisURL config.Secret `env:"REDIS_URL,required"`

	// AuthIssuer is auth's issuer URL as browsers reach it; http://<auth edge> by default.
	AuthIssuer string `env:"ANDES_AUTH_ISSUER"`
	// PublicURL is this edge as browsers reach it (the redirect URI's origin);
	// http://<ANDES_EDGE_ADDR> by default, as auth registers it.
	PublicURL string `env:"ANDES_WEB_PUBLIC_URL"`
	// ClientSecret is the web client's secret at auth, normally
	// ANDES_WEB_CLIENT_SECRET_FILE; without it, the demo bank's derived secret
	// (ANDES_DEMO_FILE) is used, as auth seeds it.
	ClientSecret config.Secret `env:"ANDES_WEB_CLIENT_SECRET"`
	DemoFile     string        `env:"ANDES_DEMO_FILE"`

	// SessionIdle ends a session after this long without a request.
	SessionIdle time.Duration `env:"ANDES_WEB_SESSION_IDLE" default:"15m"`
	// SessionMax ends a session this long after login, whatever the activity.
	SessionMax time.Duration `env:"ANDES_WEB_SESSION_MAX" default:"12h"`
	// SecureCookies marks cookies Secure (and __Host-): set it wherever the page is
	// served over HTTPS, i.e. in production.
	SecureCookies bool `env:"ANDES_WEB_SECURE_COOKIES" default:"false"`
}

// Validate checks what tags cannot.
func (c *Config) Validate() error {
	switch {
	case c.SessionIdle < time.Minute || c.SessionIdle > 2*time.Hour:
		return &config.VarError{Var: "ANDES_WEB_SESSION_IDLE", Msg: "must be from 1m to 2h"}
	case c.SessionMax < c.SessionIdle || c.SessionMax > 24*time.Hour:
		return &config.VarError{Var: "ANDES_WEB_SESSION_MAX", Msg: "must be from ANDES_WEB_SESSION_IDLE to 24h"}
	}
	return nil
}

func (c *Config) publicURL() string {
	if c.PublicURL != "" {
		return c.PublicURL
	}
	return "http://" + c.EdgeAddr
}

func (c *Config) secret() (string, error) {
	if c.ClientSecret != "" {
		return c.ClientSecret.Reveal(), nil
	}
	if c.DemoFile == "" {
		return "", &config.VarError{Var: "ANDES_WEB_CLIENT_SECRET", Msg: "is required (or ANDES_DEMO_FILE for the demo bank's)"}
	}
	ds, err := demo.Load(c.DemoFile)
	if err != nil {
		return "", &config.VarError{Var: "ANDES_DEMO_FILE", Msg: err.Error()}
	}
	return ds.ClientSecret(ClientID), nil
}

// Setup wires the process on p from c: its dependencies, then its edge.
func (c *Config) Setup(ctx context.Context, p *server.Process) error {
	rdb, err := p.OpenRedis(ctx, c.RedisURL)
	if err != nil {
		return err
	}
	secret, err := c.secret()
	if err != nil {
		return err
	}
	customerConn, err := p.Dial("customer", c.CustomerAddr, grpcclient.Options{})
	if err != nil {
		return fmt.Errorf("ANDES_CUSTOMER_ADDR: %w", err)
	}
	controllerConn, err := p.Dial("controller", c.ControllerAddr, grpcclient.Options{})
	if err != nil {
		return fmt.Errorf("ANDES_CONTROLLER_ADDR: %w", err)
	}
	customerAPI := customerv1.NewCustomerServiceClient(customerConn)

	issuer := tokens.Issuer(c.AuthIssuer, c.AuthEdgeAddr)
	// Tokens come straight from auth's token endpoint, so the verifier only reads
	// them (signature, iss, aud, exp) for the customer id; revocation matters to
	// the services they are sent to, which check it.
	v, err := tokens.ForProcess(p, tokens.ProcessOptions{Issuer: issuer})
	if err != nil {
		return err
	}
	sessions := app.New(redisstore.New(rdb),
		oauthclient.New(issuer, ClientID, secret, c.publicURL()+"/auth/callback"),
		subjects{v}, customer.New(customerAPI),
		domain.Policy{Idle: c.SessionIdle, Absolute: c.SessionMax, RefreshBefore: 30 * time.Second}, time.Now)
	api := ports.NewAPI(sessions, customerAPI, controllerv1.NewControllerServiceClient(controllerConn))
	edge, err := ports.NewEdge(sessions, api, ports.Options{Secure: c.SecureCookies, Logger: p.Logger})
	if err != nil {
		return err
	}
	p.ServeHTTP("edge", c.EdgeAddr, edge)
	return nil
}

// subjects reads the customer id from a verified access token.
type subjects struct{ v *tokens.Verifier }

func (s subjects) Subject(ctx context.Context, raw string) (string, error) {
	p, err := s.v.Verify(ctx, raw)
	if err != nil {
		return "", err
	}
	return p.Subject, nil
}
