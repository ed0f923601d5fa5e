/**
 * DeliveryStore: the Redis side of delivery — dedup-and-queue, per-chat outboxes, leases, pace,
 * in-flight deliveries, message records and alert refs. Every change is one Lua script (see
 * scripts.ts); this class only shapes arguments and results.
 */
import type { Redis } from 'ioredis'
import type { Call, EditTask, Lookups, MessageRecord, Notice, Ref } from '../core/batch.js'
import type { Candidate, OutboxItem } from '../core/dedup.js'
import { keysFor, type Keys, refField } from './keys.js'
import { CLAIM, COMMIT_EVENTS, COMPLETE, MIGRATE_CHAT, PUSH_NOTICE, START_DELIVERY, TAKE_NOTICES, UNMUTE } from './scripts.js'

/** CommitResult: what became of a candidate event. */
export type CommitResult = 'queued' | 'held' | 'repeated' | 'duplicate' | 'unannounced' | 'stale'

/** InFlight: a delivery being worked through, one Telegram call per turn. */
export interface InFlight {
  calls: Call[]
  next: number
  /** failed attempts of the current call (429s do not count) */
  attempts: number
  paceMs: number
  /** when the oldest event of this delivery reached alertwire */
  receivedAt: number
  lastError?: string
}

/** MessageTarget: what a message's buttons act on (kept under its token). */
export interface MessageTarget {
  kind: 'message'
  chat: string
  messageId: number
  threadId?: number
  alerts: { fingerprint: string; startsAt: string; labels: Record<string, string> }[]
}

/** ChatState: what a turn reads first. */
export interface ChatState {
  inflight?: InFlight
  /** the head of the outbox */
  items: OutboxItem[]
  /** items in the outbox in all */
  waiting: number
  /** the first deferred edit, if any */
  nextEdit?: EditTask
  /** the head of the outbox as stored, when it is not an item alertwire can read */
  poison?: string
  /** what the bot has to say here first */
  notices: Notice[]
}

/** parseItem reads an outbox item, or undefined when it is not one (another version wrote it, or a bug). */
function parseItem(raw: string): OutboxItem | undefined {
  try {
    const item = JSON.parse(raw) as OutboxItem
    const alert = item?.alert
    const valid = typeof item.id === 'string' && typeof item.groupKey === 'string' && typeof item.paceMs === 'number' &&
      typeof alert === 'object' && alert !== null && typeof alert.fingerprint === 'string' && (alert.status === 'firing' || alert.status === 'resolved') &&
      typeof alert.startsAt === 'string' && typeof alert.labels === 'object' && alert.labels !== null && typeof alert.annotations === 'object' && alert.annotations !== null
    return valid ? item : undefined
  } catch {
    return undefined
  }
}

/** MAX_NOTICES_PER_TURN: notices moved into a delivery at once. */
const MAX_NOTICES_PER_TURN = 10

/** Write: one change COMPLETE applies atomically with the end of a turn. */
export type Write =
  | { op: 'set'; key: string; value: string; ttl: number }
  | { op: 'hset'; key: string; field: string; value: string; ttl: number }
  | { op: 'push'; key: string; value: string; cap: number }

/** EARLY_RESOLVE_TTL_MS: how long a resolve waits for a firing planned after it (a resolve whose firing never comes was for an alert alertwire never announced). */
export const EARLY_RESOLVE_TTL_MS = 3_600_000

/** CommitPolicy: what the config says about flapping and about critical alerts in a muted chat. */
export interface CommitPolicy {
  flapping: { windowMs: number; threshold: number }
  criticalWhenMuted: 'silent' | 'loud' | 'hold'
}

const DEFAULT_COMMIT_POLICY: CommitPolicy = { flapping: { windowMs: 0, threshold: 0 }, criticalWhenMuted: 'silent' }

/**
 * repeatMarkerMs: how long a repeat marker lives. A little under the interval, because Alertmanager
 * re-sends at its own repeat_interval measured from its last send, which reaches us a moment before
 * our marker (set when we planned) would expire: without the margin every other repeat is missed.
 */
