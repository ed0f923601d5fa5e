/**
 * EscalationStore: the Redis side of escalation. A sorted set holds when each alert message's
 * escalation is next due (member `chat/messageId`); a hash per message holds its state (policy,
 * how many times a step fired, first send, last firing, parked). The sender schedules a new alert
 * message in the same script that saves its record (scheduleWrites, applied by COMPLETE). The
 * watcher advances a message with one compare-and-set (ESCALATE): only if the step count is still
 * the one it planned from, and in the same script it pushes the step's notices to the chats and
 * reschedules. So two replicas never fire one step twice, and a restart neither repeats a step
 * (it was counted with its notices) nor skips one (it is counted only with its notices).
 */
import type { Redis } from 'ioredis'
import type { EscalationState, PlannedNotice } from '../core/escalation.js'
import type { Write } from './delivery-store.js'
import { keysFor, type Keys } from './keys.js'

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

/**
 * ESCALATE advances one message's escalation if its step count is still ARGV[2]; else it changes
 * nothing and returns 0 (another replica, or an earlier run, did it). Then it sets the state's
 * fields, pushes the notices to their chats (as PUSH_NOTICE: ahead of their alerts, the chat made
 * due; dropped for a group that became a supergroup) and reschedules, or ends the escalation.
 * KEYS: due set, state hash, chats due, pace, chatmap, then one notices list per notice.
 * ARGV: member, expected fired count, fields JSON {name: value ('' deletes)}, next due ms ('' ends it),
 * state ttl ms, JSON list of the notices' chats, then one notice JSON per notice. Returns 1 when applied.
 */
export const ESCALATE = `${NOW}
local fired = redis.call('HGET', KEYS[2], 'fired')
if fired ~= ARGV[2] then return 0 end
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('DEL', KEYS[2])
else
  for name, value in pairs(cjson.decode(ARGV[3])) do
    if value == '' then redis.call('HDEL', KEYS[2], name) else redis.call('HSET', KEYS[2], name, value) end
  end
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[5]))
  redis.call('ZADD', KEYS[1], tonumber(ARGV[4]), ARGV[1])
end
for i, chat in ipairs(cjson.decode(ARGV[6])) do
  if redis.call('HEXISTS', KEYS[5], chat) == 0 then
    redis.call('RPUSH', KEYS[5 + i], ARGV[6 + i])
    local paced = tonumber(redis.call('HGET', KEYS[4], chat) or '0')
    redis.call('ZADD', KEYS[3], 'NX', math.max(now, paced), chat)
  end
end
return 1
`

/** DueEscalation: a message whose escalation is due, with its state (undefined: the state expired). */
export interface DueEscalation {
  member: string
  chat: string
  messageId: number
  state: EscalationState | undefined
}

/** Advance: what one compare-and-set writes: the new state (or the end), and the notices. */
export interface Advance {
  /** the fired count the plan was made from */
  expected: number
  /** the state after; undefined ends the escalation (its entry and state are removed) */
  next: { state: EscalationState; dueAt: number } | undefined
  notices: readonly PlannedNotice[]
}

/** memberOf: a message's entry in the due set. */
export function memberOf(chat: string, messageId: number): string {
  return `${chat}/${messageId}`
}

function parseState(raw: Record<string, string>): EscalationState | undefined {
  if (raw.fired === undefined || raw.policy === undefined || raw.firstSentAt === undefined) return undefined
  return {
    policy: raw.policy,
    fired: Number(raw.fired),
    firstSentAt: Number(raw.firstSentAt),
    ...(raw.lastFiredAt ? { lastFiredAt: Number(raw.lastFiredAt) } : {}),
    ...(raw.parked === '1' ? { parked: true } : {}),
  }
}

type ScriptRedis = Redis & { awEscalate: (...args: (string | number)[]) => Promise<unknown> }

/** EscalationStore: see the file comment. */
export class EscalationStore {
  readonly keys: Keys
  private readonly redis: ScriptRedis

