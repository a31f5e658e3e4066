package app

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// FeedLedger numbers committed postings for the change feed.
type FeedLedger interface {
	Sequence(ctx context.Context, limit int) (numbered int, head int64, err error)
}

// Sequencer numbers postings for the change feed soon after they commit: at once
// when a write of this process kicks it, and every interval for writes it did not
// see (another process, a database script). Feed readers wait on Changed.
type Sequencer struct {
	ledger   FeedLedger
	interval time.Duration
	batch    int
	log      *slog.Logger
	kick     chan struct{}

	mu      sync.Mutex
	changed chan struct{}
	head    int64
}

// NewSequencer builds a sequencer; interval defaults to 200 ms.
func NewSequencer(l FeedLedger, interval time.Duration, log *slog.Logger) *Sequencer {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	return &Sequencer{ledger: l, interval: interval, batch: 1000, log: log,
		kick: make(chan struct{}, 1), changed: make(chan struct{})}
}

// Kick asks for a round now; it never blocks.
func (s *Sequencer) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Changed returns a channel closed when the feed's head next moves.
func (s *Sequencer) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Head is the last feed number this sequencer gave.
func (s *Sequencer) Head() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head
}

// kickGap is the least time between two rounds: under a stream of writes every
// one kicks, and a round each would add a transaction, a commit and a feed_head
// update per write; gathered, one round numbers many. The feed is at most this
// much later.
const kickGap = 5 * time.Millisecond

// Run numbers postings until ctx ends. A failed round is logged and retried at
// the next tick: the feed is late, never wrong.
func (s *Sequencer) Run(ctx context.Context) error {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	gap := time.NewTimer(0)
	defer gap.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-gap.C:
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		case <-t.C:
		}
		gap.Reset(kickGap)
		for {
			n, head, err := s.ledger.Sequence(ctx, s.batch)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("change feed: sequencing failed", "err", err)
				}
				break
			}
			if n > 0 {
				s.mu.Lock()
				s.head = head
				close(s.changed)
				s.changed = make(chan struct{})
				s.mu.Unlock()
			}
			if n < s.batch {
				break
			}
		}
	}
}

// HoldLedger finds and expires holds.
type HoldLedger interface {
	DueHolds(ctx context.Context, at time.Time, limit int) ([]int64, error)
	ExpireHold(ctx context.Context, id int64, at time.Time) (bool, error)
}

// ExpireDue expires every pending hold whose expiry has passed, giving its
// amount back to the available balance; it reports how many it expired.
func (c *Core) ExpireDue(ctx context.Context, l HoldLedger) (int, error) {
	now := c.Now()
	expired := 0
	for {
		ids, err := l.DueHolds(ctx, now, 200)
		if err != nil {
			return expired, err
		}
		for _, id := range ids {
			ok, err := l.ExpireHold(ctx, id, now)
			if err != nil {
				return expired, err
			}
			if ok {
				expired++
			}
		}
		if len(ids) < 200 {
			return expired, nil
		}
	}
}

// RunExpiry expires due holds every interval until ctx ends.
func (c *Core) RunExpiry(ctx context.Context, l HoldLedger, interval time.Duration, log *slog.Logger) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if n, err := c.ExpireDue(ctx, l); err != nil && ctx.Err() == nil {
			log.Warn("hold expiry failed", "err", err, "expired", n)
		} else if n > 0 {
			log.Info("holds expired", "count", n)
		}
	}
}
