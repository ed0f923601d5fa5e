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
  planStormSteps,
  spliceNotices,
} from './delivery.js'
import type { OutboxItem } from './candidates.js'
import type { StoredPhoto } from './photos.js'
import { runThrough, type Steps } from './steps.js'

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
  /** the outbox items it was planned from (at most FOLD_LIMIT), so that an outage can fold it into the catch-up */
  items?: OutboxItem[]
  /** a catch-up round: what piled up while Telegram could not be reached */
  catchUp?: true
  /** a storm round: what arrives before its last part goes out is folded into its parts not yet sent */
  storm?: true
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
  /** the first graph waiting to be sent: said last, only when nothing else waits (core/photos.ts) */
  photo?: StoredPhoto
}

/** TurnPolicy: the slice of the config a turn is planned under. */
export interface TurnPolicy {
  /** storms.max_delay: several batches whose last would go out later than this, one at a time, fold into digests (planFold) */
  maxDelayMs: number
  /** most outbox items one ordinary delivery takes */
  maxItems: number
  /** delivery.catch_up_after: an item kept from the chat longer than this (beyond its pace) is caught up on in a digest; 0: never */
  catchUpAfterMs?: number
  /** how much later than its pace each of the chat's calls comes while Telegram's overall limit is busy with other chats (pace.ts globalWaitMs) */
  globalWaitMs?: number
  /** how many other chats are due before the chat's next slot (they share Telegram's overall limit; delivery.ts planFold) */
  othersDue?: number
}

/** FOLD_LIMIT: most outbox items a delivery keeps in flight for a catch-up fold (a larger round goes out as planned). */
export const FOLD_LIMIT = 500

/** Waiting: what tells how long an outbox item has waited: when it reached alertwire, and the hold (mute window, /mute) it waited out, if any. */
export type Waiting = Pick<OutboxItem, 'receivedAt' | 'paceMs'> & { heldUntil?: number }

/** readyAt is when an item could first have been sent: when it arrived, or when its hold ended. */
export function readyAt(item: Waiting): number {
  return Math.max(item.receivedAt, item.heldUntil ?? 0)
}

/**
 * isLate: the item has waited longer than catch_up_after beyond its own pace. Pacing, throttles
 * and holds explain a wait; an outage (Telegram unreachable, every replica down) does not.
 */
export function isLate(item: Waiting, catchUpAfterMs: number, now: number): boolean {
  return catchUpAfterMs > 0 && now - readyAt(item) > catchUpAfterMs + item.paceMs
}

/** foldable: a delivery held up by an outage, none of whose calls went out, that a catch-up round can take back in. */
function foldable(chat: ChatView, catchUpAfterMs: number, now: number): boolean {
  const { inflight } = chat
  if (!inflight?.items || inflight.next !== 0 || inflight.attempts === 0) return false
  // a catch-up round in flight is folded again only to take in what arrived since
  if (inflight.catchUp && chat.items.length === 0) return false
  return inflight.items.some((item) => isLate(item, catchUpAfterMs, now))
}

/**
 * unsentRound: the parts of a storm round in flight not sent yet, with the items they name, when
 * more has arrived since the round was planned: folded again with it, the newcomers are named in
 * the round's next slots instead of waiting for a round of their own after it. Only a round of
 * digest messages whose next call has not failed (an outage is the catch-up's to fold).
 */
