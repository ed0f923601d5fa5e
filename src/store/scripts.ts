/**
 * Lua scripts: each state change the pipeline makes in Redis is one atomic script, so replicas
 * never see half a change and two replicas never both win the same check. Time comes from Redis
 * (TIME), so every replica paces by the same clock.
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

/**
 * COMMIT_EVENTS queues candidate events that are new for their chat. KEYS: due, pace, chatmap, held chats.
 * ARGV: prefix, ttl ms, early-resolve ttl ms, flapping window ms, flapping threshold,
 * JSON [{chat, thread, fp, status, startsAt, require, every, hold, seq, item}].
 * Returns one result per candidate: queued | held | repeated | duplicate | unannounced | stale.
 *
 * The outcome does not depend on the order notifications are planned in: a resolve that comes
 * before its firing (retries, replicas, a backlog) waits for it, and when the firing comes both
 * are queued, firing first; a firing after a resolve that was already sent is stale. A firing
 * seen again after its repeat interval is queued once more as a reminder. Each new firing is
 * counted in the alert's flapping window; past the threshold the item says how often it flapped.
 * A chat muted with /mute holds its events until the mute ends (critical ones as configured).
 * Each outbox stays in the order notifications were stored (item.seq), whatever order they are
 * planned in.
 */
export const COMMIT_EVENTS = `${NOW}
local MAX_REORDER = 64
local prefix, ttl, earlyTtl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local flapWindow, flapThreshold, criticalWhenMuted = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
-- seqOf reads an item's arrival number (a top-level number; nested values are all strings)
local function seqOf(item)
  return tonumber(string.match(item, '"seq":(%d+)') or '0')
end
-- append keeps the outbox in arrival order: notifications planned out of order (several at a
-- time, on several replicas) go back past the few later ones already queued
local function append(outbox, item, seq)
  local pivot
  for i = 1, MAX_REORDER do
    local later = redis.call('LINDEX', outbox, -i)
    if not later or seqOf(later) <= seq then break end
    pivot = later
  end
  if pivot then redis.call('LINSERT', outbox, 'BEFORE', pivot, item) else redis.call('RPUSH', outbox, item) end
end
local function enqueue(chat, item, hold, seq)
  if hold and hold > now then
    redis.call('ZADD', prefix .. ':held:' .. chat, hold, item)
    redis.call('ZADD', KEYS[4], 'LT', hold, chat)
    return 'held'
  end
  append(prefix .. ':outbox:' .. chat, item, seq)
  local paced = tonumber(redis.call('HGET', KEYS[2], chat) or '0')
  redis.call('ZADD', KEYS[1], 'NX', math.max(now, paced), chat)
  return 'queued'
end
local function with(item, field, value)
  local decoded = cjson.decode(item)
  decoded[field] = value
  return cjson.encode(decoded)
end
local function flaps(key, add, startsAt)
  if flapThreshold <= 0 then return 0 end
  if add then
    redis.call('ZADD', key, now, startsAt)
    redis.call('PEXPIRE', key, flapWindow)
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - flapWindow)
  return redis.call('ZCARD', key)
end
local results = {}
for i, c in ipairs(cjson.decode(ARGV[7])) do
  local chat = redis.call('HGET', KEYS[3], c.chat) or c.chat
  local mutedUntil = tonumber(redis.call('HGET', KEYS[5], chat) or '0')
  if mutedUntil > now then
    if not c.critical or criticalWhenMuted == 'hold' then
      c.hold = math.max(c.hold, mutedUntil)
    elseif criticalWhenMuted == 'silent' then
      c.item = with(c.item, 'silent', true)
    end
  end
  local event = chat .. '/' .. c.thread .. '/' .. c.fp .. '/'
  local seen = prefix .. ':seen:' .. event
  local early = prefix .. ':early:' .. event .. c.startsAt
  local repeatKey = prefix .. ':repeat:' .. event .. c.startsAt
  local flapKey = prefix .. ':flap:' .. event
  local result
  if not redis.call('SET', seen .. c.status .. '/' .. c.startsAt, now, 'NX', 'PX', ttl) then
    result = 'duplicate'
    if c.status == 'firing' and c.every > 0 and redis.call('EXISTS', seen .. 'resolved/' .. c.startsAt) == 0
      and redis.call('SET', repeatKey, now, 'NX', 'PX', c.every) then
      if enqueue(chat, with(c.item, 'repeat', true), c.hold, c.seq) ~= 'held' then result = 'repeated' else result = 'held' end
    end
  elseif c.status == 'firing' and redis.call('EXISTS', seen .. 'resolved/' .. c.startsAt) == 1 then
    local waiting = redis.call('GET', early)
    if waiting then
      enqueue(chat, c.item, c.hold, c.seq)
      -- the resolve may have been stored first: it still goes after its firing
      if seqOf(waiting) < c.seq then waiting = with(waiting, 'seq', c.seq) end
      result = enqueue(chat, waiting, c.hold, c.seq)
      redis.call('DEL', early)
    else
      result = 'stale'
    end
  elseif c.status == 'resolved' and c.require and redis.call('EXISTS', seen .. 'firing/' .. c.startsAt) == 0 then
    redis.call('SET', early, c.item, 'PX', earlyTtl)
    result = 'unannounced'
  else
    local item = c.item
    local count = flaps(flapKey, c.status == 'firing', c.startsAt)
    if flapThreshold > 0 and count >= flapThreshold then item = with(item, 'flaps', count) end
    if c.status == 'firing' and c.every > 0 then redis.call('SET', repeatKey, now, 'PX', c.every) end
    result = enqueue(chat, item, c.hold, c.seq)
  end
  results[i] = result
end
return results
`

