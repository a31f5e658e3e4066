package redisstore

import "github.com/redis/go-redis/v9"

// Every script runs atomically in Redis: that is what makes a code redeemable once
// and a refresh token rotatable once when requests race, and what keeps a family's
// revocation and a new token of the same family from interleaving.
//
// Some scripts build key names from the prefix passed in ARGV (a family's keys are
// found from a record): fine on a single Redis or a replicated one, not on Redis
// Cluster, where every key must be declared.

// revokeFamilyLua is shared by the scripts that revoke a family. Arguments: the
// prefix, the family id, now (Unix seconds), the family's end (Unix ms), the
// revocation list key. It marks the family revoked, marks each live access token's
// jti revoked until its expiry, and queues a revocation event per jti; it returns
// the number of jtis revoked, 0 when the family was already revoked.
const revokeFamilyLua = `
local function revoke_family(prefix, fam, now, fam_end, list)
  local revoked = prefix .. 'fam:' .. fam .. ':revoked'
  if not redis.call('SET', revoked, '1', 'NX', 'PXAT', fam_end) then
    return 0
  end
  local jtis = redis.call('ZRANGEBYSCORE', prefix .. 'fam:' .. fam .. ':jti', '(' .. now, '+inf', 'WITHSCORES')
  for i = 1, #jtis, 2 do
    local exp = tonumber(jtis[i + 1])
    redis.call('SET', prefix .. 'jti:' .. jtis[i], '1', 'PXAT', exp * 1000)
    redis.call('RPUSH', list, cjson.encode({k = 'jti', jti = jtis[i], exp = exp}))
  end
  return #jtis / 2
end
`

// takeCodeScript redeems a code: it deletes the code and leaves a "used" record in
// its place. KEYS: code, used. ARGV: how long the used record lasts (ms).
// Returns {1, record} the first time, {2, record} on reuse, {0, ”} for an unknown
// or expired code.
var takeCodeScript = redis.NewScript(`
local v = redis.call('GETDEL', KEYS[1])
if v then
  redis.call('SET', KEYS[2], v, 'PX', ARGV[1])
  return {1, v}
end
local u = redis.call('GET', KEYS[2])
if u then
  return {2, u}
end
return {0, ''}
`)

// revokeFamilyScript revokes a family. ARGV: prefix, family, now (s), family end
// (ms), revocation list.
var revokeFamilyScript = redis.NewScript(revokeFamilyLua + `
return revoke_family(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
`)

// issueScript records tokens issued under a family, unless the family or its
// subject's tokens were revoked meanwhile. KEYS: family revoked marker, family jti
// set, subject revoked-before, refresh record. ARGV: jti, its expiry (s), family
// end (ms), family start (ms), '1' when a refresh token is issued, client,
// family, subject, record, refresh end (ms). Returns 1, or 0 when refused.
var issueScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local rb = redis.call('GET', KEYS[3])
if rb and tonumber(rb) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[4], 'state', 'live', 'client', ARGV[6], 'fam', ARGV[7], 'sub', ARGV[8], 'fam_at', ARGV[4], 'fam_end', ARGV[3], 'data', ARGV[9])
  redis.call('PEXPIREAT', KEYS[4], ARGV[10])
end
return 1
`)

// claimRefreshScript rotates a refresh token: a live one becomes a tombstone and
// its record is returned; presenting a tombstone again is reuse and revokes the
// family. KEYS: refresh record. ARGV: expected client, prefix, now (s), revocation
// list. Returns {1, record} claimed; {2, family, subject, client} reuse (family
// revoked now); {3} another client's token (nothing changed); {4} revoked;
// {0} unknown.
var claimRefreshScript = redis.NewScript(revokeFamilyLua + `
local r = redis.call('HMGET', KEYS[1], 'state', 'client', 'fam', 'sub', 'fam_at', 'fam_end', 'data')
if not r[1] then
  return {0}
end
if r[2] ~= ARGV[1] then
  return {3}
end
if redis.call('EXISTS', ARGV[2] .. 'fam:' .. r[3] .. ':revoked') == 1 then
  return {4}
end
local rb = redis.call('GET', ARGV[2] .. 'sub:' .. r[4] .. ':rb')
if rb and tonumber(rb) >= tonumber(r[5]) then
  return {4}
end
if r[1] == 'live' then
  redis.call('HSET', KEYS[1], 'state', 'rotated')
  redis.call('HDEL', KEYS[1], 'data')
  return {1, r[7]}
end
revoke_family(ARGV[2], r[3], ARGV[3], r[6], ARGV[4])
return {2, r[3], r[4], r[2]}
`)

// peekRefreshScript reads a refresh record without changing it, for revocation and
// introspection. KEYS: refresh record. ARGV: prefix. Returns {state, client,
// family, subject, record, revoked '1'/'0'} or {} when unknown.
var peekRefreshScript = redis.NewScript(`
local r = redis.call('HMGET', KEYS[1], 'state', 'client', 'fam', 'sub', 'fam_at', 'fam_end', 'data')
if not r[1] then
  return {}
end
local revoked = '0'
if redis.call('EXISTS', ARGV[1] .. 'fam:' .. r[3] .. ':revoked') == 1 then
  revoked = '1'
end
local rb = redis.call('GET', ARGV[1] .. 'sub:' .. r[4] .. ':rb')
if rb and tonumber(rb) >= tonumber(r[5]) then
  revoked = '1'
end
return {r[1], r[2], r[3], r[4], r[7] or '', revoked, r[6]}
`)

// revokeJTIScript revokes one access token. KEYS: jti marker, revocation list.
// ARGV: jti, expiry (s). Returns 1 when newly revoked.
var revokeJTIScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], '1', 'NX', 'PXAT', tonumber(ARGV[2]) * 1000) then
  return 0
end
redis.call('RPUSH', KEYS[2], cjson.encode({k = 'jti', jti = ARGV[1], exp = tonumber(ARGV[2])}))
return 1
`)

// revokeSubjectScript moves a subject's revoked-before time forward (never back).
// KEYS: subject marker, revocation list. ARGV: subject, now (ms), how long to
// keep the marker (ms), expiry of the last access token it affects (s).
// Returns the revoked-before time in force (ms).
var revokeSubjectScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) >= tonumber(ARGV[2]) then
  return tonumber(cur)
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('RPUSH', KEYS[2], cjson.encode({k = 'sub', sub = ARGV[1], before = tonumber(ARGV[2]), exp = tonumber(ARGV[4])}))
return tonumber(ARGV[2])
`)
