/**
 * The Lua scripts of the Redis limiter. Each runs atomically inside Redis, so an admission
 * decision is one round trip with no check-then-set race between processes, and every
 * timestamp comes from the Redis server's `TIME`, never from a host's clock.
 *
 * Layout of one limit (`base` is `<prefix>{<key>}` so every key hashes to one cluster slot):
 *   base:pause                 a key whose PTTL is a shared pause (429 retry-after)
 *   base:r:<windowMs>          requests window: sorted set, member = admission id, score = time
 *   base:t:<windowMs>          tokens window: sorted set as above
 *   base:t:<windowMs>:amt      tokens window: hash id -> tokens charged (reconciliation edits it)
 *   base:t:<windowMs>:sum      tokens window: sum of the live amounts
 *
 * Send-time accounting: an admission is written *held*, with a score of `now + lease` (in the
 * future, so it counts in every window); `SENT` moves it to its send instant. A live process
 * renews the lease of its held members (`RENEW`), so a member whose process died stops
 * counting at most `lease + windowMs` after its last renewal. An entry with score `s` counts
 * at `now` while `s + windowMs > now`; a held one frees no earlier than `now + windowMs`.
 */

/** Shared Lua helpers: the server's time in ms (µs precision), and a TTL that only grows. */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local function extend(k, ms)
  ms = math.max(math.ceil(ms) + 1, 1)
  if redis.call('PTTL', k) < ms then redis.call('PEXPIRE', k, ms) end
end
`;

/**
 * The windows of SENT and RENEW, whose KEYS are one set per requests window (the first `nr`),
 * then (set, amounts, sum) per tokens window: `windows(nr)[w]` is {first key, last key} of window w.
 */
const WINDOWS = `
local function windows(nr)
  local out = {}
  local k = 1
  while k <= #KEYS do
    local last = k
    if #out >= nr then last = k + 2 end
    out[#out + 1] = {k, last}
    k = last + 1
  end
  return out
end
`;

/**
 * KEYS: pause, then one set per requests window, then (set, amounts, sum) per tokens window.
 * ARGV: nRequests, nTokens, tokens, member, leaseMs, then (limit, windowMs) per requests
 * window, then per tokens window.
 * Returns {1, member, nowMs} when admitted, else {0, retryInMs, reason}; numbers as strings
 * because Redis truncates Lua numbers to integers.
 */
export const ADMIT_SCRIPT = `${PRELUDE}
local paused = redis.call('PTTL', KEYS[1])
if paused > 0 then return {0, tostring(paused), 'paused'} end
local nr = tonumber(ARGV[1])
local nt = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local member = ARGV[4]
local lease = tonumber(ARGV[5])
local wait = 0
local reason = 'requests'
local k = 2
local a = 6
for i = 1, nr do
  local z = KEYS[k]
  local limit = tonumber(ARGV[a])
  local win = tonumber(ARGV[a + 1])
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now - win)
  local over = redis.call('ZCARD', z) + 1 - limit
  if over > 0 then
    local e = redis.call('ZRANGE', z, over - 1, over - 1, 'WITHSCORES')
    local d = win
    if e[2] then d = math.min(tonumber(e[2]), now) + win - now end
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
              d = math.min(tonumber(e[2 * x]), now) + win - now
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
local held = now + lease
k = 2
a = 6
for i = 1, nr do
  redis.call('ZADD', KEYS[k], held, member)
  extend(KEYS[k], lease + tonumber(ARGV[a + 1]))
  k = k + 1
  a = a + 2
end
for j = 1, nt do
  local z, h, s = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local ttl = lease + tonumber(ARGV[a + 1])
  redis.call('ZADD', z, held, member)
  redis.call('HSET', h, member, tostring(tokens))
  redis.call('SET', s, tostring(sums[j] + tokens), 'KEEPTTL')
  extend(z, ttl)
  extend(h, ttl)
  extend(s, ttl)
  k = k + 3
  a = a + 2
end
return {1, member, string.format('%.3f', now)}
`;

/**
 * Places a held member at its send instant: `now - agoMs` by the server's clock, never before
 * `floorMs` (its admission), in every window where it is still present; then lets each key
 * expire one window after its newest entry.
 * KEYS: one set per requests window, then (set, amounts, sum) per tokens window.
 * ARGV: nRequests, member, agoMs, floorMs, then windowMs per requests window, then per tokens window.
 */
export const SENT_SCRIPT = `${PRELUDE}${WINDOWS}
local member = ARGV[2]
local score = now - tonumber(ARGV[3])
local floor = tonumber(ARGV[4])
if score < floor then score = floor end
for w, keys in ipairs(windows(tonumber(ARGV[1]))) do
  local z = KEYS[keys[1]]
  local s = redis.call('ZSCORE', z, member)
  if s and tonumber(s) > score then
    redis.call('ZADD', z, score, member)
    local top = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
    local ttl = math.ceil(tonumber(top[2]) + tonumber(ARGV[4 + w]) - now) + 1
    for x = keys[1], keys[2] do redis.call('PEXPIRE', KEYS[x], math.max(ttl, 1)) end
  end
