// Package messaging is the messaging service: notifications to customers and
// operators by SMS and mail, their templates and delivery log.
//
// So far it is the composition root only: it loads its configuration, opens its
// dependencies and serves andes.messaging.v1 with every method answering
// Unimplemented; the features arrive with later issues (README, "Status").
package messaging

import (
	"context"

	messagingv1 "github.com/andes-bank/andes/gen/andes/messaging/v1"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/server"
)

// Config is the process's configuration, read from its environment.
type Config struct {
	config.Base

	SMSEdgeAddr  string `env:"ANDES_SMS_EDGE_ADDR,required,addr"`
	MailSMTPAddr string `env:"ANDES_MAIL_SMTP_ADDR,required,addr"`

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

	p.GRPC.RegisterPlaceholder(&messagingv1.MessagingService_ServiceDesc, messagingv1.UnimplementedMessagingServiceServer{})
	return nil
}
