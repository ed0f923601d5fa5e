/**
 * Rendering: alerts become Telegram HTML messages that Telegram always accepts. A group is packed
 * into as many messages as it needs, each at most 4096 characters after parsing, measured for both
 * its firing and its resolved look so that the later edit on resolve fits too. Pure: the clock
 * comes in as `now`.
 */
import type { SilenceMark, Taken, TimelineEvent } from './incident.js'
import { formatDuration, isZeroTime } from './duration.js'
import { cutText, htmlToPlain, plainLength, truncateHtml } from './html.js'
import {
  distinguishingLabels,
  extraAnnotations,
  firstAnnotation,
  headerLabels,
  type Label,
  pick,
  sharedAnnotations,
  without,
  type LabelDisplay,
  sharedLabels,
  TEXT_ANNOTATIONS,
  TITLE_ANNOTATIONS,
} from './labels.js'
import { incidentNote, worstIncidentNote } from './timeline.js'
import { alertLinks, alertsPageLink, httpUrl, isUrl, type Link, type LinkSource, telegramLinkable } from './links.js'
import type { Labels } from './matchers.js'
import { mostSevere, type SeverityScheme, severityOf } from './severity.js'
import type { CompiledTemplates } from './templates.js'

/** TELEGRAM_TEXT_LIMIT: Telegram's limit on message text, in characters after entity parsing. */
export const TELEGRAM_TEXT_LIMIT = 4096
const SEPARATOR = '\n\n'
const REPLY_LIST_LIMIT = 30

/** AlertSnapshot: one alert as a message shows it (kept in Redis so any replica can re-render). */
export interface AlertSnapshot {
  fingerprint: string
  status: 'firing' | 'resolved'
  labels: Labels
  annotations: Labels
  startsAt: string
  endsAt?: string
  generatorURL?: string
  /** times it started firing within the flapping window, when that made it flapping */
  flaps?: number
  /** what Grafana alerting sends besides Alertmanager's fields (webhook version 1) */
  grafana?: GrafanaExtras
}

/** GrafanaExtras: Grafana alerting's per-alert links and the values that made it fire. */
export interface GrafanaExtras {
  dashboardURL?: string
  panelURL?: string
  silenceURL?: string
  imageURL?: string
  /** the query results that fired it, by refId ("A": 0.93) */
  values?: Record<string, number | null>
  /** Grafana's own text of the values, kept when `values` is absent */
  valueString?: string
}

/** AlertSource: who sent a notification, which decides where its links point. */
export type AlertSource = 'alertmanager' | 'grafana'

/** DigestSummary: what a storm round was, kept with each of its digest messages. */
export interface DigestSummary {
  /** alerts in the round */
  total: number
  bySeverity: { severity: string; count: number }[]
  byAlertname: { name: string; count: number }[]
  /** reminders of alerts still firing that the round folded */
  reminders: number
  /** the round was made of resolves */
  resolvedRound: boolean
  /** alerts counted but not named (over storms.digest_max_alerts): kept with the last part */
  unnamed: AlertSnapshot[]
}

export type { SilenceMark } from './incident.js'

/** MessageContent: everything needed to render one Telegram message of a group. */
export interface MessageContent {
  alerts: AlertSnapshot[]
  /** Grafana: the footer links Grafana's alert list, and there are no Alertmanager silence buttons (absent: Alertmanager) */
  source?: AlertSource
  /** label names shown once in the header because every alert of the group shares them */
  commonLabels: string[]
  /** annotation names every alert of the group shares: said once, in the header */
  commonAnnotations?: string[]
  externalURL: string
  truncatedAlerts: number
  part: number
  parts: number
  /** set for the messages of a storm digest */
  digest?: DigestSummary
  /** the callback token of this message's buttons */
  token?: string
  /** who silenced this message's alerts (from the chat or elsewhere), and until when */
  silence?: SilenceMark
  /** who took the message's alerts ("I'm on it") */
  taken?: Taken
  /** what happened to the message since it was sent (core/incident.ts) */
  timeline?: TimelineEvent[]
  /** the route that sent it (its escalation policy, its metrics) */
  route?: string
}

/** RenderOptions: the operator's wording and display choices, plus the clock. */
export interface RenderOptions {
  templates: CompiledTemplates
  severities: SeverityScheme
  labels: LabelDisplay
  timeZone: string
  /** the flapping window, to say "flapping: 6 times in 10m" */
  flapWindowMs: number
  now: number
}

