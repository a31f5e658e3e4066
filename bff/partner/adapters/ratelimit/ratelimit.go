// Package ratelimit is bff-partner's per-partner request budget: a token bucket per
// partner kept in Redis, so that every replica of the gateway draws from the same
// bucket. One Lua script reads, refills and spends the bucket atomically: two
// requests racing on two replicas can never both take the last token.
package ratelimit

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/andes-bank/andes/platform/redisconn"
)

// bucketScript refills the bucket for the time passed since its last use and
// spends one token if there is one. Time comes from the caller's clock (the
// platform's convention: code that depends on time takes a clock), guarded against
// going backwards so that two replicas with a little skew never mint tokens.
//
//go:embed bucket.lua
var bucketScript string

// Limits are one bucket's size and refill rate.
type Limits struct {
	// Burst is the bucket's size: requests a partner may send at once.
	Burst int
	// PerSecond is the refill rate: the sustained requests per second.
	PerSecond float64
}

// Validate refuses limits that would refuse everything or never refill.
func (l Limits) Validate() error {
	if l.Burst < 1 || l.PerSecond <= 0 {
		return fmt.Errorf("ratelimit: burst must be at least 1 and the rate positive (got %d, %g)", l.Burst, l.PerSecond)
	}
	return nil
}

// Decision is the outcome of one request against a bucket.
type Decision struct {
	Allowed bool
	// Limit is the bucket's size (X-RateLimit-Limit).
	Limit int
	// Remaining is the whole tokens left after this request (X-RateLimit-Remaining).
	Remaining int
	// RetryAfter is how long until one token is back; set when refused.
	RetryAfter time.Duration
}

// Limiter takes tokens from per-key buckets in Redis.
type Limiter struct {
	rdb    *redisconn.Client
	script *redis.Script
	limits Limits
	now    func() time.Time
}

// New returns a limiter over rdb (keys under its prefix) with the given limits and
// clock.
func New(rdb *redisconn.Client, limits Limits, now func() time.Time) (*Limiter, error) {
	if err := limits.Validate(); err != nil {
		return nil, err
	}
	if rdb == nil || now == nil {
		return nil, errors.New("ratelimit: a Redis client and a clock are required")
	}
	return &Limiter{rdb: rdb, script: redis.NewScript(bucketScript), limits: limits, now: now}, nil
}

// Take spends one token of key's bucket ("kallpa"). An error means Redis could not
// decide; the caller chooses whether to let the request through.
func (l *Limiter) Take(ctx context.Context, key string) (Decision, error) {
	nowMicros := l.now().UnixMicro()
	// The bucket lives twice as long as a full refill takes, then it is full anyway.
	ttl := max(time.Duration(float64(l.limits.Burst)/l.limits.PerSecond*float64(time.Second))*2, time.Second)
	res, err := l.script.Run(ctx, l.rdb, []string{l.rdb.Key("ratelimit", key)},
		l.limits.Burst, l.limits.PerSecond, nowMicros, ttl.Milliseconds()).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: %w", err)
	}
	if len(res) != 3 {
		return Decision{}, fmt.Errorf("ratelimit: the script answered %d values", len(res))
	}
	return Decision{Allowed: res[0] == 1, Limit: l.limits.Burst, Remaining: int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond}, nil
}
