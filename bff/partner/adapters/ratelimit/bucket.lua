-- Token bucket, one hash per key: tokens (a float) and ts (microseconds).
-- KEYS[1] the bucket; ARGV: burst, tokens per second, now (µs), ttl (ms).
-- Returns {allowed 0/1, whole tokens left, µs until one token is back}.
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])

local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens, ts = burst, now
end
-- A clock behind the stored one (another replica's) refills nothing.
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1e6)
  ts = now
end

local allowed, wait = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1e6 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%d', ts))
redis.call('PEXPIRE', KEYS[1], ttl)
return {allowed, math.floor(tokens), wait}
