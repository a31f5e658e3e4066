// Package retention keeps the platform's bookkeeping tables from growing without
// end: a Purger deletes, on a schedule, the idempotency keys that have expired
// and the outbox events the relay published long ago, and counts what it deleted
// (retention_purged_rows_total{table}).
//
// A service that owns such tables starts one from its composition root:
//
//	if err := retention.Schedule(p, pool, c.Retention, retention.IdempotencyKeys, retention.Outbox); err != nil {
//		return err
//	}
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/outbox"
	"github.com/andes-bank/andes/platform/server"
)

// Config is how long rows are kept. A process's Config holds it as a field
// (Retention retention.Config), so the variables below are read and checked at
// start like the process's own.
type Config struct {
	// IdempotencyKeys is how long a key is kept after its first request. A key is
	// never purged before it expires (24 h, the keys' TTL), so a shorter value
	// changes nothing.
	IdempotencyKeys time.Duration `env:"ANDES_RETENTION_IDEMPOTENCY_KEYS" default:"24h"`
	// PublishedEvents is how long an outbox event is kept after the relay
	// published it: what an operator has to look at a published event in the
	// service's own database. Unpublished events are never purged.
	PublishedEvents time.Duration `env:"ANDES_RETENTION_PUBLISHED_EVENTS" default:"168h"`
	// Interval is the pause between two purges.
	Interval time.Duration `env:"ANDES_RETENTION_INTERVAL" default:"10m"`
}

// Validate checks what tags cannot.
func (c *Config) Validate() error {
	var errs []error
	for _, v := range []struct {
		name string
		d    time.Duration
	}{
		{"ANDES_RETENTION_IDEMPOTENCY_KEYS", c.IdempotencyKeys},
		{"ANDES_RETENTION_PUBLISHED_EVENTS", c.PublishedEvents},
		{"ANDES_RETENTION_INTERVAL", c.Interval},
	} {
		if v.d <= 0 {
			errs = append(errs, &config.VarError{Var: v.name, Msg: "must be positive"})
		}
	}
	return errors.Join(errs...)
}

// Table is one of the platform's tables a service may own; its name is the
// metric's table label.
type Table string

// The tables a Purger knows.
const (
	IdempotencyKeys Table = "idempotency_keys" // expired keys (package idempotency)
	Outbox          Table = "outbox"           // published events (package outbox)
)

// Clock is the time a Purger reads and waits on; tests move a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// DB runs the purges: a *pgxpool.Pool opened on the service's schema.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Options tune a Purger; zero values take the defaults.
type Options struct {
	Clock Clock // default: the system clock
	// BatchSize bounds the rows one DELETE removes, so each statement holds its
	// locks briefly; a round repeats it until a table is done. Default 1000.
	BatchSize int
	Logger    *slog.Logger // where failed purges are reported; default: discarded
}

// Purger deletes what a service's tables no longer need.
type Purger struct {
	db     DB
	cfg    Config
	tables []Table
	purged *prometheus.CounterVec
	opts   Options
}

// New returns a Purger of tables in db, its counter registered with reg (nil:
// counted, not exposed). Zero fields of cfg take the variables' defaults, so a
// Config built in code rather than read from the environment works.
func New(db DB, cfg Config, reg prometheus.Registerer, o Options, tables ...Table) (*Purger, error) {
	if cfg.IdempotencyKeys == 0 {
		cfg.IdempotencyKeys = 24 * time.Hour
	}
	if cfg.PublishedEvents == 0 {
		cfg.PublishedEvents = 7 * 24 * time.Hour
	}
	if cfg.Interval == 0 {
		cfg.Interval = 10 * time.Minute
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	purged := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "retention_purged_rows_total",
		Help: "Rows deleted by the retention purger, by table.",
	}, []string{"table"})
	for _, t := range tables {
		switch t {
		case IdempotencyKeys, Outbox:
		default:
			return nil, fmt.Errorf("retention: unknown table %q", t)
		}
		purged.WithLabelValues(string(t)) // a series from the start, at 0
	}
	if reg != nil {
		if err := reg.Register(purged); err != nil {
			return nil, fmt.Errorf("retention: metrics: %w", err)
		}
	}
	return &Purger{db: db, cfg: cfg, tables: tables, purged: purged, opts: o}, nil
}

// Schedule starts a Purger of tables in db as one of the process's tasks, with
// its metrics and logger: from start, then every cfg.Interval, until the process
// stops.
func Schedule(p *server.Process, db DB, cfg Config, tables ...Table) error {
	pu, err := New(db, cfg, p.Metrics, Options{Logger: p.Logger}, tables...)
	if err != nil {
		return err
	}
	p.Go("retention", pu.Run)
	return nil
}

// Run purges at once, then every Interval, until ctx ends; it returns nil. A
// failed purge is logged and tried again next round: the rows wait.
func (pu *Purger) Run(ctx context.Context) error {
	for {
		if err := pu.PurgeOnce(ctx); err != nil && ctx.Err() == nil {
			pu.opts.Logger.Warn("retention: purge failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-pu.opts.Clock.After(pu.cfg.Interval):
		}
	}
}

// PurgeOnce empties every table of what is past its retention now, batch after
// batch. A table that fails does not stop the others; the errors are joined.
func (pu *Purger) PurgeOnce(ctx context.Context) error {
	now := pu.opts.Clock.Now().UTC()
	var errs []error
	for _, t := range pu.tables {
		if err := pu.purge(ctx, t, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (pu *Purger) purge(ctx context.Context, t Table, now time.Time) error {
	counter := pu.purged.WithLabelValues(string(t))
	for ctx.Err() == nil {
		var (
			n   int64
			err error
		)
		switch t {
		case IdempotencyKeys:
			n, err = idempotency.PurgeExpired(ctx, pu.db, now, now.Add(-pu.cfg.IdempotencyKeys), pu.opts.BatchSize)
		case Outbox:
			n, err = outbox.PurgePublished(ctx, pu.db, now.Add(-pu.cfg.PublishedEvents), pu.opts.BatchSize)
		}
		counter.Add(float64(n))
		if err != nil || n < int64(pu.opts.BatchSize) {
			return err
		}
	}
	return ctx.Err()
}
