// Package controller is the controller: operations on money (transfers, payments,
// card funding) with their idempotency keys and outbox.
//
// So far it is the composition root only: it loads its configuration, opens its
// dependencies and serves andes.controller.v1 with every method answering
// Unimplemented; the features arrive with later issues (README, "Status").
package controller

import (
	"context"

	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/server"
)

// Config is the process's configuration, read from its environment.
type Config struct {
	config.Base

	FacadeAddr   string `env:"ANDES_FACADE_ADDR,required,addr"`
	CustomerAddr string `env:"ANDES_CUSTOMER_ADDR,required,addr"`
	AuthAddr     string `env:"ANDES_AUTH_ADDR,required,addr"`

	DatabaseURL config.Secret `env:"DATABASE_URL,required"`
	NATSURL     config.Secret `env:"NATS_URL,required"`
}

// Setup wires the process on p from c: its dependencies, then its API.
func (c *Config) Setup(ctx context.Context, p *server.Process) error {
	// Open makes the process's own schema; the migrations of the features to
	// come run into it here, with postgres.Migrate.
	if _, err := p.OpenPostgres(ctx, c.DatabaseURL); err != nil {
		return err
	}

	if _, err := p.OpenNATS(ctx, c.NATSURL); err != nil {
		return err
	}

	controllerv1.RegisterControllerServiceServer(p.GRPC, controllerv1.UnimplementedControllerServiceServer{})
	return nil
}
