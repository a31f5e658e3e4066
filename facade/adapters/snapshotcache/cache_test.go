package snapshotcache_test

import (
	"context"
	"testing"
	"time"

	"github.com/andes-bank/andes/facade/adapters/snapshotcache"
	"github.com/andes-bank/andes/facade/domain"
	"github.com/andes-bank/andes/platform/testenv"
)

func newCache(t *testing.T) *snapshotcache.Cache {
	t.Helper()
	c, err := snapshotcache.New(testenv.Redis(t), snapshotcache.Options{Retention: time.Hour, Jitter: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var snap = domain.Snapshot{
	Profile:  domain.Profile{CustomerNumber: "CU00000001", GivenNames: "María"},
	Accounts: []domain.Account{{Number: "19100100000323", Ledger: domain.Money{Minor: 1250000, Currency: "PEN"}}},
	AsOf:     time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC), FreshUntil: time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC),
}

func TestEntriesRoundTripAndStayCurrentUntilMarked(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	e, err := c.Get(ctx, "CU00000001")
	if err != nil || e.Found {
		t.Fatalf("empty cache: %+v %v", e, err)
	}
	if err := c.Put(ctx, "CU00000001", e.Version, snap); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, "CU00000001")
	if err != nil || !got.Found || !got.Current {
		t.Fatalf("after put: %+v %v", got, err)
	}
	if !got.Snapshot.AsOf.Equal(snap.AsOf) || got.Snapshot.Accounts[0].Ledger != snap.Accounts[0].Ledger || got.Snapshot.Profile.GivenNames != "María" {
		t.Fatalf("round trip: %+v", got.Snapshot)
	}

	// Marked stale by account (a write) and by customer (the feed): still
	// there, no longer current.
	if err := c.InvalidateAccounts(ctx, "19100100000323", "00000000000000"); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "CU00000001"); !got.Found || got.Current {
		t.Fatalf("after invalidation by account: %+v", got)
	}
	e, _ = c.Get(ctx, "CU00000001")
	_ = c.Put(ctx, "CU00000001", e.Version, snap)
	if err := c.Invalidate(ctx, "CU00000001"); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "CU00000001"); !got.Found || got.Current {
		t.Fatalf("after invalidation: %+v", got)
	}
	e, _ = c.Get(ctx, "CU00000001")
	_ = c.Put(ctx, "CU00000001", e.Version, snap)
	if err := c.InvalidateAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "CU00000001"); !got.Found || got.Current {
		t.Fatalf("after invalidating all: %+v", got)
	}
}

// A read from the core that raced a change must not hide it: the entry it stores
// is not current.
func TestAReadRacingAChangeStoresAStaleEntry(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	before, _ := c.Get(ctx, "CU00000002")
	if err := c.Invalidate(ctx, "CU00000002"); err != nil { // the change, while the core was being asked
		t.Fatal(err)
	}
	if err := c.Put(ctx, "CU00000002", before.Version, snap); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "CU00000002"); !got.Found || got.Current {
		t.Fatalf("racing read: %+v", got)
	}
}

func TestFeedCursor(t *testing.T) {
	ctx := context.Background()
	c := newCache(t)
	if _, ok, err := c.Cursor(ctx); ok || err != nil {
		t.Fatalf("fresh cursor: %v %v", ok, err)
	}
	if err := c.SetCursor(ctx, 4242); err != nil {
		t.Fatal(err)
	}
	if n, ok, err := c.Cursor(ctx); n != 4242 || !ok || err != nil {
		t.Fatalf("cursor %d %v %v", n, ok, err)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	rdb := testenv.Redis(t)
	for _, o := range []snapshotcache.Options{{}, {Retention: time.Hour, Jitter: 1}, {Retention: time.Hour, Jitter: -0.1}} {
		if _, err := snapshotcache.New(rdb, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
