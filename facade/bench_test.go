package facade_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/andes-bank/andes/facade/domain"
	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
)

// percentiles reports the p50 and p99 of durations in milliseconds.
func percentiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		return float64(d[min(len(d)-1, int(q*float64(len(d))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50_ms")
	b.ReportMetric(at(0.99), "p99_ms")
}

// BenchmarkSnapshot measures GetCustomerSnapshot through the facade's gRPC
// listener (mutual TLS, policy, validation): answered from Redis (hit), and read
// from the core over HTTPS and cached (miss, forced by moving the injected clock
// past freshness before each read).
func BenchmarkSnapshot(b *testing.B) {
	s := newStack(b, stackOptions{})
	var customers []string
	for _, c := range s.demo.Customers {
		customers = append(customers, c.CoreNumber)
		s.mustSnapshot(c.CoreNumber)
	}
	b.Run("hit", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			start := time.Now()
			r, err := s.snapshot(customers[i%len(customers)], false)
			lat = append(lat, time.Since(start))
			if err != nil || r.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_CACHE {
				b.Fatalf("hit: %v %v", r.GetSource(), err)
			}
		}
		b.StopTimer()
		percentiles(b, lat)
	})
	b.Run("miss", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			s.clock.Advance(25 * time.Hour)
			start := time.Now()
			r, err := s.snapshot(customers[i%len(customers)], false)
			lat = append(lat, time.Since(start))
			if err != nil || r.GetSource() != facadev1.SnapshotSource_SNAPSHOT_SOURCE_CORE {
				b.Fatalf("miss: %v %v", r.GetSource(), err)
			}
		}
		b.StopTimer()
		percentiles(b, lat)
	})
}

// BenchmarkSessions replays a day of app sessions: each session is a customer
// opening the app and reading their snapshot three times (home, an account, back
// home); one session in ten also makes a transfer, which marks both sides stale;
// ten minutes pass between sessions. It reports the share of snapshot reads that
// reached the core, over all reads and over repeat reads (a customer's reads after
// their first of the day).
func BenchmarkSessions(b *testing.B) {
	s := newStack(b, stackOptions{})
	type acct struct{ customer, number string }
	var pen []acct
	var customers []string
	for _, c := range s.demo.Customers {
		customers = append(customers, c.CoreNumber)
		for _, a := range c.Accounts {
			if a.Currency == "PEN" && a.Status == "active" && a.BalanceMinor >= 100_000 {
				pen = append(pen, acct{c.CoreNumber, a.Number})
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	reads, firstReads := 0, 0
	callsBefore := s.coreCalls(positionRoute)
	day := s.clock.Now()
	b.ResetTimer()
	for range b.N {
		if s.clock.Now().Sub(day) >= 24*time.Hour {
			day, seen = s.clock.Now(), map[string]bool{}
		}
		from := pen[rng.IntN(len(pen))]
		for range 3 {
			if _, err := s.snapshot(from.customer, false); err != nil {
				b.Fatal(err)
			}
			reads++
			if !seen[from.customer] {
				seen[from.customer] = true
				firstReads++
			}
		}
		if rng.IntN(10) == 0 {
			to := pen[rng.IntN(len(pen))]
			if to.number != from.number {
				if _, err := s.client.Transfer(ctx(b), transfer(uuid.NewString(), from.number, to.number, 100)); err != nil {
					b.Fatal(err)
				}
			}
		}
		s.clock.Advance(10 * time.Minute)
	}
	b.StopTimer()
	core := s.coreCalls(positionRoute) - callsBefore
	b.ReportMetric(float64(core)/float64(reads), "core_share")
	if repeat := reads - firstReads; repeat > 0 {
		b.ReportMetric(float64(max(0, core-firstReads))/float64(repeat), "repeat_core_share")
	}
}

// BenchmarkTransfer measures transfers per second through the facade (gRPC with
// mutual TLS from the controller's identity, the facade's idempotency namespace,
// the core's API over HTTPS and its posting) and, for comparison in the same run,
// at the core's API through the facade's client alone, with 8 and 32 concurrent
// clients on random pairs of the demo bank's PEN accounts.
func BenchmarkTransfer(b *testing.B) {
	s := newStack(b, stackOptions{})
	var accounts []string
	for _, c := range s.demo.Customers {
		for _, a := range c.Accounts {
			if a.Currency == "PEN" && a.Status == "active" && a.BalanceMinor >= 100_000 {
				accounts = append(accounts, a.Number)
			}
		}
	}
	// Through the facade, and straight at the core's API with the facade's own
	// client (adapters/corebank), to show what the gRPC hop and the facade add.
	through := map[string]func(from, to string) error{
		"facade": func(from, to string) error {
			r, err := s.client.Transfer(ctx(b), transfer(uuid.NewString(), from, to, 1))
			if err == nil && r.GetTransaction().GetStatus() != facadev1.TransactionStatus_TRANSACTION_STATUS_COMPLETED {
				err = fmt.Errorf("status %s", r.GetTransaction().GetStatus())
			}
			return err
		},
		"core_api": func(from, to string) error {
			_, err := s.svc.Core.Transfer(ctx(b), "bench:"+uuid.NewString(), domain.TransferOrder{Source: from, Destination: to,
				Amount: domain.Money{Minor: 1, Currency: "PEN"}})
			return err
		},
	}
	for _, path := range []string{"facade", "core_api"} {
		for _, clients := range []int{8, 32} {
			b.Run(fmt.Sprintf("%s/clients%d", path, clients), func(b *testing.B) {
				var seed atomic.Uint64
				b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					rng := rand.New(rand.NewPCG(seed.Add(1), 7))
					for pb.Next() {
						i := rng.IntN(len(accounts))
						j := (i + 1 + rng.IntN(len(accounts)-1)) % len(accounts)
						if err := through[path](accounts[i], accounts[j]); err != nil {
							b.Errorf("transfer: %v", err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
			})
		}
	}
}
