/**
 * Rendering: alerts become Telegram HTML messages that Telegram always accepts. A group is packed
 * into as many messages as it needs, each at most 4096 characters after parsing, measured for both
 * its firing and its resolved look so that the later edit on resolve fits too. Pure: the clock
 * comes in as `now`.
 */
import { formatDuration } from './duration.js'
import { htmlToPlain, plainLength, truncateHtml } from './html.js'
import type { Labels } from './matchers.js'
import type { CompiledTemplates } from './templates.js'

/** TELEGRAM_TEXT_LIMIT: Telegram's limit on message text, in characters after entity parsing. */
export const TELEGRAM_TEXT_LIMIT = 4096
const SEPARATOR = '\n\n'
const REPLY_LIST_LIMIT = 30
const UNKNOWN_SEVERITY = { marker: '⚪', rank: 99 }
/** Room kept for text that grows between send and edit: "5m" becomes "1d 2h", "3 alerts, 1 resolved", a silence note. */
const GROWTH_SLACK = 160

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
}

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

/** MessageContent: everything needed to render one Telegram message of a group. */
export interface MessageContent {
  alerts: AlertSnapshot[]
  /** label names shown once in the header because every alert of the group shares them */
  commonLabels: string[]
  externalURL: string
  truncatedAlerts: number
  part: number
  parts: number
  /** set for the messages of a storm digest */
  digest?: DigestSummary
  /** the callback token of this message's buttons */
  token?: string
  /** who silenced this message's alerts from Telegram, and until when */
  silence?: SilenceMark
}

/** SilenceMark: a silence created from Telegram for a message's alerts. */
export interface SilenceMark {
  ids: string[]
  by: string
  /** ISO time the silence ends; for an acknowledgement, the longest it may last */
  until: string
  /** acknowledged until resolved: alertwire expires the silence when the alerts resolve */
  ack: boolean
}

/** RenderOptions: the operator's wording and display choices, plus the clock. */
export interface RenderOptions {
  templates: CompiledTemplates
  severities: Record<string, { marker: string; rank: number }>
  hideLabels: ReadonlySet<string>
  timeZone: string
  /** the flapping window, to say "flapping: 6 times in 10m" */
  flapWindowMs: number
  now: number
}

/** Rendered: the HTML to send and the plain text to fall back to if Telegram refuses the HTML. */
export interface Rendered {
  html: string
  plain: string
}

const ALWAYS_HIDDEN = new Set(['alertname', 'severity'])

/** severityOf names an alert's severity with its marker and rank (unknown severities rank last). */
export function severityOf(labels: Labels, options: RenderOptions) {
  const name = labels.severity ?? 'unknown'
  // own keys only: a severity called "constructor" is just unknown
  return { name, ...(Object.hasOwn(options.severities, name) ? options.severities[name]! : UNKNOWN_SEVERITY) }
}

/** mostSevere picks the severity that describes a set of alerts: the lowest rank wins. */
function mostSevere(alerts: readonly AlertSnapshot[], options: RenderOptions) {
  return alerts.map((a) => severityOf(a.labels, options)).sort((a, b) => a.rank - b.rank)[0] ?? { name: 'unknown', ...UNKNOWN_SEVERITY }
}

/** Link: a URL to show, and whether Telegram will make it a link (it drops links to hosts without a dot, like http://prometheus:9090). */
interface Link {
  title: string
  url: string
  linkable: boolean
}

function httpUrl(value: string | undefined): URL | undefined {
  if (!value) return undefined
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined
  } catch {
    return undefined
  }
}

/** MAX_LINK_URL: longer URLs are shown (cut) as text rather than linked; Telegram refuses very long links. */
const MAX_LINK_URL = 2048
const LINKABLE_HOST = /^(\[[0-9a-f:.]+\]|([a-z0-9_-]+\.)+[a-z0-9_-]+)$/i

/** telegramLinkable: Telegram links http(s) URLs whose host has a dot (or is an IPv6 literal) and whose port is real; it drops the rest. */
function telegramLinkable(url: URL): boolean {
  const port = url.port === '' ? 80 : Number(url.port)
  return url.href.length <= MAX_LINK_URL && LINKABLE_HOST.test(url.hostname) && port >= 1 && port <= 65535
}

function link(title: string, url: URL): Link {
  return { title, url: url.href, linkable: telegramLinkable(url) }
}

function titleFromKey(key: string): string {
  const words = key
    .replace(/_?url$/i, '')
    .replace(/[_-]+/g, ' ')
    .trim()
  return words ? words[0]!.toUpperCase() + words.slice(1) : 'Link'
}

