/**
 * The webhook queue: where the receiver stores each notification (answering Alertmanager only once
 * it is in Redis) and the planner takes it from. Closed after the planner, before Redis.
 */
import type { Queue } from 'bullmq'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { AppServer } from '../receiver/routes.js'
import type { Metrics } from '../metrics.js'
import {
  createIngestQueue,
  createNotificationStore,
  type QueuedData,
  type NotificationStore,
  QUEUE_NAME,
  type ReplicasSeen,
  type Replication,
} from '../store/notification-queue.js'
import { confirmedWrites } from '../store/replication.js'

/** WebhookBacklog: what waits in the queue, for /metrics and /status. */
export interface WebhookBacklog {
  /** stored batches not yet planned (the webhooks stored in one round trip are one batch) */
  batches: number
  /** batches the planner gave up on (its dead letters) */
  failed: number
  /** when the oldest waiting one was stored */
  oldestAt?: number
}

/** Webhooks: the queue, the way to store a notification in it, a reading of what waits, and what the replicas last confirmed. */
export interface Webhooks {
  queue: Queue<QueuedData>
  store: NotificationStore
  backlog: () => Promise<WebhookBacklog>
  /** undefined while redis.min_replicas_acked is 0, or before a batch was stored */
  replicas: () => ReplicasSeen | undefined
}

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: Webhooks
  }
}

/**
 * replicationOf: redis.min_replicas_acked, read at every batch (a reload takes effect at once),
 * with its outcome counted, logged once per change (not once per webhook) and handed to `seen`
 * for /status.
 */
function replicationOf(server: AppServer, log: Logger, metrics: Metrics, seen: (replicas: ReplicasSeen) => void): Replication {
  const { settings } = server
  let short = false
  return {
    replicas: () => settings.current().redis.minReplicasAcked,
    confirm: confirmedWrites(server.redis.webhooks, `${settings.current().redis.prefix}:${QUEUE_NAME}`),
    onOutcome(acked, wanted, webhooks) {
      seen({ acked, wanted, at: Date.now() })
      if (acked < wanted) metrics.webhooksUnreplicated.inc(webhooks)
      if (acked < wanted && !short)
        log.warn(
          { acked, wanted },
          `only ${acked} of ${wanted} Redis replicas confirm stored webhooks in time (redis.min_replicas_acked): answering 503 until they do`,
        )
      else if (acked >= wanted && short) log.info({ acked, wanted }, 'Redis replicas confirm stored webhooks again')
      short = acked < wanted
    },
  }
}

/** webhookQueuePlugin opens the producer side of the queue on the webhook connection. */
export const webhookQueuePlugin = fp(
  async (server: AppServer, options: { log: Logger }) => {
    const connection = server.redis.webhooks
    const queue = createIngestQueue(connection, server.settings.current().redis.prefix)
    queue.on('error', (error) => options.log.debug({ error: error.message }, 'webhook queue error'))
    const backlog = async (): Promise<WebhookBacklog> => {
      const [counts, [oldest]] = await Promise.all([
        queue.getJobCounts('waiting', 'failed', 'prioritized', 'delayed'),
        queue.getJobs(['waiting'], -1, -1, true),
      ])
      return {
        batches: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
        failed: counts.failed ?? 0,
        ...(oldest ? { oldestAt: oldest.timestamp } : {}),
      }
    }
    let lastSeen: ReplicasSeen | undefined
    const store = createNotificationStore(
      queue,
      connection,
      replicationOf(server, options.log, server.metrics, (seen) => (lastSeen = seen)),
    )
    // a reload that changes redis.min_replicas_acked makes what was seen under the old setting moot
    const replicas = () => (lastSeen && server.settings.current().redis.minReplicasAcked === lastSeen.wanted ? lastSeen : undefined)
    server.decorate('webhooks', { queue, store, backlog, replicas })
    server.addHook('onClose', async () => {
      await queue.close().catch(() => undefined)
    })
  },
  { name: 'webhook-queue', dependencies: ['config', 'metrics', 'redis'] },
)
