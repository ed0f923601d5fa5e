/**
 * The silence watcher's decision for one alert message: what Alertmanager says silences its
 * alerts now, against what the message shows. A silence made elsewhere (Alertmanager's UI,
 * amtool, another tool) that newly covers the message marks it; a silence the message shows that
 * ended while its alerts still fire clears the mark and says so; a silence made from the chat that
 * ends soon gets one reminder. Acknowledgements are the ack watcher's (bot/ack-watcher.ts), and a
 * silence alertwire made is marked by the chat itself, never here. Pure: the clock comes in.
 */
import { cutText, escapeHtml } from './html.js'
import type { SilenceMark, TimelineEvent } from './incident.js'
import type { InlineButton } from './keyboard.js'
import { buttonData } from './keyboard.js'
import { formatDuration } from './duration.js'
import { shortTime } from './timeline.js'

/** CHAT_CREATED_BY: how silences made from Telegram are signed (bot/handlers.ts): alertwire made them. */
export const CHAT_CREATED_BY = 'telegram:'

/** COMMENT_MAX: most characters of a silence's comment a mark keeps (the message shows it). */
export const COMMENT_MAX = 200

/** WatchedAlert: an alert of a message, as its record keeps it. */
export interface WatchedAlert {
  fingerprint: string
  status: 'firing' | 'resolved'
  labels: Record<string, string>
}

/** WatchedMessage: an alert message and the silence it shows, or is about to (a mark on its way to the chat). */
export interface WatchedMessage {
  alerts: readonly WatchedAlert[]
  shown?: SilenceMark
}

/** SilenceFacts: a silence as Alertmanager describes it. */
export interface SilenceFacts {
  id: string
  createdBy: string
  comment: string
  endsAt: string
}

/** AlertmanagerView: what Alertmanager says now: each alert it has (by fingerprint) with the silences that silence it, and those silences. */
export interface AlertmanagerView {
  silencedBy: ReadonlyMap<string, readonly string[]>
  silences: ReadonlyMap<string, SilenceFacts>
}

/** WatchOptions: the clock, the time zone of the words, and how long before its end a chat silence is reminded of (0: never). */
export interface WatchOptions {
  nowMs: number
  timeZone: string
  remindBeforeMs: number
}

/** WatchPlan: what to do for one message. gone: it needs no watching any more (resolved, or no alert of it is in Alertmanager). */
export type WatchPlan =
  | { kind: 'none' }
  | { kind: 'gone' }
  | { kind: 'mark'; silence: SilenceMark | null; events: TimelineEvent[]; outcome: 'marked' | 'updated' | 'expired' }
  | { kind: 'remind'; silenceId: string; until: string; firing: string[]; events: TimelineEvent[] }

/** isChatSilence: a silence alertwire made from the chat (its author is signed "telegram:…"). */
export function isChatSilence(silence: Pick<SilenceFacts, 'createdBy'>): boolean {
  return silence.createdBy.startsWith(CHAT_CREATED_BY)
}

const NONE: WatchPlan = { kind: 'none' }

/** planSilenceWatch decides what one message needs now; see the file comment. */
export function planSilenceWatch(message: WatchedMessage, view: AlertmanagerView, options: WatchOptions): WatchPlan {
  const alive = message.alerts.filter((a) => a.status === 'firing' && view.silencedBy.has(a.fingerprint))
  if (alive.length === 0) return { kind: 'gone' }
  const shown = message.shown
  if (shown?.ack) return NONE
  const by = (a: WatchedAlert) => view.silencedBy.get(a.fingerprint) ?? []
  const active = new Set(alive.flatMap(by))
  const known = (id: string) => view.silences.get(id)
  // a silence listed on an alert but not (yet) in the list of silences: ask again next time
  if ([...active].some((id) => !known(id))) return NONE
  const own = [...active].filter((id) => isChatSilence(known(id)!))
  const foreignOf = (a: WatchedAlert) => by(a).filter((id) => !isChatSilence(known(id)!))
  const foreignCovers = alive.every((a) => foreignOf(a).length > 0)
  const at = new Date(options.nowMs).toISOString()
  const still = shown ? shown.ids.filter((id) => active.has(id)) : []
  if (shown && still.length > 0) {
    if (!shown.external) return reminder(message, still, view, options)
    const next = foreignCovers ? markOf(alive, foreignOf, view) : undefined
    return next && !sameMark(next, shown) ? { kind: 'mark', silence: next, events: [], outcome: 'updated' } : NONE
  }
  // the chat is making its own change (or /silence covers the alerts): the chat marks that itself
  if (own.length > 0) return NONE
  if (foreignCovers) {
    const mark = markOf(alive, foreignOf, view)
    const event: TimelineEvent = { at, kind: 'silenced', by: mark.by, ...(mark.comment ? { detail: mark.comment } : {}) }
    return { kind: 'mark', silence: mark, events: [event], outcome: 'marked' }
  }
  if (!shown) return NONE
  return { kind: 'mark', silence: null, events: [{ at, kind: 'silence_expired', detail: `made by ${shown.by}` }], outcome: 'expired' }
}

