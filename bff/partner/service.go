// Package partner is bff-partner, the gateway of partner fintechs: andes.partner.v1
// as REST/JSON through grpc-gateway, its OpenAPI document at /openapi.json, OAuth2
// client credentials with scopes, rate limits in Redis.
//
// So far it is the composition root only: every REST route is registered and
// answers 501 (the gRPC Unimplemented status, as grpc-gateway maps it), and the
// OpenAPI document is served; the features arrive with later issues (README,
// "Status").
package partner

import (
	"context"
	"fmt"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/andes-bank/andes/gen"
	partnerv1 "github.com/andes-bank/andes/gen/andes/partner/v1"
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
	OnboardingAddr string `env:"ANDES_ONBOARDING_ADDR,required,addr"`

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

	rest := runtime.NewServeMux()
	if err := partnerv1.RegisterPartnerServiceHandlerServer(ctx, rest, partnerv1.UnimplementedPartnerServiceServer{}); err != nil {
		return fmt.Errorf("partner REST routes: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(gen.PartnerOpenAPI)
	})
	mux.Handle("/", rest)
	p.ServeHTTP("edge", c.EdgeAddr, mux)
	return nil
}
