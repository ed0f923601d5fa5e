/**
 * The ack watcher: expires "ack until resolved" silences once their alerts resolve. It runs
 * wherever the bot runs, polling or webhook, on one replica at a time (a lease of its own).
 * Registered after the bot, so stopped first.
 */
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { AckWatcher } from '../bot/ack-watcher.js'
import type { AppServer } from '../receiver/routes.js'
import { Lease } from '../store/lease.js'
import { LEASE_DEFAULTS, type LeaseTiming } from './bot.js'

/** ackWatcherPlugin watches acknowledgements while the app runs (there are none without the bot). */
export const ackWatcherPlugin = fp(
  async (server: AppServer, options: { log: Logger; leases?: LeaseTiming }) => {
    if (!server.bot) return
    const { settings, store } = server
    const timing = { ...LEASE_DEFAULTS, ...options.leases }
    const watcher = new AckWatcher({
      buttons: server.buttons,
      delivery: store,
      alertmanager: server.alertmanager,
      intervalMs: () => settings.current().silences.ackCheckIntervalMs,
      metrics: server.metrics,
      log: options.log,
      lease: new Lease(server.redis.commands, store.keys.ackWatcher, timing.leaseMs),
      retryMs: timing.retryMs,
    })
    server.lifecycle.onStart('ack watcher', () => watcher.start())
    server.addHook('onClose', async () => {
      await watcher.stop()
    })
  },
  { name: 'ack-watcher', dependencies: ['lifecycle', 'config', 'metrics', 'redis', 'alertmanager', 'bot'] },
)
