package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/andes-bank/andes/platform/natsjs"
	"github.com/andes-bank/andes/platform/outbox"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
)

// databaseURL is the package's database, made by TestMain; each test works in a
// schema of its own there.
var databaseURL string

func TestMain(m *testing.M) { os.Exit(testenv.MainWithDatabase(m, "outbox", &databaseURL)) }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	schema := "controller_" + strings.ToLower(strings.TrimPrefix(t.Name(), "Test"))
	pool, err := postgres.Open(ctx, postgres.Config{URL: databaseURL, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := postgres.Migrate(ctx, pool, schema, outbox.Migrations()); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE accounts (id text PRIMARY KEY, balance bigint NOT NULL);
		INSERT INTO accounts VALUES ('acc-1', 1000)`); err != nil {
		t.Fatal(err)
	}
	return pool
}

func event(n int, subject string) outbox.Event {
	return outbox.Event{
		ID:         outbox.NewID(),
		Type:       "andes.events.v1.AccountDebited",
		Subject:    subject,
		Payload:    []byte(fmt.Sprintf("envelope %d \x00\xff", n)),
		Headers:    map[string]string{"traceparent": fmt.Sprintf("00-%032d-%016d-01", n, n)},
		OccurredAt: t0.Add(time.Duration(n) * time.Second),
	}
}

// debit is a business change and its event in one transaction; fail makes the
// transaction fail after both were written.
func debit(ctx context.Context, pool *pgxpool.Pool, amount int64, ev outbox.Event, fail error) error {
	return postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET balance = balance - $1 WHERE id = 'acc-1'`, amount); err != nil {
			return err
		}
		if err := outbox.Write(ctx, tx, ev); err != nil {
			return err
		}
		return fail
	})
}

func state(t *testing.T, pool *pgxpool.Pool) (balance int64, events int) {
	t.Helper()
	err := pool.QueryRow(context.Background(),
		`SELECT (SELECT balance FROM accounts WHERE id = 'acc-1'), (SELECT count(*) FROM outbox)`).Scan(&balance, &events)
	if err != nil {
		t.Fatal(err)
	}
	return balance, events
}

func TestEventCommitsIfAndOnlyIfTheChangeDoes(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()

	if err := debit(ctx, pool, 100, event(1, "t.events"), errors.New("refused after writing")); err == nil {
		t.Fatal("want the transaction's error")
	}
	if b, n := state(t, pool); b != 1000 || n != 0 {
		t.Fatalf("after rollback: balance %d, events %d; want 1000, 0", b, n)
	}

	// An event that cannot be written takes the business change down with it.
	if err := debit(ctx, pool, 100, outbox.Event{ID: outbox.NewID()}, nil); !errors.Is(err, outbox.ErrInvalidEvent) {
		t.Fatalf("invalid event: err = %v", err)
	}
	dup := event(2, "t.events")
	if err := debit(ctx, pool, 100, dup, nil); err != nil {
		t.Fatal(err)
	}
	if err := debit(ctx, pool, 100, dup, nil); err == nil {
		t.Fatal("a duplicate event id must fail the transaction")
	}
	if b, n := state(t, pool); b != 900 || n != 1 {
		t.Fatalf("after one commit: balance %d, events %d; want 900, 1", b, n)
	}

	var payload []byte
	var typ string
	var occurred time.Time
	if err := pool.QueryRow(ctx, `SELECT payload, event_type, occurred_at FROM outbox WHERE id = $1`, dup.ID).
		Scan(&payload, &typ, &occurred); err != nil {
		t.Fatal(err)
	}
	if string(payload) != string(dup.Payload) || typ != dup.Type || !occurred.Equal(dup.OccurredAt) {
		t.Fatalf("stored %q %s %s, want %q %s %s", payload, typ, occurred, dup.Payload, dup.Type, dup.OccurredAt)
	}
}

func TestWriteKeepsTheOrderOfEvents(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	evs := []outbox.Event{event(1, "t.a"), event(2, "t.b"), event(3, "t.c")}
	if err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error { return outbox.Write(ctx, tx, evs...) }); err != nil {
		t.Fatal(err)
	}
	rows, _ := pool.Query(ctx, `SELECT id FROM outbox ORDER BY seq`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if ids[i] != evs[i].ID {
			t.Fatalf("seq order %v, want the order written", ids)
		}
	}
}

// recorder is a Publisher that keeps what it got and can fail on demand.
type recorder struct {
	got    []outbox.Message
	failAt int // fail the publish with this 1-based index; 0 never
}

