package faults_test

import (
	"testing"
	"time"

	"github.com/andes-bank/andes/simulators/corebank/faults"
)

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		s  faults.Settings
		ok bool
	}{
		{faults.Settings{}, true},
		{faults.Settings{Latency: time.Second, ErrorShare: 0.5, TimeoutAfterPostShare: 1, TimeoutStall: time.Minute, Down: true, DownFor: time.Second}, true},
		{faults.Settings{Latency: -1}, false},
		{faults.Settings{ErrorShare: 1.01}, false},
		{faults.Settings{TimeoutAfterPostShare: -0.1}, false},
		{faults.Settings{TimeoutStall: time.Hour}, false},
		{faults.Settings{DownFor: -time.Second}, false},
	}
	for _, tt := range tests {
		if err := tt.s.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v: %v", tt.s, err)
		}
		if _, err := faults.New(tt.s); (err == nil) != tt.ok {
			t.Errorf("New(%+v): %v", tt.s, err)
		}
	}
}

func TestChangesAreAnnouncedAndDownForComesBackUp(t *testing.T) {
	k, err := faults.New(faults.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if k.Fail() {
		t.Error("a zero error share failed a request")
	}
	if _, stall := k.StallAfterPost(); stall {
		t.Error("a zero timeout share stalled a write")
	}
	_, changed := k.Settings()
	if err := k.Set(faults.Settings{ErrorShare: 1, TimeoutAfterPostShare: 1, TimeoutStall: time.Second}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("the change was not announced")
	}
	if !k.Fail() {
		t.Error("an error share of 1 let a request through")
	}
	if d, stall := k.StallAfterPost(); !stall || d != time.Second {
		t.Errorf("stall: %v %v", d, stall)
	}

	_, changed = k.Settings()
	if err := k.Set(faults.Settings{Down: true, DownFor: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	<-changed
	if !k.Current().Down {
		t.Fatal("not down")
	}
	_, changed = k.Settings()
	select {
	case <-changed:
	case <-time.After(30 * time.Second): // a guard against a hang, not a timing check
		t.Fatal("never came back up")
	}
	if s := k.Current(); s.Down || s.DownFor != 0 {
		t.Fatalf("after down-for: %+v", s)
	}
}
