/**
 * Digests: when more is waiting for a chat than it can take at its pace, a round of waiting alerts
 * becomes a few messages that count them (by severity, by alertname) and name them, critical
 * first, in an expandable quote; past storms.digest_max_alerts they are counted, not named.
 * After an outage the same digest catches the chat up, headed so (catch_up).
 * Split at Telegram's limit like any message. Pure.
 */
import { plainLength, truncateHtml } from './html.js'
import type { Label } from './labels.js'
import type { Labels } from './matchers.js'
import { runThrough, type Steps } from './steps.js'
import {
  type AlertSnapshot,
  type AlertSource,
  alertsPageContext,
  type DigestSummary,
  finish,
  frame,
  type MessageContent,
  onCallNote,
  onCallRoom,
  type Rendered,
  type RenderOptions,
  shownLabels,
  silenceNote,
  TELEGRAM_TEXT_LIMIT,
} from './render.js'
import { severityOf } from './severity.js'

const LINE_LIMIT = 300
/** what the count by severity calls alerts without one */
const NO_SEVERITY = 'no severity'
const ALERTNAMES_SHOWN = 10
/** the most parts a round is measured for ("part 999/999"): 10,000 named alerts of 40 characters take about 100 */
const MOST_PARTS = 999
const QUOTE_OPEN = '<blockquote expandable>'
const QUOTE_CLOSE = '</blockquote>'

/** DigestRound: the alerts of one storm round, before they are split into messages. */
export interface DigestRound {
  alerts: AlertSnapshot[]
  reminders: number
  resolvedRound: boolean
  /** what piled up while Telegram could not be reached (delivery.catch_up_after) */
  catchUp?: boolean
  externalURL: string
  source?: AlertSource
}

/** CatchUpSummary: a digest's summary, marked when it catches up after an outage (kept in the message's record, so edits keep the wording). */
type CatchUpSummary = DigestSummary & { catchUp?: true }

/** isCatchUp says whether a stored digest caught up after an outage. */
export function isCatchUp(summary: DigestSummary): boolean {
  return (summary as CatchUpSummary).catchUp === true
}

/** natural order for names and labels: host-2 before host-10 (one collator: building one per comparison is slow) */
const COLLATOR = new Intl.Collator('en', { numeric: true })
/** natural compares as a person sorts (host2 before host10); equal strings, common in a storm, skip the costly collator */
const natural = (a: string, b: string) => (a === b ? 0 : COLLATOR.compare(a, b))

/**
 * orderFirst puts the `count` alerts a digest names first, in digest order. Every alert is sorted
 * by severity and alertname (cheap); only the named ones also by their labels (costly at 10,000).
 */
function orderFirst(alerts: readonly AlertSnapshot[], count: number, options: RenderOptions): AlertSnapshot[] {
  const coarse = alerts.map((alert) => ({ alert, rank: severityOf(alert.labels, options.severities).rank, name: alert.labels.alertname ?? '' }))
  coarse.sort((a, b) => a.rank - b.rank || natural(a.name, b.name))
  const labelsOf = (a: AlertSnapshot) =>
    shownOf(a.labels, options)
      .map((l) => `${l.name}=${l.value}`)
      .join(',')
  const named = coarse.slice(0, count).map((c) => ({ ...c, labels: labelsOf(c.alert) }))
  named.sort((a, b) => a.rank - b.rank || natural(a.name, b.name) || natural(a.labels, b.labels))
  return [...named.map((n) => n.alert), ...coarse.slice(count).map((c) => c.alert)]
}

/** counted keeps of an alert only what a count and a later resolve need (thousands of them ride along with a digest). */
function counted(alert: AlertSnapshot): AlertSnapshot {
  return {
    fingerprint: alert.fingerprint,
    status: alert.status,
    startsAt: alert.startsAt,
    labels: {},
    annotations: {},
    ...(alert.endsAt ? { endsAt: alert.endsAt } : {}),
  }
}

function tally<T>(values: readonly T[]): [T, number][] {
  const counts = new Map<T, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1])
}

