package app

import (
	"context"
	"time"
)

// HoldStore finds and releases the holds that lapsed.
type HoldStore interface {
	DueHolds(ctx context.Context, now time.Time, limit int) ([]string, error)
	ExpireHold(ctx context.Context, id string, now time.Time) (int64, error)
}

// HoldExpiry releases holds whose lifetime ended (DESIGN.md section 8: holds are
// two-phase, and a pending one that is neither posted nor voided expires).
type HoldExpiry struct {
	store HoldStore
	now   func() time.Time
}

// NewHoldExpiry builds the expiry on store.
func NewHoldExpiry(store HoldStore, now func() time.Time) *HoldExpiry {
	return &HoldExpiry{store: store, now: now}
}

// expiryBatch bounds each round so one slow round never holds many rows.
const expiryBatch = 100

// Run releases the holds that lapsed, batch after batch, until none is left or
// ctx ends; it returns how many it released.
func (e *HoldExpiry) Run(ctx context.Context) (int, error) {
	n := 0
	for {
		now := e.now()
		ids, err := e.store.DueHolds(ctx, now, expiryBatch)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		for _, id := range ids {
			released, err := e.store.ExpireHold(ctx, id, now)
			if err != nil {
				return n, err
			}
			if released > 0 {
				n++
			}
		}
		if len(ids) < expiryBatch {
			return n, nil
		}
	}
}
