/**
 * Delivery: what waits in a chat's outbox becomes one delivery, the Telegram calls that tell the
 * chat about it. Pure.
 *
 * Normally the head of the outbox is taken as it came: firing alerts of one group become one
 * message (several if the group is too big); a flapping alert updates the message that announced
 * it; a reminder replies to it; resolves edit it and reply to it (only edit, while it flaps). Only
 * contiguous items are taken, so messages to a chat keep the order of the events.
 *
 * In a storm (what waits no longer fits the chat's next slot: planFold) a whole round is folded
 * into digests: new alerts named and counted, resolves summed up in a resolved digest, and the
 * edits that mark earlier messages resolved deferred until the chat is quiet.
 * After an outage (delivery.catch_up_after) what piled up is folded the same way, said so.
 */
import type { InlineButton } from './keyboard.js'
import { type MessagePatch, patchIncident } from './incident.js'
import type { OutboxItem } from './candidates.js'
import { type DigestRound, packDigestSteps, renderDigestPart } from './digest.js'
import { alertKeyboard } from './keyboard.js'
import { mostSevere } from './severity.js'
import { runThrough, type Steps } from './steps.js'
import { type Observation, observe, resolvedEvent } from './timeline.js'
import {
  type AlertSnapshot,
  type AlertSource,
  fitsLater,
  type MessageContent,
  packAlerts,
  renderMessage,
  renderRepeatReply,
  renderResolvedReply,
  type Rendered,
  type RenderOptions,
  TELEGRAM_TEXT_LIMIT,
} from './render.js'

/** MessageRecord: a sent message, kept so that any replica can re-render and edit it later. */
export interface MessageRecord extends MessageContent {
  messageId: number
  threadId?: number
  silent: boolean
  groupKey: string
}

/** Call: one Telegram call of a delivery. */
export interface Call {
  op: 'send' | 'edit'
  html: string
  plain: string
  threadId?: number
  silent: boolean
  /** send: reply to this message; edit: the message to edit */
  messageId?: number
  /** the record to save once the call succeeds (an announce gets the id Telegram returns) */
  record?: MessageRecord
  /** the call announces the record's alerts: point their refs at the message */
  announce?: boolean
  /** Telegram refused the HTML once: send the plain text */
  plainOnly?: boolean
  /** the buttons under the message (an edit without them removes them) */
  keyboard?: InlineButton[][]
  /** a picture to show with the message (Telegram previews this URL) */
  preview?: string
  fingerprints: string[]
  /** what the call's record measures once saved (time to acknowledge, to resolve): counted when Telegram took the call */
  observe?: Observation[]
  /** an edit that would leave the message as it reads (a timeline event only): save the record, call Telegram not at all */
  unchanged?: boolean
}

/** Ref: where an alert was last announced in a chat. */
export interface Ref {
  messageId: number
  startsAt: string
  /** announced in the group this chat was before it became a supergroup: that message can no longer be edited or replied to */
  elsewhere?: boolean
}

/** Lookups: what the store knows about earlier messages, for the items that refer to them. */
export interface Lookups {
  refs: ReadonlyMap<string, Ref>
  records: ReadonlyMap<number, MessageRecord>
}

/** Resolution: an alert of an earlier message that resolved. */
export interface Resolution {
  fingerprint: string
  startsAt: string
  endsAt?: string
}

/** EditTask: marking alerts resolved in a message, deferred until the chat has nothing else to say. */
export interface EditTask {
  messageId: number
  resolutions: Resolution[]
}

/** Delivery: how many outbox items are consumed, the calls to make, what was dropped and why, and the edits deferred. */
export interface Delivery {
  take: number
  calls: Call[]
  dropped: { fingerprint: string; reason: string }[]
  deferredEdits: EditTask[]
}

