/**
 * The silence watcher's Redis side: the index of alert messages to look at (the sender adds a
 * message when it announces it: DeliveryStore.recordWrites), what each message shows, and the
 * one atomic step that changes it: compare what the message shows with what the watcher read, and
 * only if nobody changed it since (the bot, another replica), record the new state and queue the
 * notices for the chat's sender. Reminders are sent once per silence and end (SET NX in the same
 * step). So two replicas, or a watcher that lost its lease mid-run, never mark a message twice.
 */
import type { Redis } from 'ioredis'
import type { Notice } from '../core/delivery.js'
import type { SilenceMark } from '../core/incident.js'
import type { MessageTarget } from './delivery-store.js'
import { keysFor, type Keys } from './keys.js'

/**
 * SILENCE_STEP. KEYS: guard, notices, due, pace, chatmap. ARGV: mode ('cas': the guard must still
 * be `expected` ('' = absent), then becomes `next`, keeping its TTL; 'nx': the guard must not
 * exist, then is set), expected, next, ttl ms, chat, notices JSON…. Returns 1, or 0 when nothing
 * was done (changed meanwhile, reminded already, or the chat became a supergroup).
 */
const SILENCE_STEP = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local chat = ARGV[5]
if redis.call('HEXISTS', KEYS[5], chat) == 1 then return 0 end
if ARGV[1] == 'nx' then
  if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[4]) then return 0 end
else
  local current = redis.call('GET', KEYS[1]) or ''
  if current ~= ARGV[2] then return 0 end
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl <= 0 then ttl = tonumber(ARGV[4]) end
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
end
for i = 6, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
local paced = tonumber(redis.call('HGET', KEYS[4], chat) or '0')
redis.call('ZADD', KEYS[3], 'NX', math.max(now, paced), chat)
return 1
`

/** OpenMessage: a message in the index: the chat's address and the message id. */
export interface OpenMessage {
  field: string
  chat: string
  messageId: number
}

/** Shown: what a message shows, and the guard that proves nobody changed it when the watcher changes it. */
export interface Shown {
  silence?: SilenceMark
  key: string
  /** the guard's value as read ('' = absent) */
  raw: string
  /** the guard's value once the message shows this instead */
  next: (silence: SilenceMark | null) => string
}

type Step = (...args: (string | number)[]) => Promise<unknown>

/** SilenceStore: see the file comment. */
export class SilenceStore {
  readonly keys: Keys
  private readonly redis: Redis & { awSilenceStep: Step }

  constructor(
    redis: Redis,
    prefix: string,
    private readonly ttlMs: number,
  ) {
    this.keys = keysFor(prefix)
    if (!('awSilenceStep' in redis)) redis.defineCommand('awSilenceStep', { lua: SILENCE_STEP, numberOfKeys: 5 })
    this.redis = redis as Redis & { awSilenceStep: Step }
  }

  /** openMessages lists the messages in the index. */
  async openMessages(): Promise<OpenMessage[]> {
    const fields = await this.redis.hkeys(this.keys.openMessages)
    return fields.flatMap((field) => {
      const at = field.lastIndexOf('|')
      const messageId = Number(field.slice(at + 1))
      return at > 0 && Number.isSafeInteger(messageId) ? [{ field, chat: field.slice(0, at), messageId }] : []
    })
  }

  /** forget drops messages from the index (resolved, expired, or no alert of theirs left in Alertmanager). */
  async forget(fields: readonly string[]): Promise<void> {
    if (fields.length > 0) await this.redis.hdel(this.keys.openMessages, ...fields)
  }

  /** forgetAll empties the index (the watcher is off: nothing would ever take messages out). */
  async forgetAll(): Promise<void> {
    await this.redis.del(this.keys.openMessages)
  }

  /**
   * shown reads what a message shows: with buttons, its button target (the bot changes it there
   * too, before it tells the chat); without, the watcher's own note, else the record's mark.
   */
  async shown(chat: string, messageId: number, token: string | undefined, recorded: SilenceMark | undefined): Promise<Shown> {
    if (token) {
      const key = this.keys.button(token)
      const raw = await this.redis.get(key)
      if (raw) {
        const target = JSON.parse(raw) as MessageTarget & { silence?: SilenceMark }
        const next = (silence: SilenceMark | null) => {
          const { silence: _old, ...rest } = target
          return JSON.stringify(silence ? { ...rest, silence } : rest)
        }
        return { ...(target.silence ? { silence: target.silence } : {}), key, raw, next }
      }
    }
    const key = this.keys.silenceShown(chat, messageId)
    const raw = (await this.redis.get(key)) ?? ''
    const silence = raw ? ((JSON.parse(raw) as SilenceMark | null) ?? undefined) : recorded
    return { ...(silence ? { silence } : {}), key, raw, next: (mark) => JSON.stringify(mark) }
  }

  /** change makes the message show `silence` and queues the notices, unless what it shows changed since it was read; true if done. */
  async change(chat: string, shown: Shown, silence: SilenceMark | null, notices: readonly Notice[]): Promise<boolean> {
    return this.step(chat, ['cas', shown.key, shown.raw, shown.next(silence)], notices)
  }

  /** remindOnce queues the reminder's notices unless this silence's end was reminded of already; true if sent now. */
  async remindOnce(chat: string, silenceId: string, until: string, notices: readonly Notice[]): Promise<boolean> {
    return this.step(chat, ['nx', this.keys.silenceReminded(silenceId, until), '', ''], notices)
  }

  private async step(chat: string, [mode, guard, expected, next]: [string, string, string, string], notices: readonly Notice[]): Promise<boolean> {
    const { notices: noticesKey, due, pace, chatmap } = this.keys
    const done = await this.redis.awSilenceStep(
      guard,
      noticesKey(chat),
      due,
      pace,
      chatmap,
      mode,
      expected,
      next,
      this.ttlMs,
      chat,
      ...notices.map((n) => JSON.stringify(n)),
    )
    return done === 1
  }
}
