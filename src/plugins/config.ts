/**
 * The running config: read through `settings.current()` (every component reads its slice from it
 * when it needs it, so a reload applies), replaced whole by `settings.apply` on a reload.
 */
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { Config, ParseResult } from '../config/parse.js'
import { restartOnlyChanges } from '../config/reload.js'
import type { AppServer } from '../receiver/routes.js'

/** Settings: the running config and the way to replace it. */
export interface Settings {
  current: () => Config
  /** apply takes a (re)loaded config: a valid one replaces the running one, queued work untouched; an invalid one is logged and refused */
  apply: (result: ParseResult) => boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    settings: Settings
  }
}

/** configPlugin holds the config alertwire was built with, and takes reloads. */
export const configPlugin = fp(
  async (server: AppServer, options: { config: Config; log: Logger }) => {
    const { log } = options
    const { metrics } = server
    let config = options.config
    metrics.configReloadSuccessful.set(1)
    server.decorate('settings', {
      current: () => config,
      apply(result: ParseResult) {
        if (!result.ok) {
          metrics.configReloadSuccessful.set(0)
          log.error({ errors: result.errors }, 'config reload refused: the running config stays')
          return false
        }
        const later = restartOnlyChanges(config, result.config)
        // the webhook credentials in effect (possibly generated) stay unless the new config sets its own
        const webhook =
          result.config.webhook.bearerToken || result.config.webhook.basicAuth || result.config.webhook.allowUnauthenticated
            ? result.config.webhook
            : { ...result.config.webhook, bearerToken: config.webhook.bearerToken }
        config = { ...result.config, webhook, redis: config.redis }
        metrics.configReloadSuccessful.set(1)
        log.info(
          { routes: config.routing.routes.length, ...(later.length > 0 ? { needsRestart: later } : {}) },
          later.length > 0 ? 'config reloaded; some changes take effect after a restart' : 'config reloaded',
        )
        return true
      },
    })
  },
  { name: 'config', dependencies: ['metrics'] },
)