/** BatchOptions: rendering plus the delivery policy. */
export interface BatchOptions extends RenderOptions {
  resolved: 'both' | 'edit' | 'reply'
  /** send a resolved message for alerts whose firing message is unknown */
  resolvedUnannounced: boolean
  /** most items one ordinary delivery takes (bounds work per turn) */
  maxItems: number
  /** most alerts a digest round names; the rest are counted */
  digestMaxAlerts: number
  /** makes a token for a new message's buttons; unset: no buttons */
  newToken?: () => string
  /** silence durations offered as buttons */
  durationsMs: readonly number[]
  /** graphs are on: alert messages with a Prometheus graph link get a "📈 Graph" button */
  graphButtons?: boolean
}

type ItemKind = 'firing' | 'flapping' | 'repeat' | 'resolved'

function kindOf(item: OutboxItem): ItemKind {
  if (item.alert.status === 'resolved') return 'resolved'
  if (item.repeat) return 'repeat'
  return item.flaps ? 'flapping' : 'firing'
}

function sameBatch(a: OutboxItem, b: OutboxItem): boolean {
  return a.groupKey === b.groupKey && a.threadId === b.threadId && a.silent === b.silent && kindOf(a) === kindOf(b)
}

function contiguous(items: readonly OutboxItem[], max: number): OutboxItem[] {
  const head = items[0]!
  const taken: OutboxItem[] = []
  for (const item of items) {
    if (taken.length >= max || !sameBatch(item, head)) break
    taken.push(item)
  }
  return taken
}

/** rerender renders a stored message as it should look now, whatever kind it is. */
export function rerender(record: MessageContent, options: RenderOptions): Rendered {
  return record.digest ? renderDigestPart(record, options) : renderMessage(record, options)
}

/** editCall is the edit that makes a stored message look as it should now, buttons included; before: the record as stored, for what the change measures. */
export function editCall(record: MessageRecord, options: BatchOptions, fingerprints: string[], announce = false, before?: MessageRecord): Call {
  const keyboard = alertKeyboard(record, options.durationsMs, options.graphButtons)
  const observed = before ? observations(before, record, options) : []
  return {
    op: 'edit',
    ...rerender(record, options),
    ...(record.threadId ? { threadId: record.threadId } : {}),
    silent: true,
    messageId: record.messageId,
    record,
    ...(announce ? { announce } : {}),
    ...(keyboard ? { keyboard } : {}),
    fingerprints,
    ...(observed.length > 0 ? { observe: observed } : {}),
  }
}

/**
 * observations: what changing a stored message measures (its first reaction, its first resolve),
 * labelled by its route and its most severe alert; a digest is nobody's to take, so it measures nothing.
 */
export function observations(before: MessageRecord, after: MessageRecord, options: BatchOptions): Observation[] {
  if (after.digest) return []
  const severity = mostSevere(
    after.alerts.map((a) => a.labels),
    options.severities,
  ).level
  const found = observe(before.timeline ?? [], after.timeline ?? [], { route: after.route ?? '', severity })
  // a message without buttons (Grafana's) could not be taken: not counted as left untaken
  return after.token ? found : found.filter((o) => o.metric !== 'resolved_untaken')
}

/** settle resolves alerts of a stored message; when that resolves its last firing alert, its timeline says so (at the time the last one ended). */
export function settle(record: MessageRecord, resolutions: readonly Resolution[], now: number): MessageRecord {
  const resolved = resolveRecord(record, resolutions)
  const firing = (r: MessageRecord) => [...r.alerts, ...(r.digest?.unnamed ?? [])].some((a) => a.status === 'firing')
  if (!firing(record) || firing(resolved)) return resolved
  const event = resolvedEvent(
    record.timeline ?? [],
    resolutions.map((r) => r.endsAt),
    now,
  )
  return patchIncident(resolved, { events: [event] })
}