func (r *recorder) Publish(_ context.Context, m outbox.Message) error {
	if r.failAt == len(r.got)+1 {
		r.failAt = 0
		return errors.New("broker unavailable")
	}
	r.got = append(r.got, m)
	return nil
}

// TestRelayNeverSkipsALateCommit: a transaction that drew the lower seq but commits
// later is still published, after the one that committed first.
func TestRelayNeverSkipsALateCommit(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	rec := &recorder{}
	relay := outbox.NewRelay(pool, rec, outbox.RelayOptions{Now: func() time.Time { return t0 }})

	slow, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = slow.Rollback(ctx) }()
	early := event(1, "t.slow")
	if err := outbox.Write(ctx, slow, early); err != nil { // draws the lower seq
		t.Fatal(err)
	}
	late := event(2, "t.fast")
	if err := debit(ctx, pool, 10, late, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := relay.RelayOnce(ctx); err != nil || n != 1 {
		t.Fatalf("first relay = %d, %v; want 1", n, err)
	}
	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := relay.RelayOnce(ctx); err != nil || n != 1 {
		t.Fatalf("second relay = %d, %v; want 1", n, err)
	}
	if len(rec.got) != 2 || rec.got[0].ID != late.ID || rec.got[1].ID != early.ID {
		t.Fatalf("published %v, want %s then %s", rec.got, late.ID, early.ID)
	}
}

func TestRelayMarksOnlyWhatItPublished(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	for i := range 4 {
		if err := debit(ctx, pool, 1, event(i, "t.e"), nil); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recorder{failAt: 3}
	relay := outbox.NewRelay(pool, rec, outbox.RelayOptions{})
	if n, err := relay.RelayOnce(ctx); err == nil || n != 2 {
		t.Fatalf("relay with a failing broker = %d, %v; want 2 and an error", n, err)
	}
	if n, err := relay.RelayOnce(ctx); err != nil || n != 2 {
		t.Fatalf("relay after recovery = %d, %v; want the 2 left", n, err)
	}
	for i, m := range rec.got {
		if i > 0 && m.Seq <= rec.got[i-1].Seq {
			t.Fatalf("published out of seq order: %v", rec.got)
		}
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE published_at IS NULL`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("unpublished = %d (%v), want 0", left, err)
	}
	if n, err := outbox.PurgePublished(ctx, pool, time.Now().Add(time.Hour), 100); err != nil || n != 4 {
		t.Fatalf("PurgePublished = %d, %v; want 4", n, err)
	}
}

// TestRelayToJetStream publishes through a real NATS JetStream: order, message
// ids, headers, and the stream dropping a republished event.
func TestRelayToJetStream(t *testing.T) {
	pool := setup(t)
	nc, prefix := testenv.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := natsjs.EnsureStream(ctx, nc.JS, jetstream.StreamConfig{
		Name:     prefix + "_EVENTS",
		Subjects: []string{prefix + ".>"},
	})
	if err != nil {
		t.Fatal(err)
	}

	var evs []outbox.Event
	for i := range 5 {
		ev := event(i, prefix+".accounts.debited")
		evs = append(evs, ev)
		if err := debit(ctx, pool, 1, ev, nil); err != nil {
			t.Fatal(err)
		}
	}
	relay := outbox.NewRelay(pool, outbox.JetStreamPublisher(nc.JS), outbox.RelayOptions{BatchSize: 3})
	total := 0
	for {
		n, err := relay.RelayOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	if total != 5 {
		t.Fatalf("relayed %d, want 5", total)
	}

	// A crash between publish and mark republishes; the stream keeps one copy.
	if _, err := pool.Exec(ctx, `UPDATE outbox SET published_at = NULL`); err != nil {
		t.Fatal(err)
	}
	if n, err := relay.RelayOnce(ctx); err != nil || n != 3 {
		t.Fatalf("republish = %d, %v", n, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 5 {
		t.Fatalf("stream holds %d messages, want 5", info.State.Msgs)
	}

	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(5, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for msg := range batch.Messages() {
		want := evs[i]
		h := msg.Headers()
		if h.Get("Nats-Msg-Id") != want.ID || h.Get(outbox.HeaderEventType) != want.Type ||
			h.Get("traceparent") != want.Headers["traceparent"] || string(msg.Data()) != string(want.Payload) {
			t.Fatalf("message %d = %v %q, want event %s", i, h, msg.Data(), want.ID)
		}
		i++
	}
	if i != 5 {
		t.Fatalf("read %d messages, want 5 (%v)", i, batch.Error())
	}
}
