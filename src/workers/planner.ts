/**
 * The planner: takes stored notifications from the queue, routes and dedups them, and queues the
 * events per chat. Planning needs no order (the dedup gives the same result whatever order
 * notifications are planned in, and each chat's outbox is kept in the order notifications were
 * stored, by their job number), so every replica plans several notifications at once.
 */
import { type Job, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { PlannerConfig } from '../config/slices.js'
import { planNotification } from '../core/candidates.js'
import type { Metrics } from '../metrics.js'
import type { DeliveryStore } from '../store/delivery-store.js'
import { type IngestJob, QUEUE_NAME } from '../store/notification-queue.js'

/** PlannerDeps: what the planner works with. */
export interface PlannerDeps {
  connection: Redis
  prefix: string
  store: DeliveryStore
  config: () => PlannerConfig
  metrics: Metrics
  log: Logger
  /** called when events were queued, so local senders start at once */
  onQueued: () => void
}

/** planJob plans one stored notification (seq: its job number) and commits its events. */
async function planJob(deps: Omit<PlannerDeps, 'connection' | 'prefix'>, data: IngestJob, seq: number): Promise<void> {
  const config = deps.config()
  const plan = planNotification(config.routing, data.notification, { receivedAt: data.receivedAt, seq }, config.plan)
  const results = await deps.store.commitEvents(plan.candidates, config.events)
  for (const [i, candidate] of plan.candidates.entries()) deps.metrics.alertsReceived.inc({ status: candidate.status, result: results[i] ?? 'unknown' })
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
    deps.log.error(
      { groupKey: job?.data.notification.groupKey, attempts: job?.attemptsMade, error: error.message },
      'planning a notification failed; it will be retried',
    )
  })
  worker.on('error', (error) => deps.log.warn({ error: error.message }, 'planner worker error'))
  return worker
}
