/** The HTTP routes: the Alertmanager webhook, /healthz, /readyz and /metrics (with the queue gauges read from Redis at each scrape). */
import fp from 'fastify-plugin'
import type { BacklogReading } from '../metrics.js'
import { type AppServer, registerRoutes } from '../receiver/routes.js'
import { pingRedis } from '../store/redis.js'

/** READINESS_PING_MS: how long /readyz waits for Redis to answer. */
const READINESS_PING_MS = 1000

/** readBacklog reads what waits, across replicas, for the queue gauges. */
async function readBacklog(server: AppServer, now: number): Promise<BacklogReading> {
  const [outbox, webhooks] = await Promise.all([server.store.backlog(), server.webhooks.backlog()])
  const age = (at: number | undefined) => (at ? (now - at) / 1000 : 0)
  return {
    webhookBatchesWaiting: webhooks.batches,
    webhooksOldestAgeSeconds: age(webhooks.oldestAt),
    webhookBatchesFailed: webhooks.failed,
    outboxItems: outbox.items,
    outboxInflight: outbox.inflight,
    deferredEdits: outbox.edits,
    outboxOldestAgeSeconds: age(outbox.oldestReceivedAt),
    chatsWithWork: outbox.chats,
    deadLetters: outbox.deadLetters,
  }
}

/** receiverPlugin registers the routes; the webhook's credentials and store timeout are read per request, so a reload applies. */
export const receiverPlugin = fp(
  async (server: AppServer) => {
    const { settings, metrics, webhooks } = server
    await registerRoutes(server, {
      auth: () => settings.current().webhook,
      store: (job) => webhooks.store(job, settings.current().webhook.storeTimeoutMs),
      metrics,
      dryRun: server.dryRun,
      readiness: async () => ({
        redis: (await pingRedis(server.redis.commands, READINESS_PING_MS)) ? 'ok' : 'Redis does not answer',
        config: 'ok',
      }),
      refreshMetrics: async () => metrics.setBacklog(await readBacklog(server, Date.now())),
    })
  },
  { name: 'receiver', dependencies: ['config', 'metrics', 'redis', 'webhook-queue', 'telegram'] },
)