  constructor(
    redis: Redis,
    prefix: string,
    private readonly ttlMs: number,
  ) {
    this.keys = keysFor(prefix)
    this.redis = redis as ScriptRedis
    // no fixed key count: one notices list per notice follows the fixed keys
    if (!('awEscalate' in redis)) redis.defineCommand('awEscalate', { lua: ESCALATE })
  }

  /** scheduleWrites start a new alert message's escalation; the sender applies them with the record (COMPLETE). */
  scheduleWrites(chat: string, messageId: number, policy: string, firstSentAt: number, dueAt: number): Write[] {
    const key = this.keys.escalation(chat, messageId)
    const field = (name: string, value: string): Write => ({ op: 'hset', key, field: name, value, ttl: this.ttlMs })
    return [
      field('policy', policy),
      field('fired', '0'),
      field('firstSentAt', String(firstSentAt)),
      { op: 'zadd', key: this.keys.escalationDue, member: memberOf(chat, messageId), score: dueAt },
    ]
  }

  /** schedule starts an escalation directly (what scheduleWrites do, for tools and tests); an existing one is kept. */
  async schedule(chat: string, messageId: number, policy: string, firstSentAt: number, dueAt: number): Promise<void> {
    const key = this.keys.escalation(chat, messageId)
    if ((await this.redis.hsetnx(key, 'fired', '0')) === 0) return
    await this.redis
      .multi()
      .hset(key, { policy, firstSentAt: String(firstSentAt) })
      .pexpire(key, this.ttlMs)
      .zadd(this.keys.escalationDue, 'NX', dueAt, memberOf(chat, messageId))
      .exec()
  }

  /** due lists the escalations due by now (at most limit), earliest first, with their states. */
  async due(now: number, limit: number): Promise<DueEscalation[]> {
    const members = await this.redis.zrangebyscore(this.keys.escalationDue, '-inf', now, 'LIMIT', 0, limit)
    if (members.length === 0) return []
    const split = members.map((member) => {
      const slash = member.lastIndexOf('/')
      return { member, chat: member.slice(0, slash), messageId: Number(member.slice(slash + 1)) }
    })
    const pipeline = this.redis.pipeline()
    for (const m of split) pipeline.hgetall(this.keys.escalation(m.chat, m.messageId))
    const results = (await pipeline.exec()) ?? []
    return split.map((m, i) => ({ ...m, state: parseState((results[i]?.[1] ?? {}) as Record<string, string>) }))
  }

  /** drop removes an entry whose state is gone (expired with its message). */
  async drop(member: string): Promise<void> {
    await this.redis.zrem(this.keys.escalationDue, member)
  }

  /** advance applies one plan atomically if the step count is still as planned (ESCALATE); false when another run did it first. */
  async advance(chat: string, messageId: number, change: Advance): Promise<boolean> {
    const k = this.keys
    const fields = change.next
      ? {
          policy: change.next.state.policy,
          fired: String(change.next.state.fired),
          firstSentAt: String(change.next.state.firstSentAt),
          lastFiredAt: change.next.state.lastFiredAt === undefined ? '' : String(change.next.state.lastFiredAt),
          parked: change.next.state.parked ? '1' : '',
        }
      : {}
    const keys = [k.escalationDue, k.escalation(chat, messageId), k.due, k.pace, k.chatmap, ...change.notices.map((n) => k.notices(n.chat))]
    const args = [
      memberOf(chat, messageId),
      String(change.expected),
      JSON.stringify(fields),
      change.next ? String(Math.ceil(change.next.dueAt)) : '',
      this.ttlMs,
      JSON.stringify(change.notices.map((n) => n.chat)),
      ...change.notices.map((n) => JSON.stringify(n.notice)),
    ]
    return (await this.redis.awEscalate(keys.length, ...keys, ...args)) === 1
  }

  /** pending says how many escalations are scheduled (for /status and tests). */
  async pending(): Promise<number> {
    return this.redis.zcard(this.keys.escalationDue)
  }
}
