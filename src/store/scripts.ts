/**
 * Lua scripts: the atomic primitives of the store. Each is a compare-and-set (a lease, or the
 * values a decision was made from, still as read) followed by the writes, so replicas never see
 * half a change and two replicas never both win. No script decides anything: what an event is and
 * what a turn does are decided in the core. Keys come from keys.ts (as KEYS, or as templates
 * where a script iterates over chats). Time comes from Redis (TIME), so every replica paces by
 * the same clock.
 */
import { CHAT } from './keys.js'

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

/** KEY_OF fills a key template from keys.ts with a chat id (for scripts that iterate over chats). */
const KEY_OF = `
local function keyOf(template, chat)
  local at = string.find(template, '${CHAT}', 1, true)
  return string.sub(template, 1, at - 1) .. chat .. string.sub(template, at + ${CHAT.length})
end
`

/**
 * COMMIT_EVENTS applies what the core decided about a notification's events (see core/events.ts),
 * only if every value the decision was made from is still what was read; else it changes nothing
 * and returns 0 (the store reads again and decides again). KEYS: due, pace, held chats.
 * ARGV: guards JSON [{key, field?, value?}] (value absent: the key or field was missing; the
 * chats' ids, /mute and events versions), writes JSON [{op: 'set', key, value, at} | {op: 'del', key}
 * | {op: 'zset', key, entries: [[score, member]], at} | {op: 'bump', key}] (at: expiry, ms since
 * epoch; bump: a chat's events version), queue JSON [{item, seq, chat, outbox} | {item, chat, held, hold}].
 * Returns 1 when applied, 2 when applied and a chat became due sooner than it was (it was not due
 * at all, or a held item is released earlier): only then has a sender anything new to look at.
 *
 * Queued items go to their outbox in the order notifications were stored (seq), whatever order
 * they are planned in, and make the chat due (no earlier than its pace); held ones wait in the
 * chat's held set until their time (CLAIM releases them).
 */
export const COMMIT_EVENTS = `${NOW}
local MAX_REORDER = 256
local function unchanged(g)
  local actual
  if g.field then actual = redis.call('HGET', g.key, g.field) else actual = redis.call('GET', g.key) end
  if actual == false then return g.value == nil end
  return actual == g.value
end
-- seqOf reads an item's arrival number: the first key of an item (at once, however large the item
-- is), or, in an item an earlier version stored, a top-level number found by searching
local function seqOf(item)
  return tonumber(string.match(item, '^{"seq":(%d+)') or string.match(item, '"seq":(%d+)') or '0')
end
-- append keeps the outbox in arrival order: notifications planned out of order (BullMQ starts
-- jobs in no fixed order; several replicas plan at once) go back past the few later ones already
-- queued, taken off the tail and put back (LINSERT would scan a storm's outbox from its head)
local function append(outbox, item, seq)
  local later = 0
  for i = 1, MAX_REORDER do
    local last = redis.call('LINDEX', outbox, -i)
    if not last or seqOf(last) <= seq then break end
    later = i
  end
  if later == 0 then
    redis.call('RPUSH', outbox, item)
    return
  end
  local moved = redis.call('LRANGE', outbox, -later, -1)
  redis.call('LTRIM', outbox, 0, -later - 1)
  redis.call('RPUSH', outbox, item, unpack(moved))
end
for _, g in ipairs(cjson.decode(ARGV[1])) do
  if not unchanged(g) then return 0 end
end
for _, w in ipairs(cjson.decode(ARGV[2])) do
  if w.op == 'set' then
    redis.call('SET', w.key, w.value, 'PXAT', w.at)
  elseif w.op == 'del' then
    redis.call('DEL', w.key)
  elseif w.op == 'zset' then
    redis.call('DEL', w.key)
    for _, entry in ipairs(w.entries) do redis.call('ZADD', w.key, entry[1], entry[2]) end
    redis.call('PEXPIREAT', w.key, w.at)
  elseif w.op == 'bump' then
    redis.call('INCR', w.key)
  end
end
local sooner = 0
for _, q in ipairs(cjson.decode(ARGV[3])) do
  if q.held then
    redis.call('ZADD', q.held, q.hold, q.item)
    sooner = sooner + redis.call('ZADD', KEYS[3], 'LT', 'CH', q.hold, q.chat)
  else
    append(q.outbox, q.item, q.seq)
    local paced = tonumber(redis.call('HGET', KEYS[2], q.chat) or '0')
    sooner = sooner + redis.call('ZADD', KEYS[1], 'NX', math.max(now, paced), q.chat)
  end
end
if sooner > 0 then return 2 end
return 1
`

