// Command esign runs the simulator of the e-signature provider: signing requests and signed PDFs.
//
// So far it serves health on its internal listener and answers 501 on its edge
// (HTTPS, ANDES_EDGE_ADDR); the simulator itself arrives with a later issue.
package main

import (
	"context"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/simulators/edge"
)

type configuration struct {
	config.Base
	EdgeAddr string `env:"ANDES_EDGE_ADDR,required,addr"`
}

func main() {
	var cfg configuration
	server.Main(&cfg, func(_ context.Context, p *server.Process) error {
		edge.ServeHTTPS(p, "edge", cfg.EdgeAddr, edge.NotBuilt(cfg.Name, "the e-signature API"))
		return nil
	})
}