/** markOf: the mark for the silences that cover the alerts: until the first alert they stop covering; by and comment of the one that lasts longest. */
function markOf(alive: readonly WatchedAlert[], idsOf: (a: WatchedAlert) => string[], view: AlertmanagerView): SilenceMark {
  const ends = (id: string) => Date.parse(view.silences.get(id)!.endsAt)
  const ids = [...new Set(alive.flatMap(idsOf))].sort()
  const until = Math.min(...alive.map((a) => Math.max(...idsOf(a).map(ends))))
  const principal = view.silences.get(ids.reduce((best, id) => (ends(id) > ends(best) ? id : best)))!
  const comment = cutText(principal.comment.trim(), COMMENT_MAX)
  return { ids, by: principal.createdBy, until: new Date(until).toISOString(), ack: false, external: true, ...(comment ? { comment } : {}) }
}

function sameMark(a: SilenceMark, b: SilenceMark): boolean {
  return a.ids.join() === b.ids.join() && Date.parse(a.until) === Date.parse(b.until) && a.by === b.by && (a.comment ?? '') === (b.comment ?? '')
}

/** reminder: a chat silence that ends within remind_before while its alerts fire gets a reminder (the executor sends it once per silence and end). */
function reminder(message: WatchedMessage, still: readonly string[], view: AlertmanagerView, options: WatchOptions): WatchPlan {
  if (options.remindBeforeMs <= 0) return NONE
  const silence = still.map((id) => view.silences.get(id)!).reduce((a, b) => (Date.parse(b.endsAt) > Date.parse(a.endsAt) ? b : a))
  const left = Date.parse(silence.endsAt) - options.nowMs
  if (left <= 0 || left > options.remindBeforeMs) return NONE
  const firing = [...new Set(message.alerts.filter((a) => a.status === 'firing').map((a) => a.labels.alertname ?? a.fingerprint))]
  const event: TimelineEvent = { at: new Date(options.nowMs).toISOString(), kind: 'reminded', detail: `ends at ${shortTime(silence.endsAt, options.timeZone)}` }
  return { kind: 'remind', silenceId: silence.id, until: silence.endsAt, firing, events: [event] }
}

/** FIRING_NAMED: most alert names a reminder names; the rest are counted. */
const FIRING_NAMED = 3

/** reminderText is the reminder's words (HTML): "🔕 The silence ends at 04:00 while <b>HighLatency</b> still fires." */
export function reminderText(until: string, firing: readonly string[], timeZone: string): string {
  const named = firing.slice(0, FIRING_NAMED).map((name) => `<b>${escapeHtml(cutText(name, 100))}</b>`)
  const more = firing.length > FIRING_NAMED ? ` and ${firing.length - FIRING_NAMED} more` : ''
  const verb = firing.length === 1 ? 'fires' : 'fire'
  return `🔕 The silence ends at ${shortTime(until, timeZone)} while ${named.join(', ')}${more} still ${verb}.`
}

/** reminderKeyboard: "Extend 1h", "Extend 4h" (one per configured option: ex0, ex1, …) and "Let it lapse" (lp), on the message's token. */
export function reminderKeyboard(token: string, extendOptionsMs: readonly number[]): InlineButton[][] {
  return [
    extendOptionsMs.map((ms, i) => ({ text: `Extend ${formatDuration(ms)}`, callback_data: buttonData(`ex${i}`, token) })),
    [{ text: 'Let it lapse', callback_data: buttonData('lp', token) }],
  ]
}

/** extendedEnd: where an extended silence ends: the option later than it ends now (or than now, if it already ended). */
export function extendedEnd(endsAt: string, optionMs: number, nowMs: number): string {
  return new Date(Math.max(Date.parse(endsAt), nowMs) + optionMs).toISOString()
}