/** resolveRecord marks the given alerts of a record (named or counted) resolved. */
export function resolveRecord(record: MessageRecord, resolutions: readonly Resolution[]): MessageRecord {
  const byFingerprint = new Map(resolutions.map((r) => [r.fingerprint, r]))
  const apply = (a: AlertSnapshot): AlertSnapshot => {
    const r = byFingerprint.get(a.fingerprint)
    return r && r.startsAt === a.startsAt ? { ...a, status: 'resolved', ...(r.endsAt ? { endsAt: r.endsAt } : {}) } : a
  }
  return {
    ...record,
    alerts: record.alerts.map(apply),
    ...(record.digest ? { digest: { ...record.digest, unnamed: record.digest.unnamed.map(apply) } } : {}),
  }
}

function announceCalls(items: readonly OutboxItem[], options: BatchOptions): Call[] {
  const head = items[0]!
  const contents = packAlerts(
    {
      alerts: items.map((i) => snapshot(i)),
      externalURL: head.externalURL,
      ...sourceOf(head),
      truncatedAlerts: Math.max(...items.map((i) => i.truncatedAlerts)),
    },
    options,
  )
  return contents.map((content) => recordCall(content, head, options))
}

function recordCall(plain: MessageContent, head: OutboxItem, options: BatchOptions): Call {
  const thread = head.threadId ? { threadId: head.threadId } : {}
  // Grafana's alerts cannot be silenced in Alertmanager: their messages link Grafana's silence page instead of buttons
  const tokened = options.newToken && !plain.digest && plain.source !== 'grafana' ? { ...plain, token: options.newToken() } : plain
  // a message's timeline starts when it is first sent (a digest's too: it escalates, and can be taken with /take)
  const content: MessageContent = { ...tokened, timeline: [{ at: new Date(options.now).toISOString(), kind: 'fired' }] }
  const keyboard = alertKeyboard(content, options.durationsMs, options.graphButtons)
  return {
    op: 'send',
    ...rerender(content, options),
    ...thread,
    silent: head.silent,
    record: { ...content, messageId: 0, ...thread, silent: head.silent, groupKey: head.groupKey, route: head.route },
    announce: true,
    ...(keyboard ? { keyboard } : {}),
    fingerprints: [...content.alerts, ...(content.digest?.unnamed ?? [])].map((a) => a.fingerprint),
  }
}

function sourceOf(item: OutboxItem): { source?: AlertSource } {
  return item.source && item.source !== 'alertmanager' ? { source: item.source } : {}
}

function snapshot(item: OutboxItem): AlertSnapshot {
  return item.flaps ? { ...item.alert, flaps: item.flaps } : item.alert
}

/** byTarget sorts items by the message that announced their alert (matching startsAt unless anyInstance). */
function byTarget(items: readonly OutboxItem[], lookups: Lookups, anyInstance: boolean) {
  const found = new Map<number, OutboxItem[]>()
  const unknown: OutboxItem[] = []
  for (const item of items) {
    const ref = lookups.refs.get(item.alert.fingerprint)
    if (ref && (anyInstance || ref.startsAt === item.alert.startsAt) && lookups.records.has(ref.messageId)) {
      found.set(ref.messageId, [...(found.get(ref.messageId) ?? []), item])
    } else unknown.push(item)
  }
  return { found, unknown }
}

function resolveCalls(items: readonly OutboxItem[], lookups: Lookups, options: BatchOptions, dropped: Delivery['dropped']): Call[] {
  const head = items[0]!
  const { found, unknown } = byTarget(items, lookups, false)
  const calls: Call[] = []
  const thread = head.threadId ? { threadId: head.threadId } : {}
  // a flapping alert resolving is an update of its message, not news worth a reply
  const reply = options.resolved !== 'edit' && !head.flaps
  for (const [messageId, resolvedItems] of found) {
    const stored = lookups.records.get(messageId)!
    const record = settle(
      stored,
      resolvedItems.map((i) => i.alert),
      options.now,
    )
    const fingerprints = resolvedItems.map((i) => i.alert.fingerprint)
    if (options.resolved !== 'reply' || !reply) calls.push(editCall(record, options, fingerprints, false, stored))
    if (reply) {
      calls.push({
        op: 'send',
        ...renderResolvedReply(
          resolvedItems.map((i) => i.alert),
          options,
        ),
        ...thread,
        silent: head.silent,
        messageId,
        // with replies only, the record still learns the resolution for later edits (and what it measures)
        ...(options.resolved === 'reply' ? { record, observe: observations(stored, record, options) } : {}),
        fingerprints,
      })
    }
  }
  const { anew, unannounced } = unknownResolves(unknown, lookups, options)
  if (anew.length > 0) calls.push(...announceCalls(anew, options))
  dropped.push(...unannounced)
  return calls
}