function summarize(round: DigestRound, unnamed: AlertSnapshot[], options: RenderOptions): CatchUpSummary {
  const levelOf = (a: AlertSnapshot) => severityOf(a.labels, options.severities).level || NO_SEVERITY
  const rankOf = (level: string) => severityOf({ severity: level }, options.severities).rank
  const bySeverity = tally(round.alerts.map(levelOf)).sort((a, b) => rankOf(a[0]) - rankOf(b[0]))
  return {
    total: round.alerts.length,
    bySeverity: bySeverity.map(([severity, count]) => ({ severity, count })),
    byAlertname: tally(round.alerts.map((a) => a.labels.alertname ?? 'alert')).map(([name, count]) => ({ name, count })),
    reminders: round.reminders,
    resolvedRound: round.resolvedRound,
    unnamed,
    ...(round.catchUp ? { catchUp: true } : {}),
  }
}

function headerContext(content: MessageContent, options: RenderOptions) {
  const summary = content.digest!
  const all = [...content.alerts, ...(content.part === content.parts ? summary.unnamed : [])]
  return {
    resolved_round: summary.resolvedRound,
    catch_up: isCatchUp(summary),
    all_resolved: !summary.resolvedRound && all.length > 0 && all.every((a) => a.status === 'resolved'),
    count: summary.total,
    part: content.parts > 1 ? content.part : 0,
    parts: content.parts > 1 ? content.parts : 0,
    first: content.part === 1,
    resolved_count: summary.resolvedRound ? 0 : all.filter((a) => a.status === 'resolved').length,
    by_severity: summary.bySeverity.map((s) => ({ ...s, marker: severityOf({ severity: s.severity }, options.severities).marker })),
    by_alertname: summary.byAlertname.slice(0, ALERTNAMES_SHOWN),
    more_alertnames: Math.max(0, summary.byAlertname.length - ALERTNAMES_SHOWN),
    reminders: summary.reminders,
  }
}

function headerHtml(content: MessageContent, options: RenderOptions): string {
  return frame(options.templates.digest_header(headerContext(content, options)))
}

/** runOf: what a run of digest lines shares, so that only its first line names it (severity, alertname, the names of the identifying labels). */
function runOf(alert: AlertSnapshot, options: RenderOptions): string {
  return remembered(memoOf(options).runs, alert, () => {
    const names = shownOf(alert.labels, options).map((l) => l.name)
    return [severityOf(alert.labels, options.severities).level, alert.labels.alertname ?? 'alert', ...names].join('\u0000')
  })
}

/** headings: which lines of a part start a run (the first line of a part always does, so each part reads on its own). */
function headings(alerts: readonly AlertSnapshot[], options: RenderOptions): boolean[] {
  const runs = alerts.map((a) => runOf(a, options))
  return runs.map((run, i) => i === 0 || run !== runs[i - 1])
}

/** Shared: what every value of one identifying label shares within a run of a part, said once in the run's heading. */
export interface Shared {
  prefix: string
  suffix: string
  /** every value is this one: the heading says it, the lines leave the label out */
  whole?: string
}

/** the fewest alerts a run needs before what they share moves to its heading (fewer: the heading costs what the lines save) */
const MIN_RUN = 3
/** the fewest characters factoring must save on each line (a domain and port, a URL's base), and the shortest prefix or suffix worth an ellipsis */
const MIN_SAVED = 6
const MIN_AFFIX = 3
/** where a shared suffix may start (. : - /): a name is cut between its parts, never inside one; a prefix ends at . : or / (cutOf), not at a hyphen, which binds a name to its number (node-1 stays node-1) */
const SUFFIX_START = /[.:\-/]/
const LETTER = /\p{L}/u
const NOTHING_SHARED: Shared = { prefix: '', suffix: '' }

/** Cut: where a run's values of one label would be cut, before the thresholds decide whether it is worth it. */
interface Cut {
  prefix: string
  suffix: string
}

/**
 * Tally: what a run's values of one label have in common so far, kept as the run grows, so that
 * packing looks at each value about once (a round of 10,000 alerts is packed in one go).
 * lettered: every value keeps a letter between the cut's prefix and suffix.
 */