export function repeatMarkerMs(intervalMs: number): number {
  return intervalMs <= 0 ? 0 : intervalMs - Math.min(60_000, Math.floor(intervalMs / 10))
}

/** DEAD_LETTER_CAP: how many dead letters Redis keeps for inspection (the counter keeps counting). */
export const DEAD_LETTER_CAP = 1000

type Script = (...args: (string | number)[]) => Promise<unknown>
type ScriptRedis = Redis & { awCommitEvents: Script; awClaim: Script; awStart: Script; awComplete: Script; awMigrate: Script; awPushNotice: Script; awTakeNotices: Script; awUnmute: Script }

/** DeliveryStore: see the file comment. */
export class DeliveryStore {
  readonly keys: Keys
  private readonly redis: ScriptRedis

  constructor(redis: Redis, prefix: string, private readonly ttlMs: number) {
    this.keys = keysFor(prefix)
    this.redis = redis as ScriptRedis
    const scripts = { awCommitEvents: [COMMIT_EVENTS, 5], awClaim: [CLAIM, 4], awStart: [START_DELIVERY, 4], awComplete: [COMPLETE, 7], awMigrate: [MIGRATE_CHAT, 3],
      awPushNotice: [PUSH_NOTICE, 3], awTakeNotices: [TAKE_NOTICES, 3], awUnmute: [UNMUTE, 4],
    } as const
    for (const [name, [lua, numberOfKeys]] of Object.entries(scripts)) {
      if (!(name in redis)) redis.defineCommand(name, { lua, numberOfKeys })
    }
  }

  /** commitEvents queues the candidates that are new for their chat, atomically, in one round trip. */
  async commitEvents(candidates: readonly Candidate[], policy: CommitPolicy = DEFAULT_COMMIT_POLICY): Promise<CommitResult[]> {
    if (candidates.length === 0) return []
    const { flapping } = policy
    const payload = candidates.map((c) => ({
      chat: c.chat, thread: c.thread, fp: c.fingerprint, status: c.status, startsAt: c.startsAt, critical: c.item.alert.labels.severity === 'critical',
      require: c.requireFiringSeen, every: repeatMarkerMs(c.repeatIntervalMs), hold: c.holdUntil ?? 0, seq: c.item.seq, item: JSON.stringify(c.item),
    }))
    const { due, pace, chatmap, heldChats, chatMute, prefix } = this.keys
    return (await this.redis.awCommitEvents(
      due, pace, chatmap, heldChats, chatMute,
      prefix, this.ttlMs, EARLY_RESOLVE_TTL_MS, flapping.windowMs, flapping.threshold, policy.criticalWhenMuted, JSON.stringify(payload),
    )) as CommitResult[]
  }

  /** claim leases the chat due first, or says how long to wait. */
  async claim(token: string, leaseMs: number, globalIntervalMs: number): Promise<{ chat?: string; waitMs: number }> {
    const { due, globalPace, heldChats, pace, prefix } = this.keys
    const [chat, wait] = (await this.redis.awClaim(due, globalPace, heldChats, pace, prefix, token, leaseMs, globalIntervalMs)) as [string, number]
    return chat ? { chat, waitMs: 0 } : { waitMs: Number(wait) }
  }

  /** loadChat reads a chat's in-flight delivery, the head of its outbox, and how much waits in all. */
  async loadChat(chat: string, maxItems: number): Promise<ChatState> {
    const [[, inflight], [, items], [, waiting], [, edit], [, notices]] = (await this.redis
      .multi()
      .get(this.keys.inflight(chat))
      .lrange(this.keys.outbox(chat), 0, maxItems - 1)
      .llen(this.keys.outbox(chat))
      .lindex(this.keys.edits(chat), 0)
      .lrange(this.keys.notices(chat), 0, MAX_NOTICES_PER_TURN - 1)
      .exec()) as [[null, string | null], [null, string[]], [null, number], [null, string | null], [null, string[]]]
    // read from Redis, so checked like any input: a malformed item ends the list here and, once at
    // the head, is handed over as poison to be set aside
    const parsed = items.map(parseItem)
    const bad = parsed.findIndex((item) => item === undefined)
    return {
      ...(inflight ? { inflight: JSON.parse(inflight) as InFlight } : {}),
      items: (bad < 0 ? parsed : parsed.slice(0, bad)) as OutboxItem[],
      ...(bad === 0 ? { poison: items[0]! } : {}),
      waiting: Number(waiting),
      ...(edit ? { nextEdit: JSON.parse(edit) as EditTask } : {}),
      notices: notices.map((n) => JSON.parse(n) as Notice),
    }
  }

