/**
 * The silence watcher (workers/silence-watcher.ts): marks alert messages silenced by silences made
 * elsewhere, says when a silence ends while its alerts fire, reminds of a chat silence's end. It
 * runs on one replica at a time (a lease of its own), polling or webhook alike, every
 * silences.watch_interval (0: off). Registered after the bot, so stopped first.
 */
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { AppServer } from '../receiver/routes.js'
import { Lease } from '../store/lease.js'
import { SilenceStore } from '../store/silence-store.js'
import { SilenceWatcher } from '../workers/silence-watcher.js'
import { LEASE_DEFAULTS, type LeaseTiming } from './bot.js'

/** silenceWatcherPlugin watches silences while the app runs. */
export const silenceWatcherPlugin = fp(
  async (server: AppServer, options: { log: Logger; leases?: LeaseTiming }) => {
    const { settings, store } = server
    const config = settings.current()
    const timing = { ...LEASE_DEFAULTS, ...options.leases }
    const watcher = new SilenceWatcher({
      store: new SilenceStore(server.redis.commands, store.keys.prefix, config.delivery.stateTtlMs),
      delivery: store,
      alertmanager: server.alertmanager,
      settings: () => {
        const { silences, messages } = settings.current()
        return {
          intervalMs: silences.watchIntervalMs,
          remindBeforeMs: silences.remindBeforeMs,
          extendOptionsMs: silences.extendOptionsMs,
          timeZone: messages.timeZone,
        }
      },
      metrics: server.metrics,
      log: options.log,
      lease: new Lease(server.redis.commands, store.keys.silenceWatcher, timing.leaseMs),
      retryMs: timing.retryMs,
    })
    server.lifecycle.onStart('silence watcher', () => watcher.start())
    server.addHook('onClose', async () => {
      await watcher.stop()
    })
  },
  { name: 'silence-watcher', dependencies: ['lifecycle', 'config', 'metrics', 'redis', 'alertmanager'] },
)
