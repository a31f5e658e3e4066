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
	stack := authorizertest.Start(b, authorizertest.WithDBConns(dbConns))
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
// and PostgreSQL; latency from the 0100 written to the 0110 read.
func BenchmarkAuthorizerAt1000PerSecond(b *testing.B) {
	s := newBenchStack(b, 4, 16)
	// Warm the pools, the plans and the cards' rows.
	s.run(b, load.Config{Rate: 1000, Duration: time.Second, Concurrency: 256})
	b.ResetTimer()
	res := s.run(b, load.Config{Rate: 1000, Duration: 5 * time.Second, Concurrency: 256})
	b.StopTimer()
	reportLatency(b, res)
	b.ReportMetric(res.Throughput(), "auth/s")
}

// BenchmarkAuthorizerMaxVsPgbench: as many purchases as the network's clients
// get answered, one in flight per connection, and pgbench running the
// authorizer's own decision statement (bench/authorize.sql) with as many
// clients over as many cards on the same PostgreSQL, before and after (the
// machine is shared: their mean brackets the end-to-end run). The ratio is
// end to end over pgbench.
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
			s.run(b, load.Config{Duration: time.Second, Concurrency: clients})
			ctx := context.Background()
			b.ResetTimer()
			before, err := pg.Run(ctx, seconds/2*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			res := s.run(b, load.Config{Duration: seconds * time.Second, Concurrency: clients})
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
		})
	}
}
