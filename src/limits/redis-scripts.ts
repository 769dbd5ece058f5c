/**
 * The Lua scripts of the Redis limiter. Each runs atomically inside Redis, so an admission
 * decision is one round trip with no check-then-set race between processes, and every
 * timestamp comes from the Redis server's `TIME`, never from a host's clock.
 *
 * Layout of one limit (`base` is `<prefix>{<key>}` so every key hashes to one cluster slot):
 *   base:pause                 a key whose PTTL is a shared pause (429 retry-after)
 *   base:seq                   admission sequence; its value names each log entry
 *   base:r:<windowMs>          requests window: sorted set, member = seq, score = admission ms
 *   base:t:<windowMs>          tokens window: sorted set as above
 *   base:t:<windowMs>:amt      tokens window: hash seq -> tokens charged (reconciliation edits it)
 *   base:t:<windowMs>:sum      tokens window: sum of the live amounts
 * An entry admitted at `s` counts at `now` while `s > now - windowMs`.
 */

/**
 * KEYS: pause, seq, then one set per requests window, then (set, amounts, sum) per tokens window.
 * ARGV: nRequests, nTokens, tokens, then (limit, windowMs) per requests window, then per tokens window.
 * Returns {1, seq, nowMs} when admitted, else {0, retryInMs, reason}; numbers as strings
 * because Redis truncates Lua numbers to integers.
 */
export const ADMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local paused = redis.call('PTTL', KEYS[1])
if paused > 0 then return {0, tostring(paused), 'paused'} end
local nr = tonumber(ARGV[1])
local nt = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local wait = 0
local reason = 'requests'
local k = 3
local a = 4
for i = 1, nr do
  local z = KEYS[k]
  local limit = tonumber(ARGV[a])
  local win = tonumber(ARGV[a + 1])
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now - win)
  local over = redis.call('ZCARD', z) + 1 - limit
  if over > 0 then
    local e = redis.call('ZRANGE', z, over - 1, over - 1, 'WITHSCORES')
    local d = win
    if e[2] then d = tonumber(e[2]) + win - now end
    if d > wait then wait = d end
  end
  k = k + 1
  a = a + 2
end
local sums = {}
for j = 1, nt do
  local z, h, s = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local limit = tonumber(ARGV[a])
  local win = tonumber(ARGV[a + 1])
  local used = tonumber(redis.call('GET', s) or '0') or 0
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', now - win)
  for b = 1, #old, 1000 do
    local batch = {unpack(old, b, math.min(b + 999, #old))}
    local amounts = redis.call('HMGET', h, unpack(batch))
    for _, v in ipairs(amounts) do used = used - (tonumber(v) or 0) end
    redis.call('HDEL', h, unpack(batch))
  end
  if #old > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now - win) end
  if redis.call('ZCARD', z) == 0 then
    -- An empty log resets the sum: no drift survives a quiet window or an expired set.
    used = 0
    redis.call('DEL', h, s)
  elseif #old > 0 then
    redis.call('SET', s, tostring(used), 'KEEPTTL')
  end
  sums[j] = used
  if tokens > 0 then
    local over = used + tokens - limit
    if over > 0 then
      local d = win
      if tokens <= limit then
        local start = 0
        while over > 0 do
          local e = redis.call('ZRANGE', z, start, start + 99, 'WITHSCORES')
          if #e == 0 then break end
          local ids = {}
          for x = 1, #e, 2 do ids[#ids + 1] = e[x] end
          local amounts = redis.call('HMGET', h, unpack(ids))
          for x = 1, #ids do
            over = over - (tonumber(amounts[x]) or 0)
            if over <= 0 then
              d = tonumber(e[2 * x]) + win - now
              break
            end
          end
          start = start + 100
        end
      end
      if d > wait then
        wait = d
        reason = 'tokens'
      end
    end
  end
  k = k + 3
  a = a + 2
end
if wait > 0 then return {0, tostring(wait), reason} end
local seq = redis.call('INCR', KEYS[2])
local member = tostring(seq)
k = 3
a = 4
for i = 1, nr do
  local ttl = math.ceil(tonumber(ARGV[a + 1])) + 1
  redis.call('ZADD', KEYS[k], now, member)
  redis.call('PEXPIRE', KEYS[k], ttl)
  k = k + 1
  a = a + 2
end
for j = 1, nt do
  local z, h, s = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local ttl = math.ceil(tonumber(ARGV[a + 1])) + 1
  redis.call('ZADD', z, now, member)
  redis.call('HSET', h, member, tostring(tokens))
  redis.call('SET', s, tostring(sums[j] + tokens), 'PX', ttl)
  redis.call('PEXPIRE', z, ttl)
  redis.call('PEXPIRE', h, ttl)
  k = k + 3
  a = a + 2
end
return {1, member, string.format('%.3f', now)}
`;

/**
 * Sets the actual tokens of an admitted entry in every tokens window where it is still live.
 * KEYS: (set, amounts, sum) per tokens window. ARGV: seq, actualTokens.
 */
export const RECONCILE_SCRIPT = `
local actual = tonumber(ARGV[2])
for k = 1, #KEYS, 3 do
  local h, s = KEYS[k + 1], KEYS[k + 2]
  local old = redis.call('HGET', h, ARGV[1])
  if old then
    redis.call('HSET', h, ARGV[1], tostring(actual))
    local used = (tonumber(redis.call('GET', s) or '0') or 0) + actual - tonumber(old)
    redis.call('SET', s, tostring(used), 'KEEPTTL')
  end
end
return 1
`;

/** Extends the shared pause to at least `ms` from now. KEYS: pause. ARGV: ms. */
export const PAUSE_SCRIPT = `
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], '1', 'PX', ms) end
return 1
`;