/** alertLinks lists the links an alert carries: its source, then runbook, dashboard and other *_url annotations. */
function alertLinks(alert: AlertSnapshot): Link[] {
  const links: Link[] = []
  const source = httpUrl(alert.generatorURL)
  if (source) links.push(link('Source', source))
  const keys = Object.keys(alert.annotations).filter((k) => /(^|_)url$|^runbook$|^dashboard$/i.test(k))
  const rank = (k: string) => (/^runbook/i.test(k) ? 0 : /^(dashboard|grafana)/i.test(k) ? 1 : 2)
  keys.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
  for (const key of keys) {
    const url = httpUrl(alert.annotations[key])
    if (url) links.push(link(titleFromKey(key), url))
  }
  return links
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

function firedFor(alert: AlertSnapshot, now: number): number {
  const start = Date.parse(alert.startsAt)
  const end = alert.status === 'resolved' && alert.endsAt ? Date.parse(alert.endsAt) : now
  return Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, end - start) : 0
}

/** identifyingLabels are the labels that tell one alert from another, in a stable order. */
export function identifyingLabels(labels: Labels, hidden: ReadonlySet<string>, common: readonly string[] = []) {
  return Object.keys(labels)
    .filter((name) => !ALWAYS_HIDDEN.has(name) && !hidden.has(name) && !common.includes(name))
    .sort()
    .map((name) => ({ name, value: labels[name]! }))
}

/** commonLabelNames: the labels every alert shares with the same value (worth saying once). */
export function commonLabelNames(alerts: readonly AlertSnapshot[], hidden: ReadonlySet<string>): string[] {
  if (alerts.length < 2) return []
  const first = alerts[0]!.labels
  return Object.keys(first)
    .filter((name) => !ALWAYS_HIDDEN.has(name) && !hidden.has(name))
    .filter((name) => alerts.every((a) => a.labels[name] === first[name]))
    .sort()
}

function alertnameOf(alerts: readonly AlertSnapshot[]): string {
  const names = [...new Set(alerts.map((a) => a.labels.alertname ?? 'alert'))]
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} +${names.length - 3}`
}

function alertContext(alert: AlertSnapshot, content: MessageContent, many: boolean, options: RenderOptions) {
  const severity = severityOf(alert.labels, options)
  return {
    many,
    status: alert.status,
    resolved: alert.status === 'resolved',
    marker: severity.marker,
    severity: severity.name,
    alertname: alert.labels.alertname ?? 'alert',
    summary: alert.annotations.summary ?? alert.annotations.title ?? '',
    description: alert.annotations.description ?? alert.annotations.message ?? '',
    labels: alert.labels,
    annotations: alert.annotations,
    identifying: identifyingLabels(alert.labels, options.hideLabels, many ? content.commonLabels : []),
    starts_at: formatTime(alert.startsAt, options.timeZone),
    ends_at: alert.endsAt ? formatTime(alert.endsAt, options.timeZone) : '',
    duration: formatDuration(firedFor(alert, options.now)),
    links: alertLinks(alert),
    fingerprint: alert.fingerprint,
    flaps: alert.flaps ?? 0,
    flap_window: formatDuration(options.flapWindowMs),
  }
}

function headerContext(content: MessageContent, options: RenderOptions, countOverride?: number) {
  const { alerts } = content
  const severity = mostSevere(alerts, options)
  const resolvedCount = alerts.filter((a) => a.status === 'resolved').length
  const many = (countOverride ?? alerts.length) > 1
  const first = alerts[0]?.labels ?? {}
  return {
    many,
    resolved: alerts.length > 0 && resolvedCount === alerts.length,
    count: countOverride ?? alerts.length,
    resolved_count: resolvedCount,
    marker: severity.marker,
    severity: severity.name,
    alertname: alertnameOf(alerts),
    common_labels: content.commonLabels.map((name) => ({ name, value: first[name] ?? '' })),
    part: content.parts > 1 ? content.part : 0,
    parts: content.parts > 1 ? content.parts : 0,
  }
}

/** alertmanagerLink links to the alerts of a message in Alertmanager (as text if Telegram would not link it). */
export function alertmanagerLink(content: MessageContent): Link | undefined {
  const base = httpUrl(content.externalURL)
  if (!base) return undefined
  if (!telegramLinkable(base)) return link('Alertmanager', base)
  const names = [...new Set(content.alerts.map((a) => a.labels.alertname).filter(Boolean))]
  const filter = names.length === 1 ? `?filter=${encodeURIComponent(`{alertname="${names[0]}"}`)}` : ''
  return link('Alertmanager', new URL(`${base.href.replace(/\/$/, '')}/#/alerts${filter}`))
}

