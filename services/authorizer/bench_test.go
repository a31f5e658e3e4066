package authorizer_test

import (
	"context"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	platformpg "github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/services/authorizer"
	"github.com/andes-bank/andes/services/authorizer/adapters/postgres"
	"github.com/andes-bank/andes/services/authorizer/authorizertest"
	"github.com/andes-bank/andes/services/authorizer/domain"
)

var update = flag.Bool("update", false, "rewrite bench/authorize.sql from the statement")

// TestPgbenchScript keeps bench/authorize.sql the statement the authorizer runs.
func TestPgbenchScript(t *testing.T) {
	want := postgres.PgbenchScript()
	path := filepath.Join("bench", "authorize.sql")
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is stale: run go test -run TestPgbenchScript -update", path)
	}
}

// benchCards is how many cards the decisions spread over: enough that clients
// seldom wait for the same account row, as on a real portfolio.
const benchCards = 1000

type benchDB struct {
	url  string
	pool interface{ Close() }
	s    *postgres.Store
}

func newBenchDB(b *testing.B, conns int32) *benchDB {
	b.Helper()
	ctx := context.Background()
	dsn := testenv.PostgresURL(b)
	pool, err := platformpg.Open(ctx, platformpg.Config{URL: postgres.DecisionURL(dsn, 0), Schema: authorizer.Schema, MaxConns: conns})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if err := platformpg.Migrate(ctx, pool, authorizer.Schema, postgres.Migrations()...); err != nil {
		b.Fatal(err)
	}
	authorizertest.SeedBenchCards(b, pool, benchCards)
	return &benchDB{url: dsn, pool: pool, s: postgres.New(pool)}
}

// benchInput is a purchase of PEN 1.00 on card n.
func benchInput(n int, stan int64) *domain.Input { return authorizertest.BenchInput(n, stan, now0) }

// BenchmarkDecision is one authorization decided at the SQL layer: one statement,
// one round trip, by one client; p50 and p99 of its latency.
func BenchmarkDecision(b *testing.B) {
	db := newBenchDB(b, 4)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		in := benchInput(r.IntN(benchCards)+1, int64(i)+1)
		start := time.Now()
		out, err := db.s.Decide(ctx, in)
		lat = append(lat, time.Since(start))
		if err != nil || out.Code != "00" {
			b.Fatalf("decision %d: %+v %v", i, out, err)
		}
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50_ms")
	b.ReportMetric(at(0.99), "p99_ms")
}

// BenchmarkDecisionVsPgbench runs the authorization statement from 8 Go clients
// through the adapter, as the ISO 8583 edge does, and pgbench runs
// bench/authorize.sql with 8 clients on the same database, cards and session
// settings, before and after the Go run (the machine is shared: the mean of the two
// pgbench runs brackets the Go one). It reports both rates and their ratio.
func BenchmarkDecisionVsPgbench(b *testing.B) {
	pgbench, ok := authorizertest.PgbenchPath()
	if !ok {
		b.Skip("pgbench not found")
	}
	const (
		clients = 8
		seconds = 8
	)
	db := newBenchDB(b, clients)
	b.ResetTimer()
	before := runPgbench(b, pgbench, db.url, clients, seconds/2)
	goTPS, lat := runClients(b, db.s, clients, seconds*time.Second)
	after := runPgbench(b, pgbench, db.url, clients, seconds/2)
	b.StopTimer()
	pgTPS := (before + after) / 2
	reportPercentiles(b, lat)
	b.ReportMetric(goTPS, "decisions/s")
	b.ReportMetric(pgTPS, "pgbench_tps")
	b.ReportMetric(goTPS/pgTPS, "vs_pgbench")
}

// runClients decides from clients goroutines for d and returns the rate and
// every latency.
func runClients(b *testing.B, s *postgres.Store, clients int, d time.Duration) (float64, []time.Duration) {
	ctx := context.Background()
	var (
		mu   sync.Mutex
		lat  []time.Duration
		wg   sync.WaitGroup
		stan = make(chan int64, 1024)
	)
	deadline := time.Now().Add(d)
	go func() {
		for i := int64(1_000_000_000); time.Now().Before(deadline); i++ {
			stan <- i
		}
		close(stan)
	}()
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(c), 7))
			var mine []time.Duration
			for n := range stan {
				t0 := time.Now()
				if _, err := s.Decide(ctx, benchInput(r.IntN(benchCards)+1, n)); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return float64(len(lat)) / time.Since(start).Seconds(), lat
}

// runPgbench runs bench/authorize.sql, prepared, and returns its rate.
func runPgbench(b *testing.B, pgbench, dsn string, clients, seconds int) float64 {
	tps, err := authorizertest.Pgbench{Path: pgbench, DSN: dsn, Clients: clients, Cards: benchCards, Now: now0}.
		Run(context.Background(), time.Duration(seconds)*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	return tps
}
