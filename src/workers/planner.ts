/**
 * The planner: takes stored batches of notifications from the queue, routes and dedups them, and
 * queues the events per chat. Planning needs no order (the dedup gives the same result whatever
 * order notifications are planned in, and each chat's outbox is kept in the order notifications
 * were stored, by their arrival number), so every replica plans several batches at once.
 */
import { type Job, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { PlannerConfig } from '../config/slices.js'
import { type Candidate, planNotification } from '../core/candidates.js'
import type { EventResult } from '../core/events.js'
import type { Metrics } from '../metrics.js'
import type { Committed } from '../store/commit-events.js'
import type { CommitPolicy, DeliveryStore } from '../store/delivery-store.js'
import { notificationsOf, QUEUE_NAME, type QueuedData, type StoredNotification, storedNotifications } from '../store/notification-queue.js'

/** PlannerDeps: what the planner works with. */
export interface PlannerDeps {
  connection: Redis
  prefix: string
  store: DeliveryStore
  config: () => PlannerConfig
  metrics: Metrics
  log: Logger
  /** called when a chat became due sooner than it was, so local senders look at once (a chat already due is served at its time) */
  onDue: () => void
}

/** Commit: commits a notification's candidate events: one result per candidate, and whether a chat became due sooner. */
export type Commit = (candidates: readonly Candidate[], policy: CommitPolicy) => Promise<Committed>

interface Waiting {
  candidates: readonly Candidate[]
  /** arrival number of the notification they come from */
  seq: number
  policy: CommitPolicy
  /** the policy as JSON, written once: each planned notification carries a policy object of its own */
  policyKey: string
  resolve: (committed: Committed) => void
  reject: (error: Error) => void
}

/**
 * groupCommit commits together the notifications planned while a commit is in flight: one read
 * and one compare-and-set for all of them instead of one each (the decisions are taken in order,
 * so an HA twin in the same group is still a duplicate). What waited is committed in arrival
 * order (BullMQ starts jobs in no fixed order; an event committed after a later one costs the
 * outbox a reorder). Each caller gets its own results, or the group's error (then each
 * notification is retried on its own).
 */
export function groupCommit(store: DeliveryStore): Commit {
  let waiting: Waiting[] = []
  let inFlight = false
  const flush = async () => {
    inFlight = true
    while (waiting.length > 0) {
      waiting.sort((a, b) => a.seq - b.seq)
      // one policy per commit: a reload between two notifications splits the group there
      const { policy, policyKey } = waiting[0]!
      const group = takeGroup(waiting.filter((w) => w.policyKey === policyKey))
      waiting = waiting.filter((w) => !group.includes(w))
      try {
        const { results, dueSooner } = await commitInChunks(
          store,
          group.flatMap((w) => w.candidates),
          policy,
        )
        let first = 0
        for (const w of group) {
          w.resolve({ results: results.slice(first, first + w.candidates.length), dueSooner })
          first += w.candidates.length
        }
      } catch (error) {
        for (const w of group) w.reject(error as Error)
      }
    }
    inFlight = false
  }
  return (candidates, policy) => {
    if (candidates.length === 0) return Promise.resolve({ results: [], dueSooner: false })
    return new Promise((resolve, reject) => {
      waiting.push({ candidates, seq: candidates[0]!.item.seq, policy, policyKey: JSON.stringify(policy), resolve, reject })
      if (!inFlight) void flush()
    })
  }
}

/**
 * MAX_COMMIT_CANDIDATES: most events one commit decides. A commit's script holds Redis while it
 * runs: bounded, the webhooks stored meanwhile never wait long (a 1,000-alert notification is
 * committed in parts, in order; its retry finds the parts already committed as duplicates).
 */
const MAX_COMMIT_CANDIDATES = 64

/** takeGroup takes waiting notifications, in order, while their events fit one commit (at least one). */
function takeGroup(waiting: readonly Waiting[]): Waiting[] {
  const group: Waiting[] = []
  let events = 0
  for (const w of waiting) {
    if (group.length > 0 && events + w.candidates.length > MAX_COMMIT_CANDIDATES) break
    group.push(w)
    events += w.candidates.length
  }
  return group
}

/** commitInChunks commits candidates in order, at most MAX_COMMIT_CANDIDATES at a time. */
async function commitInChunks(store: DeliveryStore, candidates: readonly Candidate[], policy: CommitPolicy): Promise<Committed> {
  const results: EventResult[] = []
  let dueSooner = false
  for (let first = 0; first < candidates.length; first += MAX_COMMIT_CANDIDATES) {
    const chunk = await store.commit(candidates.slice(first, first + MAX_COMMIT_CANDIDATES), policy)
    results.push(...chunk.results)
    dueSooner ||= chunk.dueSooner
  }
  return { results, dueSooner }
}

/** planStored plans one stored notification (seq: its arrival number) and commits its events. */
async function planStored(deps: PlannerDeps, commit: Commit, data: StoredNotification, seq: number): Promise<void> {
  const config = deps.config()
  const plan = planNotification(config.routing, data.notification, { receivedAt: data.receivedAt, seq }, config.plan)
  const { results, dueSooner } = await commit(plan.candidates, config.events)
  for (const [i, candidate] of plan.candidates.entries()) deps.metrics.alertsReceived.inc({ status: candidate.status, result: results[i] ?? 'unknown' })
  if (plan.unrouted > 0) {
    deps.metrics.alertsReceived.inc({ status: data.notification.status, result: 'unrouted' }, plan.unrouted)
    deps.log.warn({ groupKey: data.notification.groupKey, alerts: plan.unrouted }, 'alerts matched no route and there is no default chat')
  }
  if (dueSooner) deps.onDue()
  deps.log.debug({ groupKey: data.notification.groupKey, results }, 'notification planned')
}

/**
 * planBatch plans every notification of one stored batch; they are committed together (the group
 * commit takes them in order). The job ends only when every commit has answered: a failed one
 * fails the job, and its retry finds what was committed as duplicates.
 */
async function planBatch(deps: PlannerDeps, commit: Commit, data: QueuedData, jobId: number): Promise<void> {
  const outcomes = await Promise.allSettled(storedNotifications(data, jobId).map(({ stored, seq }) => planStored(deps, commit, stored, seq)))
  const failed = outcomes.find((outcome) => outcome.status === 'rejected')
  if (failed) throw failed.reason
}

/**
 * PLANNER_CONCURRENCY: batches one replica plans at once (those planned together are committed
 * together). A batch holds the webhooks stored in one round trip: about ten at 1,000 webhooks/s,
 * up to MAX_BATCH in a burst. npm run bench:planner: batches of ten drain at 6,000–10,000
 * notifications/s whether 4, 8 or 16 are planned at once; a backlog of batches of one (webhooks
 * that trickled in while no planner ran) at 1,800 with 4, 2,700 with 8 and 4,700 with 16.
 */
const PLANNER_CONCURRENCY = 16

/** batchGroupKeys names a batch's notifications in a log line (the first few). */
function batchGroupKeys(data: QueuedData): string[] {
  return notificationsOf(data)
    .slice(0, 5)
    .map(({ notification }) => notification.groupKey)
}

/** startPlanner runs the planner worker; close() it to stop after the jobs in progress. */
export function startPlanner(deps: PlannerDeps): Worker<QueuedData> {
  const commit = groupCommit(deps.store)
  const worker = new Worker<QueuedData>(QUEUE_NAME, async (job: Job<QueuedData>) => planBatch(deps, commit, job.data, Number(job.id)), {
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
      { groupKeys: job ? batchGroupKeys(job.data) : [], attempts: job?.attemptsMade, error: error.message },
      'planning stored webhooks failed; they will be retried',
    )
  })
  worker.on('error', quietRepeats(deps.log, 'planner worker error'))
  return worker
}

/** REPEAT_WINDOW_MS: an error like the one before it, this soon after it, is a repeat. */
const REPEAT_WINDOW_MS = 60_000

/**
 * quietRepeats logs an error at warn, and its repeats at debug: BullMQ reports every reconnect
 * attempt while Redis is away (one line each, a few a second), and the Redis plugin already says
 * once that Redis is lost and when it is back. Errors alike but for their numbers (ports, waits) are repeats.
 */
function quietRepeats(log: Logger, msg: string): (error: Error) => void {
  let last = { shape: '', at: 0 }
  return (error) => {
    const shape = error.message.replace(/\d+/g, 'N')
    const now = Date.now()
    const repeat = shape === last.shape && now - last.at < REPEAT_WINDOW_MS
    last = { shape, at: now }
    log[repeat ? 'debug' : 'warn']({ error: error.message }, msg)
  }
}
