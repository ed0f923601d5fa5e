/**
 * DeliveryStore: the Redis side of delivery — committing events, per-chat outboxes, leases, pace,
 * in-flight deliveries, message records and alert refs, and a chat's move to a supergroup. Every
 * change is one atomic script (see scripts.ts); this class only reads, shapes arguments and results.
 *
 * A chat id that comes in may be any id the chat has had: the sender works under its current
 * address, the bot's commands come from it, routes may still name an earlier one (see keys.ts).
 */
import type { Redis } from 'ioredis'
import type { EditTask, Lookups, MessageRecord, Notice, Ref } from '../core/delivery.js'
import type { Candidate, OutboxItem } from '../core/candidates.js'
import { announcedAlerts } from '../core/digest.js'
import type { EventPolicy } from '../core/events.js'
import type { InFlight } from '../core/turn.js'
import type { Pace } from '../core/pace.js'
import type { PhotoJob, StoredPhoto } from '../core/photos.js'
import { type Applied, type CommitScript, type Committed, commitEvents, timeMs } from './commit-events.js'
import { keysFor, type Keys, refField } from './keys.js'
import { APPLY_WRITES, CLAIM, COMMIT_EVENTS, COMPLETE, MIGRATE_CHAT, PUSH_NOTICE, START_DELIVERY, TAKE_NOTICES, UNMUTE } from './scripts.js'

/** openMessageField names a message in the silence watcher's index (keys.openMessages). */
export function openMessageField(chat: string, messageId: number): string {
  return `${chat}|${messageId}`
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
  /** the first graph waiting to be sent (said last, when nothing else waits), as stored */
  photo?: StoredPhoto
}

/** parseItem reads an outbox item, or undefined when it is not one (another version wrote it, or a bug). */
function parseItem(raw: string): OutboxItem | undefined {
  try {
    const item = JSON.parse(raw) as OutboxItem
    const alert = item?.alert
    const valid =
      typeof item.id === 'string' &&
      typeof item.groupKey === 'string' &&
      typeof item.paceMs === 'number' &&
      typeof alert === 'object' &&
      alert !== null &&
      typeof alert.fingerprint === 'string' &&
      (alert.status === 'firing' || alert.status === 'resolved') &&
      typeof alert.startsAt === 'string' &&
      typeof alert.labels === 'object' &&
      alert.labels !== null &&
      typeof alert.annotations === 'object' &&
      alert.annotations !== null
    return valid ? item : undefined
  } catch {
    return undefined
  }
}

/** readableItems: outbox items as read from Redis, so checked like any input: a malformed one ends the list (once at the head, the turn sets it aside as poison). */
function readableItems(raw: readonly string[]): OutboxItem[] {
  const items: OutboxItem[] = []
  for (const text of raw) {
    const item = parseItem(text)
    if (!item) break
    items.push(item)
  }
  return items
}

/** OUTBOX_PAGE: outbox items read per round trip (about 2 ms of parsing on the event loop the webhook route shares). */
const OUTBOX_PAGE = 500

/** parsePhoto reads a queued graph; one that cannot be read is kept as raw so the turn drops it. */
function parsePhoto(raw: string): StoredPhoto {
  try {
    const job = JSON.parse(raw) as PhotoJob
    return typeof job?.id === 'string' && typeof job.queuedAt === 'number' && typeof job.caption === 'string' ? { raw, job } : { raw }
  } catch {
    return { raw }
  }
}

/** MAX_NOTICES_PER_TURN: notices moved into a delivery at once. */
const MAX_NOTICES_PER_TURN = 10

/** Write: one change COMPLETE applies atomically with the end of a turn. */
export type Write =
  | { op: 'set'; key: string; value: string; ttl: number }
  | { op: 'hset'; key: string; field: string; value: string; ttl: number }
  | { op: 'push'; key: string; value: string; cap: number }
  /** drop the list's head if it is still value (a graph sent or skipped) */
  | { op: 'shift'; key: string; value: string }
  /** add to a sorted set unless already there (a new alert message's escalation: store/escalation-store.ts) */
  | { op: 'zadd'; key: string; member: string; score: number }

/** flatWrites lays writes out as COMPLETE reads them: five arguments each, op, key and three operands (store/scripts.ts). */
export function flatWrites(writes: readonly Write[]): (string | number)[] {
  return writes.flatMap((w): (string | number)[] => {
    if (w.op === 'set') return ['set', w.key, w.value, w.ttl, '']
    if (w.op === 'hset') return ['hset', w.key, w.field, w.value, w.ttl]
    if (w.op === 'push') return ['push', w.key, w.value, w.cap, '']
    if (w.op === 'shift') return ['shift', w.key, w.value, '', '']
    return ['zadd', w.key, w.member, w.score, '']
  })
}

