// Package outbox is the transactional outbox: a service writes its events into the
// outbox table in the same transaction as the business change they describe
// (Write), so an event exists if and only if the change committed; a Relay
// publishes them to NATS JetStream with the event id as Nats-Msg-Id and marks them
// published.
//
// The payload is the event's envelope (andes.events.v1.Envelope) as bytes; the
// columns beside it (id, type, subject, occurred_at, headers) are what the relay
// and operators need without decoding it.
//
// # Order
//
// seq is allocated when a row is inserted, and transactions commit in another
// order than they allocate: a relay that remembered "published up to seq N" could
// skip an N-1 that commits later. So the relay keeps no cursor: it marks each row
// published and reads unpublished rows ordered by seq, and no committed event is
// ever skipped. That order agrees with commit order wherever order can matter:
//
//   - Transactions that change the same rows are serialized by their row locks:
//     the later one writes its event after it got the lock, hence after the
//     earlier one committed, so its seq is higher; and a relay that sees the later
//     event sees the earlier one too.
//   - The same holds when one transaction starts after another committed (a
//     client that waits for an answer and then sends the next request).
//   - Only transactions that overlap and touch nothing in common may be published
//     in an order other than their commits; neither could observe the other.
//
// This needs one rule from writers: write events after the business change they
// describe. In a single statement (the authorizer's decision), make the outbox
// INSERT consume the RETURNING rows of the UPDATE it reports, so seq is drawn after
// the row lock is held. Relays running at once take the batch FOR UPDATE, so one
// publishes at a time. Delivery is at least once (a crash between publish and mark
// republishes); JetStream drops the duplicate within its duplicate window by
// Nats-Msg-Id, and consumers are idempotent by event id beyond it.
package outbox

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/andes-bank/andes/platform/postgres"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the outbox table; run it with postgres.Migrate in the
// service's schema.
func Migrations() postgres.Migrations {
	return postgres.Migrations{Name: "outbox", FS: migrationFiles, Dir: "migrations"}
}

// ErrInvalidEvent is returned for an event missing a required field.
var ErrInvalidEvent = errors.New("outbox: invalid event")

// Event is one row to publish.
type Event struct {
	ID         string            // the envelope's event id (see NewID); unique
	Type       string            // the event's type, e.g. "andes.events.v1.TransferCompleted"
	Subject    string            // the NATS subject it is published on
	Payload    []byte            // the envelope's proto bytes
	Headers    map[string]string // extra NATS headers, e.g. W3C traceparent
	OccurredAt time.Time         // from the service's clock
}

// Execer runs one statement: the caller's pgx.Tx.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Write inserts events, in order, with tx: the caller's transaction, the one that
// makes the business change. One round trip whatever the number of events.
func Write(ctx context.Context, tx Execer, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	var (
		ids      = make([]string, len(events))
		types    = make([]string, len(events))
		subjects = make([]string, len(events))
		payloads = make([][]byte, len(events))
		headers  = make([]string, len(events))
		times    = make([]time.Time, len(events))
	)
	for i, e := range events {
		switch {
		case e.ID == "":
			return fmt.Errorf("%w: no id", ErrInvalidEvent)
		case e.Type == "":
			return fmt.Errorf("%w: %s has no type", ErrInvalidEvent, e.ID)
		case e.Subject == "":
			return fmt.Errorf("%w: %s has no subject", ErrInvalidEvent, e.ID)
		case e.OccurredAt.IsZero():
			return fmt.Errorf("%w: %s has no time", ErrInvalidEvent, e.ID)
		}
		h := []byte("{}")
		if len(e.Headers) > 0 {
			var err error
			if h, err = json.Marshal(e.Headers); err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
		}
		payload := e.Payload
		if payload == nil {
			payload = []byte{}
		}
		ids[i], types[i], subjects[i], payloads[i], headers[i], times[i] = e.ID, e.Type, e.Subject, payload, string(h), e.OccurredAt
	}
	// unnest keeps array order, so seq follows the order of events.
	_, err := tx.Exec(ctx, `
INSERT INTO outbox (id, event_type, subject, payload, headers, occurred_at)
SELECT id, event_type, subject, payload, headers::jsonb, occurred_at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::timestamptz[])
       AS e(id, event_type, subject, payload, headers, occurred_at)`,
		ids, types, subjects, payloads, headers, times)
	if err != nil {
		return fmt.Errorf("outbox: write: %w", err)
	}
	return nil
}

// NewID returns a random (version 4) UUID for an event id.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
