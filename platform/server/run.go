package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/andes-bank/andes/platform/adminhttp"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/logging"
	"github.com/andes-bank/andes/platform/pki"
)

// Process is what a process's setup function wires itself with: its logger,
// identity, metrics and tracing, the internal gRPC server to register services
// on, and ways to add edge listeners, background tasks and clean-up.
type Process struct {
	Config      *config.Base
	Logger      *slog.Logger
	Credentials *pki.Credentials
	// GRPC is the internal listener's server: pass it to generated
	// Register...Server functions.
	GRPC *Server
	// Metrics registers the process's own collectors; every series gets a
	// service=<name> label.
	Metrics        prometheus.Registerer
	TracerProvider trace.TracerProvider
	// Readiness gates /readyz: add a check per dependency (a database ping).
	Readiness *adminhttp.Readiness

	edges []edge
	admin []adminhttp.Route
	tasks []task
	stops []func(context.Context) error
}

type edge struct {
	name, addr string
	srv        *http.Server
	tls        *tls.Config // nil: plain HTTP
}

type task struct {
	name string
	run  func(ctx context.Context) error
}

// SetupFunc builds a process's application on p. It runs before any listener
// opens; ctx ends when the process is told to stop.
type SetupFunc func(ctx context.Context, p *Process) error

// Dial connects to a peer process by manifest name ("facade") at addr (its
// ANDES_FACADE_ADDR), with this process's identity; the connection is closed at
// shutdown. See grpcclient.Options for retry and timeouts; Credentials, Peer and
// tracing are filled in.
func (p *Process) Dial(peer, addr string, o grpcclient.Options) (*grpc.ClientConn, error) {
	o.Credentials, o.Peer = p.Credentials, peer
	if o.TracerProvider == nil {
		o.TracerProvider = p.TracerProvider
	}
	conn, err := grpcclient.New(addr, o)
	if err != nil {
		return nil, err
	}
	p.OnStop(func(context.Context) error { return conn.Close() })
	return conn, nil
}

// ServeHTTP adds an edge listener: h served on addr (its ANDES_EDGE_ADDR) from
// start to shutdown, drained like the gRPC listener. The address is bound with
// the others before anything serves, so a taken port stops the process at start.
// For TLS or h2c, wrap h or use Go.
func (p *Process) ServeHTTP(name, addr string, h http.Handler) {
	p.edges = append(p.edges, edge{name: name, addr: addr, srv: p.httpServer(h)})
}

// ServeHTTPS is ServeHTTP over TLS with cfg: p.Credentials.ServerConfig() for an
// edge that demands Andes client certificates (the core banking API), or a clone
// with ClientAuth relaxed for a public HTTPS API.
func (p *Process) ServeHTTPS(name, addr string, h http.Handler, cfg *tls.Config) {
	p.edges = append(p.edges, edge{name: name, addr: addr, srv: p.httpServer(h), tls: cfg})
}

// HandleAdmin adds an endpoint to the loopback admin listener, beside /healthz,
// /readyz, /metrics and pprof: for knobs only operators on the host may turn.
func (p *Process) HandleAdmin(pattern string, h http.Handler) {
	p.admin = append(p.admin, adminhttp.Route{Pattern: pattern, Handler: h})
}

func (p *Process) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(p.Logger.Handler(), slog.LevelWarn),
	}
}

// Go adds a task that runs from start until ctx ends (an ISO 8583 listener, an
// outbox relay). If it returns an error before that, the process stops.
func (p *Process) Go(name string, run func(ctx context.Context) error) {
	p.tasks = append(p.tasks, task{name: name, run: run})
}

// OnStop adds clean-up run after every listener and task has stopped, latest
// first (close the pool last that was opened first).
func (p *Process) OnStop(fn func(context.Context) error) {
	p.stops = append(p.stops, fn)
}

// Main is the whole main function of a process:
//
//	func main() {
//		var cfg Config // embeds config.Base
//		server.Main(&cfg, func(ctx context.Context, p *server.Process) error { ... })
//	}
//
// It loads cfg from the environment, runs until SIGINT or SIGTERM (a second one
// kills at once) and exits with status 1 after logging what went wrong; it is the
// one place the process exits.
func Main(cfg config.Process, setup SetupFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// Once shutdown has begun, give the signals back their default
		// action, so an impatient second Ctrl-C ends the process.
		<-ctx.Done()
		stop()
	}()
	err := config.Load(cfg)
	if err == nil {
		err = Run(ctx, cfg, setup)
	}
	stop()
	if err != nil {
		name := cfg.Common().Name
		if name == "" {
			name = filepath.Base(os.Args[0])
		}
		logging.New(os.Stderr, name, slog.LevelInfo).Error("process stopped", "err", err)
		os.Exit(1)
	}
}

