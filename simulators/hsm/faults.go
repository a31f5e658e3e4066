package hsm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	protocol "github.com/andes-bank/andes/platform/hsm"
	"github.com/andes-bank/andes/simulators/faults"
)

// FaultSettings make the simulator misbehave on purpose, so that callers'
// unhappy paths run for real.
type FaultSettings struct {
	// Latency is added to every command before it runs.
	Latency time.Duration
	// ErrorShare of commands (0 to 1) are answered 99, internal failure.
	ErrorShare float64
	// DisabledCommands are answered 68, command disabled.
	DisabledCommands []string
}

// Common reports the shared knobs; an HSM is never down, only slow or failing.
func (s FaultSettings) Common() faults.Common {
	return faults.Common{Latency: s.Latency, ErrorShare: s.ErrorShare}
}

// Validate checks the knobs.
func (s FaultSettings) Validate() error {
	if err := s.Common().Validate(); err != nil {
		return err
	}
	for _, c := range s.DisabledCommands {
		if len(c) != 2 || strings.ToUpper(c) != c {
			return fmt.Errorf("%q is not a 2-letter command code", c)
		}
	}
	return nil
}

// Clone keeps callers from sharing the disabled commands with the knobs in force.
func (s FaultSettings) Clone() FaultSettings {
	s.DisabledCommands = slices.Clone(s.DisabledCommands)
	return s
}

// Faults holds the fault settings in force; they change at run time.
type Faults struct {
	*faults.Knobs[FaultSettings]
}

// NewFaults starts with settings s.
func NewFaults(s FaultSettings) (*Faults, error) {
	k, err := faults.New(s)
	if err != nil {
		return nil, err
	}
	return &Faults{k}, nil
}

// Admit runs before every command (protocol.ServerOptions.Admit): it refuses
// disabled commands, waits out the latency, and fails the configured share.
func (f *Faults) Admit(ctx context.Context, command string) error {
	if slices.Contains(f.Settings().DisabledCommands, command) {
		return protocol.ErrDisabled
	}
	switch err := f.Knobs.Admit(ctx, true); {
	case errors.Is(err, faults.ErrInjected):
		return fmt.Errorf("%w: injected fault", protocol.ErrInternalFailure)
	case err != nil:
		return fmt.Errorf("%w: shutting down", protocol.ErrInternalFailure)
	}
	return nil
}

// faultsJSON is the admin endpoint's shape. Pointers tell "absent, keep the
// value" from "zero".
type faultsJSON struct {
	Latency          *string   `json:"latency,omitempty"` // a Go duration, e.g. "20ms"
	ErrorShare       *float64  `json:"error_share,omitempty"`
	DisabledCommands *[]string `json:"disabled_commands,omitempty"`
}

// Handler serves the fault knobs for the admin listener:
//
//	GET        → {"latency":"20ms","error_share":0.1,"disabled_commands":["CY"]}
//	PUT, POST  → the same shape; fields left out keep their value; answers
//	             with the settings now in force
func (f *Faults) Handler() http.Handler {
	show := func(s FaultSettings) faultsJSON {
		latency := s.Latency.String()
		disabled := s.DisabledCommands
		if disabled == nil {
			disabled = []string{}
		}
		return faultsJSON{Latency: &latency, ErrorShare: &s.ErrorShare, DisabledCommands: &disabled}
	}
	apply := func(in faultsJSON, s *FaultSettings) error {
		if in.Latency != nil {
			d, err := time.ParseDuration(*in.Latency)
			if err != nil {
				return errors.New("latency must be a duration such as 20ms")
			}
			s.Latency = d
		}
		if in.ErrorShare != nil {
			s.ErrorShare = *in.ErrorShare
		}
		if in.DisabledCommands != nil {
			s.DisabledCommands = *in.DisabledCommands
		}
		return nil
	}
	return faults.Handler(f.Knobs, show, apply)
}