/**
 * unknownResolves sorts resolves whose message is not found here: told in a message of their own
 * when resolved_unannounced is on, or when their message is in the group this chat was before it
 * became a supergroup; otherwise there is nothing to resolve (queued only because the
 * announcement itself never made it).
 */
function unknownResolves(unknown: readonly OutboxItem[], lookups: Lookups, options: BatchOptions): { anew: OutboxItem[]; unannounced: Delivery['dropped'] } {
  const elsewhere = (item: OutboxItem) => {
    const ref = lookups.refs.get(item.alert.fingerprint)
    return ref?.elsewhere === true && ref.startsAt === item.alert.startsAt
  }
  const anew = unknown.filter((item) => options.resolvedUnannounced || elsewhere(item))
  const unannounced = unknown
    .filter((item) => !anew.includes(item))
    .map((item) => ({ fingerprint: item.alert.fingerprint, reason: 'resolve of an alert whose message is unknown' }))
  return { anew, unannounced }
}

/**
 * flapCalls folds a flapping alert's new firing into the message that announced it, instead of a
 * new message. A message is packed with room for its alerts' resolved looks, not for a flap mark
 * on each: when the mark would leave a later look of the message past 4096 characters, the
 * flapping alert is announced anew instead (its old message keeps its earlier firing, resolved).
 */
function flapCalls(items: readonly OutboxItem[], lookups: Lookups, options: BatchOptions): Call[] {
  const { found, unknown } = byTarget(items, lookups, true)
  const calls: Call[] = []
  for (const [messageId, flapping] of found) {
    const fresh = new Map(flapping.map((i) => [i.alert.fingerprint, snapshot(i)]))
    const stored = lookups.records.get(messageId)!
    const replace = (a: AlertSnapshot) => fresh.get(a.fingerprint) ?? a
    const record: MessageRecord = {
      ...stored,
      alerts: stored.alerts.map(replace),
      ...(stored.digest ? { digest: { ...stored.digest, unnamed: stored.digest.unnamed.map(replace) } } : {}),
    }
    if (!stored.digest && !fitsLater(record, options)) {
      unknown.push(...flapping)
      continue
    }
    // announce: the refs move to the new startsAt, so this instance's resolve finds the message
    calls.push(editCall(record, options, [...fresh.keys()], true))
  }
  if (unknown.length > 0) calls.push(...announceCalls(unknown, options))
  return calls
}

/** repeatCalls reminds the chat that alerts are still firing, as a reply to the message that announced them. */
function repeatCalls(items: readonly OutboxItem[], lookups: Lookups, options: BatchOptions): Call[] {
  const head = items[0]!
  const { found, unknown } = byTarget(items, lookups, false)
  const thread = head.threadId ? { threadId: head.threadId } : {}
  const calls: Call[] = [...found].map(([messageId, reminded]) => ({
    op: 'send' as const,
    ...renderRepeatReply(
      reminded.map((i) => i.alert),
      options,
    ),
    ...thread,
    silent: head.silent,
    messageId,
    fingerprints: reminded.map((i) => i.alert.fingerprint),
  }))
  // its first message never made it (or was forgotten): announce it now
  if (unknown.length > 0)
    calls.push(
      ...announceCalls(
        unknown.map(({ repeat: _repeat, ...item }) => item),
        options,
      ),
    )
  return calls
}

