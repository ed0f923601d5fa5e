/**
 * Escalation: what the sender asks when it sends a new alert message (does it escalate, under
 * which policy: its escalation starts in the same script that saves the message), and the watcher
 * that fires the due steps on one replica at a time (a lease of its own). Registered before the
 * sender, which uses the hooks; so closed after it.
 */
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { policyOfRoute } from '../config/escalation.js'
import { choosePolicy } from '../core/escalation.js'
import type { AppServer } from '../receiver/routes.js'
import { EscalationStore } from '../store/escalation-store.js'
import { Lease } from '../store/lease.js'
import { RotaStore } from '../store/rota-store.js'
import { EscalationWatcher } from '../workers/escalation.js'
import type { EscalationHooks } from '../workers/sender.js'
import { LEASE_DEFAULTS, type LeaseTiming } from './bot.js'

declare module 'fastify' {
  interface FastifyInstance {
    escalation: { hooks: EscalationHooks; store: EscalationStore }
  }
}

/** escalationPlugin: see the file comment. */
export const escalationPlugin = fp(
  async (server: AppServer, options: { log: Logger; leases?: LeaseTiming }) => {
    const { settings, redis, store: delivery } = server
    const config = settings.current()
    const store = new EscalationStore(redis.commands, config.redis.prefix, config.delivery.stateTtlMs)
    const hooks: EscalationHooks = {
      scheduleWrites(chat, record) {
        const now = settings.current()
        const choice = choosePolicy(record, chat, (route) => policyOfRoute(now.escalation, route), now.routing, now.messages.severities)
        if (!('policy' in choice)) return []
        const sentAt = Date.now()
        return store.scheduleWrites(chat, record.messageId, choice.policy.name, sentAt, sentAt + choice.policy.steps[0]!.afterMs)
      },
    }
    server.decorate('escalation', { hooks, store })
    const timing = { ...LEASE_DEFAULTS, ...options.leases }
    const watcher = new EscalationWatcher({
      store,
      delivery,
      rotas: new RotaStore(redis.commands, config.redis.prefix),
      config: () => {
        const { escalation, oncall, messages } = settings.current()
        return { escalation, oncall, severities: messages.severities }
      },
      metrics: server.metrics,
      log: options.log,
      lease: new Lease(redis.commands, store.keys.escalationWatcher, timing.leaseMs),
      retryMs: timing.retryMs,
    })
    server.lifecycle.onStart('escalation watcher', () => watcher.start())
    server.addHook('onClose', async () => {
      await watcher.stop()
    })
  },
  { name: 'escalation', dependencies: ['lifecycle', 'config', 'metrics', 'redis'] },
)
