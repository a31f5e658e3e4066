// Package faults holds the core simulator's fault knobs: added latency, a share
// of errors, timeouts after a write has committed (the unknown outcome), and
// down (the edge listener closed). They are set at start and changed at run time;
// changes are announced so the edge can close or reopen its listener.
package faults

import (
	"errors"
	"sync"
	"time"

	shared "github.com/andes-bank/andes/simulators/faults"
)

// Settings are the knobs.
type Settings struct {
	// Latency is added to every request before it is handled.
	Latency time.Duration
	// ErrorShare of requests (0 to 1) are answered 503 before anything happens.
	ErrorShare float64
	// TimeoutAfterPostShare of writes (0 to 1) commit, then get no answer: the
	// handler stalls for TimeoutStall (or until the client gives up) and the
	// connection is cut. The caller cannot know whether the write happened.
	TimeoutAfterPostShare float64
	TimeoutStall          time.Duration
	// Down closes the edge listener: connections are refused.
	Down bool
	// DownFor, with Down, reopens the listener after this long; 0 stays down.
	DownFor time.Duration
}

// Common reports the shared knobs. Down is not applied to requests: the edge
// closes its listener instead.
func (s Settings) Common() shared.Common {
	return shared.Common{Latency: s.Latency, ErrorShare: s.ErrorShare, Down: s.Down}
}

// Validate checks the ranges.
func (s Settings) Validate() error {
	switch {
	case s.Latency < 0 || s.Latency > 5*time.Minute:
		return errors.New("latency must be from 0 to 5m")
	case s.ErrorShare < 0 || s.ErrorShare > 1:
		return errors.New("error share must be from 0 to 1")
	case s.TimeoutAfterPostShare < 0 || s.TimeoutAfterPostShare > 1:
		return errors.New("timeout-after-post share must be from 0 to 1")
	case s.TimeoutStall < 0 || s.TimeoutStall > 10*time.Minute:
		return errors.New("timeout stall must be from 0 to 10m")
	case s.DownFor < 0:
		return errors.New("down-for must not be negative")
	}
	return nil
}

// Knobs holds the settings in force; the shared mechanics (Delay, Fail, the
// announced changes) come from the simulators' faults package.
type Knobs struct {
	*shared.Knobs[Settings]
	mu      sync.Mutex // orders Set and the way back up after DownFor
	upTimer *time.Timer
	gen     uint64 // counts Sets, so a timer that fired late knows it is stale
}

// New starts with s.
func New(s Settings) (*Knobs, error) {
	k := &Knobs{}
	var err error
	if k.Knobs, err = shared.New(Settings{}); err != nil {
		return nil, err
	}
	return k, k.Set(s)
}

// Set replaces the settings. Down with DownFor schedules the way back up.
func (k *Knobs) Set(s Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.upTimer != nil {
		k.upTimer.Stop()
		k.upTimer = nil
	}
	if err := k.Knobs.Set(s); err != nil {
		return err
	}
	k.gen++
	if s.Down && s.DownFor > 0 {
		gen := k.gen
		k.upTimer = time.AfterFunc(s.DownFor, func() { k.comeUp(gen) })
	}
	return nil
}

// comeUp ends the DownFor of the gen-th Set, unless a later Set came meanwhile.
func (k *Knobs) comeUp(gen uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gen != gen {
		return
	}
	k.upTimer = nil
	s := k.Knobs.Settings()
	s.Down, s.DownFor = false, 0
	_ = k.Knobs.Set(s) // still valid: it only clears Down
}

// Settings returns the settings in force and a channel closed at the next change.
func (k *Knobs) Settings() (Settings, <-chan struct{}) { return k.Watch() }

// Current returns the settings in force.
func (k *Knobs) Current() Settings { return k.Knobs.Settings() }

// StallAfterPost draws whether this committed write gets no answer, and for how long it stalls.
func (k *Knobs) StallAfterPost() (time.Duration, bool) {
	s := k.Current()
	return s.TimeoutStall, k.Draw(s.TimeoutAfterPostShare)
}
