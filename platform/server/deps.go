package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/natsjs"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/redisconn"
)

// The shared dependencies, opened the same way by every process: in the process's
// own schema, key prefix or client name, gating /readyz, closed at shutdown after
// the listeners have drained. Errors name the variable the URL came from.

// OpenPostgres opens the process's pool with search_path set to its own schema
// (DATABASE_URL). Migrations are the caller's: postgres.Migrate on the pool.
func (p *Process) OpenPostgres(ctx context.Context, url config.Secret) (*pgxpool.Pool, error) {
	pool, err := postgres.Open(ctx, postgres.Config{URL: url.Reveal(), Schema: postgres.SchemaName(p.Config.Name), AppName: p.Config.Name})
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	p.OnStop(func(context.Context) error { pool.Close(); return nil })
	p.Readiness.Add("postgres", pool.Ping)
	return pool, nil
}

// OpenRedis opens a client whose keys start with "<process name>:" (REDIS_URL).
func (p *Process) OpenRedis(ctx context.Context, url config.Secret) (*redisconn.Client, error) {
	rdb, err := redisconn.Open(ctx, redisconn.Config{URL: url.Reveal(), Prefix: p.Config.Name + ":", ClientName: p.Config.Name})
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	p.OnStop(func(context.Context) error { return rdb.Close() })
	p.Readiness.Add("redis", func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
	return rdb, nil
}

var errNATSDown = errors.New("not connected to NATS")

// OpenNATS connects to NATS with JetStream under the process's name (NATS_URL).
func (p *Process) OpenNATS(ctx context.Context, url config.Secret) (*natsjs.Conn, error) {
	nc, err := natsjs.Connect(ctx, natsjs.Config{URL: url.Reveal(), Name: p.Config.Name})
	if err != nil {
		return nil, fmt.Errorf("NATS_URL: %w", err)
	}
	p.OnStop(func(context.Context) error { nc.Close(); return nil })
	p.Readiness.Add("nats", func(context.Context) error {
		if !nc.NC.IsConnected() {
			return errNATSDown
		}
		return nil
	})
	return nc, nil
}