/**
 * CLAIM releases held events whose mute window ended, then leases the chat that is due first, if
 * the global pace allows a call now. KEYS: due, global pace, held chats, pace.
 * ARGV: prefix, lease token, lease ms, global interval ms.
 * Returns {chat, 0} or {'', ms to wait (-1: nothing due at all)}.
 */
export const CLAIM = `${NOW}
local prefix = ARGV[1]
for _, chat in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 20)) do
  local held = prefix .. ':held:' .. chat
  for _, item in ipairs(redis.call('ZRANGEBYSCORE', held, '-inf', now)) do
    redis.call('RPUSH', prefix .. ':outbox:' .. chat, item)
  end
  redis.call('ZREMRANGEBYSCORE', held, '-inf', now)
  local nextHold = redis.call('ZRANGE', held, 0, 0, 'WITHSCORES')
  if #nextHold > 0 then redis.call('ZADD', KEYS[3], nextHold[2], chat) else redis.call('ZREM', KEYS[3], chat) end
  local paced = tonumber(redis.call('HGET', KEYS[4], chat) or '0')
  redis.call('ZADD', KEYS[1], 'NX', math.max(now, paced), chat)
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local nextRelease = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
local releaseIn = #nextRelease > 0 and (tonumber(nextRelease[2]) - now) or -1
if #head == 0 then return {'', releaseIn} end
local chat, due = head[1], tonumber(head[2])
if due > now then
  if releaseIn >= 0 and releaseIn < due - now then return {'', releaseIn} end
  return {'', due - now}
end
local global = tonumber(redis.call('GET', KEYS[2]) or '0')
if global > now then return {'', global - now} end
local lease = tonumber(ARGV[3])
redis.call('SET', KEYS[2], now + tonumber(ARGV[4]), 'PX', 60000)
redis.call('ZADD', KEYS[1], now + lease, chat)
redis.call('SET', prefix .. ':lease:' .. chat, ARGV[2], 'PX', lease)
return {chat, 0}
`

/**
 * START_DELIVERY moves work into a chat's in-flight delivery, under the lease: the first items of
 * its outbox, or its first deferred edit; and defers the edits the delivery leaves for later.
 * KEYS: outbox, inflight, lease, edits. ARGV: token, items taken, 1 to take the first deferred
 * edit, delivery JSON, JSON list of edits to defer. Returns 1, or 0 when the lease is lost.
 */
export const START_DELIVERY = `
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
local take = tonumber(ARGV[2])
if take > 0 then redis.call('LTRIM', KEYS[1], take, -1) end
if ARGV[3] == '1' then redis.call('LPOP', KEYS[4]) end
for _, edit in ipairs(cjson.decode(ARGV[5])) do redis.call('RPUSH', KEYS[4], cjson.encode(edit)) end
redis.call('SET', KEYS[2], ARGV[4])
return 1
`

/**
 * PUSH_NOTICE queues something the bot has to say in a chat, ahead of its alerts, and makes the
 * chat due. KEYS: notices, due, pace. ARGV: chat, notice JSON.
 */
export const PUSH_NOTICE = `${NOW}
redis.call('RPUSH', KEYS[1], ARGV[2])
local paced = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
redis.call('ZADD', KEYS[2], 'NX', math.max(now, paced), ARGV[1])
return 1
`

/**
 * TAKE_NOTICES moves the first notices into the chat's in-flight delivery, under the lease.
 * KEYS: notices, inflight, lease. ARGV: token, notices taken, delivery JSON. Returns 1, or 0 when the lease is lost.
 */
export const TAKE_NOTICES = `
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
redis.call('SET', KEYS[2], ARGV[3])
return 1
`

/**
 * UNMUTE ends a chat's /mute: what it held is released at once (holds of mute windows stay).
 * KEYS: chat mutes, held chats, due, pace. ARGV: prefix, chat. Returns the number of events released.
 */
