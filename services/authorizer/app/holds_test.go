package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/authorizer/app"
)

// dueHolds is a hold store whose due holds are a list; a hold already released
// (by a clearing that raced the expiry) releases nothing.
type dueHolds struct {
	due      []string
	released map[string]bool
	rounds   int
}

func (d *dueHolds) DueHolds(_ context.Context, _ time.Time, limit int) ([]string, error) {
	d.rounds++
	return d.due[:min(limit, len(d.due))], nil
}

func (d *dueHolds) ExpireHold(_ context.Context, id string, _ time.Time) (int64, error) {
	d.due = d.due[1:]
	if d.released[id] {
		return 0, nil
	}
	d.released[id] = true
	return 1, nil
}

// Expiry works through every due hold in batches and counts only those it
// released itself.
func TestHoldExpiryReleasesEveryDueHoldInBatches(t *testing.T) {
	st := &dueHolds{released: map[string]bool{"h-7": true}}
	for i := range 250 {
		st.due = append(st.due, fmt.Sprintf("h-%d", i))
	}
	n, err := app.NewHoldExpiry(st, time.Now).Run(context.Background())
	if err != nil || n != 249 || len(st.due) != 0 || st.rounds != 3 {
		t.Fatalf("released %d (%v) in %d rounds, %d left; want 249 in 3 rounds, none left", n, err, st.rounds, len(st.due))
	}
}
