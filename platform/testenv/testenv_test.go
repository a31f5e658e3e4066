package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/andes-bank/andes/platform/devdeps"
)

func currentDatabase(t *testing.T, dsn string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var name string
	if err := conn.QueryRow(ctx, `SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	ctx := context.Background()
	urls, err := Deps(ctx, devdeps.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, urls.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT exists (SELECT FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}

func TestEachTestGetsItsOwnDatabaseDroppedAfter(t *testing.T) {
	var names []string
	for range 2 {
		t.Run("sub", func(t *testing.T) {
			pool := Postgres(t)
			var name string
			if err := pool.QueryRow(context.Background(), `SELECT current_database()`).Scan(&name); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(name, "t_testenv_eachtestgetsitsowndatabasedropp") {
				t.Errorf("database %q is not named after the package and test", name)
			}
			names = append(names, name)
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("databases %v: want two distinct", names)
	}
	for _, n := range names {
		if databaseExists(t, n) {
			t.Errorf("database %s survived its test", n)
		}
	}
}

func TestAbandonedDatabasesAreSwept(t *testing.T) {
	ctx := context.Background()
	urls, err := Deps(ctx, devdeps.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, urls.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	old := databaseName("killed", time.Now().Add(-abandonedAfter-time.Minute))
	recent := databaseName("running", time.Now().Add(-time.Minute))
	for _, n := range []string{old, recent} {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{n}.Sanitize()); err != nil {
			t.Fatal(err)
		}
	}
	// Deferred after conn.Close, so it runs before it.
	defer func() {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{recent}.Sanitize()); err != nil {
			t.Error(err)
		}
	}()

	db, err := NewDatabase(ctx, "sweeper")
	if err != nil {
		t.Fatal(err)
	}
	if got := currentDatabase(t, db.URL); got != db.Name {
		t.Fatalf("URL leads to %s, want %s", got, db.Name)
	}
	if err := db.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if databaseExists(t, old) || !databaseExists(t, recent) {
		t.Fatalf("want %s swept and %s kept", old, recent)
	}
}

func TestDatabaseNames(t *testing.T) {
	long := strings.Repeat("Very-Long.Package/Name ", 10)
	n := databaseName(long, time.Now())
	if len(n) > 63 || !testDatabase.MatchString(n) || unsafeChars.MatchString(n) {
		t.Fatalf("databaseName = %q (%d bytes)", n, len(n))
	}
	for dsn, want := range map[string]string{
		"postgres://postgres@127.0.0.1:5555/postgres?sslmode=disable": "postgres://postgres@127.0.0.1:5555/t_x?sslmode=disable",
		"host=127.0.0.1 port=5555 dbname=postgres":                    "host=127.0.0.1 port=5555 dbname=postgres dbname=t_x",
	} {
		got, err := withDatabase(dsn, "t_x")
		if err != nil || got != want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", dsn, got, err, want)
		}
	}
}

func TestClock(t *testing.T) {
	at := time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC)
	c := NewClock(at)
	if !c.Now().Equal(at) {
		t.Fatalf("a still clock reads %v, want %v", c.Now(), at)
	}
	c.Advance(time.Hour)
	if want := at.Add(time.Hour); !c.Now().Equal(want) {
		t.Fatalf("after Advance: %v, want %v", c.Now(), want)
	}

	r := NewRunningClock()
	r.Advance(48 * time.Hour)
	if got := r.Now().Sub(time.Now()); got < 47*time.Hour || got > 49*time.Hour {
		t.Fatalf("a running clock advanced 48h is %v ahead of real time", got)
	}
}

// A main is built in its own module, so a test of one module can run another's
// main without requiring that module.
func TestModuleOf(t *testing.T) {
	root := Checkout(t)
	for main, want := range map[string]string{
		"simulators/hsm/cmd/hsm":         "simulators",
		"services/auth/cmd/auth":         "services",
		"facade/cmd/facade":              "facade",
		"monitor/cmd/supervisor":         "monitor",
		"platform/testenv/no-such-thing": "platform",
	} {
		if got, err := moduleOf(root, main); err != nil || got != want {
			t.Errorf("moduleOf(%s) = %q, %v; want %q", main, got, err, want)
		}
	}
	if got, err := moduleOf(root, "deploy/demo"); err == nil {
		t.Errorf("moduleOf(deploy/demo) = %q, want an error", got)
	}
}
