/**
 * How a message's on-call state reads: who took it, the latest escalation while nobody has, the
 * short timeline and the time to take and to resolve once its alerts resolved, and the whole
 * timeline for /timeline. Every value is cut before it is escaped, so what these lines can add to a
 * message is bounded (render.ts reserves room for it when packing). Pure: the clock comes in.
 */
import { formatDuration } from './duration.js'
import { cutText, escapeHtml } from './html.js'
import type { IncidentState, Person, TimelineEvent, TimelineKind } from './incident.js'

/** BY_MAX: most characters of a name shown in a message's on-call lines (a Telegram name can be 64; the room is reserved in every message). */
export const BY_MAX = 40
/** DETAIL_MAX: most characters of an escalation's detail shown in a message ("step 2: @alice, Bob"). */
export const DETAIL_MAX = 60
/** SUMMARY_MAX: most events the resolved edit's short timeline shows. */
export const SUMMARY_MAX = 5

const ICONS: Record<TimelineKind, string> = {
  fired: '🔥 fired',
  escalated: '⏫ escalated',
  taken: '✋ taken',
  released: '↩️ released',
  acknowledged: '✋ acknowledged',
  silenced: '🔕 silenced',
  unsilenced: '🔔 unsilenced',
  silence_expired: '🔔 silence expired',
  reminded: '⏰ reminded the silence ends',
  resolved: '✅ resolved',
}

/** PERSONAL: the events a person does, whose line in a message names them. */
const PERSONAL: ReadonlySet<TimelineKind> = new Set(['taken', 'released', 'acknowledged', 'silenced', 'unsilenced'])

/** REACTIONS: the events that say a person reacted (what time to acknowledge measures, and what "untaken" lacks). */
const REACTIONS: ReadonlySet<TimelineKind> = new Set(['taken', 'acknowledged', 'silenced'])

/** personName: how a message names someone: "@alice", or the name when there is no username. */
export function personName(person: Person): string {
  return person.username ? `@${person.username}` : person.name
}

const clocks = new Map<string, Intl.DateTimeFormat>()

/** shortTime writes the time of day in the operator's time zone: "03:12". */
export function shortTime(iso: string, timeZone: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return cutText(iso, 25)
  let clock = clocks.get(timeZone)
  if (!clock) {
    clock = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    clocks.set(timeZone, clock)
  }
  return clock.format(date)
}

/**
 * eventText is one event as a line says it (HTML): "✋ taken by @alice", "⏫ escalated: step 2:
 * @alice". whole: /timeline's line (every detail, longer); else a message's (only an escalation's
 * detail, so the room a message reserves stays small).
 */
export function eventText(event: TimelineEvent, whole = false): string {
  // in a message, who only where it is a person's act (so the room a message reserves is what these lines can take)
  const by = event.by && (whole || PERSONAL.has(event.kind)) ? ` by ${escapeHtml(cutText(event.by, whole ? 100 : BY_MAX))}` : ''
  // in a message, only what reads well in one line: whom an escalation told, whose silence expired
  const shown = event.detail && (whole || event.kind === 'escalated' || event.kind === 'silence_expired')
  const detail = shown ? `: ${escapeHtml(cutText(event.detail!, whole ? 300 : DETAIL_MAX))}` : ''
  return `${ICONS[event.kind] ?? escapeHtml(cutText(String(event.kind), 30))}${by}${detail}`
}

const firstOf = (events: readonly TimelineEvent[], kinds: ReadonlySet<TimelineKind>) => events.find((e) => kinds.has(e.kind))
const ms = (event: TimelineEvent | undefined) => (event ? Date.parse(event.at) : Number.NaN)
/** ordered: the timeline by time (events pushed by different writers can arrive out of order); stable for equal times. */
const ordered = (events: readonly TimelineEvent[]) => [...events].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))

/** isReaction: an event that says a person reacted from the chat (took, acknowledged, silenced); external silences are not. */
export function isReaction(event: TimelineEvent): boolean {
  return REACTIONS.has(event.kind) && event.chat === true
}

/** Figures: time to the first reaction (and which it was) and to the resolve, when known. */
export interface Figures {
  reaction?: { kind: TimelineKind; ms: number }
  resolveMs?: number
}

