/**
 * Graph jobs: the graphs a chat asked for (an alert message sent, /graph, a dashboard) are drawn
 * here, off the delivery path, one or two at a time, from a BullMQ queue any replica works. A
 * drawn graph (or the caption that says why there is none) is queued in its chat, where the
 * sender says it only when nothing else waits (core/photos.ts). A thin executor: what to draw is
 * decided by core/graph.ts, the drawing is makeGraph (workers/graphs.ts), bound by the plugin.
 */
import { randomUUID } from 'node:crypto'
import { type Job, Queue, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { GraphQuery } from '../core/graph.js'
import { GRAPH_MAX_WAIT_MS, type GraphRequest, type GraphsOutcome, type PhotoJob } from '../core/photos.js'
import type { Metrics } from '../metrics.js'
import type { GraphStore } from '../store/graph-store.js'

/** GRAPH_QUEUE: the BullMQ queue of graph requests under the configured prefix. */
export const GRAPH_QUEUE = 'graphs'

/** GRAPH_CONCURRENCY: graphs drawn at once per replica (drawing takes a core for a moment; the machine has other work). */
const GRAPH_CONCURRENCY = 2

/** PNG_TTL_MS: how long a drawn picture is kept: as long as the graph may still be sent, and a little more. */
export const PNG_TTL_MS = GRAPH_MAX_WAIT_MS + 60_000

/** DrawnGraph: what makeGraph gives (workers/graphs.ts): a PNG unless there is nothing to show, and a caption that says which. */
export interface DrawnGraph {
  png?: Buffer
  caption: string
  outcome: Extract<GraphsOutcome, 'drawn' | 'flat' | 'empty' | 'bad_query' | 'prometheus_down' | 'timeout' | 'render_error'>
}

/** GraphJobDeps: what the graphs worker works with. */
export interface GraphJobDeps {
  /** a blocking connection of its own */
  connection: Redis
  prefix: string
  graphs: GraphStore
  draw(query: GraphQuery): Promise<DrawnGraph>
  metrics: Metrics
  log: Logger
  /** a graph was queued in a chat: wake the local sender */
  onQueued(): void
}

/** createGraphQueue opens the producer side of the graphs queue. */
export function createGraphQueue(connection: Redis, prefix: string): Queue<GraphRequest> {
  return new Queue<GraphRequest>(GRAPH_QUEUE, { connection, prefix })
}

/** requestGraph queues a graph to draw; a graph is never worth a retry (a later one shows more), so one attempt. */
export async function requestGraph(queue: Queue<GraphRequest>, request: GraphRequest): Promise<void> {
  await queue.add('graph', request, { attempts: 1, removeOnComplete: true, removeOnFail: 100 })
}

/** drawForChat draws one requested graph and queues it in its chat, unless the chat is in a storm or the graph came too late. */
export async function drawForChat(deps: Omit<GraphJobDeps, 'connection' | 'prefix'>, request: GraphRequest): Promise<GraphsOutcome> {
  const { graphs, metrics, log } = deps
  if (await graphs.inStorm(request.chat)) return count(metrics, 'skipped_storm')
  if (Date.now() - request.requestedAt > GRAPH_MAX_WAIT_MS) return count(metrics, 'skipped_stale')
  const image = await deps.draw(request.query)
  count(metrics, image.outcome)
  // the generator's own host is only a guess at where Prometheus is: when it does not answer, the chat is not told about it
  if (request.query.fromGenerator && !image.png && (image.outcome === 'prometheus_down' || image.outcome === 'timeout')) {
    log.info({ chat: request.chat, outcome: image.outcome }, "no graph: the alert's generator host does not answer (set graphs.prometheus_url or host_map)")
    return image.outcome
  }
  const job: PhotoJob = {
    id: randomUUID(),
    ...(request.replyTo ? { replyTo: request.replyTo } : {}),
    ...(request.threadId ? { threadId: request.threadId } : {}),
    silent: request.silent,
    caption: image.caption,
    png: image.png !== undefined,
    queuedAt: Date.now(),
    kind: request.kind,
  }
  if (await graphs.queuePhoto(request.chat, job, image.png, PNG_TTL_MS)) deps.onQueued()
  log.debug({ chat: request.chat, outcome: image.outcome, kind: request.kind }, 'graph drawn and queued for the chat')
  return image.outcome
}

function count(metrics: Metrics, outcome: GraphsOutcome): GraphsOutcome {
  metrics.graphs.inc({ outcome })
  return outcome
}

/** startGraphWorker draws queued graphs until closed. */
export function startGraphWorker(deps: GraphJobDeps): Worker<GraphRequest> {
  const worker = new Worker<GraphRequest>(GRAPH_QUEUE, async (job: Job<GraphRequest>) => drawForChat(deps, job.data), {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: GRAPH_CONCURRENCY,
    // a replica that died mid-drawing leaves its graph to another within a minute
    lockDuration: 60_000,
  })
  worker.on('failed', (job, error) => deps.log.warn({ chat: job?.data.chat, error: error.message }, 'drawing a graph failed'))
  worker.on('error', (error) => deps.log.debug({ error: error.message }, 'graphs worker error'))
  return worker
}
