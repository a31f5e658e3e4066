// Package testenv gives tests real PostgreSQL, Redis and NATS JetStream, isolated
// from each other: a fresh database, a unique Redis key prefix, unique stream and
// subject names. The servers come from package devdeps — the checkout's private
// instances, started on first use and reused by every later test binary, or those
// named by DATABASE_URL, REDIS_URL and NATS_URL when set — so `go test` needs
// nothing started by hand, and test packages running in parallel never see each
// other's data.
//
// In a test:
//
//	pool := testenv.Postgres(t)             // a new database, dropped at the end
//	rdb := testenv.Redis(t)                 // rdb.Key("x") is under a unique prefix
//	nc, prefix := testenv.NATS(t)           // name streams and subjects with prefix
//
// In TestMain, for one database shared by a package's tests:
//
//	db, err := testenv.NewDatabase(ctx, "customer")
//	... code := m.Run(); db.Drop(ctx); os.Exit(code)
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/devdeps"
	"github.com/andes-bank/andes/platform/freeport"
	"github.com/andes-bank/andes/platform/natsjs"
	"github.com/andes-bank/andes/platform/redisconn"
)

// setupTimeout covers a first run on a fresh machine: installing Redis and building
// nats-server take a minute or two; a hang beyond this is a bug.
const setupTimeout = 5 * time.Minute

// Deps returns the URLs of deps (all when none is named), starting the checkout's
// private instances when needed. The checkout is found from the working directory,
// which `go test` sets to the package's folder.
func Deps(ctx context.Context, deps ...devdeps.Dep) (devdeps.URLs, error) {
	wd, err := os.Getwd()
	if err != nil {
		return devdeps.URLs{}, err
	}
	root, err := devdeps.FindRoot(wd)
	if err != nil {
		return devdeps.URLs{}, err
	}
	res, err := devdeps.Ensure(ctx, devdeps.Options{Root: root, LookupEnv: os.LookupEnv, Log: os.Stderr}, deps...)
	return res.URLs, err
}

// Database is a database made for tests.
type Database struct {
	Name  string
	URL   string
	admin string
}

// NewDatabase creates an empty database named after label with a unique suffix,
// on the server of DATABASE_URL or the checkout's private PostgreSQL. Drop it when
// done; a test binary killed before that leaves it, and a later NewDatabase drops
// test databases older than a few hours.
func NewDatabase(ctx context.Context, label string) (*Database, error) {
	urls, err := Deps(ctx, devdeps.Postgres)
	if err != nil {
		return nil, err
	}
	admin, err := pgx.Connect(ctx, urls.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("testenv: connect to PostgreSQL: %w", err)
	}
	defer admin.Close(ctx)
	sweepDatabases(ctx, admin, time.Now())

	name := databaseName(label, time.Now())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("testenv: create database %s: %w", name, err)
	}
	dsn, err := withDatabase(urls.DatabaseURL, name)
	if err != nil {
		return nil, err
	}
	return &Database{Name: name, URL: dsn, admin: urls.DatabaseURL}, nil
}

// Drop removes the database, ending any connection still open on it.
func (d *Database) Drop(ctx context.Context) error {
	admin, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		return fmt.Errorf("testenv: connect to PostgreSQL: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.Name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("testenv: drop database %s: %w", d.Name, err)
	}
	return nil
}

// MainWithDatabase runs a package's tests with one database made for the package,
// for tests that each work in a schema of their own there: it sets *url before
// the tests run and drops the database after them. From TestMain:
//
//	os.Exit(testenv.MainWithDatabase(m, "outbox", &databaseURL))
func MainWithDatabase(m *testing.M, label string, url *string) int {
	ctx := context.Background()
	db, err := NewDatabase(ctx, label)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*url = db.URL
	code := m.Run()
	if err := db.Drop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}

// PostgresURL creates a fresh database for the calling test and returns its URL; the
// database is dropped when the test ends. Each test, hence each package, has its own.
func PostgresURL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	db, err := NewDatabase(ctx, callerLabel(t))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return db.URL
}

// Postgres is PostgresURL with a pool on the database, closed before the drop.
func Postgres(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := PostgresURL(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Redis returns a client whose Key builds keys under a prefix unique to the test;
// its keys are deleted when the test ends.
func Redis(t testing.TB) *redisconn.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	urls, err := Deps(ctx, devdeps.Redis)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	rdb, err := redisconn.Open(ctx, redisconn.Config{URL: urls.RedisURL, Prefix: "test:" + Prefix(callerLabel(t)) + ":"})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := rdb.DeletePrefixed(ctx); err != nil {
			t.Errorf("testenv: delete test keys: %v", err)
		}
		_ = rdb.Close()
	})
	return rdb
}