/**
 * WRITES_PER_SCRIPT: most writes one script applies. A storm digest's last part writes a ref for
 * each of the thousands of alerts it counts; in one script that held Redis for 7-27 ms (SLOWLOG,
 * `npm run bench -- memory`), and every webhook stored meanwhile waited for it. 500 a piece held
 * it 4 ms (median); 250 is about as long as the planner's group commit holds it.
 */
export const WRITES_PER_SCRIPT = 250

/** REPEATABLE: writes that change nothing when applied twice (a turn whose end is lost is done again), so they may go ahead of COMPLETE. */
const REPEATABLE: ReadonlySet<Write['op']> = new Set(['set', 'hset', 'zadd'])

/**
 * splitWrites divides a turn's writes: pieces of at most `size` repeatable writes to apply first,
 * in order, and what COMPLETE applies with the end of the turn (the last piece and the writes that
 * must happen exactly once). A turn of `size` writes or fewer is one COMPLETE, as before.
 */
export function splitWrites(writes: readonly Write[], size = WRITES_PER_SCRIPT): { ahead: Write[][]; last: Write[] } {
  if (writes.length <= size) return { ahead: [], last: [...writes] }
  const repeatable = writes.filter((w) => REPEATABLE.has(w.op))
  const once = writes.filter((w) => !REPEATABLE.has(w.op))
  const ahead: Write[][] = []
  let from = 0
  while (repeatable.length - from + once.length > size && from < repeatable.length) {
    ahead.push(repeatable.slice(from, from + size))
    from += size
  }
  return { ahead, last: [...repeatable.slice(from), ...once] }
}

/** CommitPolicy: what the config says about flapping and about critical alerts in a muted chat (how long events are remembered is the store's state TTL). */
export type CommitPolicy = Omit<EventPolicy, 'rememberMs'>

const DEFAULT_COMMIT_POLICY: CommitPolicy = { flapping: { windowMs: 0, threshold: 0 }, criticalWhenMuted: 'silent' }

/** APPLIED: what COMMIT_EVENTS' answer (0, 1, 2) says. */
const APPLIED: readonly Applied[] = ['stale', 'applied', 'sooner']

/** DEAD_LETTER_CAP: how many dead letters Redis keeps for inspection (the counter keeps counting). */
export const DEAD_LETTER_CAP = 1000

type Script = (...args: (string | number)[]) => Promise<unknown>
type ScriptRedis = Redis & {
  awCommitEvents: Script
  awClaim: Script
  awStart: Script
  awComplete: Script
  awApplyWrites: Script
  awMigrate: Script
  awPushNotice: Script
  awTakeNotices: Script
  awUnmute: Script
}

/** BY_DUE_TIME: no class paces: the chats due at once are served in the order they became due. */
const BY_DUE_TIME: ClassPace = { privateIntervalMs: 0, groupIntervalMs: 0 }

/** ClassPace: Telegram's pace per chat class, which orders the chats due at once (see CLAIM). */
export type ClassPace = Pick<Pace, 'privateIntervalMs' | 'groupIntervalMs'>

/** DeliveryStore: see the file comment. */
export class DeliveryStore {
  readonly keys: Keys
  private readonly redis: ScriptRedis

  constructor(
    redis: Redis,
    prefix: string,
    private readonly ttlMs: number,
  ) {
    this.keys = keysFor(prefix)
    this.redis = redis as ScriptRedis
    const scripts = {
      awCommitEvents: [COMMIT_EVENTS, 3],
      awClaim: [CLAIM, 4],
      awStart: [START_DELIVERY, 4],
      awComplete: [COMPLETE, 8],
      awApplyWrites: [APPLY_WRITES, 1],
      awMigrate: [MIGRATE_CHAT, 16],
      awPushNotice: [PUSH_NOTICE, 4],
      awTakeNotices: [TAKE_NOTICES, 3],
      awUnmute: [UNMUTE, 6],
    } as const
    for (const [name, [lua, numberOfKeys]] of Object.entries(scripts)) {
      if (!(name in redis)) redis.defineCommand(name, { lua, numberOfKeys })
    }
  }

