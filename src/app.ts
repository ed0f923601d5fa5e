/**
 * buildApp(config, deps): the only way to assemble alertwire. main.ts uses it to run the service;
 * tests use it to run one or several replicas against real Redis and a local Telegram fake.
 * It registers one Fastify plugin per part (plugins/); each declares what it depends on and
 * closes what it opened, so the order of registration is also the order of shutdown, reversed.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Queue } from 'bullmq'
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify'
import type { Logger } from 'pino'
import type { BotHandlers } from './bot/handlers.js'
import type { Config, ParseResult } from './config/parse.js'
import type { Metrics } from './metrics.js'
import { ackWatcherPlugin } from './plugins/ack-watcher.js'
import { alertmanagerPlugin } from './plugins/alertmanager.js'
import { botPlugin, type LeaseTiming } from './plugins/bot.js'
import { configPlugin } from './plugins/config.js'
import { escalationPlugin } from './plugins/escalation.js'
import { graphsPlugin } from './plugins/graphs.js'
import { lifecyclePlugin } from './plugins/lifecycle.js'
import { metricsPlugin } from './plugins/metrics.js'
import { plannerPlugin } from './plugins/planner.js'
import { receiverPlugin } from './plugins/receiver.js'
import { rotaNoticesPlugin } from './plugins/rota-notices.js'
import { redisPlugin } from './plugins/redis.js'
import { senderPlugin } from './plugins/sender.js'
import { silenceWatcherPlugin } from './plugins/silence-watcher.js'
import { telegramPlugin } from './plugins/telegram.js'
import { webhookQueuePlugin } from './plugins/webhook-queue.js'
import type { AppServer } from './receiver/routes.js'
import type { DeliveryStore } from './store/delivery-store.js'
import { type RedisTopology, topologyOf } from './store/redis.js'
import type { QueuedData } from './store/notification-queue.js'
import type { TelegramPort } from './telegram/client.js'
import type { Sender } from './workers/sender.js'

/** AppDeps: what the environment provides. */
export interface AppDeps {
  log: Logger
  /** the single Redis at this URL, unless redis (a Sentinel or Cluster topology) is given */
  redisUrl?: string
  redis?: RedisTopology
  /** replaces the Telegram client built from the config (tests) */
  telegram?: TelegramPort
  /** how fast replicas take the polling and ack-watching leases over (tests shorten it) */
  leases?: LeaseTiming
}

/** App: a running (or ready to run) alertwire. */
export interface App {
  server: AppServer
  store: DeliveryStore
  queue: Queue<QueuedData>
  metrics: Metrics
  sender: Sender
  /** the bot, when updates are on */
  bot?: BotHandlers
  config(): Config
  /** applyConfig takes a (re)loaded config: a valid one replaces the running one, queued work untouched; an invalid one is logged and refused */
  applyConfig(result: ParseResult): boolean
  /** listen and start working; returns the address */
  start(): Promise<string>
  /** stop accepting, finish in-flight work, close Redis */
  close(): Promise<void>
}

/** buildApp assembles alertwire from a config; nothing runs until start(). */
export async function buildApp(config: Config, deps: AppDeps): Promise<App> {
  const { log } = deps
  const server = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // one line per webhook at 1,000/s is noise: refusals are logged by the routes instead
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.bodyLimit,
    // an exact schema: no type coercion, nothing silently removed
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>()
  // each awaited register loads that plugin at once, so what it decorates is there for the next
  await server.register(lifecyclePlugin)
  await server.register(metricsPlugin)
  await server.register(configPlugin, { config, log })
  await server.register(redisPlugin, { topology: deps.redis ?? topologyOf(config.redis, deps.redisUrl), log })
  await server.register(webhookQueuePlugin, { log })
  await server.register(telegramPlugin, { log, ...(deps.telegram ? { telegram: deps.telegram } : {}) })
  await server.register(receiverPlugin)
  await server.register(alertmanagerPlugin)
  await server.register(graphsPlugin, { log })
  await server.register(escalationPlugin, { log, ...(deps.leases ? { leases: deps.leases } : {}) })
  await server.register(senderPlugin, { log })
  await server.register(plannerPlugin, { log })
  await server.register(botPlugin, { log, ...(deps.leases ? { leases: deps.leases } : {}) })
  await server.register(ackWatcherPlugin, { log, ...(deps.leases ? { leases: deps.leases } : {}) })
  await server.register(rotaNoticesPlugin, { log, ...(deps.leases ? { leases: deps.leases } : {}) })
  await server.register(silenceWatcherPlugin, { log, ...(deps.leases ? { leases: deps.leases } : {}) })

  let closing: Promise<void> | undefined
  return {
    server,
    store: server.store,
    queue: server.webhooks.queue,
    metrics: server.metrics,
    sender: server.sender,
    ...(server.bot ? { bot: server.bot } : {}),
    config: server.settings.current,
    applyConfig: server.settings.apply,
    async start() {
      const { host, port } = server.settings.current().server
      const address = await server.listen({ host, port })
      await server.lifecycle.start()
      return address
    },
    close() {
      // the server stops taking requests first; then the plugins close in reverse order of registration
      closing ??= server.close()
      return closing
    },
  }
}
