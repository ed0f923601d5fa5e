/**
 * What the bot says: pages of alerts and silences, status, help, outcomes of actions. Telegram
 * HTML, every value escaped and cut before escaping, never over Telegram's limit. Pure.
 */
import { formatDuration } from '../core/duration.js'
import { type RenderOptions, type Rendered, finish, formatTime, shownLabels } from '../core/render.js'
import { severityOf } from '../core/severity.js'
import { cutText, escapeHtml as e } from '../core/html.js'
import type { InlineButton } from '../core/keyboard.js'
import { buttonData } from '../core/keyboard.js'
import { COMMANDS } from '../core/commands.js'
import type { ReplicasSeen } from '../store/notification-queue.js'

/** PAGE_SIZE: items per page of a list (each has its own button). */
export const PAGE_SIZE = 10

/** AlertRow: an alert as /alerts lists it. */
export interface AlertRow {
  fingerprint: string
  labels: Record<string, string>
  annotations: Record<string, string>
  startsAt: string
}

/** SilenceRow: a silence as /silences lists it. */
export interface SilenceRow {
  id: string
  matchers: string
  endsAt: string
  createdBy: string
  comment: string
}

const line = (text: string, max = 300) => e(cutText(text, max))

function pageOf<T>(items: readonly T[], page: number) {
  const pages = Math.max(1, Math.ceil(items.length / PAGE_SIZE))
  const current = Math.min(Math.max(0, page), pages - 1)
  return { items: items.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE), current, pages, offset: current * PAGE_SIZE }
}

function navigation(token: string, current: number, pages: number): InlineButton[] {
  const nav: InlineButton[] = []
  if (current > 0) nav.push({ text: '‹ Previous', callback_data: buttonData(`pg${current - 1}`, token) })
  if (current < pages - 1) nav.push({ text: 'Next ›', callback_data: buttonData(`pg${current + 1}`, token) })
  return nav
}

/** sortAlerts orders alerts most severe first, then longest firing. */
export function sortAlerts(alerts: readonly AlertRow[], options: RenderOptions): AlertRow[] {
  return [...alerts].sort(
    (a, b) => severityOf(a.labels, options.severities).rank - severityOf(b.labels, options.severities).rank || a.startsAt.localeCompare(b.startsAt),
  )
}

/** alertsPage renders one page of /alerts with a silence button per alert. */
export function alertsPage(
  alerts: readonly AlertRow[],
  page: number,
  token: string,
  durationMs: number,
  options: RenderOptions,
): Rendered & { keyboard: InlineButton[][] } {
  if (alerts.length === 0) return { ...finish('✅ <b>Nothing is firing</b> (Alertmanager: no active, unsilenced alerts).'), keyboard: [] }
  const { items, current, pages, offset } = pageOf(alerts, page)
  const lines = items.map((a, i) => {
    const severity = severityOf(a.labels, options.severities)
    const labels = shownLabels(a.labels, options)
      .map((l) => `${l.name}: ${l.value}`)
      .join(' · ')
    const since = formatDuration(options.now - Date.parse(a.startsAt))
    const summary = a.annotations.summary ? `\n   ${line(a.annotations.summary, 200)}` : ''
    return `${offset + i + 1}. ${severity.marker} <b>${line(a.labels.alertname ?? 'alert', 100)}</b>${labels ? ` · ${line(labels, 200)}` : ''} · ${since}${summary}`
  })
  const header = `🔥 <b>${alerts.length} firing</b>${pages > 1 ? ` · page ${current + 1}/${pages}` : ''}`
  const keyboard = items.map((a, i) => [
    {
      text: `🔕 ${formatDuration(durationMs)} · #${offset + i + 1} ${cutText(a.labels.alertname ?? '', 30)}`,
      callback_data: buttonData(`it${offset + i}`, token),
    },
  ])
  const nav = navigation(token, current, pages)
  return { ...finish([header, ...lines].join('\n')), keyboard: nav.length > 0 ? [...keyboard, nav] : keyboard }
}

/** silencesPage renders one page of /silences with an Expire button per silence. */
export function silencesPage(silences: readonly SilenceRow[], page: number, token: string, options: RenderOptions): Rendered & { keyboard: InlineButton[][] } {
  if (silences.length === 0) return { ...finish('🔔 <b>No active silences.</b>'), keyboard: [] }
  const { items, current, pages, offset } = pageOf(silences, page)
  const lines = items.map(
    (s, i) =>
      `${offset + i + 1}. 🔕 <code>${line(s.matchers, 300)}</code>\n   until ${e(formatTime(s.endsAt, options.timeZone))} · by ${line(s.createdBy, 80)}${s.comment ? ` · ${line(s.comment, 120)}` : ''}\n   id <code>${e(s.id)}</code>`,
  )
  const header = `🔕 <b>${silences.length} active silence${silences.length === 1 ? '' : 's'}</b>${pages > 1 ? ` · page ${current + 1}/${pages}` : ''}`
  const keyboard = items.map((_, i) => [{ text: `🔔 Expire #${offset + i + 1}`, callback_data: buttonData(`it${offset + i}`, token) }])
  const nav = navigation(token, current, pages)
  return { ...finish([header, ...lines].join('\n')), keyboard: nav.length > 0 ? [...keyboard, nav] : keyboard }
}

