/**
 * Committing a notification's candidate events: read what the decisions need (the chats' ids, then
 * seen markers, reminders, waiting resolves, flapping windows, /mute and Redis time, in one round
 * trip), let the core decide each candidate in order (core/events.ts), and apply the changes and
 * the queueing in one script only if nothing that was read changed meanwhile; else read and
 * decide again. What a chat remembers is guarded by one version per chat, which every commit that
 * changes it bumps, so the compare-and-set stays small however many alerts a notification holds.
 * An HA pair of Alertmanagers posts the same notification at the same moment: exactly one commit
 * queues it, the other reads it back as a duplicate.
 */
import type { Redis } from 'ioredis'
import type { Candidate, OutboxItem } from '../core/candidates.js'
import { decideEvent, type EventChange, type EventPolicy, type EventResult, type EventState, type FlapMark } from '../core/events.js'
import type { Keys } from './keys.js'

/** Guard: a value a decision was made from (value absent: missing). */
type Guard = { key: string; field?: string; value?: string }

/** StateWrite: a change to remember, expiring at `at` (ms since epoch). */
type StateWrite =
  | { op: 'set'; key: string; value: string; at: string }
  | { op: 'del'; key: string }
  | { op: 'zset'; key: string; entries: [string, string][]; at: string }
  | { op: 'bump'; key: string }

/** QueueOp: an item for a chat's outbox, or for its held set until `hold`. */
type QueueOp = { item: string; chat: string; seq: number; outbox: string } | { item: string; chat: string; held: string; hold: string }

/** Applied: what COMMIT_EVENTS did: 'stale' (something read had changed: nothing applied), 'applied', or 'sooner' (applied, and a chat became due sooner than it was). */
export type Applied = 'stale' | 'applied' | 'sooner'

/** CommitScript runs COMMIT_EVENTS. */
export type CommitScript = (guards: Guard[], writes: StateWrite[], queue: QueueOp[]) => Promise<Applied>

/** Committed: one result per candidate, and whether a chat became due sooner (only then has a sender anything new to look at). */
export interface Committed {
  results: EventResult[]
  dueSooner: boolean
}

/** MAX_COMMIT_ATTEMPTS: reads and decisions before giving the notification back to the queue (it is retried). */
const MAX_COMMIT_ATTEMPTS = 10

/** ChatIds: the two ids of a chat (see keys.ts). */
interface ChatIds {
  origin: string
  address: string
}

/** Read: the chats' ids and the state, as read at one moment. */
interface Read {
  now: number
  /** the chat-id fields as stored (null: absent), for the guards */
  idFields: Map<string, { origin: string | null; address: string | null }>
  strings: Map<string, string | null>
  zsets: Map<string, string[]>
  mutes: Map<string, string | null>
  /** each origin's events version as read (null: never changed) */
  versions: Map<string, string | null>
}

/** commitEvents decides and commits the candidates (see the file comment). */
export async function commitEvents(redis: Redis, keys: Keys, run: CommitScript, candidates: readonly Candidate[], policy: EventPolicy): Promise<Committed> {
  const chats = [...new Set(candidates.map((c) => c.chat))]
  for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
    // a chat is almost always its own origin: read as if so, and again only for a chat that moved
    let read = await readState(redis, keys, candidates, new Map(chats.map((chat) => [chat, chat])))
    if (chats.some((chat) => idsOf(read, chat).origin !== chat))
      read = await readState(redis, keys, candidates, new Map(chats.map((chat) => [chat, idsOf(read, chat).origin])))
    const plan = decideAll(keys, candidates, read, policy)
    // nothing to write: the decisions came from one consistent read, so they stand
    if (plan.writes.length === 0 && plan.queue.length === 0) return { results: plan.results, dueSooner: false }
    const applied = await run(readGuards(keys, read), plan.writes, plan.queue)
    if (applied !== 'stale') return { results: plan.results, dueSooner: applied === 'sooner' }
  }
  throw new Error(`events kept changing under the commit (${MAX_COMMIT_ATTEMPTS} attempts); the notification will be planned again`)
}

