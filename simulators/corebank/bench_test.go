package corebank_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/andes-bank/andes/simulators/corebank/api"
	"github.com/andes-bank/andes/simulators/corebank/faults"
)

// BenchmarkAPITransfer measures transfers through the core's API: HTTPS with
// mutual TLS (HTTP/2, one connection, like the facade), an idempotency key per
// transfer, the posting statement and the stored answer. Compare with
// pgledger's BenchmarkTransfer (the statement alone) and pgbench.
func BenchmarkAPITransfer(b *testing.B) {
	h := start(b, faults.Settings{})
	var accounts []string
	for _, c := range h.demo.Customers {
		for _, a := range c.Accounts {
			if a.Currency == "PEN" && a.Status == "active" && a.BalanceMinor >= 100_000 {
				accounts = append(accounts, a.Number)
			}
		}
	}
	for _, clients := range []int{8, 32} {
		b.Run(fmt.Sprintf("clients%d", clients), func(b *testing.B) {
			var seed atomic.Uint64
			b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(seed.Add(1), 3))
				for pb.Next() {
					i := rng.IntN(len(accounts))
					j := (i + 1 + rng.IntN(len(accounts)-1)) % len(accounts)
					req := api.TransferRequest{DebitAccount: accounts[i], CreditAccount: accounts[j], AmountMinor: 1, Currency: "PEN"}
					a, err := h.call(h.facade, "POST", "/transfers", h.key(), req)
					if err != nil || a.status != http.StatusCreated {
						b.Errorf("transfer: %v %d %s", err, a.status, a.body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
		})
	}
}