/** WebhooksWaiting: the planner's backlog as /status shows it. */
export interface WebhooksWaiting {
  batches: number
  oldestAt?: number
}

/** StatusReport: what /status shows. */
export interface StatusReport {
  redis: boolean
  dryRun: boolean
  /** stored batches of webhooks not yet planned (those that arrived together are one), and when the oldest was stored */
  webhooksWaiting: WebhooksWaiting
  /** what the Redis replicas last confirmed, when redis.min_replicas_acked asks them to */
  replicas?: ReplicasSeen
  deadLetters: number
  /** dead letters by reason, when known */
  deadLettersByReason?: Record<string, number>
  alertmanager: { healthy: boolean; version?: string; uptime?: string; error?: string }
  chats: { chat: string; paceMs: number; waiting: number; mutedUntil?: number; lastError?: string; deadLetters?: number }[]
}

/** deadLettersLine counts dead letters, by reason when known, and says where to act on them. */
function deadLettersLine(report: StatusReport): string {
  const reasons = Object.entries(report.deadLettersByReason ?? {}).sort((a, b) => b[1] - a[1])
  const by = reasons.length > 0 ? ` (${reasons.map(([reason, count]) => `${count} ${line(reason, 40)}`).join(', ')})` : ''
  return `${report.deadLetters} dead letter${report.deadLetters === 1 ? '' : 's'}${by}`
}

/** webhooksLine says whether the planner keeps up: how long the oldest stored webhook has waited. */
function webhooksLine({ batches, oldestAt }: WebhooksWaiting, now: number): string {
  if (batches === 0) return 'no webhooks waiting'
  const age = oldestAt === undefined ? '' : ` ${formatDuration(Math.max(0, now - oldestAt))}`
  return `webhooks waiting${age} (${batches} stored batch${batches === 1 ? '' : 'es'})`
}

/** replicasLine says whether webhooks get their 2xx: enough Redis replicas confirmed the last ones stored, or how many did and since when 503 is the answer. */
function replicasLine({ acked, wanted, at }: ReplicasSeen, now: number): string {
  if (acked >= wanted) return `✅ ${wanted === 1 ? 'its replica confirms' : `${wanted} replicas confirm`} webhooks`
  return `❌ ${acked} of ${wanted} replicas confirmed the webhooks stored ${formatDuration(Math.max(0, now - at))} ago: answering 503, Alertmanager retries`
}

/** statusReply renders /status. */
export function statusReply(report: StatusReport, options: RenderOptions): Rendered {
  const ok = (good: boolean) => (good ? '✅' : '❌')
  const am = report.alertmanager
  const lines = [
    `<b>alertwire</b>: ${ok(report.redis)} Redis${report.replicas ? `, ${replicasLine(report.replicas, options.now)}` : ''}${report.dryRun ? ' · dry run (no bot token)' : ''} · ${webhooksLine(report.webhooksWaiting, options.now)} · ${deadLettersLine(report)}`,
    `<b>Alertmanager</b>: ${ok(am.healthy)} ${am.healthy ? `version ${line(am.version ?? '?', 40)}${am.uptime ? ` · up since ${e(formatTime(am.uptime, options.timeZone))}` : ''}` : line(am.error ?? 'not healthy', 300)}`,
    ...report.chats.map(
      (c) =>
        `<b>chat ${e(c.chat)}</b>: one message per ${formatDuration(c.paceMs)} · ${c.waiting} waiting${c.deadLetters ? ` · ${c.deadLetters} dead letter${c.deadLetters === 1 ? '' : 's'}` : ''}${c.mutedUntil ? ` · muted until ${e(formatTime(new Date(c.mutedUntil).toISOString(), options.timeZone))}` : ''}${c.lastError ? ` · last error: ${line(c.lastError, 200)}` : ''}`,
    ),
  ]
  if (report.deadLetters > 0) lines.push('<i>alertwire dead-letters list</i> shows them; <i>retry</i> sends them again')
  return finish(lines.join('\n'))
}

/** helpReply renders /help. */
export function helpReply(): Rendered {
  const lines = COMMANDS.map((c) => `/${c.command} — ${e(c.description)}`)
  const intro = [
    '<b>alertwire</b> relays Alertmanager alerts here. Buttons under an alert silence it in Alertmanager,',
    "or say you are on it (✋ I'm on it: escalation stops, nothing is silenced; ↩️ Release gives it back).",
  ]
  return finish([...intro, ...lines].join('\n'))
}

/** plainReply renders a one-line answer (an outcome or a refusal). */
export function plainReply(text: string): Rendered {
  return finish(line(text, 4000))
}
