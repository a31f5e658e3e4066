// Package load drives an issuer with authorization traffic: at a fixed rate
// (open loop: each request has an intended start, and its latency counts
// from there, so a stalled issuer cannot hide its queue — no coordinated
// omission) or as fast as a number of workers can go (closed loop), over the
// network's connections, with a mix of message types and cards spread over
// many accounts or all on one hot account. It counts answers by response
// code, errors and timeouts, keeps a latency histogram and prints BENCH
// lines.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/link"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
)

// Sender sends requests to the issuer (a *link.Pool).
type Sender interface {
	Send(req *iso8583.Request) (*link.Call, error)
}

// Message types of the mix.
const (
	Purchase  = "purchase"  // contactless 0100
	ECommerce = "ecommerce" // 0100 with CVV2
	Cash      = "cash"      // ATM 0100 with a PIN block
	Refund    = "refund"    // 0100, DE3 20
	Reversal  = "reversal"  // 0420 of an earlier approval (a purchase when none is at hand)
	Advice    = "advice"    // 0220 completion of an earlier approval
)

// Mix weighs message types.
type Mix map[string]int

// DefaultMix is mostly purchases, as card traffic is.
var DefaultMix = Mix{Purchase: 80, ECommerce: 10, Cash: 4, Refund: 2, Reversal: 2, Advice: 2}

// ParseMix reads "purchase=80,ecommerce=10,reversal=10".
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for part := range strings.SplitSeq(s, ",") {
		name, weight, ok := strings.Cut(strings.TrimSpace(part), "=")
		w, err := strconv.Atoi(weight)
		if !ok || err != nil || w < 0 {
			return nil, fmt.Errorf("mix %q: want type=weight, comma-separated", part)
		}
		switch name {
		case Purchase, ECommerce, Cash, Refund, Reversal, Advice:
		default:
			return nil, fmt.Errorf("mix: unknown message type %q", name)
		}
		m[name] = w
	}
	return m, nil
}

// Config is one load run.
type Config struct {
	// Rate is requests per second; 0 sends as fast as Concurrency allows.
	Rate float64
	// Duration of the run.
	Duration time.Duration
	// Concurrency bounds the requests in flight (default 64): the workers
	// of a closed loop, the ceiling of an open one.
	Concurrency int
	// Timeout is how long a request waits for its answer (default 2s).
	Timeout time.Duration
	Mix     Mix
	Cards   []terminal.Card
	// Hot sends everything on the first card: one account under contention.
	Hot bool
	// Amount of each purchase in minor units (default 1000).
	Amount int64
}

// Result is what a run measured.
type Result struct {
	Sent, Answered, Timeouts, Errors uint64
	Codes                            map[string]uint64 // answers by DE39
	ByType                           map[string]uint64 // requests sent by message type
	Latency                          *Histogram
	Elapsed                          time.Duration
	FirstError                       string
}

// Throughput is answers per second.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Answered) / r.Elapsed.Seconds()
}

// WriteBench prints the run as `BENCH cardnet.<name>.<figure> <value>
// <unit>` lines, the format make bench collects.
func (r Result) WriteBench(w io.Writer, name string) {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }
	h := r.Latency
	fmt.Fprintf(w, "BENCH cardnet.%s.throughput %.1f msg/s\n", name, r.Throughput())
	for _, q := range []struct {
		label string
		q     float64
	}{{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}} {
		fmt.Fprintf(w, "BENCH cardnet.%s.%s %s ms\n", name, q.label, ms(h.Quantile(q.q)))
	}
	fmt.Fprintf(w, "BENCH cardnet.%s.max %s ms\n", name, ms(h.Max()))
	fmt.Fprintf(w, "BENCH cardnet.%s.sent %d msgs\n", name, r.Sent)
	fmt.Fprintf(w, "BENCH cardnet.%s.errors %d count\n", name, r.Errors)
	fmt.Fprintf(w, "BENCH cardnet.%s.timeouts %d count\n", name, r.Timeouts)
}

// WriteSummary prints the answers by code and the mix actually sent.
func (r Result) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "sent %d, answered %d, timeouts %d, errors %d in %v", r.Sent, r.Answered, r.Timeouts, r.Errors, r.Elapsed.Round(time.Millisecond))
	if r.FirstError != "" {
		fmt.Fprintf(w, " (first error: %s)", r.FirstError)
	}
	fmt.Fprintln(w)
	for _, c := range slices.Sorted(maps.Keys(r.Codes)) {
		fmt.Fprintf(w, "  DE39 %s: %d\n", c, r.Codes[c])
	}
	for _, t := range slices.Sorted(maps.Keys(r.ByType)) {
		fmt.Fprintf(w, "  %s: %d\n", t, r.ByType[t])
	}
}

// generator is one run's shared state.
type generator struct {
	cfg    Config
	sender Sender
	acq    *terminal.Acquirer
	kinds  []string // one entry per unit of weight

	mu     sync.Mutex
	res    Result
	recent []approved // approvals to reverse or complete
}

type approved struct {
	req  *iso8583.Request
	code string
}

