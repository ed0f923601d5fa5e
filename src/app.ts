/**
 * buildApp(config, deps): the only way to assemble alertwire. main.ts uses it to run the service;
 * tests use it to run one or several replicas against real Redis and a local Telegram fake.
 */
import { type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify'
import Value from 'typebox/value'
import { type BotUpdate, BotUpdateSchema } from './bot/update-schema.js'
import type { Queue, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Config, ParseResult } from './config/parse.js'
import { restartOnlyChanges } from './config/reload.js'
import { createIngestQueue, createNotificationStore, type IngestJob } from './store/notification-queue.js'
import { startPlanner } from './workers/planner.js'
import { createMetrics, type Metrics, zeroKnownSeries } from './metrics.js'
import { type AppServer, registerRoutes } from './receiver/routes.js'
import { DeliveryStore } from './store/delivery-store.js'
import { closeRedis, fastFailRedis, pingRedis, whenReady, workerRedis } from './store/redis.js'
import { createDryRunTelegram, createTelegramBotApi, createTelegramClient, type TelegramPort, withMetrics } from './telegram/client.js'
import { Sender } from './workers/sender.js'
import { AlertmanagerClient } from './alertmanager/client.js'
import { AckWatcher } from './bot/ack-watcher.js'
import { COMMANDS } from './bot/commands.js'
import { BotHandlers, knownChats } from './bot/handlers.js'
import type { StatusReport } from './bot/replies.js'
import { type PollerOptions, UpdatePoller } from './bot/updates.js'
import { ALLOWED_UPDATES } from './bot/update-schema.js'
import { safeEqual } from './receiver/auth.js'
import { BotStore } from './store/bot-store.js'
import { paceOfChat } from './core/pace.js'

/** AppDeps: what the environment provides. */
export interface AppDeps {
  log: Logger
  redisUrl: string
  /** replaces the Telegram client built from the config (tests) */
  telegram?: TelegramPort
  /** how fast replicas take the polling lease over (tests shorten it) */
  poller?: PollerOptions
}

/** App: a running (or ready to run) alertwire. */
export interface App {
  server: AppServer
  store: DeliveryStore
  queue: Queue<IngestJob>
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
export async function buildApp(initialConfig: Config, deps: AppDeps): Promise<App> {
  const { log } = deps
  let config = initialConfig
  const current = () => config
  const prefix = config.redis.prefix
  const metrics = createMetrics()
  zeroKnownSeries(metrics)

  const commands: Redis = fastFailRedis(deps.redisUrl, 'alertwire-commands')
  const producer: Redis = fastFailRedis(deps.redisUrl, 'alertwire-webhooks')
  const workerConnection: Redis = workerRedis(deps.redisUrl, 'alertwire-planner')
  for (const [name, redis] of [['commands', commands], ['webhooks', producer], ['planner', workerConnection]] as const) {
    redis.on('error', (error: Error) => log.debug({ connection: name, error: error.message }, 'redis connection error'))
  }

  const store = new DeliveryStore(commands, prefix, config.delivery.stateTtlMs)
  const queue = createIngestQueue(producer, prefix)
  queue.on('error', (error) => log.debug({ error: error.message }, 'webhook queue error'))
  const storeNotification = createNotificationStore(queue, producer)
  const dryRun = !config.telegram.botToken && !deps.telegram
  const telegram = withMetrics(
    deps.telegram ??
      (config.telegram.botToken
        ? createTelegramClient({ token: config.telegram.botToken, apiUrl: config.telegram.apiUrl, timeoutMs: config.telegram.requestTimeoutMs })
        : createDryRunTelegram(log, () => commands.incr(store.keys.dryRunIds))),
    metrics,
  )
  metrics.dryRun.set(dryRun ? 1 : 0)
  metrics.configReloadSuccessful.set(1)
  const sender = new Sender({ store, telegram, metrics, log, config: current })

  const server = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // one line per webhook at 1,000/s is noise: refusals are logged by the routes instead
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.bodyLimit,
    // an exact schema: no type coercion, nothing silently removed
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>()
  await registerRoutes(server, {
    auth: () => current().webhook,
    store: (job) => storeNotification(job, current().webhook.storeTimeoutMs),
    metrics,
    dryRun,
    readiness: async () => ({
      redis: (await pingRedis(commands, 1000)) ? 'ok' : 'Redis does not answer',
      config: 'ok',
    }),
    refreshMetrics: async () => {
      const [backlog, counts, oldest] = await Promise.all([
        store.backlog(),
        queue.getJobCounts('waiting', 'failed', 'prioritized', 'delayed'),
        queue.getJobs(['waiting'], -1, -1, true),
      ])
      const now = Date.now()
      metrics.setBacklog({
        webhooksWaiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
        webhooksOldestAgeSeconds: oldest[0] ? (now - oldest[0].timestamp) / 1000 : 0,
        webhooksFailed: counts.failed ?? 0,
        outboxItems: backlog.items,
        outboxInflight: backlog.inflight,
        deferredEdits: backlog.edits,
        outboxOldestAgeSeconds: backlog.oldestReceivedAt ? (now - backlog.oldestReceivedAt) / 1000 : 0,
        chatsWithWork: backlog.chats,
        deadLetters: backlog.deadLetters,
      })
    },
  })

  const bot = config.telegram.updates !== 'off' && config.telegram.botToken ? buildBot() : undefined

  /** buildBot assembles commands and buttons: handlers, the Alertmanager client, the poller or webhook, the ack watcher. */
  function buildBot() {
    const token = config.telegram.botToken!
    const api = createTelegramBotApi({ token, apiUrl: config.telegram.apiUrl, timeoutMs: config.telegram.requestTimeoutMs })
    const buttons = new BotStore(commands, prefix, config.delivery.stateTtlMs)
    let client: { for: Config['alertmanager']; client: AlertmanagerClient } | undefined
    const alertmanager = () => {
      const settings = current().alertmanager
      if (client?.for !== settings) client = { for: settings, client: new AlertmanagerClient({ url: settings.url, timeoutMs: settings.timeoutMs, ...(settings.basicAuth ? { basicAuth: settings.basicAuth } : {}), ...(settings.bearerToken ? { bearerToken: settings.bearerToken } : {}) }) }
      return client.client
    }
    const handlers = new BotHandlers({ config: current, api, delivery: store, buttons, alertmanager, metrics, log, status: () => statusReport(alertmanager()) })
    const acks = new AckWatcher({ buttons, delivery: store, alertmanager, intervalMs: () => current().silences.ackCheckIntervalMs, metrics, log })
    const poller = new UpdatePoller({ api, buttons, handlers, acks, metrics, log, poll: config.telegram.updates === 'polling' }, deps.poller)
    return { api, handlers, poller }
  }

  /** statusReport gathers what /status shows. */
  async function statusReport(alertmanager: AlertmanagerClient): Promise<StatusReport> {
    const [redisOk, backlog, counts, am] = await Promise.all([
      pingRedis(commands, 1000),
      store.backlog().catch(() => undefined),
      queue.getJobCounts('waiting', 'prioritized', 'delayed').catch(() => ({} as Record<string, number>)),
      alertmanager.status().then((s) => ({ healthy: true, version: s.version, uptime: s.uptime }), (error: Error) => ({ healthy: false, error: error.message })),
    ])
    const chats = [...knownChats(current())]
    const [waiting, errors, mutes] = await Promise.all([
      Promise.all(chats.map((chat) => commands.llen(store.keys.outbox(chat)).catch(() => 0))),
      commands.hgetall(store.keys.chatErrors).catch(() => ({} as Record<string, string>)),
      Promise.all(chats.map((chat) => store.chatMutedUntil(chat).catch(() => undefined))),
    ])
    const pace = current().telegram.pace
    return {
      redis: redisOk,
      dryRun,
      webhooksWaiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
      deadLetters: backlog?.deadLetters ?? 0,
      alertmanager: am,
      chats: chats.map((chat, i) => ({
        chat,
        paceMs: paceOfChat(current().routing, pace, chat),
        waiting: Number(waiting[i] ?? 0),
        ...(mutes[i] ? { mutedUntil: mutes[i] } : {}),
        ...(errors[chat] ? { lastError: (JSON.parse(errors[chat]!) as { error: string }).error } : {}),
      })),
    }
  }

  const webhook = config.telegram.webhook
  if (bot && webhook) {
    server.post(webhook.path, async (request, reply) => {
      const secret = request.headers['x-telegram-bot-api-secret-token']
      if (typeof secret !== 'string' || !safeEqual(secret, current().telegram.webhook?.secret ?? '')) {
        log.warn({ remote: request.ip }, 'Telegram webhook refused: missing or wrong secret token')
        return reply.code(401).send({ error: 'unauthorized', message: 'missing or wrong X-Telegram-Bot-Api-Secret-Token' })
      }
      if (!Value.Check(BotUpdateSchema, request.body)) return reply.code(400).send({ error: 'invalid update', message: 'not a Telegram update' })
      await bot.handlers.handle(request.body as BotUpdate, 'webhook')
      return { ok: true }
    })
  }

  /** prepareBot learns the bot's name, registers its commands and sets the webhook; none of it stops alerts from flowing if it fails. */
  async function prepareBot(built: NonNullable<typeof bot>) {
    try {
      built.handlers.username = (await built.api.getMe()).username
      await built.api.setMyCommands(COMMANDS)
      if (webhook) await built.api.setWebhook(webhook.url, webhook.secret, ALLOWED_UPDATES)
    } catch (error) {
      log.warn({ error: (error as Error).message }, 'could not set up the bot (name, commands, webhook); alerts still flow')
    }
  }

  let planner: Worker<IngestJob> | undefined
  let closing: Promise<void> | undefined
  return {
    server,
    store,
    queue,
    metrics,
    sender,
    ...(bot ? { bot: bot.handlers } : {}),
    config: current,
    applyConfig(result) {
      if (!result.ok) {
        metrics.configReloadSuccessful.set(0)
        log.error({ errors: result.errors }, 'config reload refused: the running config stays')
        return false
      }
      const later = restartOnlyChanges(config, result.config)
      // the webhook credentials in effect (possibly generated) stay unless the new config sets its own
      const webhook = result.config.webhook.bearerToken || result.config.webhook.basicAuth || result.config.webhook.allowUnauthenticated ? result.config.webhook : { ...result.config.webhook, bearerToken: config.webhook.bearerToken }
      config = { ...result.config, webhook, redis: config.redis }
      metrics.configReloadSuccessful.set(1)
      log.info({ routes: config.routing.routes.length, ...(later.length > 0 ? { needsRestart: later } : {}) }, later.length > 0 ? 'config reloaded; some changes take effect after a restart' : 'config reloaded')
      return true
    },
    async start() {
      // workers started before Redis answers would only log errors; wait a little, never forever
      if (!(await Promise.all([commands, producer, workerConnection].map((redis) => whenReady(redis, 5000)))).every(Boolean)) log.warn('Redis does not answer yet; alertwire starts anyway and answers 503 until it does')
      const address = await server.listen({ host: config.server.host, port: config.server.port })
      planner = startPlanner({ connection: workerConnection, prefix, store, config: current, metrics, log, onQueued: () => sender.wake() })
      sender.start()
      if (bot) {
        await prepareBot(bot)
        bot.poller.start()
      }
      return address
    },
    close() {
      closing ??= (async () => {
        await server.close() // no new webhooks; requests in progress finish
        await bot?.poller.stop() // the update being handled finishes; the lease goes to another replica
        await planner?.close() // the notification being planned finishes
        await sender.stop() // the Telegram calls in progress finish; the rest waits in Redis
        await queue.close().catch(() => undefined)
        await Promise.all([commands, producer, workerConnection].map(closeRedis))
      })()
      return closing
    },
  }
}
