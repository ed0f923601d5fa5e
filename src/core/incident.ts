/**
 * What happens to an alert message after it is sent: who silenced its alerts (from the chat or
 * anywhere else), who took it ("I'm on it"), and the timeline of its events (fired, escalated,
 * taken, silenced, resolved). These live in the message's record in Redis, changed only by the
 * chat's sender turn (a 'mark' notice carries a MessagePatch), so replicas never race on them. Pure.
 */

/** Person: someone alertwire can mention: a Telegram user id (a mention by id notifies them even without a username), a name, the @username when known. */
export interface Person {
  id: number
  name: string
  username?: string
}

/** SilenceMark: a silence that covers a message's alerts, made from the chat or elsewhere. */
export interface SilenceMark {
  ids: string[]
  by: string
  /** ISO time the silence ends; for an acknowledgement, the longest it may last */
  until: string
  /** acknowledged until resolved: alertwire expires the silence when the alerts resolve */
  ack: boolean
  /** the silence's comment, as its author wrote it */
  comment?: string
  /** made outside the chat (Alertmanager's UI, amtool, another tool): seen by the silence watcher */
  external?: boolean
}

/** Taken: someone said "I'm on it": escalation stops, nothing is silenced. */
export interface Taken {
  by: Person
  /** ISO time */
  at: string
}

/** TimelineKind: the events a message's timeline keeps. */
export type TimelineKind =
  | 'fired'
  | 'escalated'
  | 'taken'
  | 'released'
  | 'acknowledged'
  | 'silenced'
  | 'unsilenced'
  | 'silence_expired'
  | 'reminded'
  | 'resolved'

/** TimelineEvent: one event of a message: when, what, by whom, and a short detail ("step 2: @alice"). */
export interface TimelineEvent {
  /** ISO time */
  at: string
  kind: TimelineKind
  by?: string
  detail?: string
  /** done from the chat (a button or a command): a reaction time to acknowledge measures (external silences are not) */
  chat?: true
}

/** TIMELINE_CAP: events a record keeps; the first (fired) is always kept, then the latest. */
export const TIMELINE_CAP = 40

/** MessagePatch: a change to a message's state; an absent field leaves it as it is, null clears it. */
export interface MessagePatch {
  silence?: SilenceMark | null
  taken?: Taken | null
  events?: TimelineEvent[]
}

/** IncidentState: the part of a record a patch changes. */
export interface IncidentState {
  silence?: SilenceMark
  taken?: Taken
  timeline?: TimelineEvent[]
}

/** patchIncident applies a patch to a record's incident state, keeping the rest of the record. */
export function patchIncident<T extends IncidentState>(record: T, patch: MessagePatch): T {
  const { silence, taken, timeline, ...rest } = record
  const next = { ...rest } as T
  const silenceNow = patch.silence === undefined ? silence : (patch.silence ?? undefined)
  const takenNow = patch.taken === undefined ? taken : (patch.taken ?? undefined)
  const events = [...(timeline ?? []), ...(patch.events ?? [])]
  if (silenceNow) next.silence = silenceNow
  if (takenNow) next.taken = takenNow
  if (events.length > 0) next.timeline = capTimeline(events)
  return next
}

/** capTimeline keeps the first event and the latest ones, TIMELINE_CAP in all. */
export function capTimeline(events: readonly TimelineEvent[]): TimelineEvent[] {
  return events.length <= TIMELINE_CAP ? [...events] : [events[0]!, ...events.slice(events.length - TIMELINE_CAP + 1)]
}
