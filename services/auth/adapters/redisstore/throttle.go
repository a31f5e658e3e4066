package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/andes-bank/andes/platform/redisconn"
	"github.com/andes-bank/andes/services/auth/domain"
)

// failScript counts a failure against one key under a lockout policy. KEYS: the
// key's hash. ARGV: now, window, max failures, base, max lockout, level memory
// (all ms but max failures). Returns the lockout's end (ms) or 0.
var failScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local h = redis.call('HMGET', KEYS[1], 'fails', 'since', 'level', 'level_at', 'until')
local fails, since = tonumber(h[1]) or 0, tonumber(h[2]) or 0
local level, level_at = tonumber(h[3]) or -1, tonumber(h[4]) or 0
if now - since > tonumber(ARGV[2]) then
  fails, since = 0, now
end
fails = fails + 1
local lock_until = 0
if fails >= tonumber(ARGV[3]) then
  if now - level_at > tonumber(ARGV[6]) then
    level = 0
  else
    level = level + 1
  end
  local d = tonumber(ARGV[4])
  for i = 1, level do
    if d >= tonumber(ARGV[5]) then break end
    d = d * 2
  end
  d = math.min(d, tonumber(ARGV[5]))
  lock_until = now + d
  fails, since, level_at = 0, now, now
end
redis.call('HSET', KEYS[1], 'fails', fails, 'since', since, 'level', level, 'level_at', level_at, 'until', math.max(lock_until, tonumber(h[5]) or 0))
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[2]), tonumber(ARGV[6])) + math.max(lock_until - now, 0))
return lock_until
`)

// Throttle implements app.Throttle in Redis. Time comes from the injected clock,
// not from key expiry, so tests move time forward without sleeping; expiry only
// cleans up.
type Throttle struct {
	rdb      *redisconn.Client
	user, ip domain.Lockout
	now      func() time.Time
}

// NewThrottle returns a throttle with a policy for users and one for client IPs.
func NewThrottle(rdb *redisconn.Client, user, ip domain.Lockout, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{rdb: rdb, user: user, ip: ip, now: now}
}

func (t *Throttle) userKey(user string) string { return t.rdb.Key("throttle", "user", user) }
func (t *Throttle) ipKey(ip string) string     { return t.rdb.Key("throttle", "ip", ip) }

// LockedUntil returns the later end of the user's and the IP's lockouts, or zero.
func (t *Throttle) LockedUntil(ctx context.Context, user, ip string) (time.Time, error) {
	pipe := t.rdb.Pipeline()
	u := pipe.HGet(ctx, t.userKey(user), "until")
	i := pipe.HGet(ctx, t.ipKey(ip), "until")
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return time.Time{}, fmt.Errorf("redisstore: throttle: %w", err)
	}
	now := t.now().UnixMilli()
	var until int64
	for _, c := range []*redis.StringCmd{u, i} {
		if v, err := c.Int64(); err == nil && v > now && v > until {
			until = v
		}
	}
	if until == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(until), nil
}

// Fail counts a failed login against the user and the IP; it returns the end of a
// lockout it started.
func (t *Throttle) Fail(ctx context.Context, user, ip string) (time.Time, error) {
	now := t.now().UnixMilli()
	run := func(key string, l domain.Lockout) (int64, error) {
		return failScript.Run(ctx, t.rdb, []string{key}, now, l.Window.Milliseconds(), l.MaxFailures,
			l.Base.Milliseconds(), l.Max.Milliseconds(), l.LevelMemory.Milliseconds()).Int64()
	}
	u, err := run(t.userKey(user), t.user)
	if err != nil {
		return time.Time{}, fmt.Errorf("redisstore: throttle: %w", err)
	}
	i := int64(0)
	if ip != "" {
		if i, err = run(t.ipKey(ip), t.ip); err != nil {
			return time.Time{}, fmt.Errorf("redisstore: throttle: %w", err)
		}
	}
	if until := max(u, i); until > 0 {
		return time.UnixMilli(until), nil
	}
	return time.Time{}, nil
}

// Succeed resets the user's failure count; the lockout level stays, so an attacker
// who also knows the password cannot reset the growth.
func (t *Throttle) Succeed(ctx context.Context, user string) error {
	key := t.userKey(user)
	pipe := t.rdb.Pipeline()
	pipe.HSet(ctx, key, "fails", 0)
	pipe.PExpire(ctx, key, max(t.user.Window, t.user.LevelMemory))
	_, err := pipe.Exec(ctx)
	return err
}
