// Package backoff computes the waits between retries and waits them out: growing
// exponentially to a ceiling, with jitter so that many clients that failed together
// do not retry together.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is an exponential backoff: the ceiling of attempt n (from 0) is
// Base·2ⁿ, never more than Max.
type Policy struct {
	Base time.Duration
	Max  time.Duration
}

// Ceiling is the longest wait before retry attempt n (n counts from 0).
func (p Policy) Ceiling(attempt int) time.Duration {
	if attempt < 0 {
		attempt = 0
	}
	if attempt > 62 {
		return p.Max
	}
	d := p.Base << attempt
	if d <= 0 || d > p.Max || d>>attempt != p.Base {
		return p.Max // overflowed, or past the ceiling
	}
	return d
}

// Full is a wait drawn from [0, Ceiling]: the most spread, for clients that
// retry against one server ("full jitter").
func (p Policy) Full(attempt int) time.Duration {
	return rand.N(p.Ceiling(attempt) + 1)
}

// Equal is a wait drawn from [Ceiling/2, Ceiling]: never much shorter than the
// ceiling, for loops that must not spin ("equal jitter").
func (p Policy) Equal(attempt int) time.Duration {
	half := p.Ceiling(attempt) / 2
	return half + rand.N(half+1)
}

// Sleep waits d, or less if ctx ends first; it reports whether the whole wait
// passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
