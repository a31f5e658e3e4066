package corebank

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/pki"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/simulators/corebank/adapters/pgledger"
	"github.com/andes-bank/andes/simulators/corebank/app"
	"github.com/andes-bank/andes/simulators/corebank/faults"
	"github.com/andes-bank/andes/simulators/corebank/ports"
)

// Schema is the simulator's PostgreSQL schema.
const Schema = "corebank"

// Options build a Service. Pool must be open on Schema and migrated (Prepare).
type Options struct {
	Pool        *pgxpool.Pool
	Credentials *pki.Credentials
	Logger      *slog.Logger
	Faults      faults.Settings
	Callers     []string // default: facade, operator
	Now         func() time.Time
	HoldTTL     time.Duration
	Registerer  prometheus.Registerer
	// Intervals of the change-feed sequencer's sweep (it also runs right after
	// each write) and of hold expiry; defaults 200 ms and 5 s.
	SequenceInterval time.Duration
	ExpiryInterval   time.Duration
	ShutdownTimeout  time.Duration
}

// Service is the simulator assembled.
type Service struct {
	o        Options
	core     *app.Core
	store    *pgledger.Store
	knobs    *faults.Knobs
	seq      *app.Sequencer
	http     *ports.HTTP
	stopping chan struct{}
}

// Prepare migrates the schema, makes sure the chart of accounts exists and seeds
// the demo bank once (d may be nil: no seeding).
func Prepare(ctx context.Context, pool *pgxpool.Pool, d *demo.Dataset, now time.Time, history bool) (pgledger.SeedReport, error) {
	if err := pgledger.Migrate(ctx, pool, Schema); err != nil {
		return pgledger.SeedReport{}, err
	}
	if err := pgledger.EnsureChart(ctx, pool, now); err != nil {
		return pgledger.SeedReport{}, err
	}
	if d == nil {
		return pgledger.SeedReport{Skipped: true}, nil
	}
	return pgledger.Seed(ctx, pool, d, now, history)
}

// New builds the service.
func New(o Options) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if len(o.Callers) == 0 {
		o.Callers = []string{"facade", ports.OperatorName}
	}
	if o.ExpiryInterval <= 0 {
		o.ExpiryInterval = 5 * time.Second
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	knobs, err := faults.New(o.Faults)
	if err != nil {
		return nil, err
	}
	keys := idempotency.New(o.Pool, idempotency.Options{Now: o.Now})
	store := pgledger.NewStore(o.Pool, keys)
	s := &Service{
		o:        o,
		core:     app.New(store.Ledger(), app.Options{Now: o.Now, HoldTTL: o.HoldTTL}),
		store:    store,
		knobs:    knobs,
		seq:      app.NewSequencer(store.Ledger(), o.SequenceInterval, o.Logger),
		stopping: make(chan struct{}),
	}
	s.http, err = ports.NewHTTP(ports.Options{
		Core: s.core, Writes: store, Snapshots: store, Knobs: knobs, Feed: s.seq, Audit: s.audit,
		TrustDomain: o.Credentials.TrustDomain(), Callers: o.Callers, Logger: o.Logger,
		Registerer: o.Registerer, Stopping: s.stopping,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) audit(ctx context.Context) (api.Audit, error) {
	a, err := s.store.Ledger().Audit(ctx)
	if err != nil {
		return api.Audit{}, err
	}
	if a.Problems == nil {
		a.Problems = []string{}
	}
	return api.Audit{Accounts: a.Accounts, Transactions: a.Transactions, Postings: a.Postings,
		TotalsMinor: a.TotalsMinor, Problems: a.Problems}, nil
}

// Knobs are the fault knobs, for tests to turn.
func (s *Service) Knobs() *faults.Knobs { return s.knobs }

// FaultsHandler shows and changes the fault knobs (GET, PUT an api.Faults): for
// the admin listener, which stays up while the edge is down.
func (s *Service) FaultsHandler() http.Handler { return s.http.Faults() }

// Core is the use cases, for tests.
func (s *Service) Core() *app.Core { return s.core }

// Ledger is the ledger on the pool, for tests and benchmarks.
func (s *Service) Ledger() *pgledger.Ledger { return s.store.Ledger() }

// Edge serves the API on ln with mutual TLS until ctx ends.
func (s *Service) Edge(ctx context.Context, ln net.Listener) error {
	e := &ports.Edge{Handler: s.http, TLS: s.o.Credentials.ServerConfig(), Knobs: s.knobs, Logger: s.o.Logger,
		ShutdownTimeout: s.o.ShutdownTimeout}
	err := e.Serve(ctx, ln)
	s.stop()
	return err
}

func (s *Service) stop() {
	select {
	case <-s.stopping:
	default:
		close(s.stopping)
	}
}

// Sequencer numbers postings for the change feed until ctx ends.
func (s *Service) Sequencer(ctx context.Context) error { return s.seq.Run(ctx) }

// Expiry expires due holds until ctx ends.
func (s *Service) Expiry(ctx context.Context) error {
	return s.core.RunExpiry(ctx, s.store.Ledger(), s.o.ExpiryInterval, s.o.Logger)
}

// Run serves the edge on ln and runs the background work until ctx ends.
func (s *Service) Run(ctx context.Context, ln net.Listener) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.Edge(gctx, ln) })
	g.Go(func() error { return s.Sequencer(gctx) })
	g.Go(func() error { return s.Expiry(gctx) })
	return g.Wait()
}