function footerContext(content: MessageContent) {
  const alertmanager = alertmanagerLink(content)
  return { truncated_alerts: content.truncatedAlerts, alertmanager_url: alertmanager?.url ?? '', alertmanager_linkable: alertmanager?.linkable ?? false }
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

/** blockBudget is the room for alert blocks in one message once header and footer are reserved. */
function blockBudget(content: MessageContent, options: RenderOptions, totalAlerts: number): number {
  const worst = { ...content, part: 99, parts: 99 }
  const asResolved = { ...worst, alerts: worst.alerts.map((a) => ({ ...a, status: 'resolved' as const })) }
  const header = Math.max(plainLength(headerHtml(worst, options, totalAlerts)), plainLength(headerHtml(asResolved, options, totalAlerts)))
  const footer = plainLength(footerHtml(content, options))
  return Math.max(200, TELEGRAM_TEXT_LIMIT - header - footer - 2 * SEPARATOR.length - GROWTH_SLACK)
}

function renderBlock(alert: AlertSnapshot, content: MessageContent, many: boolean, options: RenderOptions, budget: number) {
  const html = options.templates.alert(alertContext(alert, content, many, options))
  return plainLength(html) > budget ? truncateHtml(html, budget) : html
}

/** silenceNote says who silenced a message's alerts and until when (empty when nobody did). */
export function silenceNote(content: MessageContent, options: RenderOptions): string {
  const mark = content.silence
  return mark ? options.templates.silence_note({ by: mark.by, until: formatTime(mark.until, options.timeZone), ack: mark.ack }) : ''
}

/** renderMessage renders one message (one part of a group) as it should look now. */
export function renderMessage(content: MessageContent, options: RenderOptions): Rendered {
  const many = content.alerts.length > 1
  const budget = blockBudget(content, options, content.alerts.length)
  const header = headerHtml(content, options)
  const blocks = content.alerts.map((a) => renderBlock(a, content, many, options, budget))
  const footer = content.part === content.parts ? footerHtml(content, options) : ''
  return finish(join([header, ...blocks, footer, silenceNote(content, options)]))
}

/**
 * packAlerts splits a group's alerts into message contents that each fit Telegram's limit in both
 * their firing and resolved look. Nothing is dropped: a group too big for one message becomes
 * several parts.
 */
export function packAlerts(group: { alerts: AlertSnapshot[]; externalURL: string; truncatedAlerts: number }, options: RenderOptions): MessageContent[] {
  const commonLabels = commonLabelNames(group.alerts, options.hideLabels)
  const base: MessageContent = { ...group, commonLabels, part: 1, parts: 1 }
  const many = group.alerts.length > 1
  const budget = blockBudget(base, options, group.alerts.length)
  const parts: AlertSnapshot[][] = [[]]
  let used = 0
  for (const alert of group.alerts) {
    const size =
      Math.max(
        plainLength(renderBlock({ ...alert, status: 'firing' }, base, many, options, budget)),
        plainLength(renderBlock({ ...alert, status: 'resolved', endsAt: alert.endsAt ?? new Date(options.now).toISOString() }, base, many, options, budget)),
      ) +
      SEPARATOR.length +
      GROWTH_SLACK
    if (used + size > budget && parts.at(-1)!.length > 0) {
      parts.push([])
      used = 0
    }
    parts.at(-1)!.push(alert)
    used += size
  }
  return parts.map((alerts, i) => ({ ...base, alerts, part: i + 1, parts: parts.length }))
}

/** renderResolvedReply renders the short reply that tells the chat alerts of a message resolved. */
export function renderResolvedReply(alerts: readonly AlertSnapshot[], options: RenderOptions): Rendered {
  return finish(options.templates.resolved_reply(replyContext(alerts, options)))
}

/** renderRepeatReply renders the reminder that alerts of a message are still firing. */
export function renderRepeatReply(alerts: readonly AlertSnapshot[], options: RenderOptions): Rendered {
  return finish(options.templates.repeat_reply(replyContext(alerts, options)))
}

function replyContext(alerts: readonly AlertSnapshot[], options: RenderOptions) {
  const listed = alerts.slice(0, REPLY_LIST_LIMIT)
  return {
    alertname: alertnameOf(alerts),
    many: alerts.length > 1,
    count: alerts.length,
    more: alerts.length - listed.length,
    alerts: listed.map((a) => ({
      identifying: identifyingLabels(a.labels, options.hideLabels),
      duration: formatDuration(firedFor(a, options.now)),
      labels: a.labels,
      annotations: a.annotations,
    })),
  }
}
