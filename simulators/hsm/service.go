package hsm

import (
	"context"
	"log/slog"
	"net"
	"net/http"

	protocol "github.com/andes-bank/andes/platform/hsm"
)

// Service is the simulator assembled: engine, fault knobs and protocol
// server. main serves it on the edge listener; tests serve it on a free port.
type Service struct {
	engine *Engine
	faults *Faults
	server *protocol.Server
}

// New builds the service from its configuration.
func New(cfg Config, logger *slog.Logger) (*Service, error) {
	faults, err := NewFaults(cfg.Faults)
	if err != nil {
		return nil, err
	}
	engine := NewEngine(cfg.Keys)
	return &Service{
		engine: engine,
		faults: faults,
		server: protocol.NewServer(engine, protocol.ServerOptions{
			Admit:  faults.Admit,
			Logger: logger,
		}),
	}, nil
}

// Serve answers the host command protocol on ln until Shutdown; it then
// returns protocol.ErrServerClosed.
func (s *Service) Serve(ln net.Listener) error { return s.server.Serve(ln) }

// Shutdown stops accepting, answers what is in flight, and closes the
// connections; when ctx ends first it cuts them.
func (s *Service) Shutdown(ctx context.Context) error { return s.server.Shutdown(ctx) }

// Faults are the knobs in force, to change them from tests.
func (s *Service) Faults() *Faults { return s.faults }

// FaultsHandler serves the knobs; main mounts it on the admin listener.
func (s *Service) FaultsHandler() http.Handler { return s.faults.Handler() }

// Engine is the in-process backend, for callers that need no network.
func (s *Service) Engine() *Engine { return s.engine }
