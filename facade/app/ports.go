// Package app holds the facade's use cases: the customer snapshot with its cache,
// reads passed through to the core, and writes whose unknown outcomes are resolved
// with the core's operation status before answering. It depends only on the small
// interfaces below, which the adapters satisfy.
package app

import (
	"context"
	"time"

	"github.com/andes-bank/andes/facade/domain"
)

// Core is the core banking system as the use cases need it. Errors are the
// domain's: refusals, domain.ErrUnavailable (nothing was done),
// domain.ErrUnknownOutcome (a write left and no answer came).
type Core interface {
	Position(ctx context.Context, customer string) (domain.Snapshot, error)
	Account(ctx context.Context, number string) (domain.Account, error)
	Customer(ctx context.Context, number string) (domain.Profile, error)
	Movements(ctx context.Context, q domain.MovementQuery) (domain.MovementPage, error)
	Transfer(ctx context.Context, key string, t domain.TransferOrder) (domain.Transaction, error)
	CashIn(ctx context.Context, key string, o domain.CashOrder) (domain.Transaction, error)
	CashOut(ctx context.Context, key string, o domain.CashOrder) (domain.Transaction, error)
	CreateCustomer(ctx context.Context, key string, p domain.Profile) (domain.Profile, error)
	OpenAccount(ctx context.Context, key string, a domain.NewAccount) (domain.Account, error)
	Operation(ctx context.Context, key string) (domain.Operation, error)
}

// FeedSource is the core's change feed.
type FeedSource interface {
	Feed(ctx context.Context, after int64, limit int, wait time.Duration) (domain.FeedPage, error)
}

// CacheEntry is what the cache holds for a customer.
type CacheEntry struct {
	Found    bool
	Snapshot domain.Snapshot
	// Current: nothing marked the customer stale since the entry was stored.
	Current bool
	// Version is the staleness version in force when read: a snapshot read
	// from the core after this is stored under it, so a change marked while
	// the core was being asked leaves the new entry not current.
	Version string
}

// SnapshotCache keeps snapshots beyond their freshness, and marks them stale.
type SnapshotCache interface {
	Get(ctx context.Context, customer string) (CacheEntry, error)
	Put(ctx context.Context, customer, version string, s domain.Snapshot) error
	Invalidate(ctx context.Context, customers ...string) error
	InvalidateAccounts(ctx context.Context, accounts ...string) error
	InvalidateAll(ctx context.Context) error
}

// FeedCursor stores how far the change feed has been processed.
type FeedCursor interface {
	Cursor(ctx context.Context) (seq int64, ok bool, err error)
	SetCursor(ctx context.Context, seq int64) error
}

// Metrics observes the cache and the feed; the adapter exports them.
type Metrics interface {
	CacheHit()
	CacheMiss()
	StaleServed()
	// Invalidated counts customers marked stale, by cause ("feed", "write").
	Invalidated(cause string, n int)
	// FeedLag is how far behind the core's feed the facade is: postings not
	// yet processed, and the age of the newest posting processed when it was.
	FeedLag(postings int64, age time.Duration)
}

// NopMetrics observes nothing.
type NopMetrics struct{}

func (NopMetrics) CacheHit()                    {}
func (NopMetrics) CacheMiss()                   {}
func (NopMetrics) StaleServed()                 {}
func (NopMetrics) Invalidated(string, int)      {}
func (NopMetrics) FeedLag(int64, time.Duration) {}