/** headBatchLength is how many items at the head of the outbox (at most max) one ordinary delivery takes. */
export function headBatchLength(items: readonly OutboxItem[], max: number): number {
  return items.length === 0 ? 0 : contiguous(items, max).length
}

/** planDelivery turns the head of a chat's outbox into the calls that tell the chat about it. */
export function planDelivery(items: readonly OutboxItem[], lookups: Lookups, options: BatchOptions): Delivery {
  if (items.length === 0) return { take: 0, calls: [], dropped: [], deferredEdits: [] }
  const batch = contiguous(items, options.maxItems)
  const dropped: Delivery['dropped'] = []
  const kind = kindOf(batch[0]!)
  const calls =
    kind === 'firing'
      ? announceCalls(batch, options)
      : kind === 'flapping'
        ? flapCalls(batch, lookups, options)
        : kind === 'repeat'
          ? repeatCalls(batch, lookups, options)
          : resolveCalls(batch, lookups, options, dropped)
  return { take: batch.length, calls, dropped, deferredEdits: [] }
}

/** estimateCalls is how many Telegram calls the items would take one batch at a time (for the storm check). */
export function estimateCalls(items: readonly OutboxItem[], waiting: number): number {
  let batches = 0
  for (let i = 0; i < items.length; i++) if (i === 0 || !sameBatch(items[i]!, items[i - 1]!)) batches++
  // resolves take an edit and a reply; scale what the window saw to everything waiting
  const perBatch = items.some((i) => i.alert.status === 'resolved') ? 2 : 1
  return items.length === 0 ? 0 : Math.ceil(batches * perBatch * (waiting / items.length))
}

/** STATUS_EXTRA: what an alert's block adds to its labels and summary (its status line "🕒 since … (5m)", the marker, separators). */
const STATUS_EXTRA = 50
/** SUMMARY_SHOWN: most of a summary counted (a long one is the rare case, and its description is not counted at all). */
const SUMMARY_SHOWN = 120

/**
 * estimateChars is about how many characters saying what waits as it is takes, a block per alert:
 * its summary, its labels ("instance: web-1:9100") and its status line; what the window saw,
 * scaled to everything waiting. Descriptions and links are left out: this is about naming.
 */
export function estimateChars(items: readonly OutboxItem[], waiting: number): number {
  if (items.length === 0) return 0
  let chars = 0
  for (const item of items) {
    const { alertname: _name, severity: _severity, ...rest } = item.alert.labels
    chars += STATUS_EXTRA + Math.min(SUMMARY_SHOWN, item.alert.annotations.summary?.length ?? 0)
    for (const [name, value] of Object.entries(rest)) chars += name.length + value.length + 3
  }
  return Math.ceil(chars * (waiting / items.length))
}

/** FoldView: what a turn knows of what waits for a chat, for the fold decision. */
export interface FoldView {
  /** calls to say it one batch at a time (estimateCalls) */
  calls: number
  /** characters to name all of it in one message (estimateChars) */
  chars: number
  /** the chat's pace: one call per paceMs */
  paceMs: number
  /** how much later than its pace each of the chat's calls comes, as Telegram's overall limit serves the chats due before it (pace.ts globalWaitMs) */
  globalWaitMs?: number
  /** how many other chats (on any replica) are due before this one's next slot: they share Telegram's overall limit with it */
  othersDue?: number
  /** storms.max_delay */
  maxDelayMs: number
  /** what the turn read is one batch (one group's alerts) running past what was read: how many calls it takes is its length */
  oneBatch?: boolean
}

/** Fold: fold what waits into digests, or send it as it is; why says which rule decided. */
export type Fold = {
  fold: boolean
  why: 'fits the next slot' | 'one group' | 'beyond one message' | 'overall limit busy' | 'other chats waiting' | 'beyond max_delay' | 'within max_delay'
}

