package supervisor

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	timing := Timing{BackoffMin: 100 * time.Millisecond, BackoffMax: 1 * time.Second}
	var got []time.Duration
	var d time.Duration
	for range 6 {
		d = next(d, timing)
		got = append(got, d)
	}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("backoff = %v, want %v ms", got, want)
		}
	}
}

func TestBrakeCountsOnlyRecentExits(t *testing.T) {
	now := time.Now()
	times := []time.Time{now.Add(-40 * time.Second), now.Add(-31 * time.Second), now.Add(-5 * time.Second), now}
	if got := recent(times, now.Add(-30*time.Second)); len(got) != 2 {
		t.Errorf("kept %d, want 2", len(got))
	}
}

func TestPrefixWriterEchoesWholeLines(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	a := &prefixWriter{mu: &mu, w: &out, prefix: []byte("a | ")}
	b := &prefixWriter{mu: &mu, w: &out, prefix: []byte("b | ")}
	a.Write([]byte("one "))
	b.Write([]byte("first\nsecond"))
	a.Write([]byte("two\nthree\n"))
	b.Write([]byte("\n"))
	want := "b | first\na | one two\na | three\nb | second\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}

	out.Reset()
	a.Write([]byte(strings.Repeat("x", maxPartial+10)))
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Errorf("an over-long line was held back (%d lines out)", n)
	}
}
