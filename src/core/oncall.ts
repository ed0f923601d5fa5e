/**
 * /oncall in the chat: reading what an admin typed (`/oncall @bob 8h`, `/oncall me until 09:00`,
 * `/oncall primary bob 2026-12-24T18:00..2026-12-27T09:00`) into an override request, and writing
 * who is on call now and next. Names are written as text, never as mention links: asking who is on
 * call must not wake anybody. Pure: the clock and the config are parameters.
 */
import { formatDuration, parseDuration } from './duration.js'
import { escapeHtml } from './html.js'
import type { Person } from './incident.js'
import { finish, type Rendered } from './render.js'
import { lastHandoffAt, nextOnCall, onCallAt, type Rota, type RotaOverride } from './rota.js'
import { localClock, localToUtc, parseClock, parseLocalDateTime } from './zoned.js'

/** ONCALL_USAGE: what /oncall takes, said when it was typed wrong. */
export const ONCALL_USAGE =
  'usage: /oncall shows who is on call; admins override: /oncall @bob 8h, /oncall me until 09:00, /oncall bob 2026-12-24T18:00..2026-12-27T09:00 (with several rotas: /oncall primary @bob 8h)'

/** MAX_OVERRIDE_MS: the longest override the chat may make; longer plans belong in the YAML, where they are reviewed. */
export const MAX_OVERRIDE_MS = 31 * 86_400_000

/** OnCallRequest: what /oncall asked for. */
export type OnCallRequest =
  | { kind: 'show'; rotas: string[] }
  | { kind: 'override'; rota: string; who: string; fromMs: number; untilMs: number }
  | { kind: 'invalid'; text: string }

/** OnCallContext: what reading /oncall needs: the chat's rotas, all rotas, now, the chat's zone. */
export interface OnCallContext {
  /** the rotas this chat is about (its routes' policies'; all when none) */
  chatRotas: readonly string[]
  allRotas: ReadonlySet<string>
  nowMs: number
  timeZone: string
}

/** readWhen reads the time part: "8h", "until 09:00", "until 2026-12-27T09:00", "2026-12-24T18:00..2026-12-27T09:00". */
function readWhen(words: readonly string[], ctx: OnCallContext): { fromMs: number; untilMs: number } | string {
  const [first, second] = words
  if (words.length === 1 && first !== undefined && parseDuration(first)) return { fromMs: ctx.nowMs, untilMs: ctx.nowMs + parseDuration(first)! }
  if (words.length === 1 && first?.includes('..')) {
    const [from, until] = first.split('..').map((text) => parseLocalDateTime(ctx.timeZone, text))
    if (from === undefined || until === undefined) return `write the span as 2026-12-24T18:00..2026-12-27T09:00 (${ctx.timeZone})`
    return { fromMs: from, untilMs: until }
  }
  if (words.length === 2 && first === 'until' && second !== undefined) {
    const clock = parseClock(second)
    if (clock !== undefined) {
      // the next time the chat's clock shows it: "until 09:00" at 23:00 means tomorrow morning
      const today = localClock(ctx.timeZone, ctx.nowMs).dayNumber
      const at = localToUtc(ctx.timeZone, today, clock)
      return { fromMs: ctx.nowMs, untilMs: at > ctx.nowMs ? at : localToUtc(ctx.timeZone, today + 1, clock) }
    }
    const until = parseLocalDateTime(ctx.timeZone, second)
    if (until !== undefined) return { fromMs: ctx.nowMs, untilMs: until }
    return `write the end as 09:00 or 2026-12-27T09:00 (${ctx.timeZone})`
  }
  return 'say for how long: 8h, until 09:00, or 2026-12-24T18:00..2026-12-27T09:00'
}

/** parseOnCallArgs reads /oncall's arguments; a rota name first picks one of several. */
export function parseOnCallArgs(args: string, ctx: OnCallContext): OnCallRequest {
  const words = args.split(/\s+/).filter(Boolean)
  if (words.length === 0) return { kind: 'show', rotas: [...ctx.chatRotas] }
  if (words.length === 1 && ctx.allRotas.has(words[0]!)) return { kind: 'show', rotas: [words[0]!] }
  const named = words.length >= 3 && ctx.allRotas.has(words[0]!)
  const rest = named ? words.slice(1) : words
  if (!named && ctx.chatRotas.length !== 1) {
    if (ctx.chatRotas.length === 0) return { kind: 'invalid', text: 'No rota is configured (rotas: in the config).' }
    return { kind: 'invalid', text: `Say which rota: ${ctx.chatRotas.join(', ')}. Like /oncall ${ctx.chatRotas[0]} ${rest.join(' ')}` }
  }
  const rota = named ? words[0]! : ctx.chatRotas[0]!
  if (rest.length < 2) return { kind: 'invalid', text: ONCALL_USAGE }
  const when = readWhen(rest.slice(1), ctx)
  if (typeof when === 'string') return { kind: 'invalid', text: `Not changed: ${when}. ${ONCALL_USAGE}` }
  if (when.untilMs <= Math.max(when.fromMs, ctx.nowMs)) return { kind: 'invalid', text: 'Not changed: that override would already be over.' }
  if (when.untilMs - when.fromMs > MAX_OVERRIDE_MS)
    return {
      kind: 'invalid',
      text: `Not changed: an override from the chat lasts at most ${formatDuration(MAX_OVERRIDE_MS)}; put longer ones in the config (rotas.${rota}.overrides).`,
    }
  return { kind: 'override', rota, who: rest[0]!, fromMs: when.fromMs, untilMs: when.untilMs }
}

