/**
 * Lifecycle: background work starts once the server listens (a server built only to answer
 * injected requests in tests runs none), in the order the plugins registered it. Each plugin stops
 * its own work in its onClose hook, and Fastify runs those in reverse registration order: the
 * server stops taking requests first, Redis closes last.
 */
import fp from 'fastify-plugin'
import type { AppServer } from '../receiver/routes.js'

/** Starter: one plugin's way to start its work. */
interface Starter {
  name: string
  start: () => Promise<void> | void
}

/** Lifecycle: the starters the plugins registered. */
export class Lifecycle {
  private readonly starters: Starter[] = []

  /** onStart registers work to start once the server listens. */
  onStart(name: string, start: Starter['start']): void {
    this.starters.push({ name, start })
  }

  /** start starts everything registered, in order. */
  async start(): Promise<void> {
    for (const starter of this.starters) await starter.start()
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle
  }
}

/** lifecyclePlugin gives the other plugins a place to register the work they start. */
export const lifecyclePlugin = fp(
  async (server: AppServer) => {
    server.decorate('lifecycle', new Lifecycle())
  },
  { name: 'lifecycle' },
)