  /** lookups finds the messages that announced the items' alerts (for resolves, reminders and flapping). */
  async lookups(chat: string, items: readonly OutboxItem[]): Promise<Lookups> {
    const referring = items.filter((i) => i.alert.status === 'resolved' || i.repeat || i.flaps)
    const refs = new Map<string, Ref>()
    if (referring.length === 0) return { refs, records: new Map() }
    const pipeline = this.redis.pipeline()
    for (const item of referring) pipeline.hget(this.keys.alert(item.alert.fingerprint), refField(chat, item.threadId))
    const refResults = (await pipeline.exec()) ?? []
    referring.forEach((item, i) => {
      const raw = refResults[i]?.[1]
      if (typeof raw === 'string') refs.set(item.alert.fingerprint, JSON.parse(raw) as Ref)
    })
    return { refs, records: await this.records(chat, [...refs.values()].map((r) => r.messageId)) }
  }

  /** records reads the stored messages with these ids. */
  async records(chat: string, messageIds: readonly number[]): Promise<Map<number, MessageRecord>> {
    const ids = [...new Set(messageIds)]
    const records = new Map<number, MessageRecord>()
    if (ids.length === 0) return records
    const raw = await this.redis.mget(...ids.map((id) => this.keys.message(chat, id)))
    ids.forEach((id, i) => {
      if (raw[i]) records.set(id, JSON.parse(raw[i]!) as MessageRecord)
    })
    return records
  }

  /** startDelivery moves the taken items (or the first deferred edit) into the chat's in-flight delivery and defers the given edits; false if the lease was lost. */
  async startDelivery(chat: string, token: string, work: { take: number; popEdit?: boolean; deferredEdits?: EditTask[] }, inflight: InFlight): Promise<boolean> {
    const k = this.keys
    return (await this.redis.awStart(
      k.outbox(chat), k.inflight(chat), k.lease(chat), k.edits(chat),
      token, work.take, work.popEdit ? '1' : '0', JSON.stringify(inflight), JSON.stringify(work.deferredEdits ?? []),
    )) === 1
  }

  /** complete ends a turn: applies writes, saves or clears the delivery, sets pace and the next turn. */
  async complete(
    chat: string,
    token: string,
    turn: { paceMs: number; inflight: InFlight | undefined; writes: Write[]; retryInMs: number },
  ): Promise<boolean> {
    const k = this.keys
    const result = await this.redis.awComplete(
      k.due, k.pace, k.lease(chat), k.outbox(chat), k.inflight(chat), k.edits(chat), k.notices(chat),
      token, chat, Math.max(0, Math.ceil(turn.paceMs)), turn.inflight ? JSON.stringify(turn.inflight) : '',
      JSON.stringify(turn.writes), Math.max(0, Math.ceil(turn.retryInMs)),
    )
    return result === 1
  }

  /** pushNotice queues something the bot has to say in a chat; the chat's next turn says it, ahead of its alerts. */
  async pushNotice(chat: string, notice: Notice): Promise<void> {
    await this.redis.awPushNotice(this.keys.notices(chat), this.keys.due, this.keys.pace, chat, JSON.stringify(notice))
  }

  /** takeNotices moves the first `count` notices into the chat's delivery; false if the lease was lost. */
  async takeNotices(chat: string, token: string, count: number, inflight: InFlight): Promise<boolean> {
    return (await this.redis.awTakeNotices(this.keys.notices(chat), this.keys.inflight(chat), this.keys.lease(chat), token, count, JSON.stringify(inflight))) === 1
  }

  /** muteChat pauses a chat's notifications until then (see COMMIT_EVENTS). */
  async muteChat(chat: string, untilMs: number): Promise<void> {
    await this.redis.hset(this.keys.chatMute, chat, String(untilMs))
  }

