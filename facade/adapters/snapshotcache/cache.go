// Package snapshotcache keeps customer snapshots in Redis, with what tells a
// fresh entry from one the core has changed since.
//
// Keys, under the process's prefix:
//
//	snapshot:{CU…}   the entry: the snapshot and the version it was read under (JSON),
//	                 kept for the retention (longer than freshness)
//	version:{CU…}    a random token replaced whenever the customer's data changes
//	                 (change feed, the facade's own writes)
//	version:all      the same for every customer at once (the feed's position lost)
//	owner:<account>  the customer owning an account, to invalidate by account
//	feed:cursor      the change-feed sequence number processed so far
//
// An entry is current when both versions it was stored under are still in force:
// marking a customer stale is one SET, and a read that raced a change stores an
// entry that is already not current, so a change is never hidden by a slow read.
package snapshotcache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/andes-bank/andes/facade/app"
	"github.com/andes-bank/andes/facade/domain"
	"github.com/andes-bank/andes/platform/redisconn"
)

// Options tune the cache.
type Options struct {
	// Retention is how long an entry is kept, fresh or not, so that the last
	// known snapshot can be served while the core is down.
	Retention time.Duration
	// Jitter spreads retentions by up to this share (0.1: ±10%), so entries
	// written together do not expire together.
	Jitter float64
}

// Cache is the Redis snapshot cache.
type Cache struct {
	rdb *redisconn.Client
	o   Options
}

var (
	_ app.SnapshotCache = (*Cache)(nil)
	_ app.FeedCursor    = (*Cache)(nil)
)

// New builds the cache on rdb.
func New(rdb *redisconn.Client, o Options) (*Cache, error) {
	if o.Retention <= 0 {
		return nil, errors.New("snapshotcache: retention must be positive")
	}
	if o.Jitter < 0 || o.Jitter >= 1 {
		return nil, errors.New("snapshotcache: jitter must be from 0 to below 1")
	}
	return &Cache{rdb: rdb, o: o}, nil
}

func (c *Cache) entryKey(customer string) string   { return c.rdb.Key("snapshot", "{"+customer+"}") }
func (c *Cache) versionKey(customer string) string { return c.rdb.Key("version", "{"+customer+"}") }
func (c *Cache) globalKey() string                 { return c.rdb.Key("version", "all") }
func (c *Cache) ownerKey(account string) string    { return c.rdb.Key("owner", account) }
func (c *Cache) cursorKey() string                 { return c.rdb.Key("feed", "cursor") }

// entry is what is stored.
type entry struct {
	Snapshot domain.Snapshot `json:"s"`
	Version  string          `json:"v"`
}

// version joins the customer's and the global token; a missing token is "".
func version(customer, global string) string { return customer + "/" + global }

// Get reads the entry and the versions in force, in one round trip.
func (c *Cache) Get(ctx context.Context, customer string) (app.CacheEntry, error) {
	vals, err := c.rdb.MGet(ctx, c.entryKey(customer), c.versionKey(customer), c.globalKey()).Result()
	if err != nil {
		return app.CacheEntry{}, fmt.Errorf("snapshotcache: get: %w", err)
	}
	str := func(v any) string { s, _ := v.(string); return s }
	out := app.CacheEntry{Version: version(str(vals[1]), str(vals[2]))}
	raw := str(vals[0])
	if raw == "" {
		return out, nil
	}
	var e entry
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		// An entry from an older layout is a miss, not an outage.
		return out, nil
	}
	out.Found, out.Snapshot, out.Current = true, e.Snapshot, e.Version == out.Version
	return out, nil
}

// Put stores a snapshot read under version (from Get before the core was asked),
// and the owner of each of its accounts.
func (c *Cache) Put(ctx context.Context, customer, version string, s domain.Snapshot) error {
	raw, err := json.Marshal(entry{Snapshot: s, Version: version})
	if err != nil {
		return fmt.Errorf("snapshotcache: put: %w", err)
	}
	ttl := c.retention()
	_, err = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, c.entryKey(customer), raw, ttl)
		for _, a := range s.Accounts {
			p.Set(ctx, c.ownerKey(a.Number), customer, ttl)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("snapshotcache: put: %w", err)
	}
	return nil
}

// Invalidate marks the customers' entries stale: the next read goes to the core,
// while the entries stay to be served if the core is down.
func (c *Cache) Invalidate(ctx context.Context, customers ...string) error {
	if len(customers) == 0 {
		return nil
	}
	ttl := c.versionTTL()
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, cu := range customers {
			p.Set(ctx, c.versionKey(cu), token(), ttl)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("snapshotcache: invalidate: %w", err)
	}
	return nil
}

// InvalidateAccounts marks stale the entries of the customers owning accounts,
// as far as the cache knows them (an account never cached has no entry to mark).
func (c *Cache) InvalidateAccounts(ctx context.Context, accounts ...string) error {
	if len(accounts) == 0 {
		return nil
	}
	keys := make([]string, len(accounts))
	for i, a := range accounts {
		keys[i] = c.ownerKey(a)
	}
	vals, err := c.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return fmt.Errorf("snapshotcache: invalidate accounts: %w", err)
	}
	var customers []string
	for _, v := range vals {
		if s, ok := v.(string); ok && s != "" {
			customers = append(customers, s)
		}
	}
	return c.Invalidate(ctx, customers...)
}

// InvalidateAll marks every entry stale at once.
func (c *Cache) InvalidateAll(ctx context.Context) error {
	if err := c.rdb.Set(ctx, c.globalKey(), token(), c.versionTTL()).Err(); err != nil {
		return fmt.Errorf("snapshotcache: invalidate all: %w", err)
	}
	return nil
}

// Cursor returns the change-feed position processed so far; ok is false when
// none is stored.
func (c *Cache) Cursor(ctx context.Context) (int64, bool, error) {
	s, err := c.rdb.Get(ctx, c.cursorKey()).Result()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("snapshotcache: feed cursor: %w", err)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, nil
	}
	return n, true, nil
}

// SetCursor stores the change-feed position. It lives as long as the entries
// it vouches for, and no longer.
func (c *Cache) SetCursor(ctx context.Context, seq int64) error {
	if err := c.rdb.Set(ctx, c.cursorKey(), strconv.FormatInt(seq, 10), c.versionTTL()).Err(); err != nil {
		return fmt.Errorf("snapshotcache: feed cursor: %w", err)
	}
	return nil
}

// retention is the jittered life of an entry.
func (c *Cache) retention() time.Duration {
	if c.o.Jitter == 0 {
		return c.o.Retention
	}
	f := 1 + c.o.Jitter*(2*mrand.Float64()-1)
	return time.Duration(float64(c.o.Retention) * f)
}

// versionTTL outlives every entry: a version token that expired while an entry
// stored under the token before it still lived would make that entry current
// again.
func (c *Cache) versionTTL() time.Duration {
	return time.Duration(float64(c.o.Retention)*(1+c.o.Jitter)) + time.Hour
}

func token() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
