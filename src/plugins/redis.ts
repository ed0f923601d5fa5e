/**
 * Redis: one connection per job (the webhook path fails fast, the planner rides out outages, the
 * rest fails fast too), all from one factory on one topology (a URL, Sentinel or a Cluster), and
 * the delivery store on them. Registered early, so closed last.
 */
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { AppServer } from '../receiver/routes.js'
import { DeliveryStore } from '../store/delivery-store.js'
import { closeRedis, fastFailRedis, type ReachEvent, type RedisReach, type RedisTopology, reachStep, whenReady, workerRedis } from '../store/redis.js'

/** Connections: alertwire's Redis connections by job. */
export interface Connections {
  /** delivery state, the bot, /status */
  commands: Redis
  /** storing webhooks */
  webhooks: Redis
  /** the planner's blocking BullMQ worker */
  planner: Redis
}

/** READY_WAIT_MS: how long starting waits for Redis to answer before it goes on without (answering 503 until it does). */
const READY_WAIT_MS = 5000

declare module 'fastify' {
  interface FastifyInstance {
    redis: Connections
    store: DeliveryStore
  }
}

/** redisPlugin opens the connections and the delivery store; closing closes the connections. */
export const redisPlugin = fp(
  async (server: AppServer, options: { topology: RedisTopology; log: Logger }) => {
    const { log, topology } = options
    const config = server.settings.current()
    const redis: Connections = {
      commands: fastFailRedis(topology, 'alertwire-commands'),
      webhooks: fastFailRedis(topology, 'alertwire-webhooks'),
      planner: workerRedis(topology, 'alertwire-planner'),
    }
    for (const [name, connection] of Object.entries(redis)) {
      connection.on('error', (error: Error) => log.debug({ connection: name, error: error.message }, 'redis connection error'))
    }
    const reportReach = watchReach(redis.commands, log)
    server.decorate('redis', redis)
    server.decorate('store', new DeliveryStore(redis.commands, config.redis.prefix, config.delivery.stateTtlMs))
    // workers started before Redis answers would only log errors; wait a little, never forever
    server.addHook('onReady', async () => {
      if (!(await Promise.all(Object.values(redis).map((connection) => whenReady(connection, READY_WAIT_MS)))).every(Boolean)) {
        reportReach({ kind: 'start gave up' })
      }
    })
    server.addHook('onClose', async () => {
      await Promise.all(Object.values(redis).map(closeRedis))
    })
  },
  { name: 'redis', dependencies: ['config'] },
)

/**
 * watchReach logs when Redis is lost and when it answers again (store/redis.ts reachStep). One
 * connection speaks for all: they reach the same Redis, and one line each way is what an
 * operator needs. Returns what reports the events the connection does not emit.
 */
function watchReach(connection: Redis, log: Logger): (event: ReachEvent) => void {
  let reach: RedisReach = { state: 'starting', since: Date.now() }
  const report = (event: ReachEvent) => {
    const step = reachStep(reach, event, Date.now())
    reach = step.reach
    if (step.line) log[step.line.level](step.line.fields, step.line.msg)
  }
  connection.on('error', (error: Error) => report({ kind: 'error', message: error.message }))
  connection.on('ready', () => {
    const { remoteAddress, remotePort } = (connection as { stream?: { remoteAddress?: string; remotePort?: number } }).stream ?? {}
    report({ kind: 'ready', ...(remoteAddress && remotePort ? { address: `${remoteAddress}:${remotePort}` } : {}) })
  })
  return report
}
