package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/andes-bank/andes/platform/backoff"
)

// FeedOptions tune the change-feed follower.
type FeedOptions struct {
	// Wait is how long one long poll waits for new postings (25s).
	Wait time.Duration
	// Batch is the most postings asked for at once (500).
	Batch int
	// Now is the clock the feed's lag is measured with.
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics Metrics
}

// FeedFollower reads the core's change feed and marks stale the snapshots of the
// customers whose accounts moved: salaries, interest, card activity, end-of-day
// batches — everything the facade did not post itself.
type FeedFollower struct {
	feed   FeedSource
	cache  SnapshotCache
	cursor FeedCursor
	o      FeedOptions
}

// NewFeedFollower builds the follower.
func NewFeedFollower(feed FeedSource, cache SnapshotCache, cursor FeedCursor, o FeedOptions) *FeedFollower {
	if o.Wait <= 0 {
		o.Wait = 25 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NopMetrics{}
	}
	return &FeedFollower{feed: feed, cache: cache, cursor: cursor, o: o}
}

// endOfFeed asks the core for no postings, only for its head.
const endOfFeed = 1 << 62

// Run follows the feed until ctx ends. Failures (the core or Redis down) are
// retried with backoff and never stop the process: while the feed cannot be
// read, snapshots still expire by freshness.
func (f *FeedFollower) Run(ctx context.Context) error {
	failures := 0
	for ctx.Err() == nil {
		if err := f.Step(ctx, f.o.Wait); err != nil {
			if ctx.Err() != nil {
				break
			}
			failures++
			if failures == 1 || failures%30 == 0 {
				f.o.Logger.WarnContext(ctx, "change feed unavailable", "err", err, "failures", failures)
			}
			if !backoff.Sleep(ctx, feedRetry.Equal(failures)) {
				break
			}
			continue
		}
		if failures > 0 {
			f.o.Logger.InfoContext(ctx, "change feed back", "after_failures", failures)
			failures = 0
		}
	}
	return nil
}

// Step reads one page of the feed (waiting up to wait for one) and marks the
// customers it names stale, then records how far it got. Only then does the
// cursor move, so a crash in between marks some customers twice, never none.
func (f *FeedFollower) Step(ctx context.Context, wait time.Duration) error {
	cursor, ok, err := f.cursor.Cursor(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return f.start(ctx)
	}
	page, err := f.feed.Feed(ctx, cursor, f.o.Batch, wait)
	if err != nil {
		return err
	}
	if page.Head < cursor {
		// The core's feed restarted (a new database): nothing known is
		// reliable.
		f.o.Logger.WarnContext(ctx, "change feed went back; every snapshot marked stale", "cursor", cursor, "head", page.Head)
		if err := f.cache.InvalidateAll(ctx); err != nil {
			return err
		}
		return f.cursor.SetCursor(ctx, page.Head)
	}
	seen := map[string]bool{}
	var customers []string
	for _, p := range page.Postings {
		if p.CustomerNumber != "" && !seen[p.CustomerNumber] {
			seen[p.CustomerNumber] = true
			customers = append(customers, p.CustomerNumber)
		}
	}
	if err := f.cache.Invalidate(ctx, customers...); err != nil {
		return err
	}
	f.o.Metrics.Invalidated("feed", len(customers))
	next := max(page.NextAfter, cursor)
	var age time.Duration
	if n := len(page.Postings); n > 0 {
		age = max(0, f.o.Now().Sub(page.Postings[n-1].PostedAt))
	}
	f.o.Metrics.FeedLag(max(0, page.Head-next), age)
	return f.cursor.SetCursor(ctx, next)
}

// start begins at the feed's head when no position is stored (first start, or
// Redis lost it): what changed before is unknown, so every snapshot the cache
// may still hold is marked stale.
func (f *FeedFollower) start(ctx context.Context) error {
	page, err := f.feed.Feed(ctx, endOfFeed, 1, 0)
	if err != nil {
		return err
	}
	if err := f.cache.InvalidateAll(ctx); err != nil {
		return err
	}
	f.o.Logger.InfoContext(ctx, "change feed followed from its head", "head", page.Head)
	return f.cursor.SetCursor(ctx, page.Head)
}

// feedRetry paces the feed follower after failures: growing to 5 s.
var feedRetry = backoff.Policy{Base: 100 * time.Millisecond, Max: 5 * time.Second}
