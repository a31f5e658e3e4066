// Package onboarding is the onboarding service: the saga that turns an application,
// checked against the identity registry, biometrics and e-signature providers, into a
// customer.
//
// So far it is the composition root only: it loads its configuration, opens its
// dependencies and serves andes.onboarding.v1 with every method answering
// Unimplemented; the features arrive with later issues (README, "Status").
package onboarding

import (
	"context"

	onboardingv1 "github.com/andes-bank/andes/gen/andes/onboarding/v1"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/server"
)

// Config is the process's configuration, read from its environment.
type Config struct {
	config.Base

	CustomerAddr       string `env:"ANDES_CUSTOMER_ADDR,required,addr"`
	AuthAddr           string `env:"ANDES_AUTH_ADDR,required,addr"`
	FacadeAddr         string `env:"ANDES_FACADE_ADDR,required,addr"`
	MessagingAddr      string `env:"ANDES_MESSAGING_ADDR,required,addr"`
	RegistryEdgeAddr   string `env:"ANDES_REGISTRY_EDGE_ADDR,required,addr"`
	BiometricsEdgeAddr string `env:"ANDES_BIOMETRICS_EDGE_ADDR,required,addr"`
	EsignEdgeAddr      string `env:"ANDES_ESIGN_EDGE_ADDR,required,addr"`

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

	p.GRPC.RegisterPlaceholder(&onboardingv1.OnboardingService_ServiceDesc, onboardingv1.UnimplementedOnboardingServiceServer{})
	return nil
}
