package cardnet_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/authorizer/authorizertest"
	"github.com/andes-bank/andes/services/authorizer/domain"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/link"
	"github.com/andes-bank/andes/simulators/cardnet/load"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
	"github.com/andes-bank/andes/simulators/hsm"
)

// benchCards is the key spread of the end-to-end benchmarks and of pgbench
// beside them: purchases fall uniformly on this many card accounts.
const benchCards = 1000

// benchStack is the real authorizer with benchCards cards issued through its use
// cases (random PANs under the BIN, PINs set through the HSM), well funded and
// with limits no benchmark reaches, and a network's link pool signed on to it.
type benchStack struct {
	stack *authorizertest.Stack
	cards []terminal.Card
	pool  *link.Pool
	acq   *terminal.Acquirer
}

func newBenchStack(b *testing.B, conns int, dbConns int32) *benchStack {
	b.Helper()
	stack := authorizertest.Start(b, authorizertest.StartHSM(b), authorizertest.WithDBConns(dbConns))
	ctx := context.Background()
	limits := &domain.Limits{PerTransaction: 1_000_000, Rolling30Days: 1_000_000_000_000, DailyATMCount: 100}
	cards := make([]terminal.Card, 0, benchCards)
	for i := range benchCards {
		c := stack.IssueCard(ctx, authorizertest.CardOptions{Balance: 1_000_000_000, Limits: limits})
		cards = append(cards, terminal.Card{Name: fmt.Sprintf("bench%d", i), PAN: c.PAN, Expiry: c.Expiry, CVV2: c.CVV2, PIN: c.PIN, PVKI: 1, Currency: c.Currency})
	}
	codec := iso8583.NewCodec(stack.Text())
	pool, err := link.New(link.Options{Addr: stack.ISOAddr(), Codec: codec, Conns: conns, AcquirerID: "400001", EchoInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = pool.Run(runCtx) })
	b.Cleanup(func() { stop(); wg.Wait() })
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := pool.WaitReady(wctx, conns); err != nil {
		b.Fatal(err)
	}
	return &benchStack{stack: stack, cards: cards, pool: pool, acq: terminal.NewAcquirer("400001", hsm.DevKeys().ZPK, nil)}
}

// run sends contactless purchases, spread over the cards, for d.
func (s *benchStack) run(b *testing.B, cfg load.Config) load.Result {
	b.Helper()
	cfg.Cards, cfg.Mix, cfg.Timeout = s.cards, load.Mix{load.Purchase: 1}, 5*time.Second
	res, err := load.Run(context.Background(), s.pool, s.acq, cfg)
	if err != nil {
		b.Fatal(err)
	}
	if res.Answered == 0 || res.Errors > 0 {
		b.Fatalf("load: %+v", res)
	}
	return res
}

func reportLatency(b *testing.B, res load.Result) {
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	b.ReportMetric(ms(res.Latency.Quantile(0.50)), "p50_ms")
	b.ReportMetric(ms(res.Latency.Quantile(0.99)), "p99_ms")
	b.ReportMetric(float64(res.Timeouts), "timeouts")
}