// Run sends traffic through sender for cfg.Duration and returns what it
// measured. Messages are built by acq.
func Run(ctx context.Context, sender Sender, acq *terminal.Acquirer, cfg Config) (Result, error) {
	if len(cfg.Cards) == 0 {
		return Result{}, errors.New("load: no cards")
	}
	if cfg.Duration <= 0 {
		return Result{}, errors.New("load: duration must be positive")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Amount <= 0 {
		cfg.Amount = 1000
	}
	if cfg.Mix == nil {
		cfg.Mix = DefaultMix
	}
	g := &generator{cfg: cfg, sender: sender, acq: acq,
		res: Result{Codes: map[string]uint64{}, ByType: map[string]uint64{}, Latency: NewHistogram()}}
	for _, k := range slices.Sorted(maps.Keys(cfg.Mix)) {
		for range cfg.Mix[k] {
			g.kinds = append(g.kinds, k)
		}
	}
	if len(g.kinds) == 0 {
		return Result{}, errors.New("load: the mix is empty")
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	end := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	if cfg.Rate > 0 {
		// Open loop: request i is due at start + i/rate. A pacer that wakes
		// late sends every request now due at once, each timed from when it
		// was due, so its own lateness is measured rather than hidden.
		sem := make(chan struct{}, cfg.Concurrency)
		interval := time.Duration(float64(time.Second) / cfg.Rate)
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		for i := 0; ; i++ {
			due := start.Add(time.Duration(i) * interval)
			if !due.Before(end) || ctx.Err() != nil {
				break
			}
			if wait := time.Until(due); wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-ctx.Done():
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
			wg.Go(func() {
				defer func() { <-sem }()
				g.one(ctx, due)
			})
		}
	} else {
		for range cfg.Concurrency {
			wg.Go(func() {
				for ctx.Err() == nil && time.Now().Before(end) {
					g.one(ctx, time.Now())
				}
			})
		}
	}
	wg.Wait()
	g.res.Elapsed = time.Since(start)
	return g.res, nil
}

// one sends one request due at due and records its fate.
func (g *generator) one(ctx context.Context, due time.Time) {
	kind := g.kinds[rand.IntN(len(g.kinds))]
	req, err := g.build(kind)
	if err != nil {
		g.fail(kind, err)
		return
	}
	call, err := g.sender.Send(req)
	if err != nil {
		g.fail(kind, err)
		return
	}
	resp, err := call.Wait(ctx, g.cfg.Timeout)
	// The answer's arrival, as the connection's reader matched it: not when
	// this goroutine got to run again, which is the generator's own delay.
	done := call.Answered()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.res.Sent++
	g.res.ByType[kind]++
	switch {
	case errors.Is(err, link.ErrTimeout):
		g.res.Timeouts++
		return
	case err != nil:
		g.res.Errors++
		if g.res.FirstError == "" {
			g.res.FirstError = err.Error()
		}
		return
	}
	g.res.Answered++
	g.res.Codes[resp.ResponseCode]++
	g.res.Latency.Record(done.Sub(due))
	if req.MTI == "0100" && req.ProcessingCode[:2] == "00" && resp.ResponseCode == iso8583.ResponseApproved && len(g.recent) < 4096 {
		g.recent = append(g.recent, approved{req: req, code: resp.ApprovalCode})
	}
}

func (g *generator) fail(kind string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.res.Sent++
	g.res.ByType[kind]++
	g.res.Errors++
	if g.res.FirstError == "" {
		g.res.FirstError = err.Error()
	}
}

// takeApproved removes a random earlier approval, if any.
func (g *generator) takeApproved() (approved, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.recent) == 0 {
		return approved{}, false
	}
	i := rand.IntN(len(g.recent))
	a := g.recent[i]
	g.recent[i] = g.recent[len(g.recent)-1]
	g.recent = g.recent[:len(g.recent)-1]
	return a, true
}

var (
	loadShop = terminal.Merchant{MCC: "5411", TerminalID: "LOAD0001", MerchantID: "LOADGENERATOR01", NameLocation: "LOAD GENERATOR         LIMA         PE"}
	loadATM  = terminal.Merchant{MCC: "6011", TerminalID: "LOADATM1", MerchantID: "LOADGENERATOR02", NameLocation: "LOAD GENERATOR ATM     LIMA         PE"}
)

func (g *generator) build(kind string) (*iso8583.Request, error) {
	card := g.cfg.Cards[0]
	if !g.cfg.Hot {
		card = g.cfg.Cards[rand.IntN(len(g.cfg.Cards))]
	}
	amount := g.cfg.Amount
	switch kind {
	case ECommerce:
		return g.acq.Authorization(card, terminal.Sale{Amount: amount, Merchant: loadShop, Entry: terminal.ECommerce})
	case Cash:
		return g.acq.Authorization(card, terminal.Sale{Kind: terminal.Cash, Amount: amount, Merchant: loadATM, Entry: terminal.ChipPIN})
	case Refund:
		return g.acq.Refund(card, amount, loadShop)
	case Reversal, Advice:
		if a, ok := g.takeApproved(); ok {
			if kind == Reversal {
				return g.acq.Reversal(a.req, a.code, 0, terminal.ReasonCustomerCancellation)
			}
			return g.acq.Completion("0220", a.req, a.code, a.req.Amount)
		}
	}
	return g.acq.Authorization(card, terminal.Sale{Amount: amount, Merchant: loadShop, Entry: terminal.Contactless, PartialOK: true})
}