function unsentRound(chat: ChatView): InFlight | undefined {
  const { inflight } = chat
  if (!inflight?.storm || !inflight.items || inflight.attempts > 0 || chat.items.length === 0) return undefined
  const rest = inflight.calls.slice(inflight.next)
  if (rest.length === 0 || !rest.every((call) => call.op === 'send' && call.announce && call.record?.digest)) return undefined
  const named = new Set(rest.flatMap((call) => call.fingerprints))
  return { ...inflight, calls: rest, next: 0, items: inflight.items.filter((item) => named.has(item.alert.fingerprint)) }
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
  /**
   * fold everything waiting into digests; readUpTo > 0: read that many items first; catchUp: it
   * piled up during an outage; fold: the delivery in flight this round takes back in first
   */
  | { kind: 'storm'; readUpTo: number; catchUp?: boolean; fold?: InFlight }
  /**
   * deliver the head of the outbox; readUpTo > 0: its first group runs past what was read, read
   * that many first; foldCheck: what was read was one group, so whether what waits is a storm is
   * decided again on all that is read (the groups behind it may fold the round)
   */
  | { kind: 'deliver'; readUpTo: number; foldCheck?: { waiting: number; maxDelayMs: number; globalWaitMs: number; othersDue?: number } }
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
  /** send (or skip) the first graph waiting: nothing else waits */
  | { kind: 'photo'; photo: StoredPhoto }
  /** nothing to do: release the chat */
  | { kind: 'release' }

/**
 * planTurn decides what a chat's turn does, in this order: notices, the delivery in flight (folded
 * into a catch-up round when an outage held it up; a storm round's unsent parts folded again with
 * what arrived since), an unreadable head, a catch-up round, a storm round, the head of the outbox,
 * a deferred edit, a graph.
 */
export function planTurn(chat: ChatView, policy: TurnPolicy, now: number): TurnPlan {
  const { inflight, items, waiting } = chat
  const catchUpAfterMs = policy.catchUpAfterMs ?? 0
  const readRound = waiting > items.length ? MAX_ITEMS_PER_STORM_ROUND : 0
  if (chat.notices.length > 0) return { kind: 'notices', records: chat.notices.flatMap((n) => (n.kind === 'mark' ? [n.messageId] : [])) }
  if (inflight && chat.poison === undefined && foldable(chat, catchUpAfterMs, now)) return { kind: 'storm', readUpTo: readRound, catchUp: true, fold: inflight }
  const rest = chat.poison === undefined ? unsentRound(chat) : undefined
  if (rest) return { kind: 'storm', readUpTo: readRound, fold: rest }
  if (inflight) return { kind: 'continue', inflight }
  if (chat.poison !== undefined) {
    return { kind: 'set_aside', take: 1, popEdit: false, item: parsedOrRaw(chat.poison), error: new Error('not an outbox item alertwire can read') }
  }
  if (items.some((item) => isLate(item, catchUpAfterMs, now))) return { kind: 'storm', readUpTo: readRound, catchUp: true }
  // what waits no longer fits the next slot: folded now, not after it piled up (delivery.ts planFold)
  const globalWaitMs = policy.globalWaitMs ?? 0
  const othersDue = policy.othersDue ?? 0
  if (items.length > 0 && isStorm(items, waiting, items[0]!.paceMs, policy.maxDelayMs, globalWaitMs, othersDue)) {
    return { kind: 'storm', readUpTo: readRound }
  }
  if (items.length > 0) {
    const runsPastWindow = items.length === HEAD_WINDOW && waiting > HEAD_WINDOW && headBatchLength(items, HEAD_WINDOW) === HEAD_WINDOW
    if (!runsPastWindow) return { kind: 'deliver', readUpTo: 0 }
    return {
      kind: 'deliver',
      readUpTo: policy.maxItems,
      foldCheck: { waiting, maxDelayMs: policy.maxDelayMs, globalWaitMs, ...(othersDue > 0 ? { othersDue } : {}) },
    }
  }
  if (chat.nextEdit) return { kind: 'edit', edit: chat.nextEdit }
  // a graph is the least urgent: no notice, delivery, outbox item or deferred edit waits behind it
  if (chat.photo) return { kind: 'photo', photo: chat.photo }
  return { kind: 'release' }
}

/** parsedOrRaw: stored JSON as a value, or the text itself when it is not JSON (what an operator can still read). */
export function parsedOrRaw(raw: string): unknown {
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

/**
 * planWork asks delivery.ts for the calls of a StartPlan; a storm round that cannot be rendered
 * goes on one batch at a time, anything else unrenderable is set aside. A folded delivery's items
 * come first in loaded.items; what the delivery consumes of the outbox is what follows them.
 */
export function planWork(plan: StartPlan, loaded: Loaded, options: BatchOptions, chatPaceMs: number, now: number): Work {
  return runThrough(planWorkSteps(plan, loaded, options, chatPaceMs, now))
}

/** planWorkSteps is planWork in steps (core/steps.ts): a storm round pauses while it is planned. */
export function* planWorkSteps(plan: StartPlan, loaded: Loaded, options: BatchOptions, chatPaceMs: number, now: number): Steps<Work> {
  const { items, lookups } = loaded
  if (plan.kind === 'deliver' && plan.foldCheck && items.length > 0) {
    const { waiting, maxDelayMs, globalWaitMs, othersDue } = plan.foldCheck
    if (isStorm(items, waiting, items[0]!.paceMs, maxDelayMs, globalWaitMs, othersDue))
      return yield* planWorkSteps({ kind: 'storm', readUpTo: 0 }, loaded, options, chatPaceMs, now)
  }
  const popEdit = plan.kind === 'edit'
  const fold = plan.kind === 'storm' ? plan.fold : undefined
  const folded = fold?.items?.length ?? 0
  const start = (planned: Delivery, storm: boolean): Work => {
    const taken = items.slice(0, planned.take)
    const delivery = { ...planned, take: Math.max(0, planned.take - folded), deferredEdits: notYetDeferred(planned.deferredEdits, fold) }
    const last = items[planned.take - 1]
    const inflight: InFlight = {
      ...startInFlight(planned, items, chatPaceMs, now),
      ...(fold ? { attempts: fold.attempts, ...(fold.lastError ? { lastError: fold.lastError } : {}) } : {}),
      ...(taken.length > 0 && taken.length <= FOLD_LIMIT ? { items: taken } : {}),
      ...(plan.kind === 'storm' && plan.catchUp ? { catchUp: true as const } : {}),
      ...(storm && !(plan.kind === 'storm' && plan.catchUp) ? { storm: true as const } : {}),
    }
    return { kind: 'start', delivery, popEdit, storm, inflight, ...(last && delivery.take > 0 ? { last: { id: last.id } } : {}) }
  }
  if (plan.kind === 'storm') {
    const round = yield* attemptSteps(planStormSteps(items, lookups, options, plan.catchUp === true))
    if (!(round instanceof Error)) return start(round, true)
    // a fold that cannot be rendered: the delivery in flight goes on as it was
    if (fold) return { kind: 'start', delivery: { take: 0, calls: fold.calls, dropped: [], deferredEdits: [] }, popEdit: false, storm: false, inflight: fold }
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

/** notYetDeferred leaves out the resolutions a folded storm round already deferred (they wait among the chat's edits). */
function notYetDeferred(edits: EditTask[], fold: InFlight | undefined): EditTask[] {
  if (!fold?.catchUp || !fold.items) return edits
  const deferred = new Set(fold.items.filter((i) => i.alert.status === 'resolved').map((i) => `${i.alert.fingerprint}/${i.alert.startsAt}`))
  return edits
    .map((edit) => ({ ...edit, resolutions: edit.resolutions.filter((r) => !deferred.has(`${r.fingerprint}/${r.startsAt}`)) }))
    .filter((edit) => edit.resolutions.length > 0)
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
    return asError(error)
  }
}

/** attemptSteps is attempt for planning in steps. */
function* attemptSteps<T>(steps: Steps<T>): Steps<T | Error> {
  try {
    return yield* steps
  } catch (error) {
    return asError(error)
  }
}

function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown))
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
  // calls of the delivery may have gone out before the notices: it can no longer be folded
  const { items: _folded, ...current } = chat.inflight ?? { calls: [], next: 0, attempts: 0, paceMs: chatPaceMs, receivedAt: now }
  return { ...current, calls: spliceNotices(current.calls, current.next, chat.notices, records, options), next: 0, attempts: 0 }
}