export const UNMUTE = `${NOW}
local prefix, chat = ARGV[1], ARGV[2]
local untilText = redis.call('HGET', KEYS[1], chat)
redis.call('HDEL', KEYS[1], chat)
if not untilText then return 0 end
local held = prefix .. ':held:' .. chat
local items = redis.call('ZRANGEBYSCORE', held, untilText, untilText)
for _, item in ipairs(items) do redis.call('RPUSH', prefix .. ':outbox:' .. chat, item) end
redis.call('ZREMRANGEBYSCORE', held, untilText, untilText)
local nextHold = redis.call('ZRANGE', held, 0, 0, 'WITHSCORES')
if #nextHold > 0 then redis.call('ZADD', KEYS[2], nextHold[2], chat) else redis.call('ZREM', KEYS[2], chat) end
if #items > 0 then
  local paced = tonumber(redis.call('HGET', KEYS[4], chat) or '0')
  redis.call('ZADD', KEYS[3], 'NX', math.max(now, paced), chat)
end
return #items
`

/**
 * COMPLETE records what one Telegram call changed and schedules the chat's next turn, under the lease.
 * KEYS: due, pace, lease, outbox, inflight, edits, notices.
 * ARGV: token, chat, pace ms from now (0: no call made), delivery JSON ('' when done), writes JSON,
 * retry in ms (0: as soon as the pace allows).
 * Writes: [{op:'set', key, value, ttl} | {op:'hset', key, field, value, ttl} | {op:'push', key, value, cap}].
 */
export const COMPLETE = `${NOW}
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
for _, w in ipairs(cjson.decode(ARGV[5])) do
  if w.op == 'set' then
    redis.call('SET', w.key, w.value, 'PX', w.ttl)
  elseif w.op == 'hset' then
    redis.call('HSET', w.key, w.field, w.value)
    redis.call('PEXPIRE', w.key, w.ttl)
  elseif w.op == 'push' then
    redis.call('LPUSH', w.key, w.value)
    redis.call('LTRIM', w.key, 0, w.cap - 1)
  end
end
if ARGV[4] == '' then redis.call('DEL', KEYS[5]) else redis.call('SET', KEYS[5], ARGV[4]) end
local chat = ARGV[2]
local paceMs = tonumber(ARGV[3])
if paceMs > 0 then redis.call('HSET', KEYS[2], chat, now + paceMs) end
if redis.call('EXISTS', KEYS[5]) == 1 or redis.call('LLEN', KEYS[4]) > 0 or redis.call('LLEN', KEYS[6]) > 0 or redis.call('LLEN', KEYS[7]) > 0 then
  local paced = tonumber(redis.call('HGET', KEYS[2], chat) or '0')
  redis.call('ZADD', KEYS[1], math.max(now, paced, now + tonumber(ARGV[6])), chat)
else
  redis.call('ZREM', KEYS[1], chat)
end
redis.call('DEL', KEYS[3])
return 1
`

/**
 * MIGRATE_CHAT moves a chat's pending work to the supergroup it became and remembers the move, so
 * events routed to the old id land in the new chat. KEYS: chatmap, due, pace.
 * ARGV: prefix, old chat, new chat, lease token. Returns 1, or 0 when the lease is lost.
 * An in-flight delivery moves along unless the new chat has one of its own (then it is a dead letter).
 */
export const MIGRATE_CHAT = `${NOW}
local prefix, old, new = ARGV[1], ARGV[2], ARGV[3]
if redis.call('GET', prefix .. ':lease:' .. old) ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[1], old, new)
for _, from in ipairs(redis.call('HKEYS', KEYS[1])) do
  if redis.call('HGET', KEYS[1], from) == old then redis.call('HSET', KEYS[1], from, new) end
end
local items = redis.call('LRANGE', prefix .. ':outbox:' .. old, 0, -1)
for i = #items, 1, -1 do redis.call('LPUSH', prefix .. ':outbox:' .. new, items[i]) end
redis.call('DEL', prefix .. ':outbox:' .. old)
local inflight = redis.call('GET', prefix .. ':inflight:' .. old)
if inflight then
  -- the new chat may have a delivery of its own in flight: never overwrite it; count this one dead
  if redis.call('SET', prefix .. ':inflight:' .. new, inflight, 'NX') == false then
    redis.call('LPUSH', prefix .. ':dead', cjson.encode({chat = new, reason = 'migration conflict', delivery = inflight}))
  end
  redis.call('DEL', prefix .. ':inflight:' .. old)
end
redis.call('ZREM', KEYS[2], old)
redis.call('HDEL', KEYS[3], old)
redis.call('ZADD', KEYS[2], now, new)
redis.call('DEL', prefix .. ':lease:' .. old)
return 1
`
