package backoff_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/backoff"
)

func TestCeilingGrowsToTheMaximum(t *testing.T) {
	p := backoff.Policy{Base: 100 * time.Millisecond, Max: 5 * time.Second}
	cases := []struct {
		attempt int
		want    time.Duration
	}{
		{-1, 100 * time.Millisecond},
		{0, 100 * time.Millisecond},
		{1, 200 * time.Millisecond},
		{5, 3200 * time.Millisecond},
		{6, 5 * time.Second},
		{40, 5 * time.Second},
		{63, 5 * time.Second},
		{math.MaxInt, 5 * time.Second},
	}
	for _, c := range cases {
		if got := p.Ceiling(c.attempt); got != c.want {
			t.Errorf("Ceiling(%d) = %v, want %v", c.attempt, got, c.want)
		}
	}
}

func TestJitterStaysWithinItsRange(t *testing.T) {
	p := backoff.Policy{Base: 10 * time.Millisecond, Max: time.Second}
	sawShortFull := false
	for range 2000 {
		full, equal := p.Full(3), p.Equal(3)
		if full < 0 || full > 80*time.Millisecond {
			t.Fatalf("Full(3) = %v, outside [0, 80ms]", full)
		}
		if equal < 40*time.Millisecond || equal > 80*time.Millisecond {
			t.Fatalf("Equal(3) = %v, outside [40ms, 80ms]", equal)
		}
		sawShortFull = sawShortFull || full < 40*time.Millisecond
	}
	if !sawShortFull {
		t.Error("Full never drew from the lower half: it is not full jitter")
	}
}

func TestSleepStopsWhenTheContextEnds(t *testing.T) {
	if !backoff.Sleep(context.Background(), time.Millisecond) {
		t.Error("a short sleep did not complete")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if backoff.Sleep(ctx, time.Hour) {
		t.Error("Sleep on an ended context reported a completed wait")
	}
}
