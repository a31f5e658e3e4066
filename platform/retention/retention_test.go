package retention_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/outbox"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/retention"
	"github.com/andes-bank/andes/platform/testenv"
)

// databaseURL is the package's database, made by TestMain; each test works in a
// schema of its own there.
var databaseURL string

func TestMain(m *testing.M) { os.Exit(testenv.MainWithDatabase(m, "retention", &databaseURL)) }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a fake Clock. Each After tells sleeps that a round is over and the
// purger waits; Advance wakes it when its time has come. So a test steps the
// purger round by round, without sleeping.
type clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []timer
	sleeps chan struct{}
}

type timer struct {
	at time.Time
	ch chan time.Time
}

func newClock() *clock { return &clock{now: t0, sleeps: make(chan struct{}, 16)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, timer{at: c.now.Add(d), ch: ch})
	c.mu.Unlock()
	c.sleeps <- struct{}{}
	return ch
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.timers = slices.DeleteFunc(c.timers, func(t timer) bool {
		if t.at.After(c.now) {
			return false
		}
		t.ch <- c.now
		return true
	})
}

// setup makes schema, playing a service's, with the platform's tables.
func setup(t *testing.T, schema string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := postgres.Open(ctx, postgres.Config{URL: databaseURL, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := postgres.Migrate(ctx, pool, schema, idempotency.Migrations(), outbox.Migrations()); err != nil {
		t.Fatal(err)
	}
	return pool
}

// useKey completes key at the clock's time.
func useKey(t *testing.T, keys *idempotency.Store, key string) {
	t.Helper()
	_, err := keys.Do(context.Background(), idempotency.Scope{Caller: "bff-web"}, key, []byte(key),
		func(context.Context, pgx.Tx, *idempotency.Lease) (idempotency.Response, error) {
			return idempotency.Response{Body: []byte("done")}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
}

// parkKey leaves key with an unknown outcome, as a timed-out call does.
func parkKey(t *testing.T, pool *pgxpool.Pool, keys *idempotency.Store, key string) {
	t.Helper()
	out, err := keys.Begin(context.Background(), idempotency.Scope{Caller: "bff-web"}, key, idempotency.FingerprintOf([]byte(key)))
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.MarkPending(context.Background(), pool, out.Lease); err != nil {
		t.Fatal(err)
	}
}

type published struct{}

func (published) Publish(context.Context, outbox.Message) error { return nil }

// writeEvents writes events with these ids at the clock's time and, when
// publish, publishes them then.
func writeEvents(t *testing.T, pool *pgxpool.Pool, c *clock, publish bool, ids ...string) {
	t.Helper()
	ctx := context.Background()
	for _, id := range ids {
		ev := outbox.Event{ID: id, Type: "andes.events.v1.Test", Subject: "andes.events.test", OccurredAt: c.Now()}
		if err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error { return outbox.Write(ctx, tx, ev) }); err != nil {
			t.Fatal(err)
		}
	}
	if publish {
		relay := outbox.NewRelay(pool, published{}, outbox.RelayOptions{Now: c.Now})
		if _, err := relay.RelayOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func column(t *testing.T, pool *pgxpool.Pool, sql string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), sql)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// purged reads the counter of rows purged from table.
func purged(t *testing.T, reg *prometheus.Registry, table retention.Table) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "retention_purged_rows_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "table" && l.GetValue() == string(table) {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no retention_purged_rows_total{table=%q}", table)
	return 0
}

func TestPurgerDeletesWhatIsPastItsRetentionAndCountsIt(t *testing.T) {
	pool := setup(t, "controller_schedule")
	c := newClock()
	keys := idempotency.New(pool, idempotency.Options{TTL: 24 * time.Hour, Now: c.Now})

	// t0: two keys used, one parked with an unknown outcome; two events
	// published.
	useKey(t, keys, "old-1")
	useKey(t, keys, "old-2")
	parkKey(t, pool, keys, "pending")
	writeEvents(t, pool, c, true, "ev-old-1", "ev-old-2")
	// t0+2h: a key used and an event published; another event waits for the
	// relay.
	c.Advance(2 * time.Hour)
	useKey(t, keys, "fresh")
	writeEvents(t, pool, c, true, "ev-fresh")
	writeEvents(t, pool, c, false, "ev-unpublished")

	reg := prometheus.NewRegistry()
	cfg := retention.Config{IdempotencyKeys: 24 * time.Hour, PublishedEvents: 168 * time.Hour, Interval: time.Minute}
	// A batch smaller than the backlog: a round must keep going until it is done.
	pu, err := retention.New(pool, cfg, reg, retention.Options{Clock: c, BatchSize: 1},
		retention.IdempotencyKeys, retention.Outbox)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- pu.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	keysLeft := func() []string {
		return column(t, pool, `SELECT key FROM idempotency_keys ORDER BY key`)
	}
	eventsLeft := func() []string { return column(t, pool, `SELECT id FROM outbox ORDER BY id`) }
	check := func(when string, wantKeys, wantEvents []string, wantPurgedKeys, wantPurgedEvents float64) {
		t.Helper()
		<-c.sleeps // the round is over
		if got := keysLeft(); !slices.Equal(got, wantKeys) {
			t.Errorf("%s: keys %v, want %v", when, got, wantKeys)
		}
		if got := eventsLeft(); !slices.Equal(got, wantEvents) {
			t.Errorf("%s: events %v, want %v", when, got, wantEvents)
		}
		if got := purged(t, reg, retention.IdempotencyKeys); got != wantPurgedKeys {
			t.Errorf("%s: %v keys counted purged, want %v", when, got, wantPurgedKeys)
		}
		if got := purged(t, reg, retention.Outbox); got != wantPurgedEvents {
			t.Errorf("%s: %v events counted purged, want %v", when, got, wantPurgedEvents)
		}
	}

	allEvents := []string{"ev-fresh", "ev-old-1", "ev-old-2", "ev-unpublished"}
	check("at start, nothing expired", []string{"fresh", "old-1", "old-2", "pending"}, allEvents, 0, 0)

	c.Advance(21*time.Hour + 59*time.Minute) // t0+23h59m: the old keys live a minute more
	check("before expiry", []string{"fresh", "old-1", "old-2", "pending"}, allEvents, 0, 0)

	c.Advance(time.Minute) // t0+24h
	check("old keys expired", []string{"fresh", "pending"}, allEvents, 2, 0)

	c.Advance(144*time.Hour + time.Minute) // t0+168h01m: the first events are over a week old
	check("a week on", []string{"pending"}, []string{"ev-fresh", "ev-unpublished"}, 3, 2)

	c.Advance(30 * 24 * time.Hour) // whatever their age, unknown outcomes and unpublished events stay
	check("a month on", []string{"pending"}, []string{"ev-unpublished"}, 3, 3)
}

func TestKeysAreKeptForTheirRetentionButNeverPurgedBeforeTheyExpire(t *testing.T) {
	pool := setup(t, "controller_keys")
	c := newClock()
	keys := idempotency.New(pool, idempotency.Options{TTL: 24 * time.Hour, Now: c.Now})
	useKey(t, keys, "k")

	for _, tc := range []struct {
		retention time.Duration
		after     time.Duration // since the key was used
		kept      bool
	}{
		{retention: time.Hour, after: 23 * time.Hour, kept: true}, // still replayable
		{retention: 48 * time.Hour, after: 47 * time.Hour, kept: true},
		{retention: 48 * time.Hour, after: 48 * time.Hour, kept: false},
	} {
		at := &clock{now: t0.Add(tc.after)}
		pu, err := retention.New(pool, retention.Config{IdempotencyKeys: tc.retention, PublishedEvents: time.Hour, Interval: time.Hour},
			nil, retention.Options{Clock: at}, retention.IdempotencyKeys)
		if err != nil {
			t.Fatal(err)
		}
		if err := pu.PurgeOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		left := column(t, pool, `SELECT key FROM idempotency_keys`)
		if kept := len(left) == 1; kept != tc.kept {
			t.Errorf("retention %v, %v after use: kept = %v, want %v", tc.retention, tc.after, kept, tc.kept)
		}
	}
}

func TestConfigComesFromTheEnvironment(t *testing.T) {
	var cfg struct{ Retention retention.Config }
	if err := config.LoadFrom(config.Map(nil), &cfg); err != nil {
		t.Fatal(err)
	}
	if want := (retention.Config{IdempotencyKeys: 24 * time.Hour, PublishedEvents: 168 * time.Hour, Interval: 10 * time.Minute}); cfg.Retention != want {
		t.Errorf("defaults %+v, want %+v", cfg.Retention, want)
	}
	err := config.LoadFrom(config.Map(map[string]string{"ANDES_RETENTION_PUBLISHED_EVENTS": "0s"}), &cfg)
	if err == nil || !strings.Contains(err.Error(), "ANDES_RETENTION_PUBLISHED_EVENTS") {
		t.Errorf("a zero retention: err = %v, want one naming ANDES_RETENTION_PUBLISHED_EVENTS", err)
	}
	// A Config built in code leaves fields zero: they mean the defaults.
	if _, err := retention.New(nil, retention.Config{}, nil, retention.Options{}, retention.Outbox); err != nil {
		t.Errorf("New with a zero Config: %v", err)
	}
	if _, err := retention.New(nil, retention.Config{Interval: -time.Minute}, nil, retention.Options{}, retention.Outbox); err == nil {
		t.Error("New with a negative interval: no error")
	}
}
