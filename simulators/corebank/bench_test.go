package corebank_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	"github.com/andes-bank/andes/simulators/corebank"
	"github.com/andes-bank/andes/simulators/corebank/bench"
	"github.com/andes-bank/andes/simulators/corebank/faults"
)

// Each side of a comparison runs benchRounds times for benchFor, the two
// alternating, so that a machine whose load changes meanwhile weighs on both.
// pgbench's run includes opening its connections (about a second for 32 on a
// busy machine), so a turn must be long enough to dwarf that.
const (
	benchFor    = 5 * time.Second
	benchRounds = 2
)

// BenchmarkAPITransfer measures transfers through the core's API — HTTPS with
// mutual TLS (HTTP/2, one connection, like the facade), an idempotency key per
// transfer, the posting statement and the stored answer — against pgbench
// running the posting statement alone (bench/transfer.sql) with the same
// clients and key spread on the same database, in the same run. It reports both
// rates and their ratio (the target is at least 0.7).
func BenchmarkAPITransfer(b *testing.B) {
	_, pgErr := os.Stat(bench.PgbenchBinary)
	// The change-feed sequencer is part of the core's work for its own writes,
	// but not of pgbench's reference: it runs during the API's turns only, and
	// numbers what pgbench posted before each turn, untimed.
	h := startWith(b, faults.Settings{}, func(ctx context.Context, svc *corebank.Service, ln net.Listener) error {
		return svc.Edge(ctx, ln)
	})
	ctx := context.Background()
	if err := bench.Seed(ctx, h.pool); err != nil {
		b.Fatal(err)
	}
	transfer := func(ctx context.Context, rng *rand.Rand) error {
		debit, credit := bench.Pick(rng)
		req := api.TransferRequest{DebitAccount: debit, CreditAccount: credit, AmountMinor: bench.Amount, Currency: "PEN",
			Description: "bench", Reference: "bench"}
		a, err := h.call(h.facade, "POST", "/transfers", h.key(), req)
		if err != nil {
			return err
		}
		if a.status != http.StatusCreated {
			return fmt.Errorf("transfer: %d %s", a.status, a.body)
		}
		return nil
	}
	apiTurn := func(clients int) (float64, error) {
		if err := drainFeed(ctx, h); err != nil {
			return 0, err
		}
		sctx, stop := context.WithCancel(ctx)
		sequenced := make(chan error, 1)
		go func() { sequenced <- h.svc.Sequencer(sctx) }()
		defer func() { stop(); <-sequenced }()
		return bench.Drive(ctx, clients, benchFor, transfer)
	}
	for _, clients := range []int{8, 32} {
		b.Run(fmt.Sprintf("clients%d", clients), func(b *testing.B) {
			var pg, tps float64
			for range benchRounds {
				if pgErr == nil {
					r, err := bench.Pgbench(ctx, h.dbURL, corebank.Schema, clients, benchFor)
					if err != nil {
						b.Fatal(err)
					}
					pg += r / benchRounds
				}
				r, err := apiTurn(clients)
				if err != nil {
					b.Fatal(err)
				}
				tps += r / benchRounds
			}
			b.ReportMetric(tps, "tx/s")
			if pgErr == nil {
				b.ReportMetric(pg, "pgbench_tx/s")
				b.ReportMetric(tps/pg, "ratio")
			}
		})
	}
	h.audit(b)
}

// drainFeed numbers every transaction posted so far for the change feed.
func drainFeed(ctx context.Context, h *harness) error {
	for {
		n, _, err := h.svc.Ledger().Sequence(ctx, 1000)
		if err != nil || n == 0 {
			return err
		}
	}
}
