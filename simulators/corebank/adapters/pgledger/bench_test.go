package pgledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/simulators/corebank/adapters/pgledger"
	"github.com/andes-bank/andes/simulators/corebank/domain"
)

// The benchmark bank: benchAccounts customer accounts numbered (benchBase + i)
// and check digits, each funded from equity, so transfers never run dry. The
// key spread (which accounts a transfer picks) is the same uniform draw of two
// distinct accounts in Go and in bench/transfer.sql.
const (
	benchAccounts = 1000
	benchBase     = 191009000000
	benchAmount   = 100
	pgbenchFor    = 5 * time.Second
	pgbenchBinary = "/usr/lib/postgresql/15/bin/pgbench"
)

var benchClients = []int{8, 32}

func benchNumber(i int) string { return domain.WithCheckDigits(strconv.Itoa(benchBase + i)) }

var benchPosted = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

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
	f := newFixture(b, pool)
	c := f.customer(b, "49999999")
	var customerID int64
	if err := pool.QueryRow(ctx, `SELECT id FROM customers WHERE number = $1`, c.Number).Scan(&customerID); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"accounts"},
		[]string{"number", "customer_id", "class", "type", "currency", "status", "may_go_negative", "opened_at"},
		pgx.CopyFromSlice(benchAccounts, func(i int) ([]any, error) {
			return []any{benchNumber(i + 1), customerID, "customer", "savings", "PEN", "active", false, f.now}, nil
		})); err != nil {
		b.Fatal(err)
	}
	for i := 1; i <= benchAccounts; i++ {
		if _, err := f.l.Post(ctx, f.post(domain.Post{Kind: domain.KindOpening, Debit: domain.GLNumber(domain.ClassEquity, "PEN"),
			Credit: benchNumber(i), AmountMinor: 1_000_000_000_000, Currency: "PEN",
			DebitClasses: []domain.Class{domain.ClassEquity}, CreditClasses: customerToCustomer})); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
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

// transferer posts benchmark transfers with one random source per goroutine.
type transferer struct {
	l   *pgledger.Ledger
	ops *atomic.Int64
	rng *rand.Rand
}

func (t *transferer) transfer(ctx context.Context) error {
	i := 1 + t.rng.IntN(benchAccounts)
	j := 1 + (i+t.rng.IntN(benchAccounts-1))%benchAccounts
	_, err := t.l.Post(ctx, domain.Post{Kind: domain.KindTransfer, Debit: benchNumber(i), Credit: benchNumber(j),
		AmountMinor: benchAmount, Currency: "PEN", Description: "bench", Reference: "bench",
		OperationRef: "go-" + strconv.FormatInt(t.ops.Add(1), 10), At: benchPosted,
		DebitClasses: customerToCustomer, CreditClasses: customerToCustomer})
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
			ops := new(atomic.Int64)
			ops.Store(time.Now().UnixNano())
			seed := new(atomic.Uint64)
			// RunParallel starts parallelism × GOMAXPROCS goroutines.
			b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				t := &transferer{l: pgledger.On(pool), ops: ops, rng: rand.New(rand.NewPCG(seed.Add(1), 7))}
				for pb.Next() {
					if err := t.transfer(context.Background()); err != nil {
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
	if _, err := os.Stat(pgbenchBinary); err != nil {
		b.Skipf("pgbench not found at %s: %v", pgbenchBinary, err)
	}
	url := benchBank(b)
	for _, clients := range benchClients {
		b.Run(fmt.Sprintf("clients%d", clients), func(b *testing.B) {
			pg, err := runPgbench(url, clients, pgbenchFor)
			if err != nil {
				b.Fatal(err)
			}
			goTPS, err := runGo(url, clients, pgbenchFor)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(pg, "pgbench_tx/s")
			b.ReportMetric(goTPS, "go_tx/s")
			b.ReportMetric(goTPS/pg, "ratio")
		})
	}
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

func runPgbench(url string, clients int, d time.Duration) (float64, error) {
	script, err := filepath.Abs("../../bench/transfer.sql")
	if err != nil {
		return 0, err
	}
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, runtime.GOMAXPROCS(0))),
		"-T", strconv.Itoa(int(d.Seconds())), "-f", script,
		"-D", "accounts=" + strconv.Itoa(benchAccounts), "-D", "base=" + strconv.Itoa(benchBase),
		"-D", "amount=" + strconv.Itoa(benchAmount), "-D", "currency=PEN", "-D", "kind=transfer",
		"-D", "description=bench", "-D", "reference=bench", "-D", "posted_at=" + benchPosted.Format(time.RFC3339),
		"-D", "debit_classes={customer}", "-D", "credit_classes={customer}", url}
	cmd := exec.Command(pgbenchBinary, args...)
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+schema)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, errors.New("pgbench: no tps in its output:\n" + string(out))
	}
	if failed := regexp.MustCompile(`number of failed transactions: ([1-9][0-9]*)`).FindSubmatch(out); failed != nil {
		return 0, fmt.Errorf("pgbench: %s transactions failed:\n%s", failed[1], out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func runGo(url string, clients int, d time.Duration) (float64, error) {
	pool, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema, MaxConns: int32(clients)})
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	ops := new(atomic.Int64)
	ops.Store(time.Now().UnixNano())
	var (
		done     atomic.Int64
		wg       sync.WaitGroup
		firstErr atomic.Value
	)
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			t := &transferer{l: pgledger.On(pool), ops: ops, rng: rand.New(rand.NewPCG(uint64(c), 11))}
			for ctx.Err() == nil {
				if err := t.transfer(ctx); err != nil {
					if ctx.Err() == nil {
						firstErr.CompareAndSwap(nil, err)
					}
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return 0, err
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}