interface Tally {
  values: string[]
  same: boolean
  head: string
  tail: string
  shortest: number
  cut: Cut
  lettered: boolean
}

/** cutOf: the suffix starts at a separator and leaves a character of every value; the prefix ends at one and leaves a character more. */
function cutOf(head: string, tail: string, shortest: number): Cut {
  const clipped = tail.length >= shortest ? tail.slice(tail.length - shortest + 1) : tail
  const start = clipped.search(SUFFIX_START)
  const suffix = start < 0 ? '' : clipped.slice(start)
  const common = head.slice(0, Math.max(0, shortest - suffix.length - 1))
  return { prefix: common.slice(0, Math.max(common.lastIndexOf('.'), common.lastIndexOf(':'), common.lastIndexOf('/')) + 1), suffix }
}

/** keepsLetter: the part of a value a line shows under this cut has a letter. */
function keepsLetter(value: string, cut: Cut): boolean {
  return LETTER.test(value.slice(cut.prefix.length, value.length - cut.suffix.length))
}

/**
 * tallied: the tally with one more value (the prefix check is made again for every value only when
 * the cut moves). The values list is extended in place: a tally is dropped once it has grown (copying
 * it each time made packing a long run quadratic).
 */
function tallied(tally: Tally | undefined, value: string): Tally {
  let head = tally?.head ?? value
  while (!value.startsWith(head)) head = head.slice(0, -1)
  let tail = tally?.tail ?? value
  while (!value.endsWith(tail)) tail = tail.slice(1)
  const values = tally?.values ?? []
  values.push(value)
  const shortest = Math.min(tally?.shortest ?? value.length, value.length)
  const cut = cutOf(head, tail, shortest)
  const moved = !tally || tally.cut.prefix !== cut.prefix || tally.cut.suffix !== cut.suffix
  const lettered = cut.prefix === '' || (moved ? values.every((v) => keepsLetter(v, cut)) : tally.lettered && keepsLetter(value, cut))
  return { values, same: (tally?.same ?? true) && value === values[0], head, tail, shortest, cut, lettered }
}

/** settled: what a tally says is worth saying once (see sharedOf). */
function settled(tally: Tally): Shared {
  if (tally.values.length < MIN_RUN) return NOTHING_SHARED
  if (tally.same) return { prefix: '', suffix: '', whole: tally.values[0]! }
  const prefix = tally.cut.prefix.length >= MIN_AFFIX && tally.lettered ? tally.cut.prefix : ''
  const suffix = tally.cut.suffix.length >= MIN_AFFIX ? tally.cut.suffix : ''
  return prefix.length + suffix.length >= MIN_SAVED ? { prefix, suffix } : NOTHING_SHARED
}

/**
 * sharedOf: the suffix (a domain and port) and prefix (a URL's base) every value of a run shares,
 * cut at a separator (a suffix starts at `.`, `:`, `-` or `/`; a prefix ends at `.`, `:` or `/`),
 * when factoring them saves at least MIN_SAVED characters on each line of a run of at least
 * MIN_RUN. Each line keeps a readable part: never empty, and a prefix is factored only when every
 * part left keeps a letter (so `node-1` never becomes `1`, `10.0.0.7` stays whole). All values
 * equal: `whole`.
 */
export function sharedOf(values: readonly string[]): Shared {
  return values.length === 0 ? NOTHING_SHARED : settled(values.reduce<Tally | undefined>(tallied, undefined)!)
}

/** RunShares: per identifying label (by position), what the run's values share. */
type RunShares = Shared[]

/** runValues: a run's identifying values, label by label (the labels of a run have the same names). */
function runValues(run: readonly AlertSnapshot[], options: RenderOptions): string[][] {
  const labels = run.map((a) => shownOf(a.labels, options))
  return (labels[0] ?? []).map((_, j) => labels.map((ls) => ls[j]?.value ?? ''))
}