/** Rendered: the HTML to send and the plain text to fall back to if Telegram refuses the HTML. */
export interface Rendered {
  html: string
  plain: string
  /** a picture Telegram shows with the message (Grafana's image of the panel), as a link preview */
  preview?: string
}

const timeFormats = new Map<string, Intl.DateTimeFormat>()

/** formatTime writes a timestamp in the operator's time zone: "2026-11-24 23:01 UTC". */
export function formatTime(iso: string, timeZone: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  let format = timeFormats.get(timeZone)
  if (!format) {
    // building a formatter is costly; there is one per zone
    format = new Intl.DateTimeFormat('sv-SE', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    timeFormats.set(timeZone, format)
  }
  const text = format.format(date)
  return `${text} ${timeZone === 'UTC' || timeZone === 'Etc/UTC' ? 'UTC' : timeZone}`
}

/** knownTime reads a time worth showing, or nothing (Go's zero time, garbage). */
function knownTime(iso: string | undefined): number | undefined {
  if (!iso || isZeroTime(iso)) return undefined
  const ms = Date.parse(iso)
  return Number.isFinite(ms) ? ms : undefined
}

/** firedFor: how long the alert fired (until now, or until it resolved); undefined when its start is unknown. */
function firedFor(alert: AlertSnapshot, now: number): number | undefined {
  const start = knownTime(alert.startsAt)
  const end = alert.status === 'resolved' ? (knownTime(alert.endsAt) ?? now) : now
  return start === undefined ? undefined : Math.max(0, end - start)
}

function durationText(alert: AlertSnapshot, now: number): string {
  const ms = firedFor(alert, now)
  return ms === undefined ? '' : formatDuration(ms)
}

/** shownLabels: the labels an alert shows on its own (no neighbours): all but the hidden and those shown elsewhere. */
export function shownLabels(labels: Labels, options: Pick<RenderOptions, 'labels'>): Label[] {
  return distinguishingLabels(labels, [], options.labels, false)
}

function alertnameOf(alert: AlertSnapshot): string {
  return alert.labels.alertname || 'alert'
}

/** alertnamesOf names the alerts of a message: "A", "A, B, C", "A, B, C +2". */
function alertnamesOf(alerts: readonly AlertSnapshot[]): string {
  const names = distinctNames(alerts)
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} +${names.length - 3}`
}

function distinctNames(alerts: readonly AlertSnapshot[]): string[] {
  return [...new Set(alerts.map(alertnameOf))]
}

/** valuesOf: what Grafana says made the alert fire, as name=value pairs (or its own text of them). */
function valuesOf(alert: AlertSnapshot): { values: Label[]; values_text: string } {
  const values = Object.entries(alert.grafana?.values ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value: value === null ? 'no data' : readableNumber(value) }))
  return { values, values_text: values.length === 0 ? (alert.grafana?.valueString ?? '') : '' }
}

const TWO_DECIMALS = new Intl.NumberFormat('en', { maximumFractionDigits: 2, useGrouping: false })
const THREE_DIGITS = new Intl.NumberFormat('en', { maximumSignificantDigits: 3, useGrouping: false })

/** readableNumber: a query result as a person reads it: 44.24, 0.00123, 1250000 (not 44.23943737541908). */
export function readableNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  return Math.abs(value) >= 1 || value === 0 ? TWO_DECIMALS.format(value) : THREE_DIGITS.format(value)
}

/** Heading: the alertname heading a run of alerts in a message that holds several alertnames. */
interface Heading {
  name: string
  count: number
  /** more than one alert of this name */
  many: boolean
}

/** annotationContext: what a template shows of some annotations: title, text, the other ones, links. */
function annotationContext(annotations: Labels, options: RenderOptions, link: LinkSource = { annotations }) {
  const title = firstAnnotation(annotations, TITLE_ANNOTATIONS)
  const text = firstAnnotation(annotations, TEXT_ANNOTATIONS)
  return {
    summary: title.value,
    description: text.value,
    details: extraAnnotations(annotations, [title.name, text.name], options.labels, isUrl),
    links: alertLinks(link, (name) => options.labels.hideAnnotations.test(name)),
  }
}

function alertContext(alert: AlertSnapshot, content: MessageContent, options: RenderOptions, heading?: Heading) {
  const severity = severityOf(alert.labels, options.severities)
  const many = isMany(content)
  // what every alert of the message says is in its header
  const own = without(alert.annotations, content.commonAnnotations ?? [])
  const shown = annotationContext(own, options, { ...alert, annotations: own })
  const identifying = distinguishingLabels(alert.labels, content.commonLabels, options.labels, many)
  return {
    many,
    heading,
    status: alert.status,
    resolved: alert.status === 'resolved',
    marker: severity.marker,
    severity: severity.written,
    level: severity.level,
    alertname: alertnameOf(alert),
    ...shown,
    labels: alert.labels,
    annotations: alert.annotations,
    identifying,
    // an alert of a group without a summary is named by its labels, on its first line
    labels_first: many && !shown.summary && identifying.length > 0,
    starts_at: knownTime(alert.startsAt) === undefined ? '' : formatTime(alert.startsAt, options.timeZone),
    ends_at: knownTime(alert.endsAt) === undefined ? '' : formatTime(alert.endsAt!, options.timeZone),
    duration: durationText(alert, options.now),
    ...valuesOf(alert),
    fingerprint: alert.fingerprint,
    flaps: alert.flaps ?? 0,
    flap_window: formatDuration(options.flapWindowMs),
  }
}

/** isMany: the message is one of several alerts (a part of a split group is, even when it holds one). */
function isMany(content: MessageContent): boolean {
  return content.alerts.length > 1 || content.parts > 1
}

function headerContext(content: MessageContent, options: RenderOptions, countOverride?: number) {
  const { alerts } = content
  const severity = mostSevere(
    alerts.map((a) => a.labels),
    options.severities,
  )
  const resolvedCount = alerts.filter((a) => a.status === 'resolved').length
  const first = alerts[0]?.labels ?? {}
  return {
    many: (countOverride ?? alerts.length) > 1,
    resolved: alerts.length > 0 && resolvedCount === alerts.length,
    count: countOverride ?? alerts.length,
    resolved_count: resolvedCount,
    marker: severity.marker,
    severity: severity.written,
    level: severity.level,
    alertname: alertnamesOf(alerts),
    alertnames: distinctNames(alerts).length,
    common_labels: headerLabels(content.commonLabels, first, options.labels),
    ...annotationContext(pick(alerts[0]?.annotations ?? {}, content.commonAnnotations ?? []), options),
    part: content.parts > 1 ? content.part : 0,
    parts: content.parts > 1 ? content.parts : 0,
  }
}

/** alertsPage: the footer's link to the message's alerts in Alertmanager (or Grafana). */
export function alertsPage(content: Pick<MessageContent, 'alerts' | 'externalURL' | 'source'>): Link | undefined {
  const names = [...new Set(content.alerts.map((a) => a.labels.alertname).filter((n): n is string => !!n))]
  return alertsPageLink(content.externalURL, content.source ?? 'alertmanager', names)
}

/** alertsPageContext: the footer templates' fields for that link. */
export function alertsPageContext(content: Pick<MessageContent, 'alerts' | 'externalURL' | 'source'>) {
  const page = alertsPage(content)
  return { alertmanager_url: page?.url ?? '', alertmanager_linkable: page?.linkable ?? false, alerts_page: page?.title ?? '' }
}

function footerContext(content: MessageContent) {
  return { truncated_alerts: content.truncatedAlerts, ...alertsPageContext(content) }
}

function join(pieces: string[]): string {
  return pieces.filter((p) => p.trim() !== '').join(SEPARATOR)
}

/** TELEGRAM_RAW_LIMIT: what Telegram takes of a message's text as sent, markup and all (32 KiB). */
const TELEGRAM_RAW_LIMIT = 32_768

/**
 * finish bounds a rendered message to Telegram's limits and adds its plain-text fallback: at most
 * 4096 characters after parsing, and at most 32 KiB as sent (many long links can pass the first
 * and not the second; then the links go, their text stays).
 */
export function finish(html: string): Rendered {
  let bounded = plainLength(html) > TELEGRAM_TEXT_LIMIT ? truncateHtml(html, TELEGRAM_TEXT_LIMIT) : html
  if (Buffer.byteLength(bounded) > TELEGRAM_RAW_LIMIT) bounded = bounded.replace(/<a href="[^"]*">|<\/a>/g, '')
  return { html: bounded, plain: htmlToPlain(bounded) }
}

/** FRAME_LIMIT: most characters a header or footer may take, so alerts always keep most of a message. */
const FRAME_LIMIT = 1000

/**
 * frame bounds a header or footer: whatever a template makes of a 100 KB value, the message keeps
 * room for its alerts and their status lines (and is not split into one message per alert).
 */
export function frame(html: string): string {
  return plainLength(html) > FRAME_LIMIT ? truncateHtml(html, FRAME_LIMIT) : html
}

function headerHtml(content: MessageContent, options: RenderOptions, countOverride?: number): string {
  return frame(options.templates.header(headerContext(content, options, countOverride)))
}

function footerHtml(content: MessageContent, options: RenderOptions): string {
  return frame(options.templates.footer(footerContext(content)))
}

/** SILENCE_BY_MAX: most characters of who silenced a message a silence note is given (a Telegram name and username, or a createdBy, doubled for safety). */
const SILENCE_BY_MAX = 256
/** SILENCE_COMMENT_MAX: most characters of a silence's comment a silence note is given (a silence made elsewhere says why). */
const SILENCE_COMMENT_MAX = 200

/** silenceContext: what the silence_note template is given, cut so that any template's note stays bounded. */
function silenceContext(mark: SilenceMark, options: RenderOptions) {
  return {
    by: cutText(mark.by, SILENCE_BY_MAX),
    until: formatTime(mark.until, options.timeZone),
    ack: mark.ack,
    external: mark.external === true,
    comment: mark.external && mark.comment ? cutText(mark.comment, SILENCE_COMMENT_MAX) : '',
  }
}

/** silenceRoom: the most characters a silence note (or an acknowledgement, or a silence made elsewhere with its comment) can add to a message later. */
function silenceRoom(options: RenderOptions): number {
  const until = new Date(Date.UTC(2026, 11, 31, 23, 59, 59)).toISOString()
  const worst = { ids: [], by: 'W'.repeat(SILENCE_BY_MAX), until, comment: 'W'.repeat(SILENCE_COMMENT_MAX) }
  const marks: SilenceMark[] = [
    { ...worst, ack: false },
    { ...worst, ack: true },
    { ...worst, ack: false, external: true },
  ]
  return Math.max(...marks.map((mark) => plainLength(options.templates.silence_note(silenceContext(mark, options)))))
}

/** onCallRoom: the most characters the on-call lines (taken, escalated, the resolved timeline) can add to a message later. */
export function onCallRoom(options: Pick<RenderOptions, 'timeZone'>): number {
  return Math.max(...worstIncidentNote(options.timeZone).map(plainLength))
}

/**
 * frameRoom: the most characters a message's header, footer, silence note and the separators
 * between its pieces take in any later look: none, some but not all, or all of its alerts
 * resolved, a part number of two digits, a silence note added.
 */
function frameRoom(content: MessageContent, options: RenderOptions, totalAlerts: number): number {
  const worst = { ...content, part: 99, parts: 99 }
  const resolvedFrom = (first: number) => ({ ...worst, alerts: worst.alerts.map((a, i) => (i >= first ? { ...a, status: 'resolved' as const } : a)) })
  const header = Math.max(...[worst, resolvedFrom(0), resolvedFrom(1)].map((look) => plainLength(headerHtml(look, options, totalAlerts))))
  const footer = plainLength(footerHtml(content, options))
  return header + footer + silenceRoom(options) + onCallRoom(options) + 4 * SEPARATOR.length
}

/** blockBudget is the room for alert blocks in one message once its frame is reserved. */
function blockBudget(content: MessageContent, options: RenderOptions, totalAlerts: number): number {
  return Math.max(200, TELEGRAM_TEXT_LIMIT - frameRoom(content, options, totalAlerts))
}

function renderBlock(alert: AlertSnapshot, content: MessageContent, options: RenderOptions, budget: number, heading?: Heading) {
  // a block whose first lines are empty (no summary, a single alert) starts at its first line
  const html = options.templates.alert(alertContext(alert, content, options, heading)).replace(/^\n+/, '')
  return plainLength(html) > budget ? truncateHtml(html, budget) : html
}

/** headings: in a message of several alertnames, the first alert of each name (in this part) is headed by it. */
function headings(alerts: readonly AlertSnapshot[], counts: ReadonlyMap<string, number>): (Heading | undefined)[] {
  if (counts.size < 2) return alerts.map(() => undefined)
  return alerts.map((alert, i) => {
    const name = alertnameOf(alert)
    return i === 0 || alertnameOf(alerts[i - 1]!) !== name ? headingOf(name, counts) : undefined
  })
}

function headingOf(name: string, counts: ReadonlyMap<string, number>): Heading {
  const count = counts.get(name) ?? 1
  return { name, count, many: count > 1 }
}

function nameCounts(alerts: readonly AlertSnapshot[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const alert of alerts) counts.set(alertnameOf(alert), (counts.get(alertnameOf(alert)) ?? 0) + 1)
  return counts
}

/** silenceNote says who silenced a message's alerts and until when (empty when nobody did). */
export function silenceNote(content: MessageContent, options: RenderOptions): string {
  const mark = content.silence
  return mark ? options.templates.silence_note(silenceContext(mark, options)) : ''
}

/** onCallNote: who took the message, the latest escalation, or (all resolved) its short timeline; empty when nothing happened (core/timeline.ts). */
export function onCallNote(content: MessageContent, options: RenderOptions): string {
  // a digest fires while any alert it names or counts does
  const firing = [...content.alerts, ...(content.digest?.unnamed ?? [])].some((a) => a.status === 'firing')
  return incidentNote({ firing, ...pickIncident(content) }, options.timeZone)
}

function pickIncident(content: MessageContent) {
  return {
    ...(content.taken ? { taken: content.taken } : {}),
    ...(content.silence ? { silence: content.silence } : {}),
    ...(content.timeline ? { timeline: content.timeline } : {}),
  }
}

/** renderMessage renders one message (one part of a group) as it should look now. */
export function renderMessage(content: MessageContent, options: RenderOptions): Rendered {
  const budget = blockBudget(content, options, content.alerts.length)
  const header = headerHtml(content, options)
  const heads = headings(content.alerts, nameCounts(content.alerts))
  const blocks = content.alerts.map((a, i) => renderBlock(a, content, options, budget, heads[i]))
  const footer = content.part === content.parts ? footerHtml(content, options) : ''
  const preview = previewOf(content.alerts)
  const notes = [onCallNote(content, options), silenceNote(content, options)]
  return { ...finish(join([header, ...blocks, footer, ...notes])), ...(preview ? { preview } : {}) }
}

/** previewOf: the first image Grafana sent with the message's alerts, if Telegram can fetch it. */
function previewOf(alerts: readonly AlertSnapshot[]): string | undefined {
  for (const alert of alerts) {
    const url = httpUrl(alert.grafana?.imageURL)
    if (url && telegramLinkable(url)) return url.href
  }
  return undefined
}

/** WORST_AGE_MS: an alert's age when measured for packing: the longest duration text ("999d 23h") an edit can show. */
const WORST_AGE_MS = (999 * 86_400 + 23 * 3600) * 1000
/** WORST_FLAPS: the flap count measured for an alert that flaps ("flapping: 999 times"). */
const WORST_FLAPS = 999

/**
 * worstSize: the most characters an alert's block can take in any later look: firing or resolved,
 * at the longest duration, with its flap mark grown if it flaps. A flap mark that a later edit
 * would add to an alert that does not flap now is checked by that edit (fitsLater).
 */
function worstSize(alert: AlertSnapshot, content: MessageContent, options: RenderOptions, budget: number, heading?: Heading): number {
  const start = knownTime(alert.startsAt) ?? options.now
  const later = { ...options, now: start + WORST_AGE_MS }
  const flaps = alert.flaps ? { flaps: WORST_FLAPS } : {}
  const looks: AlertSnapshot[] = [
    { ...alert, status: 'firing', ...flaps },
    { ...alert, status: 'resolved', endsAt: new Date(start + WORST_AGE_MS).toISOString(), ...flaps },
  ]
  return Math.max(...looks.map((look) => plainLength(renderBlock(look, content, later, budget, heading))))
}

/** fitsLater: every later look of a message (its alerts resolved, older, flapping more, a silence note added) stays within 4096 characters. */
export function fitsLater(content: MessageContent, options: RenderOptions): boolean {
  const frame = frameRoom(content, options, content.alerts.length)
  const budget = Math.max(200, TELEGRAM_TEXT_LIMIT - frame)
  const heads = headings(content.alerts, nameCounts(content.alerts))
  const blocks = content.alerts.reduce((sum, alert, i) => sum + worstSize(alert, content, options, budget, heads[i]) + SEPARATOR.length, 0)
  return frame + blocks <= TELEGRAM_TEXT_LIMIT
}

/** byAlertname orders a group's alerts so each alertname's alerts are together, names in order of first appearance. */
function byAlertname(alerts: readonly AlertSnapshot[]): AlertSnapshot[] {
  const order = new Map<string, number>()
  for (const alert of alerts) if (!order.has(alertnameOf(alert))) order.set(alertnameOf(alert), order.size)
  return [...alerts].sort((a, b) => order.get(alertnameOf(a))! - order.get(alertnameOf(b))!)
}

/** Group: the alerts of one group as a delivery takes them. */
export interface Group {
  alerts: AlertSnapshot[]
  externalURL: string
  truncatedAlerts: number
  source?: AlertSource
}

/**
 * packAlerts splits a group's alerts into message contents that each fit Telegram's limit in every
 * look they can take later (resolved, flapping, older). Nothing is dropped: a group too big for one
 * message becomes several parts.
 */
export function packAlerts(group: Group, options: RenderOptions): MessageContent[] {
  const alerts = byAlertname(group.alerts)
  const commonLabels = sharedLabels(alerts.map((a) => a.labels))
  const commonAnnotations = sharedAnnotations(alerts.map((a) => a.annotations))
  const { source, ...rest } = group
  const base: MessageContent = {
    ...rest,
    alerts,
    ...(source && source !== 'alertmanager' ? { source } : {}),
    commonLabels,
    ...(commonAnnotations.length > 0 ? { commonAnnotations } : {}),
    part: 1,
    parts: 1,
  }
  const budget = blockBudget(base, options, alerts.length)
  const counts = nameCounts(alerts)
  const parts: AlertSnapshot[][] = [[]]
  let used = 0
  for (const alert of alerts) {
    const current = parts.at(-1)!
    const heading = (last?: AlertSnapshot) =>
      counts.size > 1 && (!last || alertnameOf(last) !== alertnameOf(alert)) ? headingOf(alertnameOf(alert), counts) : undefined
    let size = worstSize(alert, base, options, budget, heading(current.at(-1))) + SEPARATOR.length
    if (used + size > budget && current.length > 0) {
      parts.push([])
      used = 0
      size = worstSize(alert, base, options, budget, heading()) + SEPARATOR.length
    }
    parts.at(-1)!.push(alert)
    used += size
  }
  return parts.map((partAlerts, i) => ({ ...base, alerts: partAlerts, part: i + 1, parts: parts.length }))
}

/** renderResolvedReply renders the short reply that tells the chat alerts of a message resolved. */
export function renderResolvedReply(alerts: readonly AlertSnapshot[], options: RenderOptions): Rendered {
  return finish(options.templates.resolved_reply(replyContext(alerts, options)))
}

/** renderRepeatReply renders the reminder that alerts of a message are still firing. */
export function renderRepeatReply(alerts: readonly AlertSnapshot[], options: RenderOptions): Rendered {
  return finish(options.templates.repeat_reply(replyContext(alerts, options)))
}

/** replyContext: a reply names each alert (by alertname when it covers several) by what tells it apart from the others it lists. */
function replyContext(alerts: readonly AlertSnapshot[], options: RenderOptions) {
  const ordered = byAlertname(alerts)
  const listed = ordered.slice(0, REPLY_LIST_LIMIT)
  const many = alerts.length > 1
  const shared = sharedLabels(alerts.map((a) => a.labels))
  const severalNames = distinctNames(alerts).length > 1
  return {
    alertname: alertnamesOf(ordered),
    many,
    count: alerts.length,
    more: alerts.length - listed.length,
    alerts: listed.map((a) => {
      const identifying = distinguishingLabels(a.labels, shared, options.labels, many)
      return {
        name: severalNames ? alertnameOf(a) : '',
        identifying,
        // nothing else tells it apart: its summary does
        summary: identifying.length === 0 ? firstAnnotation(a.annotations, TITLE_ANNOTATIONS).value : '',
        duration: durationText(a, options.now),
        labels: a.labels,
        annotations: a.annotations,
      }
    }),
  }
}
