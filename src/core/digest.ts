/**
 * Digests: when more is waiting for a chat than it can take at its pace, a round of waiting alerts
 * becomes a few messages that count them (by severity, by alertname) and name them, critical
 * first, in an expandable quote; past storms.digest_max_alerts they are counted, not named.
 * After an outage the same digest catches the chat up, headed so (catch_up).
 * Split at Telegram's limit like any message. Pure.
 */
import { plainLength, truncateHtml } from './html.js'
import {
  type AlertSnapshot,
  type AlertSource,
  alertsPageContext,
  type DigestSummary,
  finish,
  frame,
  type MessageContent,
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
const NATURAL = new Intl.Collator('en', { numeric: true })

/**
 * orderFirst puts the `count` alerts a digest names first, in digest order. Every alert is sorted
 * by severity and alertname (cheap); only the named ones also by their labels (costly at 10,000).
 */
function orderFirst(alerts: readonly AlertSnapshot[], count: number, options: RenderOptions): AlertSnapshot[] {
  const coarse = alerts.map((alert) => ({ alert, rank: severityOf(alert.labels, options.severities).rank, name: alert.labels.alertname ?? '' }))
  coarse.sort((a, b) => a.rank - b.rank || NATURAL.compare(a.name, b.name))
  const labelsOf = (a: AlertSnapshot) =>
    shownLabels(a.labels, options)
      .map((l) => `${l.name}=${l.value}`)
      .join(',')
  const named = coarse.slice(0, count).map((c) => ({ ...c, labels: labelsOf(c.alert) }))
  named.sort((a, b) => a.rank - b.rank || NATURAL.compare(a.name, b.name) || NATURAL.compare(a.labels, b.labels))
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
  const names = shownLabels(alert.labels, options).map((l) => l.name)
  return [severityOf(alert.labels, options.severities).level, alert.labels.alertname ?? 'alert', ...names].join('\u0000')
}

/** headings: which lines of a part start a run (the first line of a part always does, so each part reads on its own). */
function headings(alerts: readonly AlertSnapshot[], options: RenderOptions): boolean[] {
  const runs = alerts.map((a) => runOf(a, options))
  return runs.map((run, i) => i === 0 || run !== runs[i - 1])
}

function lineHtml(alert: AlertSnapshot, options: RenderOptions, heading: boolean): string {
  const severity = severityOf(alert.labels, options.severities)
  const html = options.templates.digest_alert({
    heading,
    resolved: alert.status === 'resolved',
    marker: severity.marker,
    severity: severity.written,
    level: severity.level,
    alertname: alert.labels.alertname ?? 'alert',
    identifying: shownLabels(alert.labels, options),
    labels: alert.labels,
    annotations: alert.annotations,
    summary: alert.annotations.summary ?? '',
  })
  return plainLength(html) > LINE_LIMIT ? truncateHtml(html, LINE_LIMIT) : html
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
  const heads = headings(content.alerts, options)
  const lines = content.alerts.map((a, i) => lineHtml(a, options, heads[i]!))
  const quote = lines.length > 0 ? `${QUOTE_OPEN}${lines.join('\n')}${QUOTE_CLOSE}` : ''
  return finish([headerHtml(content, options), quote, footerHtml(content, options), silenceNote(content, options)].filter((p) => p.trim() !== '').join('\n'))
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
    // separators: header, quote and footer are joined by newlines
    return header + Math.max(...footers.map((c) => plainLength(frame(options.templates.digest_footer(c))))) + 2
  }
  return { first: room(1), other: room(MOST_PARTS) }
}

/** lineRoom: the most characters an alert's line takes in any look (firing or resolved), with its run's heading or without, plus the newline before it. */
function lineRoom(alert: AlertSnapshot, options: RenderOptions, heading: boolean): number {
  const looks = [alert, { ...alert, status: 'resolved' as const }]
  return Math.max(...looks.map((look) => plainLength(lineHtml(look, options, heading)))) + 1
}

/**
 * packDigest splits a round into digest messages, each holding as many named alerts as fit in
 * 4096 characters after parsing in every look it can take later: each alert's line is measured in
 * its firing and its resolved look (with its run's heading where it starts one), the header and
 * footer in their longest looks. Past maxNamed, alerts are counted, not named.
 */
export function packDigest(round: DigestRound, maxNamed: number, options: RenderOptions): MessageContent[] {
  const ordered = orderFirst(round.alerts, maxNamed, options)
  const named = ordered.slice(0, maxNamed)
  const summary = summarize(round, ordered.slice(maxNamed).map(counted), options)
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
  let used = 0
  for (const [i, alert] of named.entries()) {
    const budget = TELEGRAM_TEXT_LIMIT - (parts.length === 1 ? frames.first : frames.other)
    let size = lineRoom(alert, options, parts.at(-1)!.length === 0 || runs[i] !== runs[i - 1])
    if (used + size > budget && parts.at(-1)!.length > 0) {
      parts.push([])
      used = 0
      size = lineRoom(alert, options, true)
    }
    parts.at(-1)!.push(alert)
    used += size
  }
  // only the last message keeps the unnamed alerts (it shows them, and their resolves edit it)
  const slim = { ...summary, unnamed: [] }
  return parts.map((alerts, i) => ({ ...base, alerts, part: i + 1, parts: parts.length, digest: i === parts.length - 1 ? summary : slim }))
}
