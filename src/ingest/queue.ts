/**
 * The durable hand-off between the receiver and the planner: a BullMQ queue of notifications.
 * The receiver answers Alertmanager only once its notification is in Redis (one round trip per
 * webhook at most: webhooks arriving together share one); the planner routes, dedups and queues
 * the events per chat. Planning needs no order (the dedup script gives the same result whatever
 * order notifications are planned in, and each chat's outbox is kept in the order notifications
 * were stored, by their job number), so every replica plans several notifications at once.
 */
import { type Job, Queue, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Config } from '../config/parse.js'
import type { Metrics } from '../metrics.js'
import { planNotification } from '../core/dedup.js'
import type { Webhook } from '../core/webhook.js'
import type { DeliveryStore } from '../store/delivery-store.js'
import { whenReady } from '../store/redis.js'

/** IngestJob: one stored notification. */
export interface IngestJob {
  notification: Webhook
  receivedAt: number
}

/** QUEUE_NAME: the BullMQ queue under the configured prefix. */
export const QUEUE_NAME = 'webhooks'

const JOB_OPTIONS = {
  attempts: 100,
  backoff: { type: 'custom' },
  removeOnComplete: true,
  // failed notifications stay for inspection (they are the planner's dead letters)
  removeOnFail: 10_000,
} as const

/** StoreUnavailable: the notification could not be stored; the receiver answers 503. */
export class StoreUnavailable extends Error {}

/** createIngestQueue opens the producer side of the queue. */
export function createIngestQueue(connection: Redis, prefix: string): Queue<IngestJob> {
  return new Queue<IngestJob>(QUEUE_NAME, { connection, prefix })
}

/** MAX_BATCH: most notifications stored in one round trip. */
const MAX_BATCH = 256

interface Pending {
  job: IngestJob
  resolve: () => void
  reject: (error: Error) => void
}

/** NotificationStore stores one notification, or throws StoreUnavailable within timeoutMs. */
export type NotificationStore = (job: IngestJob, timeoutMs: number) => Promise<void>

/**
 * createNotificationStore stores notifications with a group commit: the ones that arrive in the
 * same turn of the event loop go to Redis together in one atomic round trip (addBulk), and each
 * request is answered when its notification is stored, or with StoreUnavailable at its deadline.
 */
export function createNotificationStore(queue: Queue<IngestJob>, connection: Redis): NotificationStore {
  let pending: Pending[] = []
  const flush = async () => {
    const batch = pending
    pending = []
    try {
      await queue.addBulk(batch.map(({ job }) => ({ name: 'notification', data: job, opts: JOB_OPTIONS })))
      for (const p of batch) p.resolve()
    } catch (error) {
      for (const p of batch) p.reject(new StoreUnavailable((error as Error).message))
    }
  }
  return async (job, timeoutMs) => {
    const deadline = Date.now() + timeoutMs
    // the connection fails fast while down (no offline queue): wait for it, but only until the deadline
    if (!(await whenReady(connection, timeoutMs))) throw new StoreUnavailable(connection.status === 'end' ? 'the Redis connection is closed' : `Redis is ${connection.status}`)
    const stored = new Promise<void>((resolve, reject) => {
      pending.push({ job, resolve, reject })
      if (pending.length === 1) setImmediate(flush)
      else if (pending.length >= MAX_BATCH) void flush()
    })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailable(`Redis did not confirm within ${timeoutMs} ms`)), Math.max(0, deadline - Date.now()))
    })
    try {
      await Promise.race([stored, timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

/** PlannerDeps: what the planner works with. */
export interface PlannerDeps {
  connection: Redis
  prefix: string
  store: DeliveryStore
  config: () => Config
  metrics: Metrics
  log: Logger
  /** called when events were queued, so local senders start at once */
  onQueued: () => void
}

/** planJob plans one stored notification (seq: its job number) and commits its events. */
async function planJob(deps: Omit<PlannerDeps, 'connection' | 'prefix'>, data: IngestJob, seq: number): Promise<void> {
  const config = deps.config()
  const plan = planNotification(config.routing, data.notification, { receivedAt: data.receivedAt, seq }, {
    resolvedUnannounced: config.messages.resolvedUnannounced,
    alertmanagerUrl: config.alertmanager.url,
    pace: config.telegram.pace,
  })
  const results = await deps.store.commitEvents(plan.candidates, { flapping: config.flapping, criticalWhenMuted: config.mute.critical })
  plan.candidates.forEach((candidate, i) => deps.metrics.alertsReceived.inc({ status: candidate.status, result: results[i] ?? 'unknown' }))
  if (plan.unrouted > 0) {
    deps.metrics.alertsReceived.inc({ status: data.notification.status, result: 'unrouted' }, plan.unrouted)
    deps.log.warn({ groupKey: data.notification.groupKey, alerts: plan.unrouted }, 'alerts matched no route and there is no default chat')
  }
  if (results.includes('queued')) deps.onQueued()
  deps.log.debug({ groupKey: data.notification.groupKey, results }, 'notification planned')
}

/** PLANNER_CONCURRENCY: notifications one replica plans at once (each is a few Redis round trips). */
const PLANNER_CONCURRENCY = 8

/** startPlanner runs the planner worker; close() it to stop after the jobs in progress. */
export function startPlanner(deps: PlannerDeps): Worker<IngestJob> {
  const worker = new Worker<IngestJob>(QUEUE_NAME, async (job: Job<IngestJob>) => planJob(deps, job.data, Number(job.id)), {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: PLANNER_CONCURRENCY,
    // planning takes milliseconds: a replica that died mid-job has its jobs taken over within seconds
    lockDuration: 10_000,
    stalledInterval: 5_000,
    settings: { backoffStrategy: (attemptsMade: number) => Math.min(60_000, 500 * 2 ** attemptsMade) },
  })
  worker.on('failed', (job, error) => {
    deps.log.error({ groupKey: job?.data.notification.groupKey, attempts: job?.attemptsMade, error: error.message }, 'planning a notification failed; it will be retried')
  })
  worker.on('error', (error) => deps.log.warn({ error: error.message }, 'planner worker error'))
  return worker
}