/**
 * CLAIM releases held events whose hold ended, then leases a chat that is due, if the global pace
 * allows a call now. Of the chats due, the one whose next slot ends first (due + its class's pace:
 * private ~1 s, groups 3 s) goes first: when Telegram's overall limit is the bottleneck, a
 * private chat late by a second has lost a whole slot, a group a third of one.
 * KEYS: due, global pace, held chats, pace.
 * ARGV: held, outbox and lease key templates, lease token, lease ms, global interval ms, private
 * and group pace ms. Returns {chat, 0} or {'', ms to wait (-1: nothing due at all)}.
 */
export const CLAIM = `${NOW}${KEY_OF}
local heldOf, outboxOf, leaseOf = ARGV[1], ARGV[2], ARGV[3]
for _, chat in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 20)) do
  local held = keyOf(heldOf, chat)
  for _, item in ipairs(redis.call('ZRANGEBYSCORE', held, '-inf', now)) do
    redis.call('RPUSH', keyOf(outboxOf, chat), item)
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
local ends = due + (string.match(chat, '^[0-9]+$') and tonumber(ARGV[7]) or tonumber(ARGV[8]))
local ready = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 32)
for i = 3, #ready, 2 do
  local other = ready[i]
  local otherEnds = tonumber(ready[i + 1]) + (string.match(other, '^[0-9]+$') and tonumber(ARGV[7]) or tonumber(ARGV[8]))
  if otherEnds < ends then chat, ends = other, otherEnds end
end
local lease = tonumber(ARGV[5])
redis.call('SET', KEYS[2], now + tonumber(ARGV[6]), 'PX', 60000)
redis.call('ZADD', KEYS[1], now + lease, chat)
redis.call('SET', keyOf(leaseOf, chat), ARGV[4], 'PX', lease)
return {chat, 0}
`

/**
 * START_DELIVERY moves work into a chat's in-flight delivery, under the lease: the first items of
 * its outbox, or its first deferred edit; and defers the edits the delivery leaves for later.
 * KEYS: outbox, inflight, lease, edits. ARGV: token, items taken, 1 to take the first deferred
 * edit, delivery JSON, JSON list of edits to defer, id of the last item taken ('': do not check).
 * Returns 1; 0 when the lease is lost, or when the last item taken is not where it was read (the
 * planner put an earlier event before it meanwhile: taking by count would lose that one).
 */
export const START_DELIVERY = `
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
local take = tonumber(ARGV[2])
if ARGV[6] ~= '' then
  local ok, last = pcall(cjson.decode, redis.call('LINDEX', KEYS[1], take - 1) or '')
  if not ok or type(last) ~= 'table' or last.id ~= ARGV[6] then return 0 end
end
if take > 0 then redis.call('LTRIM', KEYS[1], take, -1) end
if ARGV[3] == '1' then redis.call('LPOP', KEYS[4]) end
for _, edit in ipairs(cjson.decode(ARGV[5])) do redis.call('RPUSH', KEYS[4], cjson.encode(edit)) end
redis.call('SET', KEYS[2], ARGV[4])
return 1
`

/**
 * PUSH_NOTICE queues something the bot has to say in a chat, ahead of its alerts, and makes the
 * chat due. KEYS: notices, due, pace, chatmap. ARGV: chat, notice JSON. Returns 1, or 0 when the
 * chat became a supergroup: a notice for it refers to its messages, which can no longer change.
 */