  /** commit decides what each candidate is and queues what is worth a message, atomically across replicas (see commit-events.ts). */
  async commit(candidates: readonly Candidate[], policy: CommitPolicy = DEFAULT_COMMIT_POLICY): Promise<Committed> {
    if (candidates.length === 0) return { results: [], dueSooner: false }
    const { due, pace, heldChats } = this.keys
    const run: CommitScript = async (guards, writes, queue) =>
      APPLIED[Number(await this.redis.awCommitEvents(due, pace, heldChats, JSON.stringify(guards), JSON.stringify(writes), JSON.stringify(queue)))] ?? 'stale'
    return commitEvents(this.redis, this.keys, run, candidates, { ...policy, rememberMs: this.ttlMs })
  }

  /** claim leases the chat due first, or says how long to wait. */
  async claim(token: string, leaseMs: number, globalIntervalMs: number, classPace = BY_DUE_TIME): Promise<{ chat?: string; waitMs: number }> {
    const { due, globalPace, heldChats, pace, templates } = this.keys
    const [chat, wait] = (await this.redis.awClaim(
      due,
      globalPace,
      heldChats,
      pace,
      templates.held,
      templates.outbox,
      templates.lease,
      token,
      leaseMs,
      globalIntervalMs,
      classPace.privateIntervalMs,
      classPace.groupIntervalMs,
    )) as [string, number]
    return chat ? { chat, waitMs: 0 } : { waitMs: Number(wait) }
  }

  /**
   * dueWithin counts the chats due within ms from now, on any replica: Telegram's overall limit
   * serves each of them before a chat whose next call is that far off (a leased chat is due again
   * only after its lease, so it does not count itself).
   */
  async dueWithin(ms: number): Promise<number> {
    return this.redis.zcount(this.keys.due, '-inf', Date.now() + ms)
  }

  /** loadChat reads a chat's in-flight delivery, the head of its outbox, and how much waits in all. */
  async loadChat(chat: string, maxItems: number): Promise<ChatState> {
    const [[, inflight], [, items], [, waiting], [, edit], [, notices], [, photo]] = (await this.redis
      .multi()
      .get(this.keys.inflight(chat))
      .lrange(this.keys.outbox(chat), 0, maxItems - 1)
      .llen(this.keys.outbox(chat))
      .lindex(this.keys.edits(chat), 0)
      .lrange(this.keys.notices(chat), 0, MAX_NOTICES_PER_TURN - 1)
      .lindex(this.keys.photos(chat), 0)
      .exec()) as [[null, string | null], [null, string[]], [null, number], [null, string | null], [null, string[]], [null, string | null]]
    const readable = readableItems(items)
    return {
      ...(inflight ? { inflight: JSON.parse(inflight) as InFlight } : {}),
      items: readable,
      ...(readable.length === 0 && items.length > 0 ? { poison: items[0]! } : {}),
      waiting: Number(waiting),
      ...(edit ? { nextEdit: JSON.parse(edit) as EditTask } : {}),
      notices: notices.map((n) => JSON.parse(n) as Notice),
      ...(photo ? { photo: parsePhoto(photo) } : {}),
    }
  }

  /**
   * readOutbox reads the first `count` items of a chat's outbox (up to the first that cannot be
   * read) a page per round trip, so a storm round's thousands neither hold Redis nor the event loop
   * in one piece. Only the lease holder takes items from the head; a page can shift only when the
   * planner puts a late item before one already read (COMMIT_EVENTS keeps arrival order). A page
   * that starts with an item read before shows that, and the outbox is then read in one piece.
   */
  async readOutbox(chat: string, count: number): Promise<OutboxItem[]> {
    const key = this.keys.outbox(chat)
    const items: OutboxItem[] = []
    const read = new Set<string>()
    for (let first = 0; first < count; first += OUTBOX_PAGE) {
      const raw = await this.redis.lrange(key, first, Math.min(count, first + OUTBOX_PAGE) - 1)
      const page = readableItems(raw)
      if (page[0] && read.has(page[0].id)) return readableItems(await this.redis.lrange(key, 0, count - 1))
      for (const item of page) {
        items.push(item)
        read.add(item.id)
      }
      if (page.length < OUTBOX_PAGE) break
    }
    return items
  }