// NATS returns a JetStream connection and a prefix unique to the test. Start the
// names of streams (and key-value buckets) and the first token of subjects with
// it; streams so named are deleted when the test ends.
func NATS(t testing.TB) (*natsjs.Conn, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	urls, err := Deps(ctx, devdeps.NATS)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	prefix := Prefix(callerLabel(t))
	nc, err := natsjs.Connect(ctx, natsjs.Config{URL: urls.NATSURL, Name: prefix})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		defer nc.NC.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		names := nc.JS.StreamNames(ctx)
		var doomed []string
		for name := range names.Name() {
			for _, p := range []string{prefix, "KV_" + prefix, "OBJ_" + prefix} {
				if strings.HasPrefix(name, p) {
					doomed = append(doomed, name)
					break
				}
			}
		}
		if err := names.Err(); err != nil {
			t.Errorf("testenv: list streams: %v", err)
		}
		for _, name := range doomed {
			if err := nc.JS.DeleteStream(ctx, name); err != nil {
				t.Errorf("testenv: delete stream %s: %v", name, err)
			}
		}
	})
	return nc, prefix
}

// Prefix returns label followed by a random suffix, in characters that are valid
// in database, stream and Redis key names and as a NATS subject token.
func Prefix(label string) string {
	return sanitize(label, 30) + "_" + randomHex(4)
}

var (
	unsafeChars  = regexp.MustCompile(`[^a-z0-9_]+`)
	testDatabase = regexp.MustCompile(`^t_.*_([0-9a-z]+)_[0-9a-f]{8}$`)
)

func sanitize(s string, max int) string {
	s = unsafeChars.ReplaceAllString(strings.ToLower(s), "_")
	s = strings.Trim(s, "_")
	if len(s) > max {
		s = s[:max]
	}
	if s == "" {
		s = "x"
	}
	return s
}

// databaseName is t_<label>_<unix seconds, base 36>_<random>, at most 63 bytes, so
// that sweepDatabases can tell the age of an abandoned one.
func databaseName(label string, now time.Time) string {
	return "t_" + sanitize(label, 40) + "_" + strconv.FormatInt(now.Unix(), 36) + "_" + randomHex(4)
}

// abandonedAfter is far beyond any test binary's life (go test's default timeout is
// ten minutes), so a live test's database is never swept.
const abandonedAfter = 6 * time.Hour

// sweepDatabases drops test databases left by killed test binaries. Best effort:
// two sweepers racing on one database is harmless.
func sweepDatabases(ctx context.Context, admin *pgx.Conn, now time.Time) {
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 't\_%'`)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		m := testDatabase.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		sec, err := strconv.ParseInt(m[1], 36, 64)
		if err != nil || now.Sub(time.Unix(sec, 0)) < abandonedAfter {
			continue
		}
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
}

// withDatabase points a connection string at another database.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("testenv: DATABASE_URL is not a valid URL")
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	// key=value form: a later key overrides an earlier one.
	return dsn + " dbname=" + name, nil
}

// callerLabel names the test's package and the test, for humans reading database
// and stream names. The package is that of the nearest caller in a _test.go file.
func callerLabel(t testing.TB) string {
	pkg := ""
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if strings.HasSuffix(f.File, "_test.go") {
			// "github.com/andes-bank/andes/platform/outbox_test.TestX.func1"
			fn := f.Function
			if i := strings.LastIndexByte(fn, '/'); i >= 0 {
				fn = fn[i+1:]
			}
			if i := strings.IndexByte(fn, '.'); i >= 0 {
				fn = fn[:i]
			}
			pkg = strings.TrimSuffix(fn, "_test")
			break
		}
		if !more {
			break
		}
	}
	test := t.Name()
	if i := strings.IndexByte(test, '/'); i >= 0 {
		test = test[:i]
	}
	return pkg + "_" + strings.TrimPrefix(test, "Test")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// FreeAddr is a loopback address for a server the test starts by configuration
// rather than by handing it a listener; see package freeport for why this is not
// "127.0.0.1:0" closed again.
func FreeAddr(t testing.TB) string {
	t.Helper()
	addr, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}
