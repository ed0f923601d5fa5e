/**
 * The durable hand-off between the receiver and the planner: a BullMQ queue of stored batches of
 * notifications. The receiver answers Alertmanager only once its notification is in Redis; the
 * webhooks that arrive together are written in one round trip as one job (a batch), so the planner
 * (workers/planner.ts) takes, plans and completes them together: BullMQ's per-job work (moving the
 * job, its lock, its JSON) is paid once per batch, not once per webhook.
 */
import { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import type { Webhook } from '../core/webhook.js'
import { whenReady } from './redis.js'
import type { ConfirmedWrite } from './replication.js'

/** StoredNotification: one notification as the receiver stored it. */
export interface StoredNotification {
  notification: Webhook
  receivedAt: number
}

/** IngestBatch: one job: the notifications stored in one round trip, in the order they arrived. */
export interface IngestBatch {
  notifications: StoredNotification[]
}

/** QueuedData: a job's data as the planner may find it: a batch, or one notification as versions before batches stored it. */
export type QueuedData = IngestBatch | StoredNotification

/** QUEUE_NAME: the BullMQ queue under the configured prefix. */
export const QUEUE_NAME = 'webhooks'

/** MAX_BATCH: most notifications stored in one round trip, and so in one job. */
export const MAX_BATCH = 256

/** MAX_BATCH_ALERTS: most alerts in one job (a batch closes early when its webhooks are large), so one job stays a bounded piece of JSON. */
const MAX_BATCH_ALERTS = 2_000

/** notificationsOf reads a job's notifications, in the order they were stored. */
export function notificationsOf(data: QueuedData): StoredNotification[] {
  return 'notifications' in data ? data.notifications : [data]
}

/** storedNotifications reads a job's notifications with each one's arrival number: the job's number, then its place in the batch. */
export function storedNotifications(data: QueuedData, jobId: number): { stored: StoredNotification; seq: number }[] {
  return notificationsOf(data).map((stored, index) => ({ stored, seq: jobId * MAX_BATCH + index }))
}

const JOB_OPTIONS = {
  attempts: 100,
  backoff: { type: 'custom' },
  removeOnComplete: true,
  // failed batches stay for inspection (they are the planner's dead letters)
  removeOnFail: 10_000,
} as const

/** StoreUnavailable: the notification could not be stored; the receiver answers 503. */
export class StoreUnavailable extends Error {}

/** NotReplicated: the notification is stored on the primary, but fewer replicas than redis.min_replicas_acked confirmed it in time; the receiver answers 503 all the same. */
export class NotReplicated extends StoreUnavailable {
  constructor(
    readonly acked: number,
    readonly wanted: number,
  ) {
    super(`${acked} of the ${wanted} replicas required confirmed storing it in time`)
  }
}

/** createIngestQueue opens the producer side of the queue. */
export function createIngestQueue(connection: Redis, prefix: string): Queue<QueuedData> {
  return new Queue<QueuedData>(QUEUE_NAME, { connection, prefix })
}

interface Pending {
  job: StoredNotification
  deadline: number
  resolve: () => void
  reject: (error: Error) => void
}

/** NotificationStore stores one notification, or throws StoreUnavailable within timeoutMs. */
export type NotificationStore = (job: StoredNotification, timeoutMs: number) => Promise<void>

/** ReplicasSeen: how many Redis replicas confirmed the last stored batch, of how many redis.min_replicas_acked wanted, and when (ms since epoch). */
export interface ReplicasSeen {
  acked: number
  wanted: number
  at: number
}

/** Replication: how many replicas must confirm a stored notification (redis.min_replicas_acked, read per batch), and who hears how many did. */
export interface Replication {
  replicas: () => number
  confirm: ConfirmedWrite
  onOutcome: (acked: number, wanted: number, webhooks: number) => void
}

/** storeBatch writes a batch as one job in one round trip and, when replicas must confirm it, waits for them until the batch's last deadline. */
async function storeBatch(queue: Queue<QueuedData>, batch: readonly Pending[], replication: Replication | undefined): Promise<void> {
  const write = () => queue.add('notifications', { notifications: batch.map(({ job }) => job) }, JOB_OPTIONS)
  const wanted = replication?.replicas() ?? 0
  if (!replication || wanted === 0) {
    await write()
    return
  }
  // WAIT answers a little before the last deadline, so the answer is the replicas' count, not the request's timer
  const left = Math.max(...batch.map((p) => p.deadline)) - Date.now()
  const acked = await replication.confirm(write, wanted, left - Math.min(100, left / 5))
  replication.onOutcome(acked, wanted, batch.length)
  // stored on the primary all the same: the planner takes it, and Alertmanager's retry is a duplicate it drops
  if (acked < wanted) throw new NotReplicated(acked, wanted)
}

/**
 * createNotificationStore stores notifications with a group commit: the ones that arrive in the
 * same turn of the event loop go to Redis together in one atomic write (one job), and each
 * request is answered when its notification is stored (and, with replication, confirmed by the
 * replicas it requires), or with StoreUnavailable at its deadline.
 */
export function createNotificationStore(queue: Queue<QueuedData>, connection: Redis, replication?: Replication): NotificationStore {
  let pending: Pending[] = []
  let alerts = 0
  const flush = async () => {
    const batch = pending
    // a full batch was already written at once: the timer its first notification set finds nothing
    if (batch.length === 0) return
    pending = []
    alerts = 0
    try {
      await storeBatch(queue, batch, replication)
      for (const p of batch) p.resolve()
    } catch (error) {
      for (const p of batch) p.reject(error instanceof StoreUnavailable ? error : new StoreUnavailable((error as Error).message))
    }
  }
  return async (job, timeoutMs) => {
    const deadline = Date.now() + timeoutMs
    // the connection fails fast while down (no offline queue): wait for it, but only until the deadline
    if (!(await whenReady(connection, timeoutMs)))
      throw new StoreUnavailable(connection.status === 'end' ? 'the Redis connection is closed' : `Redis is ${connection.status}`)
    const stored = new Promise<void>((resolve, reject) => {
      pending.push({ job, deadline, resolve, reject })
      alerts += job.notification.alerts.length
      if (pending.length === 1) setImmediate(flush)
      if (pending.length >= MAX_BATCH || alerts >= MAX_BATCH_ALERTS) void flush()
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