export const PUSH_NOTICE = `${NOW}
if redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1 then return 0 end
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
 * The mute is kept under the chat's origin, what it held under its current address.
 * KEYS: chat mutes, held chats, due, pace, chatmap, chat origins. ARGV: held and outbox key
 * templates, chat. Returns the number of events released.
 */
export const UNMUTE = `${NOW}${KEY_OF}
local chat = ARGV[3]
local origin = redis.call('HGET', KEYS[6], chat) or chat
local address = redis.call('HGET', KEYS[5], chat) or chat
local untilText = redis.call('HGET', KEYS[1], origin)
redis.call('HDEL', KEYS[1], origin)
if not untilText then return 0 end
local held = keyOf(ARGV[1], address)
local items = redis.call('ZRANGEBYSCORE', held, untilText, untilText)
for _, item in ipairs(items) do redis.call('RPUSH', keyOf(ARGV[2], address), item) end
redis.call('ZREMRANGEBYSCORE', held, untilText, untilText)
local nextHold = redis.call('ZRANGE', held, 0, 0, 'WITHSCORES')
if #nextHold > 0 then redis.call('ZADD', KEYS[2], nextHold[2], address) else redis.call('ZREM', KEYS[2], address) end
if #items > 0 then
  local paced = tonumber(redis.call('HGET', KEYS[4], address) or '0')
  redis.call('ZADD', KEYS[3], 'NX', math.max(now, paced), address)
end
return #items
`

/**
 * APPLY_FROM: the Lua function that applies a turn's writes, five arguments each from ARGV[from]
 * (store/delivery-store.ts flatWrites): op, key and three operands:
 * set key value ttl | hset key field value ttl | push key value cap | shift key value (drop the
 * list's head if it is still that value: a graph sent or skipped) | zadd key member score (only if
 * not there yet: a new alert message's escalation).
 * Flat, not JSON: a storm digest's last part writes its record and thousands of refs, and decoding
 * them as JSON doubled the time the script held Redis.
 */
const APPLY_FROM = `
local function applyFrom(from)
  for i = from, #ARGV, 5 do
    local op, key, a, b, c = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
    if op == 'shift' then
      if redis.call('LINDEX', key, 0) == a then redis.call('LPOP', key) end
    elseif op == 'set' then
      redis.call('SET', key, a, 'PX', b)
    elseif op == 'hset' then
      redis.call('HSET', key, a, b)
      redis.call('PEXPIRE', key, c)
    elseif op == 'push' then
      redis.call('LPUSH', key, a)
      redis.call('LTRIM', key, 0, tonumber(b) - 1)
    elseif op == 'zadd' then
      redis.call('ZADD', key, 'NX', b, a)
    end
  end
end
`

/**
 * APPLY_WRITES applies writes that may come ahead of the end of a turn, under the lease: the
 * thousands of refs a storm digest's last part writes go in pieces, so Redis serves webhooks
 * between them (store/delivery-store.ts complete).
 * KEYS: lease. ARGV: token, then the writes (APPLY_FROM). Returns 1, or 0 when the lease is lost.
 */
export const APPLY_WRITES = `${APPLY_FROM}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
applyFrom(2)
return 1
`

/**
 * COMPLETE records what one Telegram call changed and schedules the chat's next turn, under the lease.
 * KEYS: due, pace, lease, outbox, inflight, edits, notices, photos.
 * ARGV: token, chat, pace ms from now (0: no call made), delivery JSON ('' when done), retry in ms
 * (0: as soon as the pace allows), then the writes (APPLY_FROM).
 */
export const COMPLETE = `${NOW}${APPLY_FROM}
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
applyFrom(6)
if ARGV[4] == '' then redis.call('DEL', KEYS[5]) else redis.call('SET', KEYS[5], ARGV[4]) end
local chat = ARGV[2]
local paceMs = tonumber(ARGV[3])
if paceMs > 0 then redis.call('HSET', KEYS[2], chat, now + paceMs) end
if redis.call('EXISTS', KEYS[5]) == 1 or redis.call('LLEN', KEYS[4]) > 0 or redis.call('LLEN', KEYS[6]) > 0 or redis.call('LLEN', KEYS[7]) > 0 or redis.call('LLEN', KEYS[8]) > 0 then
  local paced = tonumber(redis.call('HGET', KEYS[2], chat) or '0')
  redis.call('ZADD', KEYS[1], math.max(now, paced, now + tonumber(ARGV[5])), chat)
else
  redis.call('ZREM', KEYS[1], chat)
