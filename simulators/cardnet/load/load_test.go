package load

import (
	"bytes"
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/issuertest"
	"github.com/andes-bank/andes/simulators/cardnet/link"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
	"github.com/andes-bank/andes/simulators/hsm"
)

func TestBucketsCoverEveryValueOnce(t *testing.T) {
	prevHi := int64(-1)
	for i := range nBuckets {
		lo, hi := bucketBounds(i)
		if lo != prevHi+1 || hi < lo {
			t.Fatalf("bucket %d is [%d, %d] after one ending at %d", i, lo, hi, prevHi)
		}
		for _, v := range []int64{lo, hi, (lo + hi) / 2} {
			if got := bucketOf(v); got != i && i != nBuckets-1 {
				t.Fatalf("value %d: bucket %d, want %d", v, got, i)
			}
		}
		// Within 1/2^subBits of the bucket's values.
		if lo > 0 && float64(hi-lo) > float64(lo)/subCount {
			t.Fatalf("bucket %d [%d, %d] wider than 1/%d of its values", i, lo, hi, subCount)
		}
		prevHi = hi
	}
	if got := bucketOf(math.MaxInt64); got != nBuckets-1 {
		t.Fatalf("huge value in bucket %d", got)
	}
}

func TestQuantiles(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
		tol    float64 // relative
	}{
		{"empty", nil, 0.99, 0, 0},
		{"one value", []time.Duration{1234567}, 0.5, 1234567, 0},
		{"small values are exact", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9, 0},
		{"p50 of 1..100", seq(1, 100, time.Microsecond), 0.5, 50 * time.Microsecond, 1.0 / subCount},
		{"p99 of 1..100", seq(1, 100, time.Microsecond), 0.99, 99 * time.Microsecond, 1.0 / subCount},
		{"p100 is the max", seq(1, 100, time.Microsecond), 1, 100 * time.Microsecond, 0},
		{"p0 is the min", seq(5, 100, time.Microsecond), 0, 5 * time.Microsecond, 1.0 / subCount},
		{"p999 of 1..10000 ms", seq(1, 10000, time.Millisecond), 0.999, 9990 * time.Millisecond, 1.0 / subCount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHistogram()
			for _, v := range tt.values {
				h.Record(v)
			}
			got := h.Quantile(tt.q)
			if math.Abs(float64(got-tt.want)) > tt.tol*float64(tt.want) {
				t.Fatalf("quantile %v: got %v, want %v within %.2f%%", tt.q, got, tt.want, 100*tt.tol)
			}
			if got < tt.want && tt.tol > 0 {
				t.Fatalf("quantile %v: %v is below the true value %v (buckets report their highest value)", tt.q, got, tt.want)
			}
		})
	}
}

func seq(from, to int, unit time.Duration) []time.Duration {
	var out []time.Duration
	for i := from; i <= to; i++ {
		out = append(out, time.Duration(i)*unit)
	}
	return out
}

func TestMergeMeanMinMax(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for _, v := range seq(1, 50, time.Millisecond) {
		a.Record(v)
	}
	for _, v := range seq(51, 100, time.Millisecond) {
		b.Record(v)
	}
	a.Merge(b)
	a.Merge(NewHistogram())
	if a.Count() != 100 || a.Min() != time.Millisecond || a.Max() != 100*time.Millisecond {
		t.Fatalf("count %d min %v max %v", a.Count(), a.Min(), a.Max())
	}
	if a.Mean() != 50500*time.Microsecond {
		t.Fatalf("mean %v", a.Mean())
	}
	if p := a.Quantile(0.5); p < 50*time.Millisecond || p > 50*time.Millisecond*(subCount+1)/subCount {
		t.Fatalf("merged p50 %v", p)
	}
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix("purchase=7, reversal=3")
	if err != nil || m[Purchase] != 7 || m[Reversal] != 3 || len(m) != 2 {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"purchase", "purchase=-1", "teleport=3", "purchase=x"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// A short open-loop run against the fake issuer sends exactly rate ×
// duration requests and accounts for every one.
func TestRunAgainstTheFakeIssuer(t *testing.T) {
	codec := iso8583.NewCodec(iso8583.ASCII)
	bank := issuertest.NewBank(nil)
	var cards []terminal.Card
	for _, pan := range []string{"4000001234567899", "4000009876543217"} {
		c, err := bank.NewCard("load", pan, "3012", "1234", "604", issuertest.CardSettings{Balance: 10_000_000, DailyATMCount: 1000})
		if err != nil {
			t.Fatal(err)
		}
		cards = append(cards, c)
	}
	srv, err := issuertest.Start(codec, bank)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	pool, err := link.New(link.Options{Addr: srv.Addr(), Codec: codec, Conns: 2, AcquirerID: "400001", EchoInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = pool.Run(runCtx) })
	defer func() { stop(); wg.Wait() }()
	if err := pool.WaitReady(ctx, 2); err != nil {
		t.Fatal(err)
	}
	acq := terminal.NewAcquirer("400001", hsm.DevKeys().ZPK, nil)

	res, err := Run(ctx, pool, acq, Config{Rate: 1000, Duration: 200 * time.Millisecond, Cards: cards, Mix: DefaultMix, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 200 || res.Answered+res.Timeouts+res.Errors != res.Sent || res.Errors != 0 || res.Timeouts != 0 {
		t.Fatalf("open loop: %+v", res)
	}
	if res.Latency.Count() != res.Answered || res.Codes["00"] == 0 {
		t.Fatalf("latencies %d for %d answers, codes %v", res.Latency.Count(), res.Answered, res.Codes)
	}
	var out bytes.Buffer
	res.WriteBench(&out, "test")
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if f := strings.Fields(line); len(f) != 4 || f[0] != "BENCH" || !strings.HasPrefix(f[1], "cardnet.test.") {
			t.Fatalf("not a BENCH line: %q", line)
		}
	}

	res, err = Run(ctx, pool, acq, Config{Duration: 100 * time.Millisecond, Concurrency: 8, Cards: cards, Hot: true, Mix: Mix{Purchase: 1}, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent == 0 || res.Errors != 0 || res.Answered != res.Sent || res.ByType[Purchase] != res.Sent {
		t.Fatalf("closed loop: %+v", res)
	}
}
