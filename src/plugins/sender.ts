/**
 * The sender: delivers each chat's outbox to Telegram at the chat's pace. Started once the server
 * listens; on close it finishes the Telegram calls in progress (the rest waits in Redis).
 */
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { AppServer } from '../receiver/routes.js'
import { Sender } from '../workers/sender.js'
import { senderConfig } from '../config/slices.js'

declare module 'fastify' {
  interface FastifyInstance {
    sender: Sender
  }
}

/** senderPlugin runs the sender's lanes while the app runs. */
export const senderPlugin = fp(
  async (server: AppServer, options: { log: Logger }) => {
    const sender = new Sender({
      store: server.store,
      telegram: server.telegram,
      metrics: server.metrics,
      log: options.log,
      config: () => senderConfig(server.settings.current()),
      graphs: server.graphs.hooks,
      escalation: server.escalation.hooks,
    })
    server.decorate('sender', sender)
    server.lifecycle.onStart('sender', () => sender.start())
    server.addHook('onClose', async () => {
      await sender.stop()
    })
  },
  { name: 'sender', dependencies: ['lifecycle', 'config', 'metrics', 'redis', 'telegram', 'graphs', 'escalation'] },
)
