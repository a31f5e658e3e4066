package postgres

import (
	"context"
	"log/slog"
	"time"

	"github.com/andes-bank/andes/services/auth/domain"
)

// AuditLog writes audit events in batches: at thousands of tokens a second, a
// row per event in its own transaction would cost more than issuing the token. A
// full buffer makes callers wait (back-pressure), it never drops events.
type AuditLog struct {
	store   *Store
	ch      chan domain.AuditEvent
	flushes chan chan struct{}
	log     *slog.Logger
}

// NewAuditLog returns a log buffering up to size events; Run writes them.
func NewAuditLog(store *Store, size int, log *slog.Logger) *AuditLog {
	return &AuditLog{store: store, ch: make(chan domain.AuditEvent, size), flushes: make(chan chan struct{}), log: log}
}

// Record queues an event; it waits while the buffer is full, until ctx ends.
func (l *AuditLog) Record(ctx context.Context, e domain.AuditEvent) {
	select {
	case l.ch <- e:
	case <-ctx.Done():
		// The request is gone; the event must not be: wait a little longer.
		select {
		case l.ch <- e:
		case <-time.After(5 * time.Second):
			l.log.Error("audit event lost: buffer full", "action", string(e.Action), "client_id", e.ClientID, "customer_id", e.CustomerID)
		}
	}
}

// Flush returns once every event recorded before the call is written (or ctx ends).
func (l *AuditLog) Flush(ctx context.Context) {
	done := make(chan struct{})
	select {
	case l.flushes <- done:
	case <-ctx.Done():
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Run writes batches until ctx ends, then writes what is left.
func (l *AuditLog) Run(ctx context.Context) error {
	const maxBatch = 1000
	batch := make([]domain.AuditEvent, 0, maxBatch)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	write := func(ctx context.Context) {
		for len(batch) > 0 {
			err := l.store.InsertAudit(ctx, batch)
			if err == nil {
				batch = batch[:0]
				return
			}
			if ctx.Err() != nil {
				return // shutting down: the final flush writes them
			}
			l.log.Error("audit write failed; retrying", "err", err, "events", len(batch))
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
	drain := func() {
		for len(batch) < maxBatch {
			select {
			case e := <-l.ch:
				batch = append(batch, e)
			default:
				return
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			for {
				drain()
				if len(batch) == 0 {
					break
				}
				write(final)
				if len(batch) > 0 {
					break // the database is gone; logged above
				}
			}
			cancel()
			return nil
		case e := <-l.ch:
			batch = append(batch, e)
			if len(batch) >= maxBatch {
				write(ctx)
			}
		case <-tick.C:
			drain()
			write(ctx)
		case done := <-l.flushes:
			for {
				drain()
				if len(batch) == 0 {
					break
				}
				write(ctx)
			}
			close(done)
		}
	}
}
