package mobile_test

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	mobilev1 "github.com/andes-bank/andes/gen/andes/mobile/v1"
	"github.com/andes-bank/andes/monitor/platformtest"
)

// benchFlag makes TestMobileBench start the platform, measure Home and transfers
// through bff-mobile, and print BENCH lines for `make bench`.
var benchFlag = flag.Bool("mobile-bench", false, "measure Home latency and throughput and transfers/s through bff-mobile, print BENCH lines")

// Load shape: Home as fast as a pool of clients can go, then at the handbook's
// target rate (DESIGN.md section 14) when the machine sustains it; transfers as
// fast as a pool can go.
const (
	homeRate        = 1000 // requests per second
	homeRateFor     = 10 * time.Second
	homeWarmup      = 2 * time.Second
	saturateFor     = 5 * time.Second
	saturateClients = 32
	transferFor     = 5 * time.Second
	transferClients = 8
)

func TestMobileBench(t *testing.T) {
	if !*benchFlag {
		t.Skip("run with -mobile-bench")
	}
	p := platformtest.Up(t)
	a := newApp(t, p)
	maria := p.Demo.Customer("maria")
	token := a.login(t, maria.DocumentNumber, maria.Password)
	h := home(t, a, token)
	byNumber := accounts(t, h, maria)
	savings, checking := byNumber[maria.Accounts[0].Number], byNumber[maria.Accounts[1].Number]

	var partial atomic.Int64
	homeCall := func(ctx context.Context) error {
		resp, err := a.binary.Home(ctx, authorized(&mobilev1.HomeRequest{}, token))
		if err == nil && len(resp.Msg.GetMissingSections()) > 0 {
			partial.Add(1)
		}
		return err
	}
	runFor(t, homeWarmup, saturateClients, homeCall)

	all := runFor(t, saturateFor, saturateClients, homeCall)
	maxRate := float64(len(all)) / saturateFor.Seconds()
	fmt.Printf("BENCH mobile.home.rps %.0f req/s\n", maxRate)
	// Latency at the target rate, or below it when this machine cannot sustain
	// it (an open loop past saturation only measures its own queue): the rate
	// used is printed too.
	rate := homeRate
	if limit := int(maxRate * 0.7); limit < rate {
		rate = max(limit, 1)
		t.Logf("Home sustains %.0f/s here, below the target rate of %d/s: latency measured at %d/s", maxRate, homeRate, rate)
	}
	lat := atFixedRate(t, rate, homeRateFor, homeCall)
	fmt.Printf("BENCH mobile.home.rate %d req/s\n", rate)
	fmt.Printf("BENCH mobile.home.p50 %.2f ms\n", ms(percentile(lat, 50)))
	fmt.Printf("BENCH mobile.home.p99 %.2f ms\n", ms(percentile(lat, 99)))
	if n := partial.Load(); n > 0 {
		t.Logf("%d Home answers left sections out (a source slower than ANDES_HOME_PART_TIMEOUT)", n)
	}

	// Own transfers of one cent, back and forth, each with its own key: no
	// step-up, no daily limit, the balances stay put.
	var n atomic.Int64
	transfer := func(ctx context.Context) error {
		i := n.Add(1)
		from, to := savings.GetAccountId(), checking.GetAccountId()
		if i%2 == 0 {
			from, to = to, from
		}
		_, err := a.binary.Transfer(ctx, authorized(ownTransfer(t, newKey("bench"), from, to, 1), token))
		return err
	}
	if err := transfer(context.Background()); connect.CodeOf(err) == connect.CodeUnimplemented {
		t.Log("controller transfers not built yet: no transfer figures")
		return
	} else if err != nil {
		t.Fatal(err)
	}
	tl := runFor(t, transferFor, transferClients, transfer)
	fmt.Printf("BENCH mobile.transfer.tps %.0f tx/s\n", float64(len(tl))/transferFor.Seconds())
	fmt.Printf("BENCH mobile.transfer.p99 %.2f ms\n", ms(percentile(tl, 99)))
}

// atFixedRate sends calls on a fixed schedule (open loop, so a slow answer does
// not slow the load down) and returns the latency of each call that succeeded,
// measured from when it was due. Failures are reported, not timed.
func atFixedRate(t *testing.T, rate int, d time.Duration, call func(context.Context) error) []time.Duration {
	t.Helper()
	total := int(d.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	lat := make([]time.Duration, total)
	ok := make([]bool, total)
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	start := time.Now()
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		wg.Go(func() {
			if err := call(context.Background()); err != nil {
				once.Do(func() { firstErr = err })
				return
			}
			lat[i], ok[i] = time.Since(due), true
		})
	}
	wg.Wait()
	var out []time.Duration
	for i := range lat {
		if ok[i] {
			out = append(out, lat[i])
		}
	}
	report(t, total-len(out), total, firstErr)
	return out
}

// runFor runs clients in closed loops for d and returns the latency of each call
// that succeeded; failures are reported.
func runFor(t *testing.T, d time.Duration, clients int, call func(context.Context) error) []time.Duration {
	t.Helper()
	var mu sync.Mutex
	var all []time.Duration
	var failed int
	var firstErr error
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			var errs int
			var first error
			for time.Now().Before(deadline) {
				s := time.Now()
				if err := call(context.Background()); err != nil {
					errs++
					first = cmp.Or(first, err)
					continue
				}
				mine = append(mine, time.Since(s))
			}
			mu.Lock()
			all, failed, firstErr = append(all, mine...), failed+errs, cmp.Or(firstErr, first)
			mu.Unlock()
		})
	}
	wg.Wait()
	report(t, failed, failed+len(all), firstErr)
	return all
}

// report fails the benchmark when more than 1% of its calls failed: its figures
// would describe something else than the service answering.
func report(t *testing.T, failed, total int, first error) {
	t.Helper()
	switch {
	case failed*100 > total:
		t.Errorf("%d of %d calls failed; the first: %v", failed, total, first)
	case failed > 0:
		t.Logf("%d of %d calls failed; the first: %v", failed, total, first)
	}
}

func percentile(lat []time.Duration, p float64) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
