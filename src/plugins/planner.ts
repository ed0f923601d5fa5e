/**
 * The planner: takes stored notifications from the webhook queue, decides what each chat gets and
 * wakes the local sender. Started once the server listens; on close the notifications being
 * planned finish (registered after the sender, so closed before it).
 */
import type { Worker } from 'bullmq'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { AppServer } from '../receiver/routes.js'
import type { QueuedData } from '../store/notification-queue.js'
import { startPlanner } from '../workers/planner.js'
import { plannerConfig } from '../config/slices.js'

/** plannerPlugin runs the planner worker while the app runs. */
export const plannerPlugin = fp(
  async (server: AppServer, options: { log: Logger }) => {
    const { store, metrics, sender, settings } = server
    let planner: Worker<QueuedData> | undefined
    server.lifecycle.onStart('planner', () => {
      planner = startPlanner({
        connection: server.redis.planner,
        prefix: settings.current().redis.prefix,
        store,
        config: () => plannerConfig(settings.current()),
        metrics,
        log: options.log,
        onDue: () => sender.wake(),
      })
    })
    server.addHook('onClose', async () => {
      // a worker whose Redis is away cannot finish a job, and BullMQ's close would wait for Redis
      // forever: close at once (a notification being planned is taken up again as a stalled job)
      await planner?.close(server.redis.planner.status !== 'ready')
    })
  },
  { name: 'planner', dependencies: ['lifecycle', 'config', 'metrics', 'redis', 'webhook-queue', 'sender'] },
)
