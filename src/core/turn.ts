/**
 * Turn: what one chat's turn does, decided from the chat's state as the store loaded it. A turn
 * makes at most one Telegram call, which keeps every chat inside Telegram's limits and its messages
 * in order; this module says which work that call belongs to (the bot's notices, the delivery in
 * flight, a storm round, the head of the outbox, a deferred edit), builds the delivery the executor
 * moves in flight, and says when a delivery is given up. Pure: the sender carries the plans out.
 */
import {
  type BatchOptions,
  type Call,
  type Delivery,
  type EditTask,
  headBatchLength,
  isStorm,
  type Lookups,
  type MessageRecord,
  type Notice,
  planDeferredEdit,
  planDelivery,
  planStorm,
  spliceNotices,
} from './delivery.js'
import type { OutboxItem } from './candidates.js'

/** HEAD_WINDOW: outbox items a turn reads first; more only when one group runs past them (keeps a long outbox cheap per turn). */
export const HEAD_WINDOW = 16

/** MAX_ITEMS_PER_STORM_ROUND: most outbox items one storm round folds (the digest names storms.digest_max_alerts of them, counts the rest). */
export const MAX_ITEMS_PER_STORM_ROUND = 5000

/** InFlight: a delivery being worked through, one Telegram call per turn. */
export interface InFlight {
  calls: Call[]
  next: number
  /** failed attempts of the current call (429s do not count) */
  attempts: number
  paceMs: number
  /** when the oldest event of this delivery reached alertwire */
  receivedAt: number
  /** the last failure of the current call (a repeat of it is logged quietly) */
  lastError?: string
}

/** ChatView: what a turn reads first, as the store loaded it (HEAD_WINDOW items of the outbox). */
export interface ChatView {
  inflight?: InFlight
  /** the head of the outbox */
  items: readonly OutboxItem[]
  /** items in the outbox in all */
  waiting: number
  /** the first deferred edit, if any */
  nextEdit?: EditTask
  /** the head of the outbox as stored, when it is not an item alertwire can read */
  poison?: string
  /** what the bot has to say here first */
  notices: readonly Notice[]
}

/** TurnPolicy: the slice of the config a turn is planned under. */
export interface TurnPolicy {
  /** storms.max_delay: more waiting than this takes one batch at a time is a storm */
  maxDelayMs: number
  /** most outbox items one ordinary delivery takes */
  maxItems: number
}

/** SetAside: what alertwire cannot render, kept as a dead letter so the chat's other alerts go on. */
export interface SetAside {
  kind: 'set_aside'
  /** outbox items to consume (the unreadable head) */
  take: number
  /** consume the first deferred edit instead */
  popEdit: boolean
  /** the item consumed, as read (unset for one that cannot be read) */
  last?: Pick<OutboxItem, 'id'>
  /** what is kept for inspection */
  item: unknown
  fingerprint?: string
  error: Error
}

/** StartPlan: the turns that start new work from the outbox or the deferred edits. */
export type StartPlan =
  /** fold everything waiting into digests; readUpTo > 0: read that many items first */
  | { kind: 'storm'; readUpTo: number }
  /** deliver the head of the outbox; readUpTo > 0: its first group runs past what was read, read that many first */
  | { kind: 'deliver'; readUpTo: number }
  /** mark alerts resolved in an earlier message, now that the chat is quiet */
  | { kind: 'edit'; edit: EditTask }

/** TurnPlan: what a chat's turn does (see the file comment). */
export type TurnPlan =
  /** say the bot's notices first, ahead of the rest of the delivery; records: the messages their marks change */
  | { kind: 'notices'; records: number[] }
  /** go on with the delivery in flight */
  | { kind: 'continue'; inflight: InFlight }
  | SetAside
  | StartPlan
  /** nothing to do: release the chat */
  | { kind: 'release' }

/** planTurn decides what a chat's turn does, in this order: notices, the delivery in flight, an unreadable head, a storm round, the head of the outbox, a deferred edit. */
export function planTurn(chat: ChatView, policy: TurnPolicy): TurnPlan {
  const { inflight, items, waiting } = chat
  if (chat.notices.length > 0) return { kind: 'notices', records: chat.notices.flatMap((n) => (n.kind === 'mark' ? [n.messageId] : [])) }
  if (inflight) return { kind: 'continue', inflight }
  if (chat.poison !== undefined) {
    return { kind: 'set_aside', take: 1, popEdit: false, item: parsedOrRaw(chat.poison), error: new Error('not an outbox item alertwire can read') }
  }
  if (items.length > 0 && isStorm(items, waiting, items[0]!.paceMs, policy.maxDelayMs)) {
    return { kind: 'storm', readUpTo: waiting > items.length ? MAX_ITEMS_PER_STORM_ROUND : 0 }
  }
  if (items.length > 0) {
    const runsPastWindow = items.length === HEAD_WINDOW && waiting > HEAD_WINDOW && headBatchLength(items, HEAD_WINDOW) === HEAD_WINDOW
    return { kind: 'deliver', readUpTo: runsPastWindow ? policy.maxItems : 0 }
  }
  if (chat.nextEdit) return { kind: 'edit', edit: chat.nextEdit }
  return { kind: 'release' }
}

