package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// HeaderEventType carries Event.Type on every published message, so consumers can
// route without decoding the envelope.
const HeaderEventType = "Andes-Event-Type"

// Message is one event on its way out.
type Message struct {
	Seq        int64
	ID         string
	Type       string
	Subject    string
	Payload    []byte
	Headers    map[string]string
	OccurredAt time.Time
}

// Publisher sends one message and returns once the broker has it.
type Publisher interface {
	Publish(ctx context.Context, m Message) error
}

// JetStreamPublisher publishes to JetStream with the event id as Nats-Msg-Id, so
// the stream drops a republished event within its duplicate window. A stream must
// capture the subjects.
func JetStreamPublisher(js jetstream.JetStream) Publisher { return jetStreamPublisher{js: js} }

type jetStreamPublisher struct{ js jetstream.JetStream }

func (p jetStreamPublisher) Publish(ctx context.Context, m Message) error {
	msg := nats.NewMsg(m.Subject)
	msg.Data = m.Payload
	for k, v := range m.Headers {
		msg.Header.Set(k, v)
	}
	msg.Header.Set(HeaderEventType, m.Type)
	_, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(m.ID))
	return err
}

// RelayDB is what the relay needs: a *pgxpool.Pool opened on the service's schema.
type RelayDB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// RelayOptions tune a Relay; zero values take the defaults.
type RelayOptions struct {
	BatchSize int              // events per transaction; default 100
	Interval  time.Duration    // the pause when nothing is left to publish; default 200 ms
	Now       func() time.Time // the clock for published_at; default time.Now
}

// Relay publishes the outbox in seq order and marks what it published.
type Relay struct {
	db   RelayDB
	pub  Publisher
	opts RelayOptions
}

// NewRelay returns a relay from db's outbox to pub.
func NewRelay(db RelayDB, pub Publisher, opts RelayOptions) *Relay {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 100
	}
	if opts.Interval <= 0 {
		opts.Interval = 200 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Relay{db: db, pub: pub, opts: opts}
}

// Run relays until ctx ends, then returns nil. A failed batch is retried after
// Interval; its error goes to onError, which may be nil.
func (r *Relay) Run(ctx context.Context, onError func(error)) error {
	for {
		n, err := r.RelayOnce(ctx)
		if err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
		if err == nil && n == r.opts.BatchSize {
			continue // more is waiting
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(r.opts.Interval):
		}
	}
}

// RelayOnce publishes one batch in seq order, one message at a time so the
// stream's order is the outbox's, and marks the published rows in the same
// transaction that locked them. It returns how many it published; after a failed
// publish it still marks those before it.
func (r *Relay) RelayOnce(ctx context.Context) (int, error) {
	tx, err := r.db.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("outbox: relay: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	rows, err := tx.Query(ctx, `
SELECT seq, id, event_type, subject, payload, headers, occurred_at
  FROM outbox
 WHERE published_at IS NULL
 ORDER BY seq
 LIMIT $1
   FOR UPDATE`, r.opts.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("outbox: relay: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Message, error) {
		var m Message
		var headers []byte
		if err := row.Scan(&m.Seq, &m.ID, &m.Type, &m.Subject, &m.Payload, &headers, &m.OccurredAt); err != nil {
			return m, err
		}
		if len(headers) > 2 {
			if err := json.Unmarshal(headers, &m.Headers); err != nil {
				return m, fmt.Errorf("event %s: headers: %w", m.ID, err)
			}
		}
		return m, nil
	})
	if err != nil {
		return 0, fmt.Errorf("outbox: relay: %w", err)
	}
	if len(msgs) == 0 {
		return 0, nil
	}

	published := make([]int64, 0, len(msgs))
	var pubErr error
	for _, m := range msgs {
		if err := r.pub.Publish(ctx, m); err != nil {
			pubErr = fmt.Errorf("outbox: publish %s (seq %d): %w", m.ID, m.Seq, err)
			break
		}
		published = append(published, m.Seq)
	}
	if len(published) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE outbox SET published_at = $1 WHERE seq = ANY($2)`,
			r.opts.Now().UTC(), published); err != nil {
			return 0, errors.Join(pubErr, fmt.Errorf("outbox: relay: mark published: %w", err))
		}
		if err := tx.Commit(ctx); err != nil {
			return 0, errors.Join(pubErr, fmt.Errorf("outbox: relay: commit: %w", err))
		}
	}
	return len(published), pubErr
}

// PurgePublished deletes up to limit events published before before, and reports
// how many went; the relay never needs them again.
func PurgePublished(ctx context.Context, db Execer, before time.Time, limit int) (int64, error) {
	tag, err := db.Exec(ctx, `
DELETE FROM outbox
 WHERE seq IN (SELECT seq FROM outbox
                WHERE published_at IS NOT NULL AND published_at < $1
                ORDER BY seq LIMIT $2)`, before, limit)
	if err != nil {
		return 0, fmt.Errorf("outbox: purge: %w", err)
	}
	return tag.RowsAffected(), nil
}