/** sharesOf: what a run shares, label by label; a label whose value is the same in every alert of the run is left out of the lines only while another label still tells them apart. */
function sharesOf(shares: RunShares): RunShares {
  if (shares.length > 0 && shares.every((s) => s.whole !== undefined)) return shares.map(() => NOTHING_SHARED)
  return shares
}

/** sameShares: two runs' shares read the same (a run's lines change look only when these do). */
function sameShares(a: RunShares, b: RunShares): boolean {
  return a.length === b.length && a.every((s, i) => s.prefix === b[i]!.prefix && s.suffix === b[i]!.suffix && s.whole === b[i]!.whole)
}

/** LineLook: one alert's line as it looks in one state (firing or resolved), heading its run or not. */
interface LineLook {
  html: string
  /** its length after parsing */
  room: number
}

/**
 * Memo: what packing and rendering ask again and again of each alert under one RenderOptions, kept
 * once: its shown labels, its run, each look of its line. Packing measures every look of every
 * line and the parts then show the same lines (a storm round of 1,000 named alerts rendered each
 * line three or four times, blocking the event loop for 100 ms and more). Keyed by the objects
 * themselves: both are read-only once made.
 */
interface Memo {
  shown: WeakMap<Labels, Label[]>
  runs: WeakMap<AlertSnapshot, string>
  looks: WeakMap<AlertSnapshot, Map<string, LineLook>>
}

const memos = new WeakMap<RenderOptions, Memo>()

/** remembered: what a map holds for the key, made and kept the first time it is asked for. */
function remembered<K, V>(map: { get(key: K): V | undefined; set(key: K, value: V): unknown }, key: K, make: () => V): V {
  let value = map.get(key)
  if (value === undefined) {
    value = make()
    map.set(key, value)
  }
  return value
}

function memoOf(options: RenderOptions): Memo {
  return remembered(memos, options, () => ({ shown: new WeakMap(), runs: new WeakMap(), looks: new WeakMap() }))
}

/** shownOf: the labels an alert shows on its own (shownLabels), worked out once per options. */
function shownOf(labels: Labels, options: RenderOptions): Label[] {
  return remembered(memoOf(options).shown, labels, () => shownLabels(labels, options))
}

function lookKey(status: AlertSnapshot['status'], heading: boolean, shares: RunShares): string {
  return `${status}|${heading ? 1 : 0}|${shares.map((s) => `${s.prefix}\u0001${s.suffix}\u0001${s.whole ?? '\u0002'}`).join('\u0000')}`
}

/** lineLook: the alert's line in that state (its own, unless asked for its resolved look), rendered once per options. */
function lineLook(alert: AlertSnapshot, options: RenderOptions, heading: boolean, shares: RunShares, status = alert.status): LineLook {
  const looks = remembered(memoOf(options).looks, alert, () => new Map<string, LineLook>())
  return remembered(looks, lookKey(status, heading, shares), () => renderLine(status === alert.status ? alert : { ...alert, status }, options, heading, shares))
}

/** renderLine renders an alert's line and measures it, cut to LINE_LIMIT characters. */
function renderLine(alert: AlertSnapshot, options: RenderOptions, heading: boolean, shares: RunShares = []): LineLook {
  const severity = severityOf(alert.labels, options.severities)
  // the fields spelled out: spreading the label object cost a storm round about a fifth of its time
  const identifying = shownOf(alert.labels, options).map((label, j) => {
    const share = shares[j] ?? NOTHING_SHARED
    const part = label.value.slice(share.prefix.length, label.value.length - share.suffix.length)
    return {
      name: label.name,
      value: label.value,
      part,
      prefix: share.prefix,
      suffix: share.suffix,
      shared: share.prefix !== '' || share.suffix !== '',
      whole: share.whole !== undefined,
    }
  })
  const html = options.templates.digest_alert({
    heading,
    resolved: alert.status === 'resolved',
    marker: severity.marker,
    severity: severity.written,
    level: severity.level,
    alertname: alert.labels.alertname ?? 'alert',
    identifying,
    differing: identifying.filter((l) => !l.whole),
    labels: alert.labels,
    annotations: alert.annotations,
    summary: alert.annotations.summary ?? '',
  })
  const room = plainLength(html)
  if (room <= LINE_LIMIT) return { html, room }
  const cut = truncateHtml(html, LINE_LIMIT)
  return { html: cut, room: plainLength(cut) }
}

