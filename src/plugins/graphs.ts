/**
 * Graphs in the chat: the queue of graphs to draw and the worker that draws them (off the
 * delivery path), what the sender asks of graphs (after a call, a picture, a storm), and the
 * bot's graph commands and dashboards. Registered before the sender and the bot, which use it;
 * so closed after them, without waiting for a graph being drawn.
 */
import type { Queue, Worker } from 'bullmq'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { ChatGraphs, type GraphsSetup } from '../bot/graphs.js'
import { graphLimits, graphOptions } from '../config/graphs.js'
import type { Config } from '../config/parse.js'
import { type GraphRequest, graphsForCall } from '../core/photos.js'
import { prometheusPool } from '../prometheus/client.js'
import type { AppServer } from '../receiver/routes.js'
import { GraphStore } from '../store/graph-store.js'
import { closeRedis } from '../store/redis.js'
import { createGraphQueue, requestGraph, startGraphWorker } from '../workers/graph-jobs.js'
import { makeGraph } from '../workers/graphs.js'
import type { GraphHooks } from '../workers/sender.js'

/** STORM_MARK_MS: after a storm round, how long a chat's graphs are skipped rather than drawn (a storm comes in waves). */
const STORM_MARK_MS = 5 * 60_000

/** Graphs: what the sender and the bot use. */
export interface Graphs {
  hooks: GraphHooks
  chat: ChatGraphs
  queue: Queue<GraphRequest>
}

declare module 'fastify' {
  interface FastifyInstance {
    graphs: Graphs
  }
}

/** Runtime: the Prometheus clients and options for one config (rebuilt when a reload brings a new one). */
interface Runtime {
  config: Config
  setup: GraphsSetup
  pool: ReturnType<typeof prometheusPool>
}

/** runtimeOf: graphs as this config has them; off (with why) when disabled. */
function runtimeOf(config: Config): Runtime {
  const { graphs } = config
  const pool = prometheusPool({
    ...(graphs.prometheusUrl ? { url: graphs.prometheusUrl } : {}),
    ...(graphs.auth ? { auth: graphs.auth } : {}),
    timeoutMs: graphs.timeoutMs,
  })
  const options = graphOptions(graphs, config.messages.severities, config.routing)
  const setup: GraphsSetup = graphs.enabled ? { options, targetPoints: options.targetPoints } : { off: 'graphs are disabled (graphs.enabled: false)' }
  return { config, setup, pool }
}

/** graphsPlugin: see the file comment. */
export const graphsPlugin = fp(
  async (server: AppServer, options: { log: Logger }) => {
    const { settings, metrics, redis } = server
    const { log } = options
    const prefix = settings.current().redis.prefix
    const store = new GraphStore(redis.commands, prefix)
    const queue = createGraphQueue(redis.commands, prefix)
    queue.on('error', (error) => log.debug({ error: error.message }, 'graphs queue error'))
    let runtime = runtimeOf(settings.current())
    const current = (): Runtime => {
      if (runtime.config !== settings.current()) runtime = runtimeOf(settings.current())
      return runtime
    }
    const request = (graph: GraphRequest) => requestGraph(queue, graph)
    const hooks: GraphHooks = {
      afterCall(chat, call, messageId) {
        const { setup } = current()
        if ('off' in setup) return
        for (const graph of graphsForCall(chat, call, messageId, setup.options, Date.now())) {
          request(graph).catch((error: Error) => log.warn({ chat, error: error.message }, 'could not queue a graph'))
        }
      },
      png: (id) => store.png(id),
      storm: (chat) => store.storm(chat, STORM_MARK_MS),
    }
    const chat = new ChatGraphs({
      dashboards: () => settings.current().dashboards,
      setup: () => current().setup,
      async queryRange(expr, startMs, endMs, stepSeconds) {
        const client = current().pool({})
        if (!client) throw new Error('no Prometheus is configured (graphs.prometheus_url or PROMETHEUS_URL)')
        return client.queryRange(expr, startMs, endMs, stepSeconds)
      },
      request,
      log,
    })
    server.decorate('graphs', { hooks, chat, queue })
    let worker: Worker<GraphRequest> | undefined
    let connection: Redis | undefined
    server.lifecycle.onStart('graphs', () => {
      connection = redis.planner.duplicate()
      worker = startGraphWorker({
        connection,
        prefix,
        graphs: store,
        draw: (query) => {
          const { config, pool } = current()
          return makeGraph(query, { prometheus: pool, timeZone: config.messages.timeZone, limits: graphLimits(config.graphs) })
        },
        metrics,
        log,
        onQueued: () => server.sender.wake(),
      })
    })
    server.addHook('onClose', async () => {
      // a graph is not worth holding shutdown for: one being drawn is left to another replica (stalled, then taken again)
      await worker?.close(true)
      if (connection) await closeRedis(connection)
      await queue.close().catch(() => undefined)
    })
  },
  { name: 'graphs', dependencies: ['lifecycle', 'config', 'metrics', 'redis'] },
)