// BenchmarkAuthorizerAt1000PerSecond: purchases at a steady 1,000 a second for
// a few seconds from the network over 4 connections, through TCP, the decision
// and PostgreSQL; latency from when each 0100 was due to when its 0110 was read.
// Beside it, pgbench runs the decision statement alone at the same rate (open
// loop too) on the same PostgreSQL with as many clients as the decision pool
// has connections: the difference is what the network, the edge and the Go
// side add; the rest is PostgreSQL's, commit flush included.
func BenchmarkAuthorizerAt1000PerSecond(b *testing.B) {
	const rate, dbConns = 1000, 16
	s := newBenchStack(b, 4, dbConns)
	// Warm the pools, the plans and the cards' rows.
	s.run(b, load.Config{Rate: rate, Duration: time.Second, Concurrency: 256})
	b.ResetTimer()
	res := s.run(b, load.Config{Rate: rate, Duration: 5 * time.Second, Concurrency: 256})
	b.StopTimer()
	reportLatency(b, res)
	b.ReportMetric(res.Throughput(), "auth/s")

	path, ok := authorizertest.PgbenchPath()
	if !ok {
		return
	}
	authorizertest.SeedBenchCards(b, s.stack.Pool, benchCards)
	pg := authorizertest.Pgbench{Path: path, DSN: s.stack.PostgresURL(), Clients: dbConns, Cards: benchCards}
	lat, err := pg.RunAtRate(context.Background(), 5*time.Second, rate)
	if err != nil {
		b.Fatal(err)
	}
	ref := load.NewHistogram()
	for _, d := range lat {
		ref.Record(d)
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	b.ReportMetric(ms(ref.Quantile(0.50)), "pgbench_p50_ms")
	b.ReportMetric(ms(ref.Quantile(0.99)), "pgbench_p99_ms")
	fmt.Printf("BENCH authorizer.e2e.p50 %.3f ms\n", ms(res.Latency.Quantile(0.50)))
	fmt.Printf("BENCH authorizer.e2e.p99 %.3f ms\n", ms(res.Latency.Quantile(0.99)))
	fmt.Printf("BENCH authorizer.e2e.pgbench_p50 %.3f ms\n", ms(ref.Quantile(0.50)))
	fmt.Printf("BENCH authorizer.e2e.pgbench_p99 %.3f ms\n", ms(ref.Quantile(0.99)))
}

// inFlightPerConn is how many authorizations the network keeps unanswered on
// each connection when it goes as fast as it can: networks multiplex
// connections (answers are matched by STAN, DE7 and DE41), so an answer's
// trip back does not leave the issuer's database connection idle.
const inFlightPerConn = 4

// BenchmarkAuthorizerMaxVsPgbench: as many purchases as the network gets
// answered over N connections with inFlightPerConn in flight on each, the
// authorizer deciding on N database connections; and pgbench running the
// authorizer's own decision statement (bench/authorize.sql) with N clients
// over as many cards on the same PostgreSQL, before and after (the machine is
// shared: their mean brackets the end-to-end run). The ratio is end to end
// over pgbench.
func BenchmarkAuthorizerMaxVsPgbench(b *testing.B) {
	path, ok := authorizertest.PgbenchPath()
	if !ok {
		b.Skip("pgbench not found")
	}
	const seconds = 6
	for _, clients := range []int{8, 32} {
		b.Run(fmt.Sprintf("conns=%d", clients), func(b *testing.B) {
			s := newBenchStack(b, clients, int32(clients))
			authorizertest.SeedBenchCards(b, s.stack.Pool, benchCards)
			pg := authorizertest.Pgbench{Path: path, DSN: s.stack.PostgresURL(), Clients: clients, Cards: benchCards}
			inFlight := clients * inFlightPerConn
			s.run(b, load.Config{Duration: time.Second, Concurrency: inFlight})
			ctx := context.Background()
			b.ResetTimer()
			before, err := pg.Run(ctx, seconds/2*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			res := s.run(b, load.Config{Duration: seconds * time.Second, Concurrency: inFlight})
			after, err := pg.Run(ctx, seconds/2*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			pgTPS := (before + after) / 2
			reportLatency(b, res)
			b.ReportMetric(res.Throughput(), "auth/s")
			b.ReportMetric(pgTPS, "pgbench_tps")
			b.ReportMetric(res.Throughput()/pgTPS, "vs_pgbench")
			fmt.Printf("BENCH authorizer.max.conns%d %.0f auth/s\n", clients, res.Throughput())
			fmt.Printf("BENCH authorizer.max.conns%d.pgbench %.0f tps\n", clients, pgTPS)
			fmt.Printf("BENCH authorizer.vs_pgbench.conns%d %.2f ratio\n", clients, res.Throughput()/pgTPS)
		})
	}
}
