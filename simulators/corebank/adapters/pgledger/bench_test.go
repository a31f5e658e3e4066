package pgledger_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/simulators/corebank/adapters/pgledger"
	"github.com/andes-bank/andes/simulators/corebank/bench"
)

const pgbenchFor = 5 * time.Second

var benchClients = []int{8, 32}

// benchBank makes a database holding the benchmark bank and returns its URL.
func benchBank(b *testing.B) string {
	b.Helper()
	url := testenv.PostgresURL(b)
	pool := openPool(b, url, 4)
	defer pool.Close()
	ctx := context.Background()
	if err := pgledger.Migrate(ctx, pool, schema); err != nil {
		b.Fatal(err)
	}
	if err := bench.Seed(ctx, pool); err != nil {
		b.Fatal(err)
	}
	return url
}

func openPool(tb testing.TB, url string, conns int32) *pgxpool.Pool {
	tb.Helper()
	pool, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema, MaxConns: conns})
	if err != nil {
		tb.Fatal(err)
	}
	return pool
}

// transferer posts benchmark transfers, each with a fresh operation ref.
type transferer struct {
	l   *pgledger.Ledger
	ops *atomic.Int64
}

func newTransferer(pool *pgxpool.Pool) *transferer {
	t := &transferer{l: pgledger.On(pool), ops: new(atomic.Int64)}
	t.ops.Store(time.Now().UnixNano())
	return t
}

func (t *transferer) transfer(ctx context.Context, rng *rand.Rand) error {
	debit, credit := bench.Pick(rng)
	_, err := t.l.Post(ctx, bench.Transfer(debit, credit, "go-"+strconv.FormatInt(t.ops.Add(1), 10)))
	return err
}

// BenchmarkTransfer measures the ledger's transfer statement (PostSQL) from Go at
// the repository level, with 8 and 32 concurrent clients on as many connections.
func BenchmarkTransfer(b *testing.B) {
	url := benchBank(b)
	for _, clients := range benchClients {
		b.Run(fmt.Sprintf("clients%d", clients), func(b *testing.B) {
			pool := openPool(b, url, int32(clients))
			defer pool.Close()
			t := newTransferer(pool)
			seed := new(atomic.Uint64)
			// RunParallel starts parallelism × GOMAXPROCS goroutines.
			b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(seed.Add(1), 7))
				for pb.Next() {
					if err := t.transfer(context.Background(), rng); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
		})
	}
}

// BenchmarkPgbenchTransfer runs pgbench with bench/transfer.sql — the same
// statement, clients and key spread — against the same PostgreSQL, then the Go
// repository for as long with as many clients, and reports both rates and their
// ratio (Go over pgbench; the target is at least 0.7).
func BenchmarkPgbenchTransfer(b *testing.B) {
	if _, err := os.Stat(bench.PgbenchBinary); err != nil {
		b.Skipf("pgbench not found at %s: %v", bench.PgbenchBinary, err)
	}
	url := benchBank(b)
	ctx := context.Background()
	for _, clients := range benchClients {
		b.Run(fmt.Sprintf("clients%d", clients), func(b *testing.B) {
			pg, err := bench.Pgbench(ctx, url, schema, clients, pgbenchFor)
			if err != nil {
				b.Fatal(err)
			}
			pool := openPool(b, url, int32(clients))
			defer pool.Close()
			goTPS, err := bench.Drive(ctx, clients, pgbenchFor, newTransferer(pool).transfer)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(pg, "pgbench_tx/s")
			b.ReportMetric(goTPS, "go_tx/s")
			b.ReportMetric(goTPS/pg, "ratio")
		})
	}
}