  /**
   * lookups finds the messages that announced the items' alerts (for resolves, reminders and
   * flapping): in this chat, else in a group this chat was before it became a supergroup (such a
   * ref says so, and has no record: that message can no longer be edited or replied to).
   */
  async lookups(chat: string, items: readonly OutboxItem[]): Promise<Lookups> {
    const referring = items.filter((i) => i.alert.status === 'resolved' || i.repeat || i.flaps)
    const refs = new Map<string, Ref>()
    if (referring.length === 0) return { refs, records: new Map() }
    const addresses = [chat, ...(await this.earlierAddresses(chat))]
    const pipeline = this.redis.pipeline()
    for (const item of referring) pipeline.hmget(this.keys.alert(item.alert.fingerprint), ...addresses.map((address) => refField(address, item.threadId)))
    const refResults = (await pipeline.exec()) ?? []
    referring.forEach((item, i) => {
      const found = (refResults[i]?.[1] ?? []) as (string | null)[]
      const at = found.findIndex((raw) => typeof raw === 'string')
      if (at >= 0) refs.set(item.alert.fingerprint, { ...(JSON.parse(found[at]!) as Ref), ...(at > 0 ? { elsewhere: true } : {}) })
    })
    const here = [...refs.values()].filter((r) => !r.elsewhere)
    return {
      refs,
      records: await this.records(
        chat,
        here.map((r) => r.messageId),
      ),
    }
  }