  /** unmuteChat resumes a chat's notifications and releases what its mute held; returns how many. */
  async unmuteChat(chat: string): Promise<number> {
    const { chatMute, heldChats, due, pace, prefix } = this.keys
    return Number(await this.redis.awUnmute(chatMute, heldChats, due, pace, prefix, chat))
  }

  /** chatMutedUntil says until when a chat is muted (undefined: it is not). */
  async chatMutedUntil(chat: string): Promise<number | undefined> {
    const until = Number(await this.redis.hget(this.keys.chatMute, chat))
    return until > Date.now() ? until : undefined
  }

  /** migrate moves a chat's work to the supergroup Telegram says it became. */
  async migrate(oldChat: string, newChat: string, token: string): Promise<boolean> {
    return (await this.redis.awMigrate(this.keys.chatmap, this.keys.due, this.keys.pace, this.keys.prefix, oldChat, newChat, token)) === 1
  }

  /** recordWrites are the writes that keep a sent message re-renderable, its alerts findable and its buttons working. */
  recordWrites(chat: string, record: MessageRecord, announce: boolean): Write[] {
    const writes: Write[] = [{ op: 'set', key: this.keys.message(chat, record.messageId), value: JSON.stringify(record), ttl: this.ttlMs }]
    if (announce && record.token) {
      const target: MessageTarget = {
        kind: 'message', chat, messageId: record.messageId, ...(record.threadId ? { threadId: record.threadId } : {}),
        alerts: record.alerts.map((a) => ({ fingerprint: a.fingerprint, startsAt: a.startsAt, labels: a.labels })),
      }
      writes.push({ op: 'set', key: this.keys.button(record.token), value: JSON.stringify(target), ttl: this.ttlMs })
    }
    if (announce) {
      for (const alert of record.alerts) {
        const ref: Ref = { messageId: record.messageId, startsAt: alert.startsAt }
        writes.push({ op: 'hset', key: this.keys.alert(alert.fingerprint), field: refField(chat, record.threadId), value: JSON.stringify(ref), ttl: this.ttlMs })
      }
    }
    return writes
  }

  /** deadLetterWrite keeps what could not be delivered, for people to inspect. */
  deadLetterWrite(letter: object): Write {
    return { op: 'push', key: this.keys.dead, value: JSON.stringify(letter), cap: DEAD_LETTER_CAP }
  }

  /** chatErrorWrite remembers the last error a chat gave (shown in /status and logs). */
  chatErrorWrite(chat: string, error: string): Write {
    return { op: 'hset', key: this.keys.chatErrors, field: chat, value: JSON.stringify({ error, at: new Date().toISOString() }), ttl: this.ttlMs }
  }

  /** backlog measures the outboxes: pending items, chats with work, and the oldest waiting event. */
  async backlog(): Promise<{ items: number; chats: number; inflight: number; edits: number; oldestReceivedAt?: number; deadLetters: number }> {
    const chats = await this.redis.zrange(this.keys.due, '0', '-1')
    const pipeline = this.redis.pipeline()
    for (const chat of chats) pipeline.llen(this.keys.outbox(chat)).lindex(this.keys.outbox(chat), 0).get(this.keys.inflight(chat)).llen(this.keys.edits(chat))
    pipeline.llen(this.keys.dead)
    const results = ((await pipeline.exec()) ?? []).map(([, value]) => value)
    let items = 0
    let inflight = 0
    let edits = 0
    let oldest: number | undefined
    chats.forEach((_, i) => {
      const [length, head, delivery, deferred] = results.slice(i * 4, i * 4 + 4) as [number, string | null, string | null, number]
      items += Number(length)
      edits += Number(deferred)
      const times = [head ? (JSON.parse(head) as OutboxItem).receivedAt : undefined, delivery ? (JSON.parse(delivery) as InFlight).receivedAt : undefined]
      if (delivery) inflight++
      for (const t of times) if (t !== undefined && (oldest === undefined || t < oldest)) oldest = t
    })
    return { items, chats: chats.length, inflight, edits, deadLetters: Number(results.at(-1) ?? 0), ...(oldest !== undefined ? { oldestReceivedAt: oldest } : {}) }
  }
}
