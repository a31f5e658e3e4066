// Package faults holds the fault-injection mechanics the simulators share:
// settings guarded at run time, admitting a request (added latency, down, a
// share of injected errors) and the admin HTTP handler that shows and changes
// them. Each simulator keeps its own flat settings type, which reports the
// common knobs through Common and validates itself, so it can add knobs of its
// own (disabled commands, stalls after a write, ...) without copying this.
package faults

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Common are the knobs every simulator has.
type Common struct {
	// Latency is added to every request before it is handled.
	Latency time.Duration
	// ErrorShare of requests (0 to 1) get an injected error.
	ErrorShare float64
	// Down refuses every request.
	Down bool
}

// Validate checks the ranges.
func (c Common) Validate() error {
	if c.Latency < 0 {
		return errors.New("latency must not be negative")
	}
	if c.ErrorShare < 0 || c.ErrorShare > 1 {
		return errors.New("error share must be from 0 to 1")
	}
	return nil
}

// Settings is a simulator's own settings type.
type Settings interface {
	// Common reports the shared knobs, which admission reads.
	Common() Common
	// Validate checks every knob; Set refuses settings that fail it.
	Validate() error
}

// cloner is implemented by settings holding references (slices, maps), so
// that callers never share them with the knobs in force.
type cloner[S any] interface{ Clone() S }

// Injected faults, as Admit reports them.
var (
	ErrDown     = errors.New("down (fault injected)")
	ErrInjected = errors.New("error (fault injected)")
)

// Knobs hold the settings in force; they change at run time.
type Knobs[S Settings] struct {
	mu      sync.Mutex
	s       S
	changed chan struct{} // closed and replaced on every change
	rand    func() float64
}

// New starts with s.
func New[S Settings](s S) (*Knobs[S], error) {
	k := &Knobs[S]{changed: make(chan struct{}), rand: rand.Float64}
	return k, k.Set(s)
}

// Set replaces the settings and announces the change.
func (k *Knobs[S]) Set(s S) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s = clone(s)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.s = s
	close(k.changed)
	k.changed = make(chan struct{})
	return nil
}

// Settings returns the settings in force.
func (k *Knobs[S]) Settings() S {
	s, _ := k.Watch()
	return s
}

// Watch returns the settings in force and a channel closed at the next change.
func (k *Knobs[S]) Watch() (S, <-chan struct{}) {
	k.mu.Lock()
	s, changed := k.s, k.changed
	k.mu.Unlock()
	return clone(s), changed
}

func clone[S any](s S) S {
	if c, ok := any(s).(cloner[S]); ok {
		return c.Clone()
	}
	return s
}

// Delay waits out the added latency; it returns ctx's error if ctx ends first.
func (k *Knobs[S]) Delay(ctx context.Context) error {
	d := k.common().Latency
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Fail draws whether this request gets an injected error.
func (k *Knobs[S]) Fail() bool { return k.Draw(k.common().ErrorShare) }

// Draw reports true for a share (0 to 1) of calls, for a simulator's own
// shares of misbehaviour.
func (k *Knobs[S]) Draw(share float64) bool { return share > 0 && k.rand() < share }

// Admit runs before a request: it waits out the latency (ctx's error if ctx
// ends first), refuses with ErrDown when down, and, when the error share
// applies to this request, refuses that share with ErrInjected.
func (k *Knobs[S]) Admit(ctx context.Context, errorShareApplies bool) error {
	if err := k.Delay(ctx); err != nil {
		return err
	}
	if k.common().Down {
		return ErrDown
	}
	if errorShareApplies && k.Fail() {
		return ErrInjected
	}
	return nil
}

func (k *Knobs[S]) common() Common {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.s.Common()
}

// Handler serves the knobs on a simulator's admin listener with its own JSON
// shape W, whose fields are pointers so that "absent, keep the value" differs
// from zero:
//
//	GET, HEAD  → show(settings in force)
//	PUT, POST  → a W, unknown fields refused; apply changes the fields given
//	             (an error is the 400 message); answers the settings now in force
func Handler[S Settings, W any](k *Knobs[S], show func(S) W, apply func(in W, s *S) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPut, http.MethodPost:
			var in W
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				http.Error(w, "body must be JSON: "+err.Error(), http.StatusBadRequest)
				return
			}
			s := k.Settings()
			if err := apply(in, &s); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if err := k.Set(s); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(show(k.Settings()))
	})
}