/** partLines: each line of a part as it looks now, each run headed and saying once what its alerts share. */
function partLines(alerts: readonly AlertSnapshot[], options: RenderOptions): string[] {
  const heads = headings(alerts, options)
  const lines: string[] = []
  for (let start = 0; start < alerts.length; ) {
    let end = start + 1
    while (end < alerts.length && !heads[end]) end++
    const run = alerts.slice(start, end)
    const shares = sharesOf(runValues(run, options).map(sharedOf))
    for (const [i, alert] of run.entries()) lines.push(lineLook(alert, options, i === 0, shares).html)
    start = end
  }
  return lines
}

function footerContext(content: MessageContent) {
  const unnamed = content.digest!.unnamed
  return {
    unnamed: unnamed.length,
    unnamed_resolved: content.digest!.resolvedRound ? 0 : unnamed.filter((a) => a.status === 'resolved').length,
    ...alertsPageContext(content),
  }
}

function footerHtml(content: MessageContent, options: RenderOptions): string {
  if (content.part !== content.parts) return ''
  return frame(options.templates.digest_footer(footerContext(content)))
}

/** renderDigestPart renders one message of a digest as it should look now. */
export function renderDigestPart(content: MessageContent, options: RenderOptions): Rendered {
  const lines = partLines(content.alerts, options)
  const quote = lines.length > 0 ? `${QUOTE_OPEN}${lines.join('\n')}${QUOTE_CLOSE}` : ''
  const notes = [onCallNote(content, options), silenceNote(content, options)]
  return finish([headerHtml(content, options), quote, footerHtml(content, options), ...notes].filter((p) => p.trim() !== '').join('\n'))
}

/**
 * frameRoom: the most characters a part's header and footer take in any look it can have later
 * (none, some or all of its alerts resolved; the round's last part showing the unnamed alerts,
 * some resolved), measured for the first part (which carries the counts) and for the others.
 * A digest has no buttons, so no silence note is ever added to it.
 */
function frameRoom(base: MessageContent, options: RenderOptions): { first: number; other: number } {
  const summary = base.digest!
  const most = Math.max(1, summary.total)
  const room = (part: number) => {
    const context = headerContext({ ...base, part, parts: MOST_PARTS }, options)
    const headers = [context, { ...context, all_resolved: true, resolved_count: 0 }, { ...context, all_resolved: false, resolved_count: most }]
    const footer = { ...footerContext(base) }
    const footers = [footer, { ...footer, unnamed_resolved: footer.unnamed }]
    const header = Math.max(...headers.map((c) => plainLength(frame(options.templates.digest_header(c)))))
    // separators: header, quote, footer and the on-call lines (a digest escalates, and can be taken) are joined by newlines
    return header + Math.max(...footers.map((c) => plainLength(frame(options.templates.digest_footer(c))))) + onCallRoom(options) + 3
  }
  return { first: room(1), other: room(MOST_PARTS) }
}

/** lineRoom: the most characters an alert's line takes in any look (firing or resolved), with its run's heading or without, plus the newline before it. */
function lineRoom(alert: AlertSnapshot, options: RenderOptions, heading: boolean, shares: RunShares): number {
  return Math.max(lineLook(alert, options, heading, shares, 'firing').room, lineLook(alert, options, heading, shares, 'resolved').room) + 1
}

/** runRoom: the most characters a run's lines take in any look, its first line heading it. */
function runRoom(run: readonly AlertSnapshot[], options: RenderOptions, shares: RunShares): number {
  return run.reduce((sum, alert, i) => sum + lineRoom(alert, options, i === 0, shares), 0)
}

/**
 * OpenRun: the run a part is filling (its alerts, what they share, the room they take), measured
 * again whenever an added alert changes what the run shares: the lines' looks change with it.
 */
