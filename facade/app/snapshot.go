package app

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/andes-bank/andes/facade/domain"
)

// Options tune the use cases. Zero values take the defaults named.
type Options struct {
	// Freshness is how long a snapshot is served from the cache without asking
	// the core (24h).
	Freshness time.Duration
	// Jitter shortens each freshness by up to this share (0.1), so snapshots
	// read together do not all go back to the core together.
	Jitter float64
	// LoadTimeout bounds one snapshot load from the core, shared by every
	// caller waiting on it (5s).
	LoadTimeout time.Duration
	// ResolveTimeout bounds finding out what happened to a write whose answer
	// did not come (5s).
	ResolveTimeout time.Duration
	// Now is the clock freshness is judged by.
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics Metrics
}

// Facade is the facade's use cases.
type Facade struct {
	core    Core
	cache   SnapshotCache
	o       Options
	loads   singleflight.Group
	log     *slog.Logger
	metrics Metrics
}

// New builds the use cases.
func New(core Core, cache SnapshotCache, o Options) *Facade {
	if o.Freshness <= 0 {
		o.Freshness = 24 * time.Hour
	}
	if o.Jitter < 0 || o.Jitter >= 1 {
		o.Jitter = 0.1
	}
	if o.LoadTimeout <= 0 {
		o.LoadTimeout = 5 * time.Second
	}
	if o.ResolveTimeout <= 0 {
		o.ResolveTimeout = 5 * time.Second
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
	return &Facade{core: core, cache: cache, o: o, log: o.Logger, metrics: o.Metrics}
}

// GetCustomerSnapshot returns the customer's snapshot: from the cache while fresh
// and not marked stale; else from the core, one call however many callers miss at
// once; else, when the core cannot be reached, the last one kept, marked stale.
// requireFresh skips the cache and never serves a stale snapshot.
func (f *Facade) GetCustomerSnapshot(ctx context.Context, customer string, requireFresh bool) (domain.Snapshot, domain.Source, error) {
	entry, err := f.cache.Get(ctx, customer)
	if err != nil {
		// Redis down costs speed, not answers: go to the core.
		f.log.WarnContext(ctx, "snapshot cache unreadable", "err", err)
		entry = CacheEntry{}
	}
	now := f.o.Now()
	if !requireFresh && entry.Found && entry.Current && now.Before(entry.Snapshot.FreshUntil) {
		f.metrics.CacheHit()
		return entry.Snapshot, domain.SourceCache, nil
	}
	f.metrics.CacheMiss()

	// Callers missing under the same version share one load; a caller that
	// comes after a change (a new version) starts its own, so it never gets
	// data read before the change it may have made itself.
	key := customer + "\x00" + entry.Version
	if requireFresh {
		key += "\x00fresh"
	}
	ch := f.loads.DoChan(key, func() (any, error) {
		return f.load(ctx, customer, entry.Version, requireFresh)
	})
	select {
	case res := <-ch:
		if res.Err == nil {
			return res.Val.(domain.Snapshot), domain.SourceCore, nil
		}
		err = res.Err
	case <-ctx.Done():
		return domain.Snapshot{}, domain.SourceUnknown, ctx.Err()
	}
	if !requireFresh && entry.Found && errors.Is(err, domain.ErrUnavailable) {
		f.metrics.StaleServed()
		s := entry.Snapshot
		s.Stale = true
		return s, domain.SourceStaleCache, nil
	}
	return domain.Snapshot{}, domain.SourceUnknown, err
}

// load reads the snapshot from the core and caches it. It runs on behalf of every
// caller waiting for it, so it is not bound to the first caller's cancellation.
func (f *Facade) load(ctx context.Context, customer, version string, requireFresh bool) (domain.Snapshot, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.o.LoadTimeout)
	defer cancel()
	// A load that finished just before this one began may have cached what
	// this one would read: the caller read the cache before it was stored.
	if !requireFresh {
		if e, err := f.cache.Get(ctx, customer); err == nil && e.Found && e.Current && e.Version == version &&
			f.o.Now().Before(e.Snapshot.FreshUntil) {
			return e.Snapshot, nil
		}
	}
	s, err := f.core.Position(ctx, customer)
	if err != nil {
		return domain.Snapshot{}, err
	}
	if s.AsOf.IsZero() {
		s.AsOf = f.o.Now()
	}
	s.FreshUntil = f.o.Now().Add(f.freshness())
	s.Stale = false
	if err := f.cache.Put(ctx, customer, version, s); err != nil {
		f.log.WarnContext(ctx, "snapshot not cached", "err", err)
	}
	return s, nil
}

// freshness is the configured freshness shortened by a random share of the
// jitter, never lengthened: 24 hours means at most 24 hours.
func (f *Facade) freshness() time.Duration {
	return time.Duration(float64(f.o.Freshness) * (1 - f.o.Jitter*rand.Float64()))
}

// GetAccount reads an account and its holder's name from the core (not cached:
// callers check a destination's status and currency with it).
func (f *Facade) GetAccount(ctx context.Context, number string) (domain.Account, string, error) {
	a, err := f.core.Account(ctx, number)
	if err != nil {
		return domain.Account{}, "", err
	}
	if a.CustomerNumber == "" {
		return a, "", nil
	}
	p, err := f.core.Customer(ctx, a.CustomerNumber)
	if err != nil {
		return domain.Account{}, "", err
	}
	return a, p.FullName(), nil
}

// Page sizes of ListMovements.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// ListMovements pages through an account's movements, newest first.
func (f *Facade) ListMovements(ctx context.Context, q domain.MovementQuery) (domain.MovementPage, error) {
	switch {
	case q.PageSize <= 0:
		q.PageSize = DefaultPageSize
	case q.PageSize > MaxPageSize:
		q.PageSize = MaxPageSize
	}
	return f.core.Movements(ctx, q)
}
