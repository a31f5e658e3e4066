package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andes-bank/andes/bff/partner/adapters/ratelimit"
	"github.com/andes-bank/andes/platform/testenv"
)

// clock is a test clock the limiter reads; tests move it instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newLimiter(t *testing.T, l ratelimit.Limits) (*ratelimit.Limiter, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	lim, err := ratelimit.New(testenv.Redis(t), l, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return lim, c
}

func take(t *testing.T, l *ratelimit.Limiter, key string) ratelimit.Decision {
	t.Helper()
	d, err := l.Take(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestBurstThenRefusedWithRetryAfter(t *testing.T) {
	lim, _ := newLimiter(t, ratelimit.Limits{Burst: 5, PerSecond: 2})
	for i := range 5 {
		d := take(t, lim, "kallpa")
		if !d.Allowed || d.Remaining != 4-i || d.Limit != 5 {
			t.Fatalf("request %d: %+v, want allowed with %d left", i+1, d, 4-i)
		}
	}
	d := take(t, lim, "kallpa")
	if d.Allowed || d.Remaining != 0 {
		t.Fatalf("request beyond the burst: %+v, want refused", d)
	}
	// One token comes back every half second at 2 per second.
	if d.RetryAfter != 500*time.Millisecond {
		t.Errorf("retry after %s, want 500ms", d.RetryAfter)
	}
}

func TestRefillFollowsTheClock(t *testing.T) {
	lim, c := newLimiter(t, ratelimit.Limits{Burst: 3, PerSecond: 10})
	for range 3 {
		take(t, lim, "yaku")
	}
	if take(t, lim, "yaku").Allowed {
		t.Fatal("allowed with an empty bucket")
	}
	c.add(250 * time.Millisecond) // 2.5 tokens
	for i := range 2 {
		if d := take(t, lim, "yaku"); !d.Allowed {
			t.Fatalf("refill request %d refused: %+v", i+1, d)
		}
	}
	d := take(t, lim, "yaku")
	if d.Allowed {
		t.Fatal("a half token was spent as a whole one")
	}
	if d.RetryAfter != 50*time.Millisecond {
		t.Errorf("retry after %s, want 50ms (half a token at 10/s)", d.RetryAfter)
	}
	c.add(time.Hour) // never more than the burst
	for range 3 {
		if !take(t, lim, "yaku").Allowed {
			t.Fatal("refused after a full refill")
		}
	}
	if take(t, lim, "yaku").Allowed {
		t.Fatal("the bucket held more than its burst")
	}
}

func TestClockGoingBackwardsMintsNothing(t *testing.T) {
	lim, c := newLimiter(t, ratelimit.Limits{Burst: 1, PerSecond: 1})
	take(t, lim, "kallpa")
	c.add(-time.Minute) // another replica, behind
	if take(t, lim, "kallpa").Allowed {
		t.Fatal("a clock behind refilled the bucket")
	}
}

func TestPartnersHaveTheirOwnBuckets(t *testing.T) {
	lim, _ := newLimiter(t, ratelimit.Limits{Burst: 1, PerSecond: 1})
	if !take(t, lim, "kallpa").Allowed || take(t, lim, "kallpa").Allowed {
		t.Fatal("kallpa's bucket of one")
	}
	if !take(t, lim, "yaku").Allowed {
		t.Fatal("yaku paid for kallpa's requests")
	}
}

// Concurrent requests never spend more tokens than the bucket holds: the script is
// the only place the bucket changes.
func TestConcurrentTakesAreAtomic(t *testing.T) {
	const burst, clients, each = 20, 8, 10
	lim, _ := newLimiter(t, ratelimit.Limits{Burst: burst, PerSecond: 0.001})
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range each {
				d, err := lim.Take(context.Background(), "kallpa")
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != burst {
		t.Errorf("%d of %d requests allowed, want exactly the burst %d", got, clients*each, burst)
	}
}

func TestLimitsAreValidated(t *testing.T) {
	for _, l := range []ratelimit.Limits{{Burst: 0, PerSecond: 1}, {Burst: 1, PerSecond: 0}, {Burst: 1, PerSecond: -1}} {
		if _, err := ratelimit.New(testenv.Redis(t), l, time.Now); err == nil {
			t.Errorf("%+v accepted", l)
		}
	}
}