// Run builds the process from a loaded configuration, serves the internal gRPC
// listener, the admin listener and whatever setup added until ctx ends, then
// shuts down in order: readiness off, listeners drained, tasks stopped, OnStop
// functions run, admin listener closed last so probes see the drain. It returns
// nil after a clean shutdown.
func Run(ctx context.Context, cfg config.Process, setup SetupFunc) (err error) {
	base := cfg.Common()
	log := logging.New(os.Stderr, base.Name, base.LogLevel)

	creds, err := pki.Load(base.TLS.CertFile, base.TLS.KeyFile, base.TLS.CAFile, base.TrustDomain)
	if err != nil {
		return fmt.Errorf("ANDES_TLS_CERT_FILE: %w", err)
	}
	if creds.Name() != base.Name {
		return fmt.Errorf("ANDES_TLS_CERT_FILE: the certificate is %s's, this process is %s", creds.Name(), base.Name)
	}

	gatherer, registerer := adminhttp.Registry(base.Name)
	// Spans are made (so every request has a trace id to log and propagate)
	// but not exported until an exporter is configured.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())))
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err = errors.Join(err, tp.Shutdown(sctx))
	}()

	grpcServer, err := New(Options{
		Credentials:     creds,
		PolicyFile:      base.PolicyFile,
		Logger:          log,
		Registerer:      registerer,
		TracerProvider:  tp,
		ShutdownTimeout: base.ShutdownTimeout,
	})
	if err != nil {
		return fmt.Errorf("ANDES_POLICY_FILE: %w", err)
	}
	// Serve closes the policy watcher too; this covers a setup that fails.
	defer grpcServer.policy.Close()
	p := &Process{
		Config:         base,
		Logger:         log,
		Credentials:    creds,
		GRPC:           grpcServer,
		Metrics:        registerer,
		TracerProvider: tp,
		Readiness:      adminhttp.NewReadiness(),
	}
	defer func() { err = errors.Join(err, p.stop()) }()

	if err := setup(ctx, p); err != nil {
		return err
	}
	grpcLis, err := net.Listen("tcp", base.GRPCAddr)
	if err != nil {
		return fmt.Errorf("ANDES_GRPC_ADDR: %w", err)
	}
	adminLis, err := net.Listen("tcp", base.AdminAddr)
	if err != nil {
		grpcLis.Close()
		return fmt.Errorf("ANDES_ADMIN_ADDR: %w", err)
	}
	edgeLis := make([]net.Listener, len(p.edges))
	for i, e := range p.edges {
		if edgeLis[i], err = net.Listen("tcp", e.addr); err != nil {
			for _, l := range append(edgeLis[:i], grpcLis, adminLis) {
				l.Close()
			}
			return fmt.Errorf("server: %s listener: %w", e.name, err)
		}
		if e.tls != nil {
			edgeLis[i] = tls.NewListener(edgeLis[i], e.tls)
		}
	}

	adminCtx, stopAdmin := context.WithCancel(context.WithoutCancel(ctx))
	adminDone := make(chan error, 1)
	go func() {
		adminDone <- serveHTTP(adminCtx, adminhttp.NewServer(adminhttp.Handler(gatherer, p.Readiness, p.admin...)), adminLis, time.Second)
	}()
	defer func() {
		stopAdmin()
		err = errors.Join(err, <-adminDone)
	}()

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return grpcServer.Serve(gctx, grpcLis) })
	for i, e := range p.edges {
		g.Go(func() error {
			if err := serveHTTP(gctx, e.srv, edgeLis[i], base.ShutdownTimeout); err != nil {
				return fmt.Errorf("server: %s listener: %w", e.name, err)
			}
			return nil
		})
	}
	for _, t := range p.tasks {
		g.Go(func() error {
			if err := t.run(gctx); err != nil && gctx.Err() == nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			return nil
		})
	}
	p.Readiness.SetReady(true)
	log.Info("serving", "grpc", grpcLis.Addr().String(), "admin", adminLis.Addr().String())
	go func() {
		<-gctx.Done()
		p.Readiness.SetReady(false)
		log.Info("shutting down")
	}()
	return g.Wait()
}

func (p *Process) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), p.Config.ShutdownTimeout)
	defer cancel()
	var errs []error
	for _, fn := range slices.Backward(p.stops) {
		errs = append(errs, fn(ctx))
	}
	return errors.Join(errs...)
}

// serveHTTP serves until ctx ends, then lets requests in flight finish within
// timeout.
func serveHTTP(ctx context.Context, srv *http.Server, lis net.Listener, timeout time.Duration) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
