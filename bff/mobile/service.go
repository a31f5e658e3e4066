// Package mobile is bff-mobile, the mobile app's gateway: andes.mobile.v1 over
// Connect, gRPC and gRPC-Web on one edge listener, HTTP/2 without TLS (h2c) in
// development, each call carrying the customer's bearer access token.
//
// The token is verified locally (auth's JWKS, the revocation feed on NATS) and
// forwarded to the customer service and the controller, which check ownership. The
// BFF owns no state.
package mobile

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	controllerclient "github.com/andes-bank/andes/bff/mobile/adapters/controller"
	customerclient "github.com/andes-bank/andes/bff/mobile/adapters/customer"
	"github.com/andes-bank/andes/bff/mobile/app"
	"github.com/andes-bank/andes/bff/mobile/ports"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/tokens"
)

// Config is the process's configuration, read from its environment.
type Config struct {
	config.Base
	EdgeAddr string `env:"ANDES_EDGE_ADDR,required,addr"`

	// AuthEdgeAddr is auth's OAuth2 edge: the issuer and where the JWKS is.
	AuthEdgeAddr string `env:"ANDES_AUTH_EDGE_ADDR,required,addr"`
	// AuthIssuer overrides the issuer, http://<auth edge> by default.
	AuthIssuer     string `env:"ANDES_AUTH_ISSUER"`
	CustomerAddr   string `env:"ANDES_CUSTOMER_ADDR,required,addr"`
	ControllerAddr string `env:"ANDES_CONTROLLER_ADDR,required,addr"`

	// NATSURL is where auth announces revoked tokens.
	NATSURL config.Secret `env:"NATS_URL,required"`

	// HomePartTimeout bounds each source of the home screen; a slower one is left
	// out and named in missing_sections.
	HomePartTimeout time.Duration `env:"ANDES_HOME_PART_TIMEOUT" default:"1s"`
}

// Setup wires the process on p from c: token verification, the clients of the
// services behind, then the edge.
func (c *Config) Setup(ctx context.Context, p *server.Process) error {
	nc, err := p.OpenNATS(ctx, c.NATSURL)
	if err != nil {
		return err
	}
	verifier, err := tokens.ForProcess(p, tokens.ProcessOptions{Issuer: tokens.Issuer(c.AuthIssuer, c.AuthEdgeAddr),
		Revocations: nc.JS, Logger: p.Logger})
	if err != nil {
		return err
	}

	customerConn, err := p.Dial("customer", c.CustomerAddr, grpcclient.Options{Retry: customerclient.RetryMethods})
	if err != nil {
		return fmt.Errorf("ANDES_CUSTOMER_ADDR: %w", err)
	}
	controllerConn, err := p.Dial("controller", c.ControllerAddr, grpcclient.Options{Retry: controllerclient.RetryMethods})
	if err != nil {
		return fmt.Errorf("ANDES_CONTROLLER_ADDR: %w", err)
	}
	a := app.New(customerclient.New(customerConn), controllerclient.New(controllerConn),
		app.Options{PartTimeout: c.HomePartTimeout, Logger: p.Logger})
	api, err := ports.NewConnect(a, p.Logger)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle(api.Handler(verifier))
	// gRPC clients speak HTTP/2 only; without TLS that is h2c. Connect clients
	// may use HTTP/1.1 as well.
	p.ServeHTTP("edge", c.EdgeAddr, h2c.NewHandler(mux, &http2.Server{}))
	return nil
}
