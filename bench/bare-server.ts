/**
 * The ceiling for the ingest benchmark: the same Fastify routes, schema validation and auth as
 * alertwire, answering without storing anything. Usage: bare-server.ts PORT TOKEN
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify'
import { pino } from 'pino'
import { createMetrics } from '../src/metrics.js'
import { registerRoutes } from '../src/receiver/routes.js'

const [port, token] = process.argv.slice(2)
const server = Fastify({
  loggerInstance: pino({ level: 'silent' }) as FastifyBaseLogger,
  logController: new LogController({ disableRequestLogging: true }),
  bodyLimit: 10 * 1024 * 1024,
  ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
}).withTypeProvider<TypeBoxTypeProvider>()
await registerRoutes(server, {
  auth: () => ({ bearerToken: token!, allowUnauthenticated: false }),
  store: async () => undefined,
  metrics: createMetrics(),
  readiness: async () => ({}),
  refreshMetrics: async () => undefined,
  dryRun: true,
})
await server.listen({ host: '127.0.0.1', port: Number(port) })
process.stdout.write('listening\n')
