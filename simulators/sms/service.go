package sms

import (
	"context"
	"log/slog"
	"time"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/server"
)

// Config is the simulator's configuration.
type Config struct {
	config.Base
	EdgeAddr   string        `env:"ANDES_EDGE_ADDR,required,addr"`
	Latency    time.Duration `env:"ANDES_SMS_LATENCY" default:"0s"`
	ErrorShare float64       `env:"ANDES_SMS_ERROR_SHARE" default:"0"`
	Down       bool          `env:"ANDES_SMS_DOWN" default:"false"`
}

// Validate checks the fault knobs.
func (c *Config) Validate() error {
	if err := (FaultSettings{Latency: c.Latency, ErrorShare: c.ErrorShare}).Validate(); err != nil {
		return &config.VarError{Var: "ANDES_SMS_LATENCY or ANDES_SMS_ERROR_SHARE", Msg: err.Error()}
	}
	return nil
}

// Setup runs the simulator in a process: the API and page on the edge, the fault
// knobs on the admin listener.
func (c *Config) Setup(_ context.Context, p *server.Process) error {
	svc, err := New(FaultSettings{Latency: c.Latency, ErrorShare: c.ErrorShare, Down: c.Down}, p.Logger, nil)
	if err != nil {
		return err
	}
	p.ServeHTTP("edge", c.EdgeAddr, svc.Handler())
	p.HandleAdmin("/faults", svc.Faults().Handler())
	return nil
}

// Service is the simulator assembled.
type Service struct {
	store  *Store
	faults *Faults
	log    *slog.Logger
}

// New builds the simulator; now is its clock (time.Now when nil).
func New(f FaultSettings, log *slog.Logger, now func() time.Time) (*Service, error) {
	knobs, err := newFaults(f)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: NewStore(now), faults: knobs, log: log}, nil
}

// Faults are the knobs in force, for tests.
func (s *Service) Faults() *Faults { return s.faults }

// Messages returns what was received for a phone, newest first, for tests.
func (s *Service) Messages(to string) []Message { return s.store.List(to) }