/**
 * planFold decides whether what waits for a chat is folded into digests now. What waits fits the
 * next slot (the next call the chat's pace allows) when it is one batch (one group's alerts, one
 * kind): then it goes as it is, in its own message (or its parts, packed as densely), and so a
 * quiet chat's first alert goes out at once. It no longer fits when it takes several calls; then
 * it is folded at once, in the next slot, when
 * - said as it is, a block per alert, it would take more than one message of 4096 characters:
 *   several slots as it is, where a digest names it in the fewest (a short line per alert), or
 * - Telegram's overall limit is busy (globalWaitMs > 0: the chats due before this one's next call
 *   take longer than its pace): each extra call of this chat holds every other chat back, so
 *   several batches go in the fewest messages, or
 * - other chats wait for the overall limit too (othersDue > 0: a burst across chats): one at a time,
 *   the chat's last alert would be named slots after the one digest that names all of it, and every
 *   chat of the burst needs the overall limit for its own last message; a chat whose alerts trickle
 *   in through a burst would otherwise end it with one small group per slot (the scale benchmark:
 *   up to 9 groups, 28 s, where its pace allowed one slot), or
 * - one batch at a time, its last call would come later than storms.max_delay; the chat's slots are
 *   its pace apart, and later still while the overall limit is busy.
 * Otherwise (a few small groups to a chat alone in using the overall limit, all said within
 * max_delay) each keeps its own message and buttons.
 * One group's alerts (read as one batch, however long) keep their own parts, buttons and resolve
 * edits, unless its parts, one per slot, would run past storms.max_delay.
 */
export function planFold(view: FoldView): Fold {
  if (view.calls <= 1) return { fold: false, why: 'fits the next slot' }
  // a slot of this chat comes once its pace has passed and the overall limit has served the chats due before it
  const slotMs = view.paceMs + (view.globalWaitMs ?? 0)
  if (view.oneBatch) {
    const parts = Math.ceil(view.chars / TELEGRAM_TEXT_LIMIT)
    return parts * slotMs > view.maxDelayMs ? { fold: true, why: 'beyond max_delay' } : { fold: false, why: 'one group' }
  }
  if (view.chars > TELEGRAM_TEXT_LIMIT) return { fold: true, why: 'beyond one message' }
  if ((view.globalWaitMs ?? 0) > 0) return { fold: true, why: 'overall limit busy' }
  if ((view.othersDue ?? 0) > 0) return { fold: true, why: 'other chats waiting' }
  if (view.calls * slotMs > view.maxDelayMs) return { fold: true, why: 'beyond max_delay' }
  return { fold: false, why: 'within max_delay' }
}

/** isStorm: what waits no longer fits the chat's next slot and is folded into digests now (planFold); globalWaitMs, othersDue: see FoldView. */
export function isStorm(items: readonly OutboxItem[], waiting: number, paceMs: number, maxDelayMs: number, globalWaitMs = 0, othersDue = 0): boolean {
  const oneBatch = items.length > 0 && headBatchLength(items, items.length) === items.length
  const view = { calls: estimateCalls(items, waiting), chars: estimateChars(items, waiting), paceMs, globalWaitMs, othersDue, maxDelayMs, oneBatch }
  return planFold(view).fold
}

/** planStorm folds a whole round of waiting items into digests (see the file comment); catchUp: what piled up during an outage, said so. */
export function planStorm(items: readonly OutboxItem[], lookups: Lookups, options: BatchOptions, catchUp = false): Delivery {
  return runThrough(planStormSteps(items, lookups, options, catchUp))
}

/** renderedParts renders a digest's parts as calls, pausing after each (core/steps.ts). */
function* renderedParts(parts: MessageContent[], head: OutboxItem, options: BatchOptions): Steps<Call[]> {
  const calls: Call[] = []
  for (const content of parts) {
    calls.push(recordCall(content, head, options))
    yield
  }
  return calls
}

