/**
 * Events: what an alert event arriving in a chat is, given what alertwire remembers about it, and
 * what the chat's quiet hours do to it. One decision per candidate (see candidates.ts), on one clock
 * (Redis time, read with the state, so replicas agree):
 *
 *   new            first time seen here: queued
 *   duplicate      seen already (an HA twin, a webhook retry, Alertmanager re-sending the group)
 *   repeat         a still-firing alert seen again after its repeat interval: queued as a reminder
 *   stale          a firing after its resolve was already sent: nothing to say
 *   early resolve  a resolve before its firing was seen (retries, replicas, a backlog): it waits
 *   release        the firing a waiting resolve waited for: both queued, firing first
 *   flapping       each new firing counts in the flapping window; past the threshold the item
 *                  says how often it flapped (its message is updated in place)
 *
 * and, on whatever is queued: a mute window delivers it silently or holds it until the window
 * ends; /mute holds it until the mute ends, except critical alerts (mute.critical: silent | loud |
 * hold). The store commits the changes only if the state it read is unchanged. Pure.
 */
import type { Candidate, OutboxItem } from './candidates.js'
import { muteDecision } from './mute.js'

/** EventPolicy: the slice of the config events are decided under. */
export interface EventPolicy {
  /** how long an event is remembered (its duplicates collapse meanwhile) */
  rememberMs: number
  flapping: { windowMs: number; threshold: number }
  /** what /mute does to critical alerts */
  criticalWhenMuted: 'silent' | 'loud' | 'hold'
}

/** FlapMark: an instance of the alert (startsAt) that started firing at `at`. */
export interface FlapMark {
  startsAt: string
  at: number
}

/** EventState: what alertwire remembers about one alert instance (fingerprint + startsAt) in one chat. */
export interface EventState {
  firingSeen: boolean
  resolvedSeen: boolean
  /** a reminder (or the announcement) was queued less than a repeat interval ago */
  reminded: boolean
  /** a resolve that came before its firing, waiting for it */
  waitingResolve?: OutboxItem
  /** when instances of this alert started firing lately (marks older than the flapping window do not count) */
  flaps: readonly FlapMark[]
  /** /mute: the chat is muted until then (ms; 0: it is not) */
  mutedUntil: number
}

/** EventChange: what to remember after an event, each until its own time (ms). */
export type EventChange =
  | { kind: 'seen'; status: 'firing' | 'resolved'; until: number }
  /** no reminder before `until` */
  | { kind: 'reminded'; until: number }
  | { kind: 'wait'; item: OutboxItem; until: number }
  /** the waiting resolve was queued */
  | { kind: 'released' }
  /** the flapping window now */
  | { kind: 'flaps'; flaps: FlapMark[]; until: number }

/** EventKind: the rows of the file comment. */
export type EventKind = 'new' | 'duplicate' | 'repeat' | 'stale' | 'early_resolve' | 'release'

/** EventResult: what became of the event, as counted in alertwire_alerts_received_total{result}. */
export type EventResult = 'queued' | 'held' | 'repeated' | 'duplicate' | 'unannounced' | 'stale'

/** Queued: an item for the chat's outbox, or held outside it until holdUntil. */
export interface Queued {
  item: OutboxItem
  holdUntil?: number
}

/** EventDecision: what an event is, what to queue (in order), and what to remember. */
export interface EventDecision {
  kind: EventKind
  result: EventResult
  queue: Queued[]
  changes: EventChange[]
}

/** EARLY_RESOLVE_TTL_MS: how long a resolve waits for a firing planned after it (a resolve whose firing never comes was for an alert alertwire never announced). */
export const EARLY_RESOLVE_TTL_MS = 3_600_000

/**
 * repeatMarkerMs: how long a reminder marker lives. A little under the interval, because Alertmanager
 * re-sends at its own repeat_interval measured from its last send, which reaches us a moment before
 * our marker (set when we planned) would expire: without the margin every other repeat is missed.
 */
export function repeatMarkerMs(intervalMs: number): number {
  return intervalMs <= 0 ? 0 : intervalMs - Math.min(60_000, Math.floor(intervalMs / 10))
}

