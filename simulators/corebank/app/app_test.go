package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/andes-bank/andes/simulators/corebank/app"
	"github.com/andes-bank/andes/simulators/corebank/domain"
)

func TestDateRange(t *testing.T) {
	// 02:00 UTC on 3 March is still 2 March in Lima.
	now := time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC)
	lima := func(y int, m time.Month, d int) time.Time {
		return time.Date(y, m, d, 0, 0, 0, 0, domain.BusinessZone).UTC()
	}
	tests := []struct {
		name       string
		from, to   string
		start, end time.Time
		wantErr    bool
	}{
		{"defaults: 30 days to today", "", "", lima(2026, 1, 31), lima(2026, 3, 3), false},
		{"one day", "2026-02-10", "2026-02-10", lima(2026, 2, 10), lima(2026, 2, 11), false},
		{"from only", "2026-02-25", "", lima(2026, 2, 25), lima(2026, 3, 3), false},
		{"reversed", "2026-02-11", "2026-02-10", time.Time{}, time.Time{}, true},
		{"too long", "2024-01-01", "2026-02-10", time.Time{}, time.Time{}, true},
		{"not a date", "2026-02-30", "", time.Time{}, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end, err := app.DateRange(tt.from, tt.to, now)
			if tt.wantErr {
				if !errors.Is(err, domain.ErrInvalid) {
					t.Fatalf("got %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil || !start.Equal(tt.start) || !end.Equal(tt.end) {
				t.Fatalf("got %v – %v (%v), want %v – %v", start, end, err, tt.start, tt.end)
			}
		})
	}
}
