// Package adminhttp is the admin HTTP listener every process opens on loopback:
// /healthz (liveness), /readyz (readiness), /metrics (Prometheus) and
// /debug/pprof/. It is for the supervisor, the monitor and operators on the same
// machine, never for customers.
package adminhttp

import (
	"context"
	"fmt"
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/andes-bank/andes/platform/logging"
)

// checkTimeout bounds each readiness check: a probe that hangs is an answer.
const checkTimeout = 2 * time.Second

// Readiness says whether the process should receive work: it has started, is not
// draining, and every registered check (a database ping) passes.
type Readiness struct {
	mu     sync.Mutex
	checks map[string]func(context.Context) error
	ready  atomic.Bool
}

// NewReadiness starts not ready; the bootstrap flips it once listeners serve.
func NewReadiness() *Readiness {
	return &Readiness{checks: map[string]func(context.Context) error{}}
}

// Add registers a named check.
func (r *Readiness) Add(name string, check func(context.Context) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks[name] = check
}

// SetReady marks the process started (true) or draining (false).
func (r *Readiness) SetReady(ready bool) { r.ready.Store(ready) }

// Check runs every check concurrently and reports the failures, by name.
func (r *Readiness) Check(ctx context.Context) error {
	if !r.ready.Load() {
		return fmt.Errorf("not serving (starting or draining)")
	}
	r.mu.Lock()
	names := make([]string, 0, len(r.checks))
	for n := range r.checks {
		names = append(names, n)
	}
	checks := make([]func(context.Context) error, len(names))
	slices.Sort(names)
	for i, n := range names {
		checks[i] = r.checks[n]
	}
	r.mu.Unlock()

	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			errs[i] = checks[i](cctx)
		})
	}
	wg.Wait()
	var failed []string
	for i, err := range errs {
		if err != nil {
			failed = append(failed, names[i]+": "+err.Error())
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s", strings.Join(failed, "; "))
	}
	return nil
}

// Route is an extra admin endpoint of one process (a simulator's fault knobs).
type Route struct {
	Pattern string // http.ServeMux pattern, e.g. "/faults"
	Handler http.Handler
}

// Handler serves the admin endpoints. Metrics come from gatherer (the process's
// own registry, not the global one).
func Handler(gatherer prometheus.Gatherer, ready *Readiness, extra ...Route) http.Handler {
	mux := http.NewServeMux()
	for _, r := range extra {
		mux.Handle(r.Pattern, r.Handler)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		// Liveness says only that the process answers; a dead database is
		// readiness's business, and restarting for it would not help.
		text(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready.Check(r.Context()); err != nil {
			// Check errors can quote a connection string; the admin
			// listener is private, but logs of probes are not.
			text(w, http.StatusServiceUnavailable, "not ready: "+logging.RedactText(err.Error()))
			return
		}
		text(w, http.StatusOK, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func text(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body + "\n"))
}

// NewServer wraps the handler in an http.Server with timeouts that still allow
// a 30-second CPU profile.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}

// Registry makes a process's metric registry: Go runtime and process collectors
// plus whatever the process adds, every series labelled service=<name> so the
// monitor can tell processes apart in one store.
func Registry(service string) (*prometheus.Registry, prometheus.Registerer) {
	reg := prometheus.NewRegistry()
	labelled := prometheus.WrapRegistererWith(prometheus.Labels{"service": service}, reg)
	labelled.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg, labelled
}
