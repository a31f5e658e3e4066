package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/andes-bank/andes/platform/redisconn"
	"github.com/andes-bank/andes/services/auth/domain"
)

// startStepUpScript answers the pending challenge of (customer, purpose, binding)
// while a resend is not yet allowed, else records a new one. KEYS: index, new
// challenge. ARGV: prefix, new id, customer, purpose, binding, code MAC, masked
// destination, expires (ms), resend at (ms), attempts, now (ms). Returns {0, id}
// for the pending one, {1, id} for the new one.
var startStepUpScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local r = redis.call('HMGET', ARGV[1] .. 'su:' .. cur, 'resend', 'verified')
  if r[1] and tonumber(r[1]) > tonumber(ARGV[11]) and r[2] == '0' then
    return {0, cur}
  end
end
redis.call('HSET', KEYS[2], 'customer', ARGV[3], 'purpose', ARGV[4], 'binding', ARGV[5], 'mac', ARGV[6],
  'masked', ARGV[7], 'exp', ARGV[8], 'resend', ARGV[9], 'attempts', ARGV[10], 'verified', '0')
redis.call('PEXPIREAT', KEYS[2], ARGV[8])
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[8])
return {1, ARGV[2]}
`)

// verifyStepUpScript checks a code. KEYS: challenge. ARGV: customer, binding, code
// MAC, now (ms). Returns {1, verified at} right (also again), {2, attempts left}
// wrong, {3} expired, used up or another request's.
var verifyStepUpScript = redis.NewScript(`
local r = redis.call('HMGET', KEYS[1], 'customer', 'binding', 'mac', 'exp', 'attempts', 'verified')
if not r[1] or tonumber(r[4]) <= tonumber(ARGV[4]) or r[1] ~= ARGV[1] or r[2] ~= ARGV[2] then
  return {3}
end
if r[6] ~= '0' then
  if r[3] == ARGV[3] then return {1, tonumber(r[6])} end
  return {3}
end
if r[3] == ARGV[3] then
  redis.call('HSET', KEYS[1], 'verified', ARGV[4])
  return {1, tonumber(ARGV[4])}
end
local left = tonumber(r[5]) - 1
if left <= 0 then
  redis.call('DEL', KEYS[1])
  return {3}
end
redis.call('HSET', KEYS[1], 'attempts', left)
return {2, left}
`)

// StepUps keeps one-time-code challenges. Codes are never stored: only their MAC.
type StepUps struct {
	rdb *redisconn.Client
}

// NewStepUps returns the challenge store.
func NewStepUps(rdb *redisconn.Client) *StepUps { return &StepUps{rdb: rdb} }

// Start records a challenge unless one for the same (customer, purpose, binding)
// is pending and may not be resent yet; it returns the challenge in force and
// whether it is the new one (whose code must then be sent).
func (s *StepUps) Start(ctx context.Context, c domain.StepUpChallenge, binding, codeMAC string, now time.Time) (domain.StepUpChallenge, bool, error) {
	idx := s.rdb.Key("su-idx", c.CustomerID, string(c.Purpose), binding)
	res, err := startStepUpScript.Run(ctx, s.rdb, []string{idx, s.rdb.Key("su", c.ID)},
		s.rdb.Prefix(), c.ID, c.CustomerID, string(c.Purpose), binding, codeMAC, c.MaskedDestination,
		c.ExpiresAt.UnixMilli(), c.ResendAvailableAt.UnixMilli(), c.AttemptsLeft, now.UnixMilli()).Slice()
	if err != nil {
		return c, false, fmt.Errorf("redisstore: step-up: %w", err)
	}
	if res[0].(int64) == 1 {
		return c, true, nil
	}
	cur, err := s.Get(ctx, res[1].(string))
	return cur, false, err
}

// Forget drops a challenge whose code could not be sent, so a retry sends anew.
func (s *StepUps) Forget(ctx context.Context, c domain.StepUpChallenge, binding string) error {
	return s.rdb.Del(ctx, s.rdb.Key("su", c.ID), s.rdb.Key("su-idx", c.CustomerID, string(c.Purpose), binding)).Err()
}

// Get reads a challenge.
func (s *StepUps) Get(ctx context.Context, id string) (domain.StepUpChallenge, error) {
	m, err := s.rdb.HGetAll(ctx, s.rdb.Key("su", id)).Result()
	if err != nil {
		return domain.StepUpChallenge{}, fmt.Errorf("redisstore: step-up: %w", err)
	}
	if len(m) == 0 {
		return domain.StepUpChallenge{}, domain.ErrStepUpExpired
	}
	ms := func(k string) time.Time { v, _ := strconv.ParseInt(m[k], 10, 64); return time.UnixMilli(v) }
	attempts, _ := strconv.Atoi(m["attempts"])
	c := domain.StepUpChallenge{ID: id, CustomerID: m["customer"], Purpose: domain.StepUpPurpose(m["purpose"]),
		MaskedDestination: m["masked"], ExpiresAt: ms("exp"), ResendAvailableAt: ms("resend"), AttemptsLeft: attempts}
	if m["verified"] != "0" {
		c.VerifiedAt = ms("verified")
	}
	return c, nil
}

// Verify checks a code's MAC against the challenge.
func (s *StepUps) Verify(ctx context.Context, id, customerID, binding, codeMAC string, now time.Time) (domain.StepUpChallenge, error) {
	res, err := verifyStepUpScript.Run(ctx, s.rdb, []string{s.rdb.Key("su", id)}, customerID, binding, codeMAC, now.UnixMilli()).Slice()
	if err != nil {
		return domain.StepUpChallenge{}, fmt.Errorf("redisstore: step-up: %w", err)
	}
	switch res[0].(int64) {
	case 1:
		c, err := s.Get(ctx, id)
		if errors.Is(err, domain.ErrStepUpExpired) {
			// Verified just as it expired: the verification stands.
			c = domain.StepUpChallenge{ID: id, CustomerID: customerID}
			err = nil
		}
		c.VerifiedAt = time.UnixMilli(res[1].(int64))
		return c, err
	case 2:
		return domain.StepUpChallenge{}, &domain.StepUpInvalid{AttemptsLeft: int(res[1].(int64))}
	}
	return domain.StepUpChallenge{}, domain.ErrStepUpExpired
}

// DeviceChallenges are the one-time nonces devices sign to log in.
type DeviceChallenges struct {
	rdb *redisconn.Client
	ttl time.Duration
}

// NewDeviceChallenges returns the store; a challenge lives ttl.
func NewDeviceChallenges(rdb *redisconn.Client, ttl time.Duration) *DeviceChallenges {
	return &DeviceChallenges{rdb: rdb, ttl: ttl}
}

// Put records a challenge for a device.
func (d *DeviceChallenges) Put(ctx context.Context, challenge, deviceID string) error {
	return d.rdb.Set(ctx, d.rdb.Key("devch", digest(challenge)), deviceID, d.ttl).Err()
}

// Take consumes a challenge: it returns the device it was made for, once.
func (d *DeviceChallenges) Take(ctx context.Context, challenge string) (string, error) {
	id, err := d.rdb.GetDel(ctx, d.rdb.Key("devch", digest(challenge))).Result()
	if errors.Is(err, redis.Nil) {
		return "", domain.ErrDeviceChallenge
	}
	return id, err
}
