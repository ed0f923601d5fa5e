/**
 * The Telegram client the sender sends with: the Bot API when a token is set, else a dry run that
 * logs every message instead; a client given by the caller (tests) replaces both. Every call is
 * measured.
 */
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { AppServer } from '../receiver/routes.js'
import { createDryRunTelegram, createTelegramClient, type TelegramPort, withMetrics } from '../telegram/client.js'

declare module 'fastify' {
  interface FastifyInstance {
    telegram: TelegramPort
    /** no bot token: messages are only logged */
    dryRun: boolean
  }
}

/** telegramPlugin picks the client; the token, API URL and timeout take effect at a restart. */
export const telegramPlugin = fp(
  async (server: AppServer, options: { log: Logger; telegram?: TelegramPort }) => {
    const { botToken: token, apiUrl, requestTimeoutMs: timeoutMs } = server.settings.current().telegram
    const { commands } = server.redis
    const dryRunIds = server.store.keys.dryRunIds
    const dryRun = !token && !options.telegram
    const port =
      options.telegram ?? (token ? createTelegramClient({ token, apiUrl, timeoutMs }) : createDryRunTelegram(options.log, () => commands.incr(dryRunIds)))
    server.metrics.dryRun.set(dryRun ? 1 : 0)
    server.decorate('telegram', withMetrics(port, server.metrics))
    server.decorate('dryRun', dryRun)
  },
  { name: 'telegram', dependencies: ['config', 'metrics', 'redis'] },
)
