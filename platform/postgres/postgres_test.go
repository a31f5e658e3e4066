package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
)

func TestSchemaName(t *testing.T) {
	for in, want := range map[string]string{"bff-web": "bff_web", "controller": "controller", "bff-partner": "bff_partner"} {
		if got := postgres.SchemaName(in); got != want {
			t.Errorf("SchemaName(%q) = %q, want %q", in, got, want)
		}
	}
}

var (
	serviceSet = postgres.Migrations{Name: "customer", Dir: "migrations", FS: fstest.MapFS{
		"migrations/00001_customers.sql": {Data: []byte(`-- +goose Up
CREATE TABLE customers (id text PRIMARY KEY, name text NOT NULL);
-- +goose Down
DROP TABLE customers;
`)},
		"migrations/00002_email.sql": {Data: []byte(`-- +goose Up
ALTER TABLE customers ADD COLUMN email text;
-- +goose Down
ALTER TABLE customers DROP COLUMN email;
`)},
	}}
	// A second set with the same version numbers, as the platform's tables have.
	platformSet = postgres.Migrations{Name: "audit", FS: fstest.MapFS{
		"00001_audit.sql": {Data: []byte(`-- +goose Up
CREATE TABLE audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, what text NOT NULL);
-- +goose Down
DROP TABLE audit;
`)},
	}}
)

func TestOpenAndMigrateIntoTheProcessSchema(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresURL(t)

	// Two processes start at once on one database: each gets its schema, and
	// migrations run once.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 2 {
		for _, schema := range []string{"customer", "bff_web"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pool, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: schema, AppName: "test"})
				if err != nil {
					errs <- err
					return
				}
				defer pool.Close()
				errs <- postgres.Migrate(ctx, pool, schema, serviceSet, platformSet)
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	pool, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: "customer", MaxConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema IN ('customer', 'bff_web', 'public') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := "bff_web.audit bff_web.customers bff_web.goose_audit_version bff_web.goose_customer_version " +
		"customer.audit customer.customers customer.goose_audit_version customer.goose_customer_version"
	if got := strings.Join(tables, " "); got != want {
		t.Fatalf("tables:\n got %s\nwant %s", got, want)
	}
	// Unqualified names reach the process's own schema.
	if _, err := pool.Exec(ctx, `INSERT INTO customers (id, name, email) VALUES ('c1', 'Ana', 'ana@example.com')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM customer.customers`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("customer.customers = %d (%v)", n, err)
	}
	// Running them again is a no-op.
	if err := postgres.Migrate(ctx, pool, "customer", serviceSet, platformSet); err != nil {
		t.Fatal(err)
	}
	// A pool whose search_path leads elsewhere is refused, not migrated into.
	if err := postgres.Migrate(ctx, pool, "bff_web", serviceSet); err == nil {
		t.Fatal("Migrate into another schema than the pool's: want an error")
	}
}

func TestOpenRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	_, err := postgres.Open(ctx, postgres.Config{URL: "postgres://u:s3cret@[::1", Schema: "x"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad URL: err = %v (must not quote the password)", err)
	}
	if _, err := postgres.Open(ctx, postgres.Config{URL: testenv.PostgresURL(t), Schema: `x"; DROP`}); err == nil {
		t.Fatal("bad schema: want an error")
	}
}

func TestInTxCommitsOrRollsBack(t *testing.T) {
	ctx := context.Background()
	pool, err := postgres.Open(ctx, postgres.Config{URL: testenv.PostgresURL(t), Schema: "controller"})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE ops (id text PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO ops VALUES ('rolled-back')`); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO ops VALUES ('committed')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	err = postgres.InTxOptions(ctx, pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO ops VALUES ('read-only')`)
		return err
	})
	if err == nil {
		t.Fatal("write in a read-only transaction: want an error")
	}
	rows, _ := pool.Query(ctx, `SELECT id FROM ops ORDER BY id`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || strings.Join(ids, ",") != "committed" {
		t.Fatalf("ops = %v (%v), want [committed]", ids, err)
	}
}
