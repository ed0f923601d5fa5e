/** The service's metrics, on a registry of this app's own (several apps in one process never share counters). */
import fp from 'fastify-plugin'
import { createMetrics, type Metrics, zeroKnownSeries } from '../metrics.js'
import type { AppServer } from '../receiver/routes.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/** metricsPlugin creates the metrics, with the known series exported at 0. */
export const metricsPlugin = fp(
  async (server: AppServer) => {
    const metrics = createMetrics()
    zeroKnownSeries(metrics)
    server.decorate('metrics', metrics)
  },
  { name: 'metrics' },
)
