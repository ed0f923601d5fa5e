/**
 * Candidates: a notification becomes candidate events, one per alert and target chat, each
 * with its identity (fingerprint + status + startsAt, per chat) and the route's policy for it.
 * What each one is (new, duplicate, reminder, ...) is decided by events.ts against what the store
 * remembers, and committed only if nothing changed meanwhile, so HA pairs, webhook retries and
 * repeat notifications collapse even across replicas. Pure.
 */
import type { Webhook } from './webhook.js'
import { isZeroTime } from './duration.js'
import type { MuteWindow } from './mute.js'
import { chatPaceMs, type Pace } from './pace.js'
import type { AlertSnapshot, AlertSource } from './render.js'
import { routeAlert, type Routing, type Target } from './route.js'
import { HEARTBEAT_LEVEL, type SeverityScheme, severityOf } from './severity.js'

/** OutboxItem: one alert event waiting in a chat's outbox. */
export interface OutboxItem {
  id: string
  alert: AlertSnapshot
  groupKey: string
  externalURL: string
  /** Grafana alerting sent it (absent: Alertmanager) */
  source?: AlertSource
  truncatedAlerts: number
  threadId?: number
  silent: boolean
  route: string
  /** minimum ms between this chat's messages after this one (the chat's pace, or the route's throttle) */
  paceMs: number
  receivedAt: number
  /** arrival order: the number of the stored notification (the store keeps each outbox in this order) */
  seq: number
  /** set by the store: a reminder that this alert is still firing (repeat_interval) */
  repeat?: boolean
  /** set by the store: how many times this alert started firing within the flapping window */
  flaps?: number
}

/** Candidate: an event the store queues only if its conditions hold. */
export interface Candidate {
  chat: string
  thread: string
  fingerprint: string
  status: 'firing' | 'resolved'
  startsAt: string
  /** a resolve is only worth a message if the firing event was seen in this chat */
  requireFiringSeen: boolean
  /** re-announce while still firing, no more often than this (0: never) */
  repeatIntervalMs: number
  /** the route's mute windows (decided at the moment the event is committed) */
  muteWindows: readonly MuteWindow[]
  /** the alert's severity level, as mute windows and /mute compare it */
  level: string
  item: OutboxItem
}

/** Plan: what a notification asks for. */
export interface Plan {
  candidates: Candidate[]
  /** alerts no route and no default chat takes */
  unrouted: number
}

/** snapshotOf keeps what a message needs of a webhook alert. */
export function snapshotOf(alert: Webhook['alerts'][number]): AlertSnapshot {
  return {
    fingerprint: alert.fingerprint,
    status: alert.status,
    labels: alert.labels,
    annotations: alert.annotations ?? {},
    startsAt: alert.startsAt,
    ...(alert.endsAt && !isZeroTime(alert.endsAt) ? { endsAt: alert.endsAt } : {}),
    ...(alert.generatorURL ? { generatorURL: alert.generatorURL } : {}),
    ...(alert.grafana ? { grafana: alert.grafana } : {}),
  }
}

/** eventId is the identity of an alert event in one chat (and topic). */
export function eventId(chat: string, thread: string, fingerprint: string, status: string, startsAt: string): string {
  return `${chat}/${thread}/${fingerprint}/${status}/${startsAt}`
}

/** PlanOptions: the policy a notification is planned under. */
export interface PlanOptions {
  /** queue resolves even for alerts never announced in a chat */
  resolvedUnannounced: boolean
  /** link target when a notification carries no externalURL */
  alertmanagerUrl: string
  /** Telegram's pace per chat class, in ms between messages */
  pace: Pick<Pace, 'privateIntervalMs' | 'groupIntervalMs'>
  /** how severities are written, to know an alert's level */
  severities: SeverityScheme
}

/** Arrival: when a notification was received, and its number in the order notifications were stored. */
export interface Arrival {
  receivedAt: number
  seq: number
}

function candidateFor(webhook: Webhook, alert: Webhook['alerts'][number], target: Target, { receivedAt, seq }: Arrival, options: PlanOptions): Candidate {
  const chat = String(target.chat.chatId)
  const thread = target.chat.threadId ? String(target.chat.threadId) : ''
  const { policy } = target
  const { level } = severityOf(alert.labels, options.severities)
  const chatPace = chatPaceMs(target.chat, options.pace)
  return {
    chat,
    thread,
    fingerprint: alert.fingerprint,
    status: alert.status,
    startsAt: alert.startsAt,
    requireFiringSeen: alert.status === 'resolved' && !options.resolvedUnannounced,
    repeatIntervalMs: policy.repeatIntervalMs,
    muteWindows: policy.muteWindows,
    level,
    item: {
      // first, so the store's outbox ordering reads it at the head of the stored JSON (and nothing a sender wrote can come before it)
      seq,
      id: eventId(chat, thread, alert.fingerprint, alert.status, alert.startsAt),
      alert: snapshotOf(alert),
      groupKey: webhook.groupKey,
      externalURL: webhook.externalURL || options.alertmanagerUrl,
      // absent means Alertmanager: so items (and jobs) stored before there was a source read the same
      ...(webhook.source === 'grafana' ? { source: 'grafana' as const } : {}),
      truncatedAlerts: webhook.truncatedAlerts ?? 0,
      ...(target.chat.threadId ? { threadId: target.chat.threadId } : {}),
      // heartbeats fire all the time on purpose: never worth a sound
      silent: level === HEARTBEAT_LEVEL || policy.silentSeverities.has(level),
      route: target.route,
      paceMs: Math.max(chatPace, policy.throttleMs ?? 0),
      receivedAt,
    },
  }
}

/** planNotification routes every alert of a notification and returns the candidate events. */
export function planNotification(routing: Routing, webhook: Webhook, arrival: Arrival, options: PlanOptions): Plan {
  const candidates: Candidate[] = []
  let unrouted = 0
  for (const alert of webhook.alerts) {
    const targets = routeAlert(routing, alert.labels)
    if (targets.length === 0) unrouted++
    for (const target of targets) candidates.push(candidateFor(webhook, alert, target, arrival, options))
  }
  return { candidates, unrouted }
}
