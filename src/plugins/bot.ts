/**
 * The bot: commands and buttons from the chats, by long polling (one replica at a time, under a
 * lease) or by webhook (the route Telegram posts to). Set up once the server listens: its name,
 * its commands, the webhook; none of it stops alerts from flowing if it fails. On close the update
 * being handled finishes and the polling lease goes to another replica.
 */
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { COMMANDS } from '../core/commands.js'
import { BotHandlers } from '../bot/handlers.js'
import { gatherStatus, type StatusSources } from '../bot/status.js'
import { ALLOWED_UPDATES } from '../bot/update-schema.js'
import { UpdatePoller } from '../bot/updates.js'
import type { Config } from '../config/parse.js'
import { botConfig, chatPaces } from '../config/slices.js'
import type { AppServer } from '../receiver/routes.js'
import { registerTelegramUpdates } from '../receiver/telegram-updates.js'
import { BotStore } from '../store/bot-store.js'
import { Lease } from '../store/lease.js'
import { pingRedis } from '../store/redis.js'
import { createTelegramBotApi, type TelegramBotApi } from '../telegram/client.js'
import { DeadLetterStore } from '../store/dead-letters.js'
import { RotaStore } from '../store/rota-store.js'

/** LeaseTiming: how long a lease (polling, watching acknowledgements) lasts, and how often a replica without it tries to take it (sooner in tests). */
export interface LeaseTiming {
  leaseMs?: number
  retryMs?: number
}

/** LEASE_DEFAULTS: a dead replica's work is taken over within half a minute. */
export const LEASE_DEFAULTS = { leaseMs: 30_000, retryMs: 5000 }

/** STATUS_PING_MS: how long /status waits for Redis to answer. */
const STATUS_PING_MS = 1000

declare module 'fastify' {
  interface FastifyInstance {
    /** the bot's state in Redis: button targets, acknowledgements, the update offset */
    buttons: BotStore
    /** the bot, when updates are on */
    bot: BotHandlers | undefined
  }
}

/** statusSources: where /status reads each of its parts. */
function statusSources(server: AppServer): StatusSources {
  const { redis, store, webhooks, settings } = server
  return {
    dryRun: server.dryRun,
    redisAnswers: () => pingRedis(redis.commands, STATUS_PING_MS),
    webhooksWaiting: async () => {
      const { batches, oldestAt } = await webhooks.backlog()
      return { batches, ...(oldestAt === undefined ? {} : { oldestAt }) }
    },
    replicas: webhooks.replicas,
    deadLetters: async () => (await store.backlog()).deadLetters,
    deadLetterCounts: () => new DeadLetterStore(redis.commands, settings.current().redis.prefix).counts(),
    alertmanager: server.alertmanager,
    chats: () => chatPaces(settings.current()),
    waiting: async (chat) => (await store.loadChat(chat, 1)).waiting,
    mutedUntil: (chat) => store.chatMutedUntil(chat),
    lastErrors: () => store.lastErrors(),
  }
}

/** prepareBot learns the bot's name, registers its commands and sets the webhook; a failure is logged, alerts still flow. */
async function prepareBot(api: TelegramBotApi, handlers: BotHandlers, webhook: Config['telegram']['webhook'], log: Logger): Promise<void> {
  try {
    handlers.username = (await api.getMe()).username
    await api.setMyCommands(COMMANDS)
    if (webhook) await api.setWebhook(webhook.url, webhook.secret, ALLOWED_UPDATES)
  } catch (error) {
    log.warn({ error: (error as Error).message }, 'could not set up the bot (name, commands, webhook); alerts still flow')
  }
}

/** botPlugin assembles the bot when a token is set and updates are on; the token, API URL and update mode take effect at a restart. */
export const botPlugin = fp(
  async (server: AppServer, options: { log: Logger; leases?: LeaseTiming }) => {
    const { log } = options
    const { settings, metrics, store, redis } = server
    const config = settings.current()
    const buttons = new BotStore(redis.commands, config.redis.prefix, config.delivery.stateTtlMs)
    server.decorate('buttons', buttons)
    const { botToken: token, updates, webhook, apiUrl, requestTimeoutMs: timeoutMs } = config.telegram
    if (updates === 'off' || !token) {
      server.decorate('bot', undefined)
      return
    }
    // the same transport as sending: through the proxy when one is configured
    const api = createTelegramBotApi({ token, apiUrl, timeoutMs, fetch: server.telegramFetch })
    const handlers = new BotHandlers({
      config: () => botConfig(settings.current()),
      api,
      delivery: store,
      buttons,
      alertmanager: server.alertmanager,
      metrics,
      log,
      status: () => gatherStatus(statusSources(server)),
      graphs: server.graphs.chat,
      rotas: new RotaStore(redis.commands, config.redis.prefix),
    })
    server.decorate('bot', handlers)
    if (webhook)
      registerTelegramUpdates(server, {
        path: webhook.path,
        secret: () => settings.current().telegram.webhook?.secret ?? '',
        handle: (update) => handlers.handle(update, 'webhook'),
        log,
      })
    const timing = { ...LEASE_DEFAULTS, ...options.leases }
    const poller =
      updates === 'polling'
        ? new UpdatePoller({
            api,
            offsets: buttons,
            handlers,
            metrics,
            log,
            lease: new Lease(redis.commands, store.keys.poller, timing.leaseMs),
            retryMs: timing.retryMs,
          })
        : undefined
    server.lifecycle.onStart('bot', async () => {
      await prepareBot(api, handlers, webhook, log)
      poller?.start()
    })
    server.addHook('onClose', async () => {
      await poller?.stop()
    })
  },
  { name: 'bot', dependencies: ['lifecycle', 'config', 'metrics', 'redis', 'webhook-queue', 'telegram', 'alertmanager', 'graphs'] },
)