/** idsOf is a chat's origin and current address as read (a chat that never moved is both). */
function idsOf(read: Read, chat: string): ChatIds {
  const fields = read.idFields.get(chat)!
  return { origin: fields.origin ?? chat, address: fields.address ?? chat }
}
/** markerKeys are the keys of what alertwire remembers about a candidate's alert instance in its chat. */
function markerKeys(keys: Keys, origin: string, c: Candidate) {
  return {
    seenFiring: keys.seen(origin, c.thread, c.fingerprint, 'firing', c.startsAt),
    seenResolved: keys.seen(origin, c.thread, c.fingerprint, 'resolved', c.startsAt),
    repeat: keys.repeat(origin, c.thread, c.fingerprint, c.startsAt),
    early: keys.early(origin, c.thread, c.fingerprint, c.startsAt),
    flap: keys.flap(origin, c.thread, c.fingerprint),
  }
}

/**
 * readState reads, in one transaction, each chat's origin and current address, and under the
 * given origins every marker the candidates need, the chats' /mute and Redis time.
 */
async function readState(redis: Redis, keys: Keys, candidates: readonly Candidate[], origins: Map<string, string>): Promise<Read> {
  const chats = [...origins.keys()]
  const strings = new Set<string>()
  const zsets = new Set<string>()
  for (const c of candidates) {
    const { flap, ...markers } = markerKeys(keys, origins.get(c.chat)!, c)
    for (const key of Object.values(markers)) strings.add(key)
    zsets.add(flap)
  }
  const mutedChats = [...new Set(origins.values())]
  const transaction = redis
    .multi()
    .hmget(keys.chatOrigin, ...chats)
    .hmget(keys.chatmap, ...chats)
    .time()
    .hmget(keys.chatMute, ...mutedChats)
    .mget(...mutedChats.map(keys.eventsVersion))
    .mget(...strings)
  for (const key of zsets) transaction.zrange(key, '0', '-1', 'WITHSCORES')
  type Reply<T> = [null, T]
  const [[, origin], [, address], [, time], [, mutes], [, versions], [, values], ...flaps] = (await transaction.exec()) as [
    Reply<(string | null)[]>,
    Reply<(string | null)[]>,
    Reply<[string, string]>,
    Reply<(string | null)[]>,
    Reply<(string | null)[]>,
    Reply<(string | null)[]>,
    ...Reply<string[]>[],
  ]
  return {
    now: timeMs(time),
    idFields: new Map(chats.map((chat, i) => [chat, { origin: origin[i] ?? null, address: address[i] ?? null }])),
    strings: new Map([...strings].map((key, i) => [key, values[i] ?? null])),
    zsets: new Map([...zsets].map((key, i) => [key, flaps[i]![1]])),
    mutes: new Map(mutedChats.map((chat, i) => [chat, mutes[i] ?? null])),
    versions: new Map(mutedChats.map((chat, i) => [chat, versions[i] ?? null])),
  }
}

/** timeMs reads Redis TIME (seconds, microseconds) as ms since epoch: the one clock events and /mute are decided by. */
export function timeMs(time: readonly [string, string]): number {
  return Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000)
}

function fieldGuard(key: string, field: string, value: string | null): Guard {
  return value === null ? { key, field } : { key, field, value }
}

/** readGuards: what the decisions were made from must still be as read when they are applied: the chats' ids, /mute and events versions. */
function readGuards(keys: Keys, read: Read): Guard[] {
  return [
    ...[...read.idFields].flatMap(([chat, id]) => [fieldGuard(keys.chatOrigin, chat, id.origin), fieldGuard(keys.chatmap, chat, id.address)]),
    ...[...read.mutes].map(([origin, value]) => fieldGuard(keys.chatMute, origin, value)),
    ...[...read.versions].map(([origin, value]): Guard => (value === null ? { key: keys.eventsVersion(origin) } : { key: keys.eventsVersion(origin), value })),
  ]
}

/**
 * decideAll decides the candidates in order against a working copy of what was read, so a later
 * candidate sees what an earlier one changed (the same alert routed twice to one chat is one event).
 */
