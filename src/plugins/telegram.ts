/**
 * The Telegram client the sender sends with: the Bot API when a token is set (through the proxy
 * the config settled, if any), else a dry run that logs every message instead and shows it as the
 * chat would on a terminal; a client given by the caller (tests) replaces both. Every call is
 * measured. The fetch it decorates is the one every Telegram call should use, polling included.
 */
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { Config } from '../config/parse.js'
import { describeProxy } from '../config/proxy.js'
import type { AppServer } from '../receiver/routes.js'
import { createDryRunTelegram, createTelegramClient, type DryRunView, type TelegramPort, withMetrics } from '../telegram/client.js'
import { ANSI, PLAIN } from '../telegram/dry-run.js'
import { proxiedTransport } from '../telegram/proxy.js'

declare module 'fastify' {
  interface FastifyInstance {
    telegram: TelegramPort
    /** no bot token: messages are only logged */
    dryRun: boolean
    /** the fetch for Bot API calls: through telegram.proxy_url (or HTTPS_PROXY/ALL_PROXY) when set */
    telegramFetch: typeof fetch
  }
}

/** A terminal or a file the dry-run view may write to (process.stderr by default). */
export interface ViewStream {
  write(text: string): unknown
  isTTY?: boolean
  hasColors?: () => boolean
}

/** dryRunView: the readable block goes to stream when it is a terminal (auto) or always; colours only where the terminal has them. */
function dryRunView(mode: Config['telegram']['dryRunView'], stream: ViewStream): DryRunView | undefined {
  if (mode === 'never' || (mode === 'auto' && !stream.isTTY)) return undefined
  return { write: (block) => stream.write(block), style: stream.isTTY && stream.hasColors?.() ? ANSI : PLAIN }
}

/** telegramPlugin picks the client; the token, API URL, proxy and timeout take effect at a restart. */
export const telegramPlugin = fp(
  async (server: AppServer, options: { log: Logger; telegram?: TelegramPort; dryRunStream?: ViewStream }) => {
    const { botToken: token, apiUrl, requestTimeoutMs: timeoutMs, proxy, dryRunView: mode } = server.settings.current().telegram
    const { commands } = server.redis
    const dryRunIds = server.store.keys.dryRunIds
    const dryRun = !token && !options.telegram
    const transport = proxiedTransport(proxy, { connectTimeoutMs: timeoutMs })
    if (proxy && token) options.log.info({ proxy: describeProxy(proxy.url), from: proxy.from }, 'telegram: calls go through a proxy')
    const view = dryRun ? dryRunView(mode, options.dryRunStream ?? process.stderr) : undefined
    const port =
      options.telegram ??
      (token
        ? createTelegramClient({ token, apiUrl, timeoutMs, fetch: transport.fetch })
        : createDryRunTelegram(options.log, () => commands.incr(dryRunIds), view))
    server.metrics.dryRun.set(dryRun ? 1 : 0)
    server.decorate('telegram', withMetrics(port, server.metrics))
    server.decorate('dryRun', dryRun)
    server.decorate('telegramFetch', transport.fetch)
    // after the bot and the sender (registered later, closed earlier) have made their last call
    server.addHook('onClose', () => transport.close())
  },
  { name: 'telegram', dependencies: ['config', 'metrics', 'redis'] },
)
