// Package mobile is bff-mobile, the mobile app's gateway: andes.mobile.v1 over
// Connect, gRPC and gRPC-Web on one edge listener, HTTP/2 without TLS (h2c) in
// development, each call carrying the customer's bearer access token.
//
// So far it is the composition root only: every andes.mobile.v1 method answers
// unimplemented; the features arrive with later issues (README, "Status").
package mobile

import (
	"context"
	"net/http"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/andes-bank/andes/gen/andes/mobile/v1/mobilev1connect"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/server"
)

// Config is the process's configuration, read from its environment.
type Config struct {
	config.Base
	EdgeAddr string `env:"ANDES_EDGE_ADDR,required,addr"`

	AuthAddr       string `env:"ANDES_AUTH_ADDR,required,addr"`
	AuthEdgeAddr   string `env:"ANDES_AUTH_EDGE_ADDR,required,addr"`
	CustomerAddr   string `env:"ANDES_CUSTOMER_ADDR,required,addr"`
	ControllerAddr string `env:"ANDES_CONTROLLER_ADDR,required,addr"`

	RedisURL config.Secret `env:"REDIS_URL,required"`
	NATSURL  config.Secret `env:"NATS_URL,required"`
}

// Setup wires the process on p from c: its dependencies, then its edge.
func (c *Config) Setup(ctx context.Context, p *server.Process) error {
	if _, err := p.OpenRedis(ctx, c.RedisURL); err != nil {
		return err
	}

	if _, err := p.OpenNATS(ctx, c.NATSURL); err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle(mobilev1connect.NewMobileServiceHandler(mobilev1connect.UnimplementedMobileServiceHandler{}))
	// gRPC clients speak HTTP/2 only; without TLS that is h2c.
	p.ServeHTTP("edge", c.EdgeAddr, h2c.NewHandler(mux, &http2.Server{}))
	return nil
}