function parsedOrRaw(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

/** Loaded: what the executor read for a StartPlan: the items to plan from, what they refer to, and the records a deferred edit changes. */
export interface Loaded {
  items: readonly OutboxItem[]
  lookups: Lookups
  records: ReadonlyMap<number, MessageRecord>
}

/**
 * Work: a delivery to move in flight (storm: it folds a storm round; last: the last item it
 * consumes, as read, which the store checks is still there), or what to set aside because it
 * cannot be rendered.
 */
export type Work = { kind: 'start'; delivery: Delivery; popEdit: boolean; storm: boolean; inflight: InFlight; last?: Pick<OutboxItem, 'id'> } | SetAside

/** planWork asks delivery.ts for the calls of a StartPlan; a storm round that cannot be rendered goes on one batch at a time, anything else unrenderable is set aside. */
export function planWork(plan: StartPlan, loaded: Loaded, options: BatchOptions, chatPaceMs: number, now: number): Work {
  const { items, lookups } = loaded
  const popEdit = plan.kind === 'edit'
  const start = (delivery: Delivery, storm: boolean): Work => {
    const last = items[delivery.take - 1]
    return { kind: 'start', delivery, popEdit, storm, inflight: startInFlight(delivery, items, chatPaceMs, now), ...(last ? { last: { id: last.id } } : {}) }
  }
  if (plan.kind === 'storm') {
    const round = attempt(() => planStorm(items, lookups, options))
    if (!(round instanceof Error)) return start(round, true)
  }
  const delivery = plan.kind === 'edit' ? attempt(() => editDelivery(plan.edit, loaded.records, options)) : attempt(() => planDelivery(items, lookups, options))
  if (!(delivery instanceof Error)) return start(delivery, false)
  const head = popEdit ? undefined : items[0]
  return {
    kind: 'set_aside',
    take: head ? 1 : 0,
    popEdit,
    item: head ?? null,
    ...(head ? { last: { id: head.id }, fingerprint: head.alert.fingerprint } : {}),
    error: delivery,
  }
}

function editDelivery(edit: EditTask, records: ReadonlyMap<number, MessageRecord>, options: BatchOptions): Delivery {
  const call = planDeferredEdit(edit, records.get(edit.messageId), options)
  return { take: 0, calls: call ? [call] : [], dropped: [], deferredEdits: [] }
}

/** attempt runs pure planning and returns what it threw instead of throwing (planning does no I/O, so a throw is a rendering failure). */
function attempt<T>(plan: () => T): T | Error {
  try {
    return plan()
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error))
  }
}

/** startInFlight is a new delivery at its first call: paced as its first item asks (else as the chat), as old as its oldest event. */
function startInFlight(delivery: Delivery, items: readonly OutboxItem[], chatPaceMs: number, now: number): InFlight {
  const taken = items.slice(0, delivery.take)
  return {
    calls: delivery.calls,
    next: 0,
    attempts: 0,
    paceMs: taken[0]?.paceMs ?? chatPaceMs,
    receivedAt: taken.length > 0 ? Math.min(...taken.map((i) => i.receivedAt)) : now,
  }
}

/** noticesInFlight puts the bot's notices before the rest of the chat's delivery (a new one, when none is in flight). */
export function noticesInFlight(
  chat: Pick<ChatView, 'inflight' | 'notices'>,
  records: ReadonlyMap<number, MessageRecord>,
  options: BatchOptions,
  chatPaceMs: number,
  now: number,
): InFlight {
  const current = chat.inflight ?? { calls: [], next: 0, attempts: 0, paceMs: chatPaceMs, receivedAt: now }
  return { ...current, calls: spliceNotices(current.calls, current.next, chat.notices, records, options), next: 0, attempts: 0 }
}

/** CallLetter: a call given up on, kept in Redis for people to inspect. */
export interface CallLetter {
  reason: string
  error: string
  op: Call['op']
  fingerprints: string[]
  text: string
  receivedAt: number
}

/** callLetter is the dead letter that keeps a call given up on. */
export function callLetter(inflight: InFlight, call: Call, reason: string, error: string): CallLetter {
  return { reason, error, op: call.op, fingerprints: call.fingerprints, text: call.plain, receivedAt: inflight.receivedAt }
}

/** GiveUp: every call left of a delivery becomes a dead letter. */
export interface GiveUp {
  kind: 'give_up'
  reason: 'expired'
  error: string
  letters: CallLetter[]
}

/** CallPlan: make the delivery's next call, or give up what is left of it. */
export type CallPlan = { kind: 'call'; call: Call } | GiveUp

/** planCall gives a delivery up once its oldest event is older than give_up_after (every call left becomes a dead letter), else makes its next call. */
export function planCall(inflight: InFlight, giveUpAfterMs: number, now: number): CallPlan {
  if (now - inflight.receivedAt <= giveUpAfterMs) return { kind: 'call', call: inflight.calls[inflight.next]! }
  const error = `undelivered for longer than give_up_after (last error: ${inflight.lastError ?? 'none'})`
  return { kind: 'give_up', reason: 'expired', error, letters: inflight.calls.slice(inflight.next).map((call) => callLetter(inflight, call, 'expired', error)) }
}
