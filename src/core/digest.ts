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
/** room for what grows between send and edit ("· 120 here resolved") */
const GROWTH_SLACK = 40
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

function headerHtml(content: MessageContent, options: RenderOptions): string {
  const summary = content.digest!
  const all = [...content.alerts, ...(content.part === content.parts ? summary.unnamed : [])]
  return frame(
    options.templates.digest_header({
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
    }),
  )
}

function lineHtml(alert: AlertSnapshot, options: RenderOptions): string {
  const severity = severityOf(alert.labels, options.severities)
  const html = options.templates.digest_alert({
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

function footerHtml(content: MessageContent, options: RenderOptions): string {
  if (content.part !== content.parts) return ''
  const unnamed = content.digest!.unnamed
  return frame(
    options.templates.digest_footer({
      unnamed: unnamed.length,
      unnamed_resolved: content.digest!.resolvedRound ? 0 : unnamed.filter((a) => a.status === 'resolved').length,
      ...alertsPageContext(content),
    }),
  )
}

/** renderDigestPart renders one message of a digest as it should look now. */
export function renderDigestPart(content: MessageContent, options: RenderOptions): Rendered {
  const lines = content.alerts.map((a) => lineHtml(a, options))
  const quote = lines.length > 0 ? `${QUOTE_OPEN}${lines.join('\n')}${QUOTE_CLOSE}` : ''
  return finish([headerHtml(content, options), quote, footerHtml(content, options), silenceNote(content, options)].filter((p) => p.trim() !== '').join('\n'))
}

/** packDigest splits a round into digest messages that each fit in both their firing and resolved look. */
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
    part: 99,
    parts: 99,
    digest: summary,
  }
  const asResolved = (alerts: AlertSnapshot[]) => alerts.map((a) => ({ ...a, status: 'resolved' as const }))
  // reserve the longest header and footer any part can have (part 1 carries the summary)
  const first = named[0]
  const resolvedGrowth = first ? plainLength(lineHtml({ ...first, status: 'resolved' }, options)) - plainLength(lineHtml(first, options)) : 0
  const reserved = Math.max(
    ...[1, 99].flatMap((part) =>
      [named, asResolved(named)].map((alerts) => {
        const content = { ...base, alerts: alerts.slice(0, 1), part, parts: 99 }
        return plainLength(headerHtml(content, options)) + plainLength(footerHtml({ ...content, part: 99 }, options))
      }),
    ),
  )
  const budget = Math.max(200, TELEGRAM_TEXT_LIMIT - reserved - GROWTH_SLACK - 2)
  const parts: AlertSnapshot[][] = [[]]
  let used = 0
  for (const alert of named) {
    // the resolved look adds the same marks to every line: measure it once, for the first line
    const size = plainLength(lineHtml(alert, options)) + resolvedGrowth + 1
    if (used + size > budget && parts.at(-1)!.length > 0) {
      parts.push([])
      used = 0
    }
    parts.at(-1)!.push(alert)
    used += size
  }
  // only the last message keeps the unnamed alerts (it shows them, and their resolves edit it)
  const slim = { ...summary, unnamed: [] }
  return parts.map((alerts, i) => ({ ...base, alerts, part: i + 1, parts: parts.length, digest: i === parts.length - 1 ? summary : slim }))
}