/** figuresOf measures a timeline: from 'fired' to the first reaction from the chat, and to the first 'resolved'. */
export function figuresOf(timeline: readonly TimelineEvent[]): Figures {
  const events = ordered(timeline)
  const fired = ms(events.find((e) => e.kind === 'fired'))
  const reaction = events.find(isReaction)
  const resolved = ms(events.find((e) => e.kind === 'resolved'))
  const figures: Figures = {}
  if (reaction && Number.isFinite(fired) && Number.isFinite(ms(reaction))) figures.reaction = { kind: reaction.kind, ms: Math.max(0, ms(reaction) - fired) }
  if (Number.isFinite(fired) && Number.isFinite(resolved)) figures.resolveMs = Math.max(0, resolved - fired)
  return figures
}

/** summaryEvents: the resolved edit's short timeline: fired, the first escalation, the first reaction, the first silence, resolved. */
export function summaryEvents(timeline: readonly TimelineEvent[]): TimelineEvent[] {
  const events = ordered(timeline)
  const picks = [
    events.find((e) => e.kind === 'fired'),
    events.find((e) => e.kind === 'escalated'),
    firstOf(events, new Set(['taken', 'acknowledged'])),
    events.find((e) => e.kind === 'silenced'),
    events.findLast((e) => e.kind === 'resolved'),
  ]
  return [...new Set(picks.filter((e): e is TimelineEvent => e !== undefined))].sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).slice(0, SUMMARY_MAX)
}

/** figuresLine: "✋ taken after 4m · ✅ resolved after 23m" (nothing known: empty). */
export function figuresLine(timeline: readonly TimelineEvent[]): string {
  const { reaction, resolveMs } = figuresOf(timeline)
  const parts: string[] = []
  if (reaction) parts.push(`${ICONS[reaction.kind]} after ${formatDuration(reaction.ms)}`)
  else if (resolveMs !== undefined && !timeline.some((e) => REACTIONS.has(e.kind))) parts.push('nobody took it')
  if (resolveMs !== undefined) parts.push(`✅ resolved after ${formatDuration(resolveMs)}`)
  return parts.join(' · ')
}

/** IncidentView: what the on-call lines read from a message: its incident state and whether an alert still fires. */
export interface IncidentView extends IncidentState {
  firing: boolean
}

/**
 * incidentNote is the on-call part of a message (HTML, empty when there is nothing to say): while
 * it fires, who took it ("✋ taken by @alice at 03:12") or else the latest escalation; once all its
 * alerts resolved, the short timeline and the figures.
 */
export function incidentNote(view: IncidentView, timeZone: string): string {
  const timeline = view.timeline ?? []
  if (view.firing || !timeline.some((e) => e.kind === 'resolved')) {
    const escalated = view.firing ? timeline.findLast((e) => e.kind === 'escalated') : undefined
    const who = view.taken
      ? `✋ taken by <b>${escapeHtml(cutText(personName(view.taken.by), BY_MAX))}</b> at ${shortTime(view.taken.at, timeZone)}`
      : escalated
        ? eventText(escalated)
        : ''
    // a silence that ended while the alerts still fire: said until someone silences them again
    const lastSilence = timeline.findLast((e) => e.kind === 'silenced' || e.kind === 'unsilenced' || e.kind === 'silence_expired')
    const expired =
      view.firing && !view.silence && lastSilence?.kind === 'silence_expired' ? `${eventText(lastSilence)} at ${shortTime(lastSilence.at, timeZone)}` : ''
    return [who, expired].filter((line) => line !== '').join('\n')
  }
  const lines = summaryEvents(timeline).map((e) => `${shortTime(e.at, timeZone)} ${eventText(e)}`)
  const figures = figuresLine(timeline)
  return [...lines, ...(figures ? [figures] : [])].join('\n')
}

