/**
 * The service's own metrics (prefix alertwire_), on a registry per app so several apps in one
 * process (tests, replicas) never share counters. Queue gauges are set from a reading of Redis
 * taken at scrape time, so they are true across replicas and restarts.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/** BacklogReading: what the queue gauges report, read from Redis on every scrape. */
export interface BacklogReading {
  webhookBatchesWaiting: number
  webhooksOldestAgeSeconds: number
  webhookBatchesFailed: number
  outboxItems: number
  outboxInflight: number
  deferredEdits: number
  outboxOldestAgeSeconds: number
  chatsWithWork: number
  deadLetters: number
}

/** createMetrics registers every alertwire metric on a fresh registry. */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'alertwire_' })
  const queueDepth = new Gauge({
    name: 'alertwire_queue_depth',
    help: 'Work waiting: stored batches of webhooks not yet planned (the webhooks stored in one round trip are one batch), events in chat outboxes, deliveries in flight, edits deferred by storms.',
    labelNames: ['queue'] as const,
    registers: [registry],
  })
  const queueOldestAge = new Gauge({
    name: 'alertwire_queue_oldest_age_seconds',
    help: 'Age of the oldest waiting work item per queue.',
    labelNames: ['queue'] as const,
    registers: [registry],
  })
  const deadLetterGauge = new Gauge({
    name: 'alertwire_dead_letters',
    help: 'Dead letters kept in Redis: stored batches of webhooks that failed planning, messages given up on.',
    labelNames: ['queue'] as const,
    registers: [registry],
  })
  const chatsWithWork = new Gauge({
    name: 'alertwire_chats_with_work',
    help: 'Chats that have events waiting or a delivery in flight.',
    registers: [registry],
  })
  return {
    registry,
    webhooksReceived: new Counter({
      name: 'alertwire_webhooks_received_total',
      help: 'Alertmanager webhook requests by result (accepted, unauthorized, invalid, too_large, unavailable).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    webhookUnknownVersions: new Counter({
      name: 'alertwire_webhook_unknown_versions_total',
      help: 'Webhooks accepted with a payload version alertwire does not know (not Alertmanager\'s "4", nor Grafana\'s "1" with orgId), by version ("none": no version, "other": past the first ten or not a short version).',
      labelNames: ['version'] as const,
      registers: [registry],
    }),
    webhookAlertsUnreadable: new Counter({
      name: 'alertwire_webhook_alerts_unreadable_total',
      help: 'Alerts skipped because they cannot be read (no labels object, a label that is an object...), in webhooks whose other alerts were stored.',
      registers: [registry],
    }),
    webhooksUnreplicated: new Counter({
      name: 'alertwire_webhooks_unreplicated_total',
      help: 'Webhooks answered 503 because fewer than redis.min_replicas_acked replicas confirmed holding them within webhook.store_timeout (Alertmanager retries them).',
      registers: [registry],
    }),
    webhookDuration: new Histogram({
      name: 'alertwire_webhook_duration_seconds',
      help: 'Time from receiving a webhook to answering it (storing it in Redis included), by HTTP status.',
      labelNames: ['status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    alertsReceived: new Counter({
      name: 'alertwire_alerts_received_total',
      help: 'Alert events per target chat by status and result (queued, duplicate, unannounced, stale, unrouted).',
      labelNames: ['status', 'result'] as const,
      registers: [registry],
    }),
    messages: new Counter({
      name: 'alertwire_messages_total',
      help: 'Telegram calls that changed a chat, by chat and outcome (sent, edited, sent_plain, dead_letter, dropped).',
      labelNames: ['chat', 'outcome'] as const,
      registers: [registry],
    }),
    graphs: new Counter({
      name: 'alertwire_graphs_total',
      help: 'Graphs for the chat, by outcome: what drawing gave (drawn, flat, empty, bad_query, prometheus_down, timeout, render_error), then what became of it (sent, failed, skipped_storm, skipped_stale).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    adminActions: new Counter({
      name: 'alertwire_admin_actions_total',
      help: 'What people did from Telegram, by action and outcome (ok, refused, failed, invalid, expired).',
      labelNames: ['action', 'outcome'] as const,
      registers: [registry],
    }),
    silenceWatch: new Counter({
      name: 'alertwire_silence_watch_total',
      help: 'What the silence watcher did to alert messages, by outcome (marked: silenced elsewhere, updated, expired: a silence ended while the alerts fire, reminded), and its rounds that failed (alertmanager_down).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    escalations: new Counter({
      name: 'alertwire_escalations_total',
      help: 'Escalation steps fired for alert messages nobody took, by policy and step (1: the first step; a repeat counts again).',
      labelNames: ['policy', 'step'] as const,
      registers: [registry],
    }),
    timeToAcknowledge: new Histogram({
      name: 'alertwire_time_to_acknowledge_seconds',
      help: 'Time from an alert message being sent to its first reaction from the chat (taken, acknowledged or silenced), once per message, by route and severity.',
      labelNames: ['route', 'severity'] as const,
      buckets: [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400],
      registers: [registry],
    }),
    timeToResolve: new Histogram({
      name: 'alertwire_time_to_resolve_seconds',
      help: 'Time from an alert message being sent to all its alerts resolved, once per message, by route and severity.',
      labelNames: ['route', 'severity'] as const,
      buckets: [60, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400, 259_200],
      registers: [registry],
    }),
    resolvedUntaken: new Counter({
      name: 'alertwire_alerts_resolved_untaken_total',
      help: 'Alert messages whose alerts all resolved while nobody had taken, acknowledged or silenced them, by route and severity.',
      labelNames: ['route', 'severity'] as const,
      registers: [registry],
    }),
    botUpdates: new Counter({
      name: 'alertwire_bot_updates_total',
      help: 'Telegram updates handled by the bot, by kind (command, button, other) and how they came (polling, webhook).',
      labelNames: ['kind', 'via'] as const,
      registers: [registry],
    }),
    botPolling: new Gauge({
      name: 'alertwire_bot_polling',
      help: '1 on the replica that holds the polling lease and polls Telegram for updates.',
      registers: [registry],
    }),
    storms: new Counter({
      name: 'alertwire_storm_rounds_total',
      help: 'Times more waited for a chat than it could take at its pace, and the waiting alerts were folded into digests.',
      labelNames: ['chat'] as const,
      registers: [registry],
    }),
    telegramDuration: new Histogram({
      name: 'alertwire_telegram_request_duration_seconds',
      help: 'Telegram Bot API call latency by method and outcome.',
      labelNames: ['method', 'outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    telegramRateLimited: new Counter({
      name: 'alertwire_telegram_rate_limited_total',
      help: 'Telegram 429 answers, by chat. alertwire paces itself so this should stay at zero.',
      labelNames: ['chat'] as const,
      registers: [registry],
    }),
    telegramRetries: new Counter({
      name: 'alertwire_telegram_retries_total',
      help: 'Telegram calls retried, by reason (transient, rate_limited, bad_format, misconfigured, edit_target_missing, thread_missing, migrated).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'alertwire_dead_letters_total',
      help: 'Messages given up on, by reason; each is kept in Redis (<prefix>:dead) for inspection.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    configReloadSuccessful: new Gauge({
      name: 'alertwire_config_last_reload_successful',
      help: '1 if the last config (re)load succeeded, 0 if the running config is older than the file.',
      registers: [registry],
    }),
    dryRun: new Gauge({
      name: 'alertwire_dry_run',
      help: '1 when no bot token is set and messages are only logged.',
      registers: [registry],
    }),
    /** setBacklog updates the queue gauges from a reading of Redis (taken just before a scrape). */
    setBacklog(reading: BacklogReading) {
      queueDepth.set({ queue: 'webhooks' }, reading.webhookBatchesWaiting)
      queueDepth.set({ queue: 'outbox' }, reading.outboxItems)
      queueDepth.set({ queue: 'inflight' }, reading.outboxInflight)
      queueDepth.set({ queue: 'deferred_edits' }, reading.deferredEdits)
      queueOldestAge.set({ queue: 'webhooks' }, reading.webhooksOldestAgeSeconds)
      queueOldestAge.set({ queue: 'outbox' }, reading.outboxOldestAgeSeconds)
      deadLetterGauge.set({ queue: 'webhooks' }, reading.webhookBatchesFailed)
      deadLetterGauge.set({ queue: 'messages' }, reading.deadLetters)
      chatsWithWork.set(reading.chatsWithWork)
    },
  }
}

export type Metrics = ReturnType<typeof createMetrics>

/** KNOWN_RESULTS: label values exported from the start (at 0), so increase() sees their first event. */
const KNOWN = {
  webhooks: ['accepted', 'unauthorized', 'invalid', 'too_large', 'unavailable'],
  deadLetters: ['chat_unreachable', 'rejected', 'expired'],
}

/** zeroKnownSeries exports the known series at 0, so alerts on their first increase fire. */
export function zeroKnownSeries(metrics: Metrics): void {
  for (const result of KNOWN.webhooks) metrics.webhooksReceived.inc({ result }, 0)
  for (const reason of KNOWN.deadLetters) metrics.deadLetters.inc({ reason }, 0)
}