end
return 1
`;

/**
 * Renews the lease of members still held (score in the future).
 * KEYS and window ARGV as SENT. ARGV: nRequests, leaseMs, then windowMs per window, then the members.
 */
export const RENEW_SCRIPT = `${PRELUDE}${WINDOWS}
local lease = tonumber(ARGV[2])
local ws = windows(tonumber(ARGV[1]))
local first = 3 + #ws
for w, keys in ipairs(ws) do
  local z = KEYS[keys[1]]
  local renewed = false
  for m = first, #ARGV do
    local s = redis.call('ZSCORE', z, ARGV[m])
    if s and tonumber(s) > now then
      redis.call('ZADD', z, now + lease, ARGV[m])
      renewed = true
    end
  end
  if renewed then
    for x = keys[1], keys[2] do extend(KEYS[x], lease + tonumber(ARGV[2 + w])) end
  end
end
return 1
`;

/**
 * After Redis was unreachable (down, restarted empty, or too slow): writes this process's own
 * admissions of the last window as they stand (held, or placed at their send instant), and
 * removes the admissions whose answer never arrived (they were refused here, so never sent).
 * KEYS: as ADMIT. ARGV: nRequests, nTokens, leaseMs, nEntries, nLost, then (limit, windowMs)
 * per window as ADMIT, then per entry (member, agoMs or -1 when held, floorMs, tokens), then
 * the lost members.
 */
export const SYNC_SCRIPT = `${PRELUDE}
local nr = tonumber(ARGV[1])
local nt = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local ne = tonumber(ARGV[4])
local nl = tonumber(ARGV[5])
local wins = {}
for w = 1, nr + nt do wins[w] = tonumber(ARGV[5 + 2 * w]) end
local e0 = 6 + 2 * (nr + nt)
local l0 = e0 + 4 * ne
local function adjustSum(s, delta, ttl)
  local used = (tonumber(redis.call('GET', s) or '0') or 0) + delta
  redis.call('SET', s, tostring(used), 'KEEPTTL')
  extend(s, ttl)
end
for e = 0, ne - 1 do
  local member = ARGV[e0 + 4 * e]
  local ago = tonumber(ARGV[e0 + 4 * e + 1])
  local score = now + lease
  if ago >= 0 then score = math.max(now - ago, tonumber(ARGV[e0 + 4 * e + 2])) end
  local tokens = tonumber(ARGV[e0 + 4 * e + 3])
  local k = 2
  for w = 1, nr do
    redis.call('ZADD', KEYS[k], score, member)
    extend(KEYS[k], score + wins[w] - now)
    k = k + 1
  end
  for w = nr + 1, nr + nt do
    local z, h, s = KEYS[k], KEYS[k + 1], KEYS[k + 2]
    local ttl = math.max(score, now) + wins[w] - now
    local old = tonumber(redis.call('HGET', h, member) or '0') or 0
    redis.call('HSET', h, member, tostring(tokens))
    adjustSum(s, tokens - old, ttl)
    redis.call('ZADD', z, score, member)
    extend(z, ttl)
    extend(h, ttl)
    k = k + 3
  end
end
for x = l0, l0 + nl - 1 do
  local member = ARGV[x]
  local k = 2
  for w = 1, nr do
    redis.call('ZREM', KEYS[k], member)
    k = k + 1
  end
  for w = nr + 1, nr + nt do
    local z, h, s = KEYS[k], KEYS[k + 1], KEYS[k + 2]
    local old = redis.call('HGET', h, member)
    if old then
      redis.call('HDEL', h, member)
      local used = (tonumber(redis.call('GET', s) or '0') or 0) - tonumber(old)
      redis.call('SET', s, tostring(used), 'KEEPTTL')
    end
    redis.call('ZREM', z, member)
    k = k + 3
  end
end
return 1
`;

/**
 * Sets the actual tokens of an admitted entry in every tokens window where it is still live.
 * KEYS: (set, amounts, sum) per tokens window. ARGV: member, actualTokens.
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