/** planStormSteps is planStorm in steps (core/steps.ts): packing and rendering each part pause along the way. */
export function* planStormSteps(items: readonly OutboxItem[], lookups: Lookups, options: BatchOptions, catchUp = false): Steps<Delivery> {
  if (items.length === 0) return { take: 0, calls: [], dropped: [], deferredEdits: [] }
  const head = items[0]!
  const key = (a: AlertSnapshot) => `${a.fingerprint}/${a.startsAt}`
  const resolves = new Map(items.filter((i) => kindOf(i) === 'resolved').map((i) => [key(i.alert), i.alert]))
  const announced: AlertSnapshot[] = []
  let reminders = 0
  for (const item of items) {
    const kind = kindOf(item)
    if (kind === 'repeat') reminders++
    if (kind !== 'firing' && kind !== 'flapping') continue
    // fired and resolved within the round: named once, already resolved
    const resolved = resolves.get(key(item.alert))
    resolves.delete(key(item.alert))
    announced.push(resolved ? { ...snapshot(item), status: 'resolved', ...(resolved.endsAt ? { endsAt: resolved.endsAt } : {}) } : snapshot(item))
  }
  const calls: Call[] = []
  const dropped: Delivery['dropped'] = []
  if (announced.length > 0) {
    const round: DigestRound = { alerts: announced, reminders, resolvedRound: false, catchUp, externalURL: head.externalURL, ...sourceOf(head) }
    calls.push(...(yield* renderedParts(yield* packDigestSteps(round, options.digestMaxAlerts, options), head, options)))
  } else if (reminders > 0) {
    for (const item of items.filter((i) => kindOf(i) === 'repeat'))
      dropped.push({ fingerprint: item.alert.fingerprint, reason: 'reminder folded into a storm' })
  }
  const resolvedItems = items.filter((i) => kindOf(i) === 'resolved' && resolves.has(key(i.alert)))
  const { found, unknown } = byTarget(resolvedItems, lookups, false)
  const deferredEdits: EditTask[] = [...found].map(([messageId, list]) => ({
    messageId,
    resolutions: list.map((i) => ({ fingerprint: i.alert.fingerprint, startsAt: i.alert.startsAt, ...(i.alert.endsAt ? { endsAt: i.alert.endsAt } : {}) })),
  }))
  const { anew, unannounced } = unknownResolves(unknown, lookups, options)
  const told = [...[...found.values()].flat(), ...anew]
  dropped.push(...unannounced)
  if (told.length > 0) {
    const round: DigestRound = {
      alerts: told.map((i) => i.alert),
      reminders: 0,
      resolvedRound: true,
      catchUp,
      externalURL: head.externalURL,
      ...sourceOf(head),
    }
    // a resolved digest is a summary: nothing refers to it later, so it keeps no record
    const parts = yield* renderedParts(yield* packDigestSteps(round, options.digestMaxAlerts, options), head, options)
    calls.push(...parts.map((call) => ({ ...call, record: undefined, announce: undefined })))
  }
  return { take: items.length, calls, dropped, deferredEdits }
}

/** Notice: something the bot has to say in a chat, ahead of the alerts waiting there (still paced). */
export type Notice =
  /** silent: false for a message with sound (a loud escalation step); absent: without, as the bot's notices always are */
  | { kind: 'send'; html: string; plain: string; replyTo?: number; threadId?: number; keyboard?: InlineButton[][]; silent?: boolean }
  /** new text for one of the bot's own messages (a page of a list) */
  | { kind: 'edit'; messageId: number; html: string; plain: string; keyboard?: InlineButton[][] }
  /** a message's state changed (silenced, unsilenced, taken, escalated: a MessagePatch); an acknowledgement that ended also resolves its alerts */
  | ({ kind: 'mark'; messageId: number; resolutions?: Resolution[] } & MessagePatch)
  /** a call given up on (a dead letter) that an operator retries: made again as it was */
  | { kind: 'call'; call: Call }

