// Package migrator is the migrator: a previous issuer's card portfolio, read from a
// PGP-encrypted file, migrated into customer and the authorizer.
//
// So far it is the composition root only: it loads its configuration, opens its
// dependencies and serves andes.migrator.v1 with every method answering
// Unimplemented; the features arrive with later issues (README, "Status").
package migrator

import (
	"context"

	migratorv1 "github.com/andes-bank/andes/gen/andes/migrator/v1"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/server"
)

// Config is the process's configuration, read from its environment.
type Config struct {
	config.Base

	CustomerAddr   string `env:"ANDES_CUSTOMER_ADDR,required,addr"`
	AuthorizerAddr string `env:"ANDES_AUTHORIZER_ADDR,required,addr"`
	HSMEdgeAddr    string `env:"ANDES_HSM_EDGE_ADDR,required,addr"`

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

	p.GRPC.RegisterPlaceholder(&migratorv1.MigratorService_ServiceDesc, migratorv1.UnimplementedMigratorServiceServer{})
	return nil
}
