// Package facade is the facade's composition root: the only door to the core
// banking system (andes.facade.v1), with the customer snapshot cache in Redis
// kept honest by the core's change feed (DESIGN.md section 9).
//
// It wires the core's HTTPS client (adapters/corebank), the Redis cache
// (adapters/snapshotcache) and the metrics (adapters/metrics) into the use cases
// (app), served by the gRPC port (ports); the change-feed follower runs as a
// task of the process.
package facade

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/andes-bank/andes/facade/adapters/corebank"
	"github.com/andes-bank/andes/facade/adapters/metrics"
	"github.com/andes-bank/andes/facade/adapters/snapshotcache"
	"github.com/andes-bank/andes/facade/app"
	"github.com/andes-bank/andes/facade/ports"
	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/redisconn"
	"github.com/andes-bank/andes/platform/server"
)

// Config is the process's configuration, read from its environment.
type Config struct {
	config.Base

	CorebankEdgeAddr string        `env:"ANDES_COREBANK_EDGE_ADDR,required,addr"`
	RedisURL         config.Secret `env:"REDIS_URL,required"`

	// SnapshotFreshness is how long a snapshot is served without asking the
	// core, unless the change feed or a write marks it stale first.
	SnapshotFreshness time.Duration `env:"ANDES_FACADE_SNAPSHOT_FRESHNESS" default:"24h"`
	// SnapshotRetention is how long a snapshot is kept to be served, marked
	// stale, while the core is down; longer than freshness.
	SnapshotRetention time.Duration `env:"ANDES_FACADE_SNAPSHOT_RETENTION" default:"168h"`
	// SnapshotJitter spreads freshness and retention by up to this share.
	SnapshotJitter float64 `env:"ANDES_FACADE_SNAPSHOT_JITTER" default:"0.1"`

	CoreReadTimeout  time.Duration `env:"ANDES_FACADE_CORE_READ_TIMEOUT" default:"2s"`
	CoreWriteTimeout time.Duration `env:"ANDES_FACADE_CORE_WRITE_TIMEOUT" default:"5s"`
	// CoreResolveTimeout bounds finding out what happened to a write whose
	// answer did not come, before answering PENDING.
	CoreResolveTimeout time.Duration `env:"ANDES_FACADE_CORE_RESOLVE_TIMEOUT" default:"5s"`
	BreakerFailures    uint32        `env:"ANDES_FACADE_BREAKER_FAILURES" default:"5"`
	BreakerOpenFor     time.Duration `env:"ANDES_FACADE_BREAKER_OPEN_FOR" default:"5s"`
	// FeedWait is how long one long poll of the change feed waits (at most 30s).
	FeedWait time.Duration `env:"ANDES_FACADE_FEED_WAIT" default:"25s"`
}

// Validate checks what tags cannot.
func (c *Config) Validate() error {
	switch {
	case c.SnapshotFreshness <= 0:
		return &config.VarError{Var: "ANDES_FACADE_SNAPSHOT_FRESHNESS", Msg: "must be positive"}
	case c.SnapshotRetention <= c.SnapshotFreshness:
		return &config.VarError{Var: "ANDES_FACADE_SNAPSHOT_RETENTION", Msg: "must be longer than ANDES_FACADE_SNAPSHOT_FRESHNESS, so the last snapshot outlives its freshness"}
	case c.SnapshotJitter < 0 || c.SnapshotJitter > 0.5:
		return &config.VarError{Var: "ANDES_FACADE_SNAPSHOT_JITTER", Msg: "must be from 0 to 0.5"}
	case c.FeedWait <= 0 || c.FeedWait > 30*time.Second:
		return &config.VarError{Var: "ANDES_FACADE_FEED_WAIT", Msg: "must be from 1ms to 30s"}
	case c.CoreReadTimeout <= 0 || c.CoreWriteTimeout <= 0 || c.CoreResolveTimeout <= 0:
		return &config.VarError{Var: "ANDES_FACADE_CORE_*_TIMEOUT", Msg: "must be positive"}
	}
	return nil
}

// Deps are what the facade is built on besides its configuration.
type Deps struct {
	Redis *redisconn.Client
	// CoreTLS is the facade's client TLS for the core, checking the core's
	// identity: Credentials.ClientConfig("corebank").
	CoreTLS    *tls.Config
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Now is the clock snapshot freshness is judged by; time.Now when nil.
	Now func() time.Time
}

// Service is the facade assembled.
type Service struct {
	Facade *app.Facade
	Feed   *app.FeedFollower
	Core   *corebank.Client
	API    *ports.Server
}

// Build assembles the facade.
func Build(c *Config, d Deps) (*Service, error) {
	if d.Redis == nil || d.CoreTLS == nil {
		return nil, errors.New("facade: Redis and the core's TLS configuration are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	m, err := metrics.New(d.Registerer)
	if err != nil {
		return nil, err
	}
	core, err := corebank.New(corebank.Options{
		Addr: c.CorebankEdgeAddr, TLS: d.CoreTLS, ReadTimeout: c.CoreReadTimeout, WriteTimeout: c.CoreWriteTimeout,
		BreakerFailures: c.BreakerFailures, BreakerOpenFor: c.BreakerOpenFor, Registerer: d.Registerer, Logger: d.Logger,
	})
	if err != nil {
		return nil, err
	}
	retention := c.SnapshotRetention
	if retention <= 0 {
		retention = 7 * 24 * time.Hour
	}
	cache, err := snapshotcache.New(d.Redis, snapshotcache.Options{Retention: retention, Jitter: c.SnapshotJitter})
	if err != nil {
		return nil, err
	}
	a := app.New(core, cache, app.Options{Freshness: c.SnapshotFreshness, Jitter: c.SnapshotJitter,
		ResolveTimeout: c.CoreResolveTimeout, Now: d.Now, Logger: d.Logger, Metrics: m})
	api, err := ports.New(a)
	if err != nil {
		return nil, err
	}
	feed := app.NewFeedFollower(core, cache, cache, app.FeedOptions{Wait: c.FeedWait, Now: d.Now, Logger: d.Logger, Metrics: m})
	return &Service{Facade: a, Feed: feed, Core: core, API: api}, nil
}

// Setup wires the process on p from c: Redis, the core's client, the API and the
// change-feed follower.
func (c *Config) Setup(ctx context.Context, p *server.Process) error {
	rdb, err := p.OpenRedis(ctx, c.RedisURL)
	if err != nil {
		return err
	}
	svc, err := Build(c, Deps{Redis: rdb, CoreTLS: p.Credentials.ClientConfig("corebank"), Registerer: p.Metrics, Logger: p.Logger})
	if err != nil {
		return err
	}
	p.OnStop(func(context.Context) error { svc.Core.Close(); return nil })
	facadev1.RegisterFacadeServiceServer(p.GRPC, svc.API)
	p.Go("change-feed", svc.Feed.Run)
	return nil
}
