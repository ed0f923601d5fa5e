/**
 * The webhook queue: where the receiver stores each notification (answering Alertmanager only once
 * it is in Redis) and the planner takes it from. Closed after the planner, before Redis.
 */
import type { Queue } from 'bullmq'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { AppServer } from '../receiver/routes.js'
import { createIngestQueue, createNotificationStore, type IngestJob, type NotificationStore } from '../store/notification-queue.js'

/** WebhookBacklog: what waits in the queue, for /metrics and /status. */
export interface WebhookBacklog {
  /** stored, not yet planned */
  waiting: number
  /** gave up planning (the planner's dead letters) */
  failed: number
  /** when the oldest waiting one was stored */
  oldestAt?: number
}

/** Webhooks: the queue, the way to store a notification in it, and a reading of what waits. */
export interface Webhooks {
  queue: Queue<IngestJob>
  store: NotificationStore
  backlog: () => Promise<WebhookBacklog>
}

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: Webhooks
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
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
        failed: counts.failed ?? 0,
        ...(oldest ? { oldestAt: oldest.timestamp } : {}),
      }
    }
    server.decorate('webhooks', { queue, store: createNotificationStore(queue, connection), backlog })
    server.addHook('onClose', async () => {
      await queue.close().catch(() => undefined)
    })
  },
  { name: 'webhook-queue', dependencies: ['config', 'redis'] },
)