// Setup is the process's setup for server.Main: it opens and prepares the
// database, seeds the demo bank, adds the HTTPS edge and the background work as
// tasks (the platform's edges are plain HTTP; this one is mutual TLS and must
// close and reopen its listener for the "down" knob), and the fault knobs at
// /faults on the admin listener.
func Setup(cfg *Config) server.SetupFunc {
	return func(ctx context.Context, p *server.Process) error {
		pool, err := postgres.Open(ctx, postgres.Config{URL: cfg.DatabaseURL.Reveal(), Schema: Schema,
			AppName: cfg.Name, MaxConns: cfg.DBMaxConns})
		if err != nil {
			return err
		}
		p.OnStop(func(context.Context) error { pool.Close(); return nil })
		p.Readiness.Add("postgres", pool.Ping)

		d, err := loadDemo(cfg.DemoFile, p.Logger)
		if err != nil {
			return err
		}
		start := time.Now()
		rep, err := Prepare(ctx, pool, d, time.Now(), cfg.SeedHistory)
		if err != nil {
			return err
		}
		if d != nil {
			p.Logger.Info("demo bank", "skipped", rep.Skipped, "customers", rep.Customers, "accounts", rep.Accounts,
				"transactions", rep.Transactions, "took", time.Since(start).Round(time.Millisecond))
		}

		svc, err := New(Options{Pool: pool, Credentials: p.Credentials, Logger: p.Logger, Faults: cfg.Faults(),
			Callers: cfg.Callers, HoldTTL: cfg.HoldTTL, Registerer: p.Metrics, ShutdownTimeout: cfg.ShutdownTimeout})
		if err != nil {
			return err
		}
		// Bound now, like the platform's own listeners, so a taken port stops
		// the process at start.
		ln, err := net.Listen("tcp", cfg.EdgeAddr)
		if err != nil {
			return fmt.Errorf("ANDES_EDGE_ADDR: %w", err)
		}
		p.Logger.Info("core API", "edge", "https://"+ln.Addr().String()+api.Prefix, "callers", cfg.Callers)
		p.HandleAdmin("/faults", svc.FaultsHandler())
		p.Go("edge", func(ctx context.Context) error { return svc.Edge(ctx, ln) })
		p.Go("change-feed", svc.Sequencer)
		p.Go("hold-expiry", svc.Expiry)
		return nil
	}
}

func loadDemo(path string, log *slog.Logger) (*demo.Dataset, error) {
	if path == "" {
		if _, err := os.Stat(defaultDemoFile); err != nil {
			log.Warn("no demo bank to seed: set ANDES_DEMO_FILE", "looked_for", defaultDemoFile)
			return nil, nil
		}
		path = defaultDemoFile
	}
	return demo.Load(path)
}
