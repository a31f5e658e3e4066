// Command mail runs the simulator of the mail server messaging delivers to: SMTP
// on ANDES_SMTP_ADDR, and on ANDES_EDGE_ADDR a page of what it received (HTML at
// /, JSON at /messages). Messages are kept in memory, the latest thousand.
package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/simulators/mail"
)

type configuration struct {
	config.Base
	EdgeAddr string `env:"ANDES_EDGE_ADDR,required,addr"`
	SMTPAddr string `env:"ANDES_SMTP_ADDR,required,addr"`
}

func main() {
	var cfg configuration
	server.Main(&cfg, func(_ context.Context, p *server.Process) error {
		store := mail.NewStore(1000)
		p.ServeHTTP("edge", cfg.EdgeAddr, mail.Page(store))
		// Bound now, with the other listeners, so a taken port stops the process
		// at start.
		ln, err := net.Listen("tcp", cfg.SMTPAddr)
		if err != nil {
			return fmt.Errorf("ANDES_SMTP_ADDR: %w", err)
		}
		smtp := &mail.SMTP{Store: store, Hostname: "mail.andes.local", Now: time.Now}
		p.Go("smtp", func(ctx context.Context) error { return smtp.Serve(ctx, ln) })
		return nil
	})
}
