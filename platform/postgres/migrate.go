package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"regexp"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Migrations is one set of goose SQL migrations. A schema may hold several sets,
// e.g. a service's own tables plus the idempotency and outbox tables of the
// platform, each versioned on its own so their numbers never collide.
type Migrations struct {
	// Name names the set; its versions live in the table goose_<name>_version.
	Name string
	// FS holds the .sql files, usually an embed.FS.
	FS fs.FS
	// Dir is the folder of FS holding them ("." for the root).
	Dir string
}

var setNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`)

// VersionTable is the name of the set's goose version table.
func (m Migrations) VersionTable() string { return "goose_" + m.Name + "_version" }

// Migrate applies every pending migration of each set, in order, into schema. The
// pool must have been opened with that schema (Open sets search_path), because the
// SQL files name their tables unqualified.
//
// A PostgreSQL advisory lock per schema and set makes concurrent starts of the same
// process apply each migration once.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string, sets ...Migrations) error {
	var current *string
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&current); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if current == nil || *current != schema {
		return fmt.Errorf("postgres: migrate into %s: the pool's search_path does not lead there (open it with Config.Schema)", schema)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	for _, set := range sets {
		if !setNamePattern.MatchString(set.Name) {
			return fmt.Errorf("postgres: migration set name %q is not a plain lower-case identifier", set.Name)
		}
		dir := set.Dir
		if dir == "" {
			dir = "."
		}
		fsys, err := fs.Sub(set.FS, dir)
		if err != nil {
			return fmt.Errorf("postgres: migrations %s: %w", set.Name, err)
		}
		h := fnv.New64a()
		_, _ = h.Write([]byte(schema + "." + set.VersionTable()))
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(int64(h.Sum64()>>1)),
			// Probe every second, not goose's default five: a second process waits
			// for the first one's few milliseconds of DDL.
			lock.WithLockTimeout(1, 120),
		)
		if err != nil {
			return fmt.Errorf("postgres: migrations %s: %w", set.Name, err)
		}
		provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
			goose.WithTableName(schema+"."+set.VersionTable()),
			goose.WithSessionLocker(locker),
			goose.WithDisableGlobalRegistry(true),
		)
		if err != nil {
			return fmt.Errorf("postgres: migrations %s: %w", set.Name, err)
		}
		if _, err := provider.Up(ctx); err != nil {
			return fmt.Errorf("postgres: migrations %s into %s: %w", set.Name, schema, err)
		}
	}
	return nil
}