/** CallLetter: a call given up on, kept in Redis for people to inspect and retry. */
export interface CallLetter {
  reason: string
  error: string
  op: Call['op']
  fingerprints: string[]
  text: string
  receivedAt: number
  /** the call itself, to make again on retry (left out when larger than LETTER_CALL_LIMIT) */
  call?: Call
}

/** LETTER_CALL_LIMIT: the largest call (as JSON) a dead letter keeps; up to a thousand letters are kept. */
export const LETTER_CALL_LIMIT = 64 * 1024

/** callLetter is the dead letter that keeps a call given up on. */
export function callLetter(inflight: InFlight, call: Call, reason: string, error: string): CallLetter {
  const kept = JSON.stringify(call).length <= LETTER_CALL_LIMIT ? { call } : {}
  return { reason, error, op: call.op, fingerprints: call.fingerprints, text: call.plain, receivedAt: inflight.receivedAt, ...kept }
}

/** LetterRetry: what a dead letter becomes when retried: calls said first in its chat, items back in its outbox, or why it cannot be. */
export type LetterRetry = { kind: 'notices'; notices: Notice[] } | { kind: 'items'; items: OutboxItem[] } | { kind: 'none'; why: string }

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const isCall = (value: unknown): value is Call =>
  isObject(value) &&
  (value.op === 'send' || value.op === 'edit') &&
  typeof value.html === 'string' &&
  typeof value.plain === 'string' &&
  Array.isArray(value.fingerprints)
const isItem = (value: unknown): value is OutboxItem =>
  isObject(value) && typeof value.id === 'string' && isObject(value.alert) && typeof value.paceMs === 'number'

/**
 * retryLetter says what a dead letter becomes when an operator retries it: a call given up on is
 * made again, ahead of the chat's alerts; an item that could not be rendered goes back to the end
 * of its chat's outbox; a delivery that a chat's move left over is made again from where it stopped.
 */
export function retryLetter(letter: unknown): LetterRetry {
  if (!isObject(letter)) return { kind: 'none', why: 'not a dead letter alertwire can read' }
  if (isCall(letter.call)) return { kind: 'notices', notices: [{ kind: 'call', call: letter.call }] }
  if (isItem(letter.item)) return { kind: 'items', items: [letter.item] }
  if (typeof letter.delivery === 'string') {
    const delivery = attempt(() => JSON.parse(letter.delivery as string) as InFlight)
    const calls = delivery instanceof Error || !Array.isArray(delivery.calls) ? [] : delivery.calls.slice(delivery.next ?? 0).filter(isCall)
    if (calls.length > 0) return { kind: 'notices', notices: calls.map((call) => ({ kind: 'call', call })) }
  }
  return { kind: 'none', why: 'only its text was kept (an older alertwire, or too large): nothing to send again' }
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