end
redis.call('DEL', KEYS[3])
return 1
`

/**
 * MIGRATE_CHAT moves a chat to the supergroup it became, under the lease. What the sender works
 * through moves to the new address: outbox, held events, notices, the delivery in flight (unless
 * the new chat has one of its own: then it is a dead letter), and the turn; deferred edits are
 * dropped (they mark messages in the old group, which can no longer change). What alertwire
 * remembers about the chat's alerts stays under its origin, which the new id now leads to; events
 * routed to the old id (or any earlier one) go to the new address from now on.
 * KEYS: chatmap, chat origins, due, pace, held chats, dead letters, old lease, old outbox,
 * new outbox, old in-flight, new in-flight, old held, new held, old notices, new notices, old edits.
 * ARGV: old chat, new chat, lease token. Returns 1, or 0 when the lease is lost.
 */
export const MIGRATE_CHAT = `${NOW}
local old, new = ARGV[1], ARGV[2]
if redis.call('GET', KEYS[7]) ~= ARGV[3] then return 0 end
local origin = redis.call('HGET', KEYS[2], old) or old
if new ~= origin then redis.call('HSET', KEYS[2], new, origin) end
redis.call('HSET', KEYS[1], old, new)
for _, from in ipairs(redis.call('HKEYS', KEYS[1])) do
  if redis.call('HGET', KEYS[1], from) == old then redis.call('HSET', KEYS[1], from, new) end
end
redis.call('HDEL', KEYS[1], new)
-- outbox and notices: what waited for the old chat goes first
for _, pair in ipairs({{KEYS[8], KEYS[9]}, {KEYS[14], KEYS[15]}}) do
  local items = redis.call('LRANGE', pair[1], 0, -1)
  for i = #items, 1, -1 do redis.call('LPUSH', pair[2], items[i]) end
  redis.call('DEL', pair[1])
end
if redis.call('EXISTS', KEYS[12]) == 1 then
  redis.call('ZUNIONSTORE', KEYS[13], 2, KEYS[13], KEYS[12], 'AGGREGATE', 'MIN')
  redis.call('DEL', KEYS[12])
  redis.call('ZREM', KEYS[5], old)
  local first = redis.call('ZRANGE', KEYS[13], 0, 0, 'WITHSCORES')
  redis.call('ZADD', KEYS[5], first[2], new)
end
local inflight = redis.call('GET', KEYS[10])
if inflight then
  -- the new chat may have a delivery of its own in flight: never overwrite it; count this one dead
  if redis.call('SET', KEYS[11], inflight, 'NX') == false then
    redis.call('LPUSH', KEYS[6], cjson.encode({chat = new, reason = 'migration conflict', delivery = inflight}))
  end
  redis.call('DEL', KEYS[10])
end
redis.call('DEL', KEYS[16])
redis.call('ZREM', KEYS[3], old)
redis.call('HDEL', KEYS[4], old)
redis.call('ZADD', KEYS[3], now, new)
redis.call('DEL', KEYS[7])
return 1
`

/**
 * RETRY_LETTERS puts dead letters back to work, in the order given (oldest first), each only if
 * it is still among the dead letters: two operators retrying at once never send one twice. A
 * letter goes to its chat's current address (after a move to a supergroup): calls to say first
 * (notices), or items back at the end of the outbox; the chat is made due.
 * KEYS: dead letters, due, pace, chatmap. ARGV: notices and outbox key templates, JSON list of
 * {raw, chat, notices: [JSON], items: [JSON]}. Returns, per letter, 1 if retried, 0 if already gone.
 */
export const RETRY_LETTERS = `${NOW}${KEY_OF}
local done = {}
for i, letter in ipairs(cjson.decode(ARGV[3])) do
  done[i] = redis.call('LREM', KEYS[1], 1, letter.raw)
  if done[i] == 1 then
    local address = redis.call('HGET', KEYS[4], letter.chat) or letter.chat
    for _, notice in ipairs(letter.notices) do redis.call('RPUSH', keyOf(ARGV[1], address), notice) end
    for _, item in ipairs(letter.items) do redis.call('RPUSH', keyOf(ARGV[2], address), item) end
    local paced = tonumber(redis.call('HGET', KEYS[3], address) or '0')
    redis.call('ZADD', KEYS[2], 'NX', math.max(now, paced), address)
  end
end
return done
`