function decideAll(keys: Keys, candidates: readonly Candidate[], read: Read, policy: EventPolicy) {
  const strings = new Map(read.strings)
  const zsets = new Map(read.zsets)
  const writes = new Map<string, StateWrite>()
  const queue: QueueOp[] = []
  const results: EventResult[] = []
  const changed = new Set<string>()
  for (const c of candidates) {
    const { origin, address } = idsOf(read, c.chat)
    const markers = markerKeys(keys, origin, c)
    const state: EventState = {
      firingSeen: strings.get(markers.seenFiring) != null,
      resolvedSeen: strings.get(markers.seenResolved) != null,
      reminded: strings.get(markers.repeat) != null,
      ...waitingResolve(strings.get(markers.early)),
      flaps: flapMarks(zsets.get(markers.flap) ?? []),
      mutedUntil: Number(read.mutes.get(origin) ?? 0),
    }
    const decision = decideEvent(policy, state, c, read.now)
    results.push(decision.result)
    if (decision.changes.length > 0 || decision.queue.length > 0) changed.add(origin)
    for (const change of decision.changes) {
      const write = stateWrite(markers, change, read.now)
      writes.set(write.key, write)
      if (write.op === 'zset')
        zsets.set(
          write.key,
          write.entries.flatMap(([at, startsAt]) => [startsAt, at]),
        )
      else strings.set(write.key, write.op === 'set' ? write.value : null)
    }
    for (const { item, holdUntil } of decision.queue) {
      // a held item says until when, so the wait it was meant to have is not mistaken for an outage (core/turn.ts isLate)
      const json = JSON.stringify(holdUntil === undefined ? item : { ...item, heldUntil: holdUntil })
      queue.push(
        holdUntil === undefined
          ? { item: json, chat: address, seq: item.seq, outbox: keys.outbox(address) }
          : { item: json, chat: address, held: keys.held(address), hold: String(holdUntil) },
      )
    }
  }
  const bumps = [...changed].map((origin): StateWrite => ({ op: 'bump', key: keys.eventsVersion(origin) }))
  // in arrival order, so each append finds its place at the tail of the outbox at once
  const ordered = queue
    .map((op, i) => ({ op, i }))
    .sort((a, b) => seqOf(a.op) - seqOf(b.op) || a.i - b.i)
    .map(({ op }) => op)
  return { results, writes: [...writes.values(), ...bumps], queue: ordered }
}

function seqOf(op: QueueOp): number {
  return 'seq' in op ? op.seq : 0
}

/** stateWrite is the Redis write of one change to what alertwire remembers. */
function stateWrite(markers: ReturnType<typeof markerKeys>, change: EventChange, now: number): StateWrite {
  switch (change.kind) {
    case 'seen':
      return { op: 'set', key: change.status === 'firing' ? markers.seenFiring : markers.seenResolved, value: String(now), at: String(change.until) }
    case 'reminded':
      return { op: 'set', key: markers.repeat, value: String(now), at: String(change.until) }
    case 'wait':
      return { op: 'set', key: markers.early, value: JSON.stringify(change.item), at: String(change.until) }
    case 'released':
      return { op: 'del', key: markers.early }
    case 'flaps':
      return { op: 'zset', key: markers.flap, entries: change.flaps.map((m) => [String(m.at), m.startsAt]), at: String(change.until) }
  }
}

/** waitingResolve reads a waiting resolve (one that cannot be read waits no more). */
function waitingResolve(raw: string | null | undefined): { waitingResolve?: OutboxItem } {
  if (!raw) return {}
  try {
    return { waitingResolve: JSON.parse(raw) as OutboxItem }
  } catch {
    return {}
  }
}

/** flapMarks reads a flapping window as ZRANGE WITHSCORES returns it: member, score, member, score... */
function flapMarks(flat: readonly string[]): FlapMark[] {
  const marks: FlapMark[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) marks.push({ startsAt: flat[i]!, at: Number(flat[i + 1]) })
  return marks
}
