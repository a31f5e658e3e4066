// Command hsm runs the payment HSM simulator: the host command protocol on the
// edge listener (ANDES_EDGE_ADDR), health on the internal gRPC listener, the
// admin listener of every process. See package hsm for its configuration.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/andes-bank/andes/platform/config"
	protocol "github.com/andes-bank/andes/platform/hsm"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/simulators/hsm"
)

// configuration is what the chassis reads; package hsm reads its keys and fault
// settings itself, secrets included (ANDES_HSM_*, or their _FILE forms).
type configuration struct {
	config.Base
	EdgeAddr string `env:"ANDES_EDGE_ADDR,required,addr"`
}

func main() {
	var cfg configuration
	server.Main(&cfg, func(_ context.Context, p *server.Process) error {
		hcfg, err := hsm.LoadConfig(os.Getenv, os.ReadFile)
		if err != nil {
			return err
		}
		svc, err := hsm.New(hcfg, p.Logger)
		if err != nil {
			return err
		}
		// Bound now, with the other listeners, so a taken port stops the process
		// at start.
		ln, err := net.Listen("tcp", cfg.EdgeAddr)
		if err != nil {
			return fmt.Errorf("ANDES_EDGE_ADDR: %w", err)
		}
		// Faults are set at start (ANDES_HSM_LATENCY, ...) and turned at run time
		// on the loopback admin listener: GET/PUT /faults.
		p.HandleAdmin("/faults", svc.FaultsHandler())
		// Tests of the issuer build PIN blocks here, as the network's PIN pad.
		p.HandleAdmin("/pin-blocks", svc.PINPadHandler())

		keys := hcfg.Keys
		p.Logger.Info("hsm keys loaded",
			"zpk_kcv", keys.ZPK.CheckValue(), "pvk_kcv", keys.PVK.CheckValue(),
			"cvk_kcv", keys.CVK.CheckValue(), "kek_version", keys.KEK.CurrentVersion())
		if len(hcfg.DevKeys) > 0 {
			p.Logger.Warn("hsm using development keys; never for real cards", "keys", hcfg.DevKeys)
		}
		p.Go("hsm", func(ctx context.Context) error { return serve(ctx, svc, ln, cfg.ShutdownTimeout) })
		return nil
	})
}

// serve answers the host command protocol until ctx ends, then lets the commands
// in flight finish.
func serve(ctx context.Context, svc *hsm.Service, ln net.Listener, grace time.Duration) error {
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := svc.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, protocol.ErrServerClosed) {
		return err
	}
	return nil
}