/**
 * spliceNotices puts the bot's notices before the rest of an in-flight delivery. A silence mark
 * becomes an edit of the stored message; later calls of the delivery that would save that message
 * learn the mark too, so they do not undo it.
 */
export function spliceNotices(
  inflightCalls: readonly Call[],
  next: number,
  notices: readonly Notice[],
  records: ReadonlyMap<number, MessageRecord>,
  options: BatchOptions,
): Call[] {
  const marks = new Map<number, (record: MessageRecord) => MessageRecord>()
  // several marks of one message in one turn (taken while escalated) each start from the one before
  const current = new Map(records)
  const first: Call[] = []
  for (const notice of notices) {
    if (notice.kind === 'send') {
      first.push({
        op: 'send',
        html: notice.html,
        plain: notice.plain,
        silent: notice.silent ?? true,
        fingerprints: [],
        ...(notice.replyTo ? { messageId: notice.replyTo } : {}),
        ...(notice.threadId ? { threadId: notice.threadId } : {}),
        ...(notice.keyboard ? { keyboard: notice.keyboard } : {}),
      })
    } else if (notice.kind === 'edit') {
      first.push({
        op: 'edit',
        html: notice.html,
        plain: notice.plain,
        silent: true,
        messageId: notice.messageId,
        fingerprints: [],
        ...(notice.keyboard ? { keyboard: notice.keyboard } : {}),
      })
    } else if (notice.kind === 'call') {
      first.push(notice.call)
    } else {
      const record = current.get(notice.messageId)
      if (!record) continue
      const { kind: _kind, messageId: _id, resolutions, ...patch } = notice
      const change = (r: MessageRecord) => patchIncident(settle(r, resolutions ?? [], options.now), patch)
      const earlier = marks.get(notice.messageId)
      marks.set(notice.messageId, earlier ? (r) => change(earlier(r)) : change)
      current.set(notice.messageId, change(record))
      first.push(unlessUnchanged(editCall(change(record), options, [], false, record), record, options))
    }
  }
  const rest = inflightCalls.slice(next).map((call) => {
    if (!call.record || !marks.has(call.record.messageId) || call.op !== 'edit') return call
    // what the later edit measures is now what it adds to the marked record
    const marked = current.get(call.record.messageId)!
    // the marks said first may already show all this edit would (a silence seen by the watcher and extended from the chat)
    return unlessUnchanged(editCall(marks.get(call.record.messageId)!(call.record), options, call.fingerprints, call.announce, marked), marked, options)
  })
  return [...first, ...rest]
}

/** markedAhead is a record as the marks still waiting in its chat's notices will leave it: a take the chat has not seen yet still counts. */
export function markedAhead(record: MessageRecord, notices: readonly Notice[]): MessageRecord {
  return notices.reduce((r, n) => (n.kind === 'mark' && n.messageId === r.messageId ? patchIncident(r, n) : r), record)
}

/** unlessUnchanged flags an edit that leaves the message reading as it does (a timeline event the message does not show): Telegram would answer "message is not modified" and spend an edit. */
function unlessUnchanged(call: Call, before: MessageRecord, options: BatchOptions): Call {
  const now = editCall(before, options, [])
  return call.html === now.html && JSON.stringify(call.keyboard) === JSON.stringify(now.keyboard) ? { ...call, unchanged: true } : call
}

/** planDeferredEdit turns a deferred edit into the call that marks the alerts resolved in their message. */
export function planDeferredEdit(task: EditTask, record: MessageRecord | undefined, options: BatchOptions): Call | undefined {
  return record
    ? editCall(
        settle(record, task.resolutions, options.now),
        options,
        task.resolutions.map((r) => r.fingerprint),
        false,
        record,
      )
    : undefined
}