interface OpenRun {
  alerts: AlertSnapshot[]
  tallies: Tally[]
  shares: RunShares
  room: number
}

const EMPTY_RUN: OpenRun = { alerts: [], tallies: [], shares: [], room: 0 }

/** grown: the open run with one more alert, measured as it would then look. */
function grown(run: OpenRun, alert: AlertSnapshot, options: RenderOptions): OpenRun {
  const alerts = [...run.alerts, alert]
  const own = shownOf(alert.labels, options).map((l) => l.value)
  const tallies = own.map((value, j) => tallied(run.tallies[j], value))
  const shares = sharesOf(tallies.map(settled))
  const room = run.alerts.length > 0 && sameShares(shares, run.shares) ? run.room + lineRoom(alert, options, false, shares) : runRoom(alerts, options, shares)
  return { alerts, tallies, shares, room }
}

/**
 * packDigest splits a round into digest messages, each holding as many named alerts as fit in
 * 4096 characters after parsing in every look it can take later: each alert's line is measured in
 * its firing and its resolved look (with its run's heading where it starts one), the header and
 * footer in their longest looks. Past maxNamed, alerts are counted, not named.
 */
export function packDigest(round: DigestRound, maxNamed: number, options: RenderOptions): MessageContent[] {
  return runThrough(packDigestSteps(round, maxNamed, options))
}

/** PACK_STEP: alerts packed between two pauses of packDigestSteps (about 2 ms of work). */
const PACK_STEP = 50

/** packDigestSteps is packDigest in steps (core/steps.ts): it pauses every PACK_STEP alerts it measures. */
export function* packDigestSteps(round: DigestRound, maxNamed: number, options: RenderOptions): Steps<MessageContent[]> {
  const ordered = orderFirst(round.alerts, maxNamed, options)
  const named = ordered.slice(0, maxNamed)
  const summary = summarize(round, ordered.slice(maxNamed).map(counted), options)
  yield
  const source = round.source && round.source !== 'alertmanager' ? { source: round.source } : {}
  const base: MessageContent = {
    alerts: [],
    commonLabels: [],
    externalURL: round.externalURL,
    ...source,
    truncatedAlerts: 0,
    part: MOST_PARTS,
    parts: MOST_PARTS,
    digest: summary,
  }
  const frames = frameRoom(base, options)
  const runs = named.map((a) => runOf(a, options))
  const parts: AlertSnapshot[][] = [[]]
  // the part's closed runs, and the run it is filling
  let closed = 0
  let open = EMPTY_RUN
  for (const [i, alert] of named.entries()) {
    if (i % PACK_STEP === PACK_STEP - 1) yield
    const budget = TELEGRAM_TEXT_LIMIT - (parts.length === 1 ? frames.first : frames.other)
    const continues = open.alerts.length > 0 && runs[i] === runs[i - 1]
    const next = continues ? grown(open, alert, options) : grown(EMPTY_RUN, alert, options)
    const before = continues ? closed : closed + open.room
    if (before + next.room > budget && parts.at(-1)!.length > 0) {
      parts.push([])
      closed = 0
      open = grown(EMPTY_RUN, alert, options)
    } else {
      closed = before
      open = next
    }
    parts.at(-1)!.push(alert)
  }
  // only the last message keeps the unnamed alerts (it shows them, and their resolves edit it)
  const slim = { ...summary, unnamed: [] }
  return parts.map((alerts, i) => ({ ...base, alerts, part: i + 1, parts: parts.length, digest: i === parts.length - 1 ? summary : slim }))
}

/**
 * announcedAlerts lists the alerts a message announces, whose refs point at it: those it names and,
 * on a digest's last part, those it counts: a counted alert's resolve, flap or reminder has to find
 * that message as a named one's does (else the resolve is dropped as "message unknown").
 */
export function announcedAlerts(content: Pick<MessageContent, 'alerts' | 'digest'>): AlertSnapshot[] {
  return content.digest && content.digest.unnamed.length > 0 ? [...content.alerts, ...content.digest.unnamed] : content.alerts
}
