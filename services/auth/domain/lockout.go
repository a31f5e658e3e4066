package domain

import "time"

// Lockout is the throttling policy of logins (DESIGN.md section 7): failures are
// counted per user and per client IP within Window; at MaxFailures the key is locked,
// and each lockout of the same key within LevelMemory lasts twice the previous one,
// up to Max. Attackers spreading guesses over many users hit the IP limit; many IPs
// guessing one user hit the user limit.
type Lockout struct {
	MaxFailures int
	Window      time.Duration
	Base        time.Duration
	Max         time.Duration
	// LevelMemory is how long a lockout is remembered for growing the next one.
	LevelMemory time.Duration
}

// DefaultUserLockout locks a user after 5 failures: 1 minute, then 2, 4, ... up to a
// day.
var DefaultUserLockout = Lockout{MaxFailures: 5, Window: 15 * time.Minute, Base: time.Minute, Max: 24 * time.Hour, LevelMemory: 24 * time.Hour}

// DefaultIPLockout allows more failures per address (a family or an office behind one
// NAT) before locking it.
var DefaultIPLockout = Lockout{MaxFailures: 30, Window: 15 * time.Minute, Base: time.Minute, Max: 6 * time.Hour, LevelMemory: 24 * time.Hour}

// Duration is how long the lockout at level (0 for the first) lasts.
func (l Lockout) Duration(level int) time.Duration {
	d := l.Base
	for i := 0; i < level && d < l.Max; i++ {
		d *= 2
	}
	return min(d, l.Max)
}
