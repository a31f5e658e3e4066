package sms

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/andes-bank/andes/simulators/faults"
)

// FaultSettings make the gateway misbehave on purpose.
type FaultSettings struct {
	Latency    time.Duration // added to every API request
	ErrorShare float64       // share of sends answered 500
	Down       bool          // every API request answers 503
}

// Common reports the knobs; the gateway has only the shared ones.
func (s FaultSettings) Common() faults.Common {
	return faults.Common{Latency: s.Latency, ErrorShare: s.ErrorShare, Down: s.Down}
}

// Validate checks the knobs.
func (s FaultSettings) Validate() error { return s.Common().Validate() }

// Faults holds the settings in force.
type Faults struct {
	*faults.Knobs[FaultSettings]
}

func newFaults(s FaultSettings) (*Faults, error) {
	k, err := faults.New(s)
	if err != nil {
		return nil, err
	}
	return &Faults{k}, nil
}

var (
	errDown     = errors.New("gateway down (fault injected)")
	errInjected = errors.New("gateway error (fault injected)")
)

// admit runs before every API request; send says whether it is a send, which the
// error share applies to.
func (f *Faults) admit(ctx context.Context, send bool) error {
	switch err := f.Admit(ctx, send); {
	case errors.Is(err, faults.ErrDown):
		return errDown
	case errors.Is(err, faults.ErrInjected):
		return errInjected
	default:
		return err
	}
}

type faultsJSON struct {
	Latency    *string  `json:"latency,omitempty"`
	ErrorShare *float64 `json:"error_share,omitempty"`
	Down       *bool    `json:"down,omitempty"`
}

// Handler serves the knobs on the admin listener: GET shows them; PUT or POST
// changes the fields given and answers the settings now in force.
func (f *Faults) Handler() http.Handler {
	show := func(s FaultSettings) faultsJSON {
		lat := s.Latency.String()
		return faultsJSON{Latency: &lat, ErrorShare: &s.ErrorShare, Down: &s.Down}
	}
	apply := func(in faultsJSON, s *FaultSettings) error {
		if in.Latency != nil {
			d, err := time.ParseDuration(*in.Latency)
			if err != nil {
				return errors.New("latency must be a duration such as 200ms")
			}
			s.Latency = d
		}
		if in.ErrorShare != nil {
			s.ErrorShare = *in.ErrorShare
		}
		if in.Down != nil {
			s.Down = *in.Down
		}
		return nil
	}
	return faults.Handler(f.Knobs, show, apply)
}
