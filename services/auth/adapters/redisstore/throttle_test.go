package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/services/auth/adapters/redisstore"
	"github.com/andes-bank/andes/services/auth/domain"
)

func TestThrottleLocksGrowingAndPerIP(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	user := domain.Lockout{MaxFailures: 3, Window: 15 * time.Minute, Base: time.Minute, Max: 10 * time.Minute, LevelMemory: time.Hour}
	ip := domain.Lockout{MaxFailures: 5, Window: 15 * time.Minute, Base: time.Minute, Max: time.Hour, LevelMemory: time.Hour}
	th := redisstore.NewThrottle(testenv.Redis(t), user, ip, func() time.Time { return now })
	fail := func(u, addr string) time.Time {
		t.Helper()
		until, err := th.Fail(ctx, u, addr)
		if err != nil {
			t.Fatal(err)
		}
		return until
	}
	locked := func(u, addr string) time.Time {
		t.Helper()
		until, err := th.LockedUntil(ctx, u, addr)
		if err != nil {
			t.Fatal(err)
		}
		return until
	}
	if !fail("u1", "1.1.1.1").IsZero() || !fail("u1", "1.1.1.1").IsZero() {
		t.Fatal("locked before the limit")
	}
	if until := fail("u1", "1.1.1.1"); !until.Equal(now.Add(time.Minute)) {
		t.Fatalf("first lockout until %v", until)
	}
	if !locked("u1", "2.2.2.2").Equal(now.Add(time.Minute)) || !locked("u2", "1.1.1.1").IsZero() {
		t.Fatal("lockout not per user")
	}
	now = now.Add(61 * time.Second)
	if !locked("u1", "1.1.1.1").IsZero() {
		t.Fatal("still locked after the lockout")
	}
	// Success resets the count but not the growth.
	if err := th.Succeed(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	fail("u1", "3.3.3.3")
	fail("u1", "3.3.3.3")
	if until := fail("u1", "3.3.3.3"); !until.Equal(now.Add(2 * time.Minute)) {
		t.Fatalf("second lockout until %v", until)
	}
	// Failures spread over a window's end do not add up.
	now = now.Add(time.Hour)
	fail("u3", "9.9.9.9")
	fail("u3", "9.9.9.9")
	now = now.Add(16 * time.Minute)
	if !fail("u3", "9.9.9.9").IsZero() {
		t.Fatal("failures of an old window counted")
	}
	// Many users from one address lock the address.
	var until time.Time
	for i := range 5 {
		until = fail("spray-"+string(rune('a'+i)), "8.8.8.8")
	}
	if until.IsZero() || locked("innocent", "8.8.8.8").IsZero() {
		t.Fatal("spraying from one address is not locked")
	}
}
