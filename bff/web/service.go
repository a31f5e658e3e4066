// Package web is bff-web, the web banking gateway: it serves the web banking page
// and its Connect API (andes.web.v1) and holds the customer's session in Redis
// behind an HttpOnly cookie, as the OAuth2 confidential client (the token-handler
// pattern).
//
// So far it is the composition root only: the edge (ANDES_EDGE_ADDR) answers
// every andes.web.v1 method with Connect's unimplemented (HTTP 501) and the page
// with a 501 JSON body; the features arrive with later issues (README, "Status").
package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/andes-bank/andes/gen/andes/web/v1/webv1connect"
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
	mux.Handle(webv1connect.NewWebServiceHandler(webv1connect.UnimplementedWebServiceHandler{}))
	mux.Handle("/", notBuilt(c.Name, "the web banking page"))
	p.ServeHTTP("edge", c.EdgeAddr, mux)
	return nil
}

// notBuilt answers 501 with a JSON body naming what is missing.
func notBuilt(process, feature string) http.Handler {
	body, _ := json.Marshal(map[string]string{"error": "not_implemented", "process": process, "message": feature + " is not built yet"})
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotImplemented)
		_, _ = w.Write(append(body, '\n'))
	})
}
