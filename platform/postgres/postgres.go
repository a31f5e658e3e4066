// Package postgres opens a process's PostgreSQL pool, runs its migrations and runs
// transactions.
//
// Every process owns one schema named after it (section 3 of the design handbook:
// "-" becomes "_"). The pool's connections have search_path set to that schema
// alone, so a process's SQL names its tables unqualified and cannot reach another
// process's tables by accident; migrations run into the same schema and keep their
// version tables there.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config is what a process knows about its database.
type Config struct {
	// URL is DATABASE_URL: a postgres:// URL or a key=value DSN. pgxpool settings
	// such as pool_max_conns may ride in it.
	URL string
	// Schema is the process's schema (see SchemaName). Open creates it when
	// missing and sets every connection's search_path to it. Empty keeps the
	// server's default search_path.
	Schema string
	// AppName shows in pg_stat_activity; the process name is a good one.
	AppName string
	// MaxConns overrides the pool size when positive.
	MaxConns int32
}

var schemaPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// SchemaName is the schema of the process called name: "bff-web" → "bff_web".
func SchemaName(process string) string { return strings.ReplaceAll(process, "-", "_") }

// Open connects a pool, checks the server answers and makes sure the schema exists.
func Open(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("postgres: DATABASE_URL is not a valid connection string")
	}
	if cfg.Schema != "" {
		if !schemaPattern.MatchString(cfg.Schema) {
			return nil, fmt.Errorf("postgres: schema %q is not a plain lower-case identifier", cfg.Schema)
		}
		pc.ConnConfig.RuntimeParams["search_path"] = cfg.Schema
	}
	if cfg.AppName != "" {
		pc.ConnConfig.RuntimeParams["application_name"] = cfg.AppName
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	// Recycle connections now and then so a server-side setting change or a
	// failover reaches every connection without a restart.
	pc.MaxConnLifetime = 30 * time.Minute
	pc.MaxConnLifetimeJitter = 5 * time.Minute

	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: ping: %w", err)
	}
	if cfg.Schema != "" {
		if err := createSchema(ctx, pool, cfg.Schema); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return pool, nil
}

func createSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	_, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	var pgErr *pgconn.PgError
	// Two processes (or tests) creating it at once: IF NOT EXISTS is not atomic, and
	// the loser sees a unique violation on the catalog; the schema exists either way.
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P06") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("postgres: create schema %s: %w", schema, err)
	}
	return nil
}

// TxStarter is what InTx needs: *pgxpool.Pool, *pgx.Conn and pgx.Tx (a savepoint)
// all satisfy it.
type TxStarter interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// InTx runs fn in a transaction: committed when fn returns nil, rolled back when it
// returns an error or panics. Repositories use it so use cases never see a pgx.Tx.
func InTx(ctx context.Context, db TxStarter, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db, fn)
}

// TxOptionsStarter is what InTxOptions needs.
type TxOptionsStarter interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// InTxOptions is InTx with an isolation level or access mode, e.g.
// pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly} for a
// consistent report.
func InTxOptions(ctx context.Context, db TxOptionsStarter, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, db, opts, fn)
}