/** decideEvent tells what an arriving event is (see the file comment). */
export function decideEvent(policy: EventPolicy, state: EventState, event: Candidate, now: number): EventDecision {
  const { holdUntil, item } = quietHours(policy, state, event, now)
  const held = holdUntil > now
  const queued = (queuedItem: OutboxItem): Queued => (held ? { item: queuedItem, holdUntil } : { item: queuedItem })
  const outcome = held ? 'held' : 'queued'
  const remindEvery = repeatMarkerMs(event.repeatIntervalMs)
  const firing = event.status === 'firing'
  if (firing ? state.firingSeen : state.resolvedSeen) {
    if (!firing || remindEvery === 0 || state.resolvedSeen || state.reminded) return { kind: 'duplicate', result: 'duplicate', queue: [], changes: [] }
    return {
      kind: 'repeat',
      result: held ? 'held' : 'repeated',
      queue: [queued({ ...item, repeat: true })],
      changes: [{ kind: 'reminded', until: now + remindEvery }],
    }
  }
  const seen: EventChange = { kind: 'seen', status: event.status, until: now + policy.rememberMs }
  if (firing && state.resolvedSeen) {
    const waiting = state.waitingResolve
    if (!waiting) return { kind: 'stale', result: 'stale', queue: [], changes: [seen] }
    // the resolve may have been stored first: it still goes after its firing
    const resolve = waiting.seq < item.seq ? { ...waiting, seq: item.seq } : waiting
    return { kind: 'release', result: outcome, queue: [queued(item), queued(resolve)], changes: [seen, { kind: 'released' }] }
  }
  if (!firing && event.requireFiringSeen && !state.firingSeen) {
    return { kind: 'early_resolve', result: 'unannounced', queue: [], changes: [seen, { kind: 'wait', item, until: now + EARLY_RESOLVE_TTL_MS }] }
  }
  const flapping = flapWindow(policy.flapping, state.flaps, firing ? event.startsAt : undefined, now)
  const changes: EventChange[] = [seen, ...flapping.changes]
  if (firing && remindEvery > 0) changes.push({ kind: 'reminded', until: now + remindEvery })
  const flagged = policy.flapping.threshold > 0 && flapping.count >= policy.flapping.threshold ? { ...item, flaps: flapping.count } : item
  return { kind: 'new', result: outcome, queue: [queued(flagged)], changes }
}

/**
 * quietHours applies the route's mute windows and the chat's /mute: hold wins over silent, the
 * later hold wins; under /mute a critical alert comes silently, loudly or waits too, as configured.
 */
function quietHours(policy: EventPolicy, state: EventState, event: Candidate, now: number): { holdUntil: number; item: OutboxItem } {
  const window = muteDecision(event.muteWindows, event.level, now)
  let holdUntil = window.action === 'hold' ? window.until : 0
  let silent = event.item.silent || window.action !== 'none'
  if (state.mutedUntil > now) {
    if (event.level !== 'critical' || policy.criticalWhenMuted === 'hold') holdUntil = Math.max(holdUntil, state.mutedUntil)
    else if (policy.criticalWhenMuted === 'silent') silent = true
  }
  return { holdUntil, item: silent === event.item.silent ? event.item : { ...event.item, silent } }
}

/** flapWindow counts the alert's firings within the window, this one (startsAt) included; off when the threshold is 0. */
function flapWindow(
  flapping: EventPolicy['flapping'],
  marks: readonly FlapMark[],
  startsAt: string | undefined,
  now: number,
): { count: number; changes: EventChange[] } {
  if (flapping.threshold <= 0) return { count: 0, changes: [] }
  const recent = marks.filter((m) => m.at > now - flapping.windowMs && m.startsAt !== startsAt)
  if (startsAt === undefined) return { count: recent.length, changes: [] }
  const flaps = [...recent, { startsAt, at: now }]
  return { count: flaps.length, changes: [{ kind: 'flaps', flaps, until: now + flapping.windowMs }] }
}
