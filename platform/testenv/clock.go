package testenv

import (
	"sync"
	"time"
)

// Clock is the clock a test hands to code that takes one: it moves only when
// the test says so (or with real time, for a running clock), so a test of
// expiries and freshness never sleeps. Safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	at      time.Time // a still clock's time
	offset  time.Duration
	running bool
}

// NewClock is a clock standing still at t until the test advances it.
func NewClock(t time.Time) *Clock { return &Clock{at: t} }

// NewRunningClock is real time plus whatever the test advanced it by: for code
// whose clock must agree with a server that keeps real time, such as Redis
// expiring keys.
func NewRunningClock() *Clock { return &Clock{running: true} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return time.Now().Add(c.offset)
	}
	return c.at.Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