  /** earlierAddresses lists the ids a chat had before it became the supergroup it is now. */
  private async earlierAddresses(chat: string): Promise<string[]> {
    const moves = await this.redis.hgetall(this.keys.chatmap)
    return Object.keys(moves).filter((from) => moves[from] === chat)
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

  /**
   * startDelivery moves the taken items (or the first deferred edit) into the chat's in-flight
   * delivery and defers the given edits; false if the lease was lost, or if `last`, the last item
   * taken, is no longer where it was read (an earlier event was put before it: plan again).
   */
  async startDelivery(
    chat: string,
    token: string,
    work: { take: number; popEdit?: boolean; deferredEdits?: EditTask[]; last?: Pick<OutboxItem, 'id'> },
    inflight: InFlight,
  ): Promise<boolean> {
    const k = this.keys
    return (
      (await this.redis.awStart(
        k.outbox(chat),
        k.inflight(chat),
        k.lease(chat),
        k.edits(chat),
        token,
        work.take,
        work.popEdit ? '1' : '0',
        JSON.stringify(inflight),
        JSON.stringify(work.deferredEdits ?? []),
        work.last?.id ?? '',
      )) === 1
    )
  }

  /**
   * complete ends a turn: applies writes, saves or clears the delivery, sets pace and the next turn.
   * Many writes go in pieces ahead of the end (splitWrites), each under the lease.
   */
  async complete(chat: string, token: string, turn: { paceMs: number; inflight: InFlight | undefined; writes: Write[]; retryInMs: number }): Promise<boolean> {
    const k = this.keys
    const { ahead, last } = splitWrites(turn.writes)
    for (const writes of ahead) {
      if ((await this.redis.awApplyWrites(k.lease(chat), token, ...flatWrites(writes))) !== 1) return false
    }
    const result = await this.redis.awComplete(
      k.due,
      k.pace,
      k.lease(chat),
      k.outbox(chat),
      k.inflight(chat),
      k.edits(chat),
      k.notices(chat),
      k.photos(chat),
      token,
      chat,
      Math.max(0, Math.ceil(turn.paceMs)),
      turn.inflight ? JSON.stringify(turn.inflight) : '',
      Math.max(0, Math.ceil(turn.retryInMs)),
      ...flatWrites(last),
    )
    return result === 1
  }

  /** waitingNotices reads what the bot still has to say in a chat (the first 500), without taking it. */
  async waitingNotices(chat: string): Promise<Notice[]> {
    return (await this.redis.lrange(this.keys.notices(chat), 0, 499)).flatMap((raw) => {
      try {
        return [JSON.parse(raw) as Notice]
      } catch {
        return []
      }
    })
  }

  /**
   * pushNotice queues something the bot has to say in a chat; the chat's next turn says it, ahead
   * of its alerts. Dropped for a group that became a supergroup: it refers to messages there,
   * which can no longer change (commands from the supergroup come with its own id).
   */
  async pushNotice(chat: string, notice: Notice): Promise<void> {
    await this.redis.awPushNotice(this.keys.notices(chat), this.keys.due, this.keys.pace, this.keys.chatmap, chat, JSON.stringify(notice))
  }

  /** takeNotices moves the first `count` notices into the chat's delivery; false if the lease was lost. */
  async takeNotices(chat: string, token: string, count: number, inflight: InFlight): Promise<boolean> {
    return (
      (await this.redis.awTakeNotices(this.keys.notices(chat), this.keys.inflight(chat), this.keys.lease(chat), token, count, JSON.stringify(inflight))) === 1
    )
  }

  /** muteChat pauses a chat's notifications until then (see core/events.ts), whichever of its ids the command came from. */
  async muteChat(chat: string, untilMs: number): Promise<void> {
    await this.redis.hset(this.keys.chatMute, await this.originOf(chat), String(untilMs))
  }

  /** unmuteChat resumes a chat's notifications and releases what its mute held; returns how many. */
  async unmuteChat(chat: string): Promise<number> {
    const { chatMute, heldChats, due, pace, chatmap, chatOrigin, templates } = this.keys
    return Number(await this.redis.awUnmute(chatMute, heldChats, due, pace, chatmap, chatOrigin, templates.held, templates.outbox, chat))
  }

  /** chatMutedUntil says until when a chat is muted (undefined: it is not), by Redis time as commits decide it. */
  async chatMutedUntil(chat: string): Promise<number | undefined> {
    const [[, time], [, raw]] = (await this.redis
      .multi()
      .time()
      .hget(this.keys.chatMute, await this.originOf(chat))
      .exec()) as [[null, [string, string]], [null, string | null]]
    const until = Number(raw)
    return until > timeMs(time) ? until : undefined
  }

  /** originOf is the first id of a chat, under which alertwire remembers its alerts and its /mute. */
  private async originOf(chat: string): Promise<string> {
    return (await this.redis.hget(this.keys.chatOrigin, chat)) ?? chat
  }

  /** migrate moves a chat to the supergroup Telegram says it became (see MIGRATE_CHAT): its work moves, its memory stays reachable. */
  async migrate(oldChat: string, newChat: string, token: string): Promise<boolean> {
    const k = this.keys
    return (
      (await this.redis.awMigrate(
        k.chatmap,
        k.chatOrigin,
        k.due,
        k.pace,
        k.heldChats,
        k.dead,
        k.lease(oldChat),
        k.outbox(oldChat),
        k.outbox(newChat),
        k.inflight(oldChat),
        k.inflight(newChat),
        k.held(oldChat),
        k.held(newChat),
        k.notices(oldChat),
        k.notices(newChat),
        k.edits(oldChat),
        oldChat,
        newChat,
        token,
      )) === 1
    )
  }

  /** recordWrites are the writes that keep a sent message re-renderable, its alerts findable and its buttons working; only: the alerts whose refs move (core/answers.ts). */
  recordWrites(chat: string, record: MessageRecord, announce: boolean, only?: readonly string[]): Write[] {
    const writes: Write[] = [{ op: 'set', key: this.keys.message(chat, record.messageId), value: JSON.stringify(record), ttl: this.ttlMs }]
    if (announce && record.token) {
      const target: MessageTarget = {
        kind: 'message',
        chat,
        messageId: record.messageId,
        ...(record.threadId ? { threadId: record.threadId } : {}),
        alerts: record.alerts.map((a) => ({ fingerprint: a.fingerprint, startsAt: a.startsAt, labels: a.labels })),
      }
      writes.push({ op: 'set', key: this.keys.button(record.token), value: JSON.stringify(target), ttl: this.ttlMs })
    }
    if (announce) {
      // the silence watcher's index of messages to look at; it drops what resolved or expired
      writes.push({ op: 'hset', key: this.keys.openMessages, field: openMessageField(chat, record.messageId), value: '1', ttl: this.ttlMs })
      // a digest's last part also announces the alerts it only counts: their resolves mark them there
      const moved = only ? new Set(only) : undefined
      for (const alert of announcedAlerts(record).filter((a) => !moved || moved.has(a.fingerprint))) {
        const ref: Ref = { messageId: record.messageId, startsAt: alert.startsAt }
        writes.push({
          op: 'hset',
          key: this.keys.alert(alert.fingerprint),
          field: refField(chat, record.threadId),
          value: JSON.stringify(ref),
          ttl: this.ttlMs,
        })
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

  /** answering: the connection to Redis is up; while it is not, every command fails at once. */
  answering(): boolean {
    return this.redis.status === 'ready'
  }

  /** lastErrors reads the last error each chat gave, as chatErrorWrite remembered it (for /status). */
  async lastErrors(): Promise<Record<string, string>> {
    const stored = await this.redis.hgetall(this.keys.chatErrors)
    return Object.fromEntries(Object.entries(stored).map(([chat, json]) => [chat, (JSON.parse(json) as { error: string }).error]))
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
    return {
      items,
      chats: chats.length,
      inflight,
      edits,
      deadLetters: Number(results.at(-1) ?? 0),
      ...(oldest !== undefined ? { oldestReceivedAt: oldest } : {}),
    }
  }
}