/** worstIncidentNote: the longest note a message can get later (the most lines, the longest names and details), for packing. */
export function worstIncidentNote(timeZone: string): string[] {
  const at = new Date(Date.UTC(2026, 11, 31, 23, 59)).toISOString()
  const later = new Date(Date.UTC(2026, 11, 31, 23, 59) + (999 * 86_400 + 23 * 3600) * 1000).toISOString()
  const by = 'W'.repeat(BY_MAX + 10)
  const detail = 'W'.repeat(DETAIL_MAX + 10)
  const person = { id: 1, name: by }
  const firing: IncidentView = { firing: true, taken: { by: person, at }, timeline: [{ at, kind: 'silence_expired', by, detail }] }
  const escalating: IncidentView = {
    firing: true,
    timeline: [
      { at, kind: 'escalated', by, detail },
      { at, kind: 'silence_expired', by, detail },
    ],
  }
  const kinds: TimelineKind[] = ['fired', 'escalated', 'taken', 'silenced']
  const resolved: IncidentView = {
    firing: false,
    timeline: [...kinds.map((kind) => ({ at, kind, by, detail, chat: true as const })), { at: later, kind: 'resolved', by, detail }],
  }
  return [firing, escalating, resolved].map((view) => incidentNote(view, timeZone))
}

/** TIMELINE_REPLY_MAX: most events /timeline lists (the latest; a record keeps at most TIMELINE_CAP). */
const TIMELINE_REPLY_MAX = 40

/** timelineReply is /timeline's answer (HTML): every event kept, one a line, with the figures. */
export function timelineReply(title: string, view: IncidentView, timeZone: string, formatTime: (iso: string) => string): string {
  const events = ordered(view.timeline ?? []).slice(-TIMELINE_REPLY_MAX)
  const head = `🕒 <b>Timeline</b> · ${escapeHtml(cutText(title, 200))}`
  if (events.length === 0) return `${head}\nNothing recorded for this message yet (it was sent before alertwire kept timelines).`
  const lines = events.map((e) => `${escapeHtml(formatTime(e.at))} ${eventText(e, true)}`)
  const state = view.taken ? `✋ taken by <b>${escapeHtml(cutText(personName(view.taken.by), BY_MAX))}</b> at ${shortTime(view.taken.at, timeZone)}` : ''
  const figures = figuresLine(view.timeline ?? [])
  return [head, ...lines, ...(state && view.firing ? [state] : []), ...(figures ? [figures] : [])].join('\n')
}

/** Observation: a figure a change of a message measures, for the executor to count (metrics.ts). */
export interface Observation {
  /** acknowledge: time to the first reaction from the chat; resolve: time to resolve; resolved_untaken: resolved with nobody having reacted */
  metric: 'acknowledge' | 'resolve' | 'resolved_untaken'
  route: string
  severity: string
  seconds: number
}

/**
 * observe says what a change of a message's timeline measures, each once per message: its first
 * reaction from the chat (taken, acknowledged, silenced) and its first resolve, and whether nobody
 * had taken, acknowledged or silenced it (from the chat or elsewhere) by then.
 */
export function observe(before: readonly TimelineEvent[], after: readonly TimelineEvent[], labels: { route: string; severity: string }): Observation[] {
  const figures = figuresOf(after)
  const found: Observation[] = []
  if (!before.some(isReaction) && figures.reaction) found.push({ metric: 'acknowledge', ...labels, seconds: figures.reaction.ms / 1000 })
  if (!before.some((e) => e.kind === 'resolved') && figures.resolveMs !== undefined) {
    found.push({ metric: 'resolve', ...labels, seconds: figures.resolveMs / 1000 })
    if (!after.some((e) => REACTIONS.has(e.kind))) found.push({ metric: 'resolved_untaken', ...labels, seconds: 0 })
  }
  return found
}

/** resolvedEvent: the 'resolved' event of a message whose alerts all resolved: when the last of them ended (known, and not before it fired), else now. */
export function resolvedEvent(timeline: readonly TimelineEvent[], endsAt: readonly (string | undefined)[], now: number): TimelineEvent {
  const fired = Date.parse(timeline.find((e) => e.kind === 'fired')?.at ?? '')
  const ends = endsAt.map((at) => Date.parse(at ?? '')).filter((ms) => Number.isFinite(ms) && ms <= now && ms > 0)
  const last = ends.length > 0 ? Math.max(...ends) : now
  return { at: new Date(Number.isFinite(fired) ? Math.max(fired, last) : last).toISOString(), kind: 'resolved' }
}