/** resolvePerson finds who "@bob", "bob" or "me" is: by key or @username, "me" by the sender's Telegram id. */
export function resolvePerson(people: ReadonlyMap<string, Person>, word: string, sender: number): Person | string {
  const known = `people: ${[...people.keys()].join(', ') || 'none yet'}`
  if (word.toLowerCase() === 'me') {
    const me = [...people.values()].find((p) => p.id === sender)
    return (
      me ??
      `You are not under people: in the config yet, so alertwire cannot put you on call. Add yourself: people: {yourname: {id: ${sender}, name: "Your Name"}}`
    )
  }
  const bare = word.replace(/^@/, '').toLowerCase()
  const found =
    people.get(word.replace(/^@/, '')) ??
    [...people.values()].find((p) => p.username?.toLowerCase() === bare) ??
    [...people.entries()].find(([key]) => key.toLowerCase() === bare)?.[1]
  return found ?? `No one called ${word} under people: (${known}).`
}

/** namesOf writes people by name as plain text: no mention link and no @username, which Telegram would turn into a mention that notifies. */
export function namesOf(people: readonly Person[]): string {
  return people.length === 0 ? 'nobody' : people.map((p) => p.name).join(', ')
}

const WEEKDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTH = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** whenText writes an instant as the chat reads it: "Mon 09:00" within the coming week, else "24 Dec 18:00". */
export function whenText(atMs: number, nowMs: number, timeZone: string): string {
  const { dayNumber, minute } = localClock(timeZone, atMs)
  const clock = `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`
  const date = new Date(dayNumber * 86_400_000)
  if (atMs - nowMs < 6 * 86_400_000 && atMs >= nowMs) return `${WEEKDAY[date.getUTCDay()]} ${clock}`
  return `${date.getUTCDate()} ${MONTH[date.getUTCMonth()]} ${clock}`
}

/** RotaLine: one rota's now and next, what /oncall and the handoff notice say. */
export interface RotaLine {
  rota: string
  now: Person[]
  untilMs?: number
  next?: Person[]
  nextFromMs?: number
  /** who made the override in force now, if one is */
  overrideBy?: string
}

/** rotaLine computes a rota's now and next at an instant. */
export function rotaLine(rota: Rota, overrides: readonly RotaOverride[], nowMs: number): RotaLine {
  const now = onCallAt(rota, overrides, nowMs)
  const next = nextOnCall(rota, overrides, nowMs)
  const override = [...rota.overrides, ...overrides].reverse().find((o) => o.fromMs <= nowMs && nowMs < o.untilMs)
  return {
    rota: rota.name,
    now: now.people,
    ...(now.untilMs !== undefined ? { untilMs: now.untilMs } : {}),
    ...(next ? { next: next.people, nextFromMs: next.fromMs } : {}),
    ...(override?.by ? { overrideBy: override.by } : {}),
  }
}

function lineHtml(line: RotaLine, nowMs: number, timeZone: string): string {
  const until = line.untilMs !== undefined ? ` (until ${whenText(line.untilMs, nowMs, timeZone)})` : ''
  const by = line.overrideBy === 'config' ? ' <i>override from the config</i>' : line.overrideBy ? ` <i>override by ${escapeHtml(line.overrideBy)}</i>` : ''
  const next = line.next ? `, next: ${escapeHtml(namesOf(line.next))}` : ''
  return `<b>${escapeHtml(line.rota)}</b>: ${escapeHtml(namesOf(line.now))}${until}${by}${next}`
}

/** onCallReply writes /oncall's answer: each rota's now (until when) and next, times in the chat's zone. */
export function onCallReply(lines: readonly RotaLine[], nowMs: number, timeZone: string, note?: string): Rendered {
  if (lines.length === 0) return finish('📟 No rota is configured (rotas: in the config).')
  const zone = timeZone === 'UTC' || timeZone === 'Etc/UTC' ? 'UTC' : timeZone
  return finish(
    [...(note ? [escapeHtml(note)] : []), '📟 <b>On call</b>', ...lines.map((l) => lineHtml(l, nowMs, timeZone)), `<i>Times in ${escapeHtml(zone)}.</i>`].join(
      '\n',
    ),
  )
}

/** handoffNotice writes the notice posted at a handoff: "📟 On call for primary now: Alice (until Mon 09:00), next: Bob". */
export function handoffNotice(line: RotaLine, nowMs: number, timeZone: string): Rendered {
  const until = line.untilMs !== undefined ? ` (until ${whenText(line.untilMs, nowMs, timeZone)})` : ''
  const next = line.next ? `, next: ${escapeHtml(namesOf(line.next))}` : ''
  return finish(`📟 On call for <b>${escapeHtml(line.rota)}</b> now: ${escapeHtml(namesOf(line.now))}${until}${next}`)
}

/** HandoffPlan: the handoff a rota's notice should announce now, if any. */
export type HandoffPlan = { announce: false } | { announce: true; atMs: number }

/**
 * planHandoffNotice decides whether to announce: the latest handoff, when it is after the last one
 * announced (after a long outage the missed ones are not replayed, the current one is said once);
 * with nothing announced yet, the latest within lookbackMs.
 */
export function planHandoffNotice(
  rota: Rota,
  overrides: readonly RotaOverride[],
  lastAnnounced: number | undefined,
  nowMs: number,
  lookbackMs: number,
): HandoffPlan {
  // the usual case, cheaply: nothing changed since the last one
  if (lastAnnounced !== undefined) {
    const next = onCallAt(rota, overrides, lastAnnounced).untilMs
    if (next === undefined || next > nowMs) return { announce: false }
  }
  const latest = lastHandoffAt(rota, overrides, nowMs, lookbackMs)
  return latest !== undefined && (lastAnnounced === undefined || latest > lastAnnounced) ? { announce: true, atMs: latest } : { announce: false }
}
