/**
 * Handoff notices (rotas.<name>.handoff_notice): the notifier runs on one replica at a time (a
 * lease of its own) and hands each notice to the chat's sender, like the bot's answers. Registered
 * after the sender, so stopped before it.
 */
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { oncallSlice } from '../config/slices.js'
import type { AppServer } from '../receiver/routes.js'
import { Lease } from '../store/lease.js'
import { RotaStore } from '../store/rota-store.js'
import { RotaNotices } from '../workers/rota-notices.js'
import { LEASE_DEFAULTS, type LeaseTiming } from './bot.js'

/** rotaNoticesPlugin announces handoffs while the app runs; it always runs, so a reload that adds a notice needs no restart. */
export const rotaNoticesPlugin = fp(
  async (server: AppServer, options: { log: Logger; leases?: LeaseTiming }) => {
    const { settings, redis, store } = server
    const config = settings.current()
    const timing = { ...LEASE_DEFAULTS, ...options.leases }
    const notices = new RotaNotices({
      oncall: () => oncallSlice(settings.current()),
      rotas: new RotaStore(redis.commands, config.redis.prefix),
      delivery: store,
      log: options.log,
      now: Date.now,
      lease: new Lease(redis.commands, store.keys.rotaNotifier, timing.leaseMs),
      retryMs: timing.retryMs,
    })
    server.lifecycle.onStart('handoff notices', () => notices.start())
    server.addHook('onClose', async () => {
      await notices.stop()
    })
  },
  { name: 'rota-notices', dependencies: ['lifecycle', 'config', 'redis', 'sender'] },
)
