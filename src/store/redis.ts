/**
 * Redis connections, each tuned for its job: the webhook path fails fast (so Alertmanager gets a
 * 503 and retries instead of a hanging request), workers wait out outages (BullMQ requires it).
 *
 * Every connection alertwire makes comes from connectRedis, which takes the topology: one Redis
 * (a URL), a primary watched by Sentinel, or a Cluster. With Sentinel each connection asks the
 * sentinels where the primary is whenever it (re)connects, so a promoted replica is followed
 * without a restart: a dead primary refuses the connection, and a demoted one still answering gets
 * READONLY and is left. ioredis' failover detector (drop the connection at +switch-master) is off:
 * when the announcement came while a connection was still trying the dead primary, it ended the
 * connection for good (status "end"), and the app never reached the promoted replica (the Sentinel
 * fault test lost its alerts 2 runs in 5 that way; none in 4 without it).
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'
import type { HostPort, RedisConfig } from '../config/parse.js'

/** RedisTopology: how alertwire reaches Redis. */
export type RedisTopology =
  | { kind: 'single'; url: string; password?: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; password?: string; sentinelPassword?: string }
  | { kind: 'cluster'; nodes: HostPort[]; password?: string }

/** ConnectionRole: fast-fail (webhooks, sender, bot: an error at once while Redis is away) or worker (BullMQ: waits). */
export type ConnectionRole = 'fast-fail' | 'worker'

const reconnect = (times: number) => Math.min(100 * times, 2000)

/** topologyOf is the configured Sentinel or Cluster, else the single Redis at url (the one main resolved or started, or a test's), else the configured one. */
export function topologyOf(redis: RedisConfig, url: string | undefined): RedisTopology {
  const password = redis.password ? { password: redis.password } : {}
  if (redis.sentinel) {
    const { sentinels, name, password: sentinelPassword } = redis.sentinel
    return { kind: 'sentinel', sentinels, name, ...password, ...(sentinelPassword ? { sentinelPassword } : {}) }
  }
  if (redis.clusterNodes) return { kind: 'cluster', nodes: redis.clusterNodes, ...password }
  const chosen = url ?? redis.url
  if (!chosen) throw new Error('topologyOf: no Redis URL, sentinels or cluster nodes')
  return { kind: 'single', url: chosen, ...password }
}

/** describeTopology names where Redis is, fit for a log line (no password). */
export function describeTopology(topology: RedisTopology): string {
  const list = (nodes: HostPort[]) => nodes.map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`).join(',')
  if (topology.kind === 'sentinel') return `sentinel://${list(topology.sentinels)}/${topology.name}`
  if (topology.kind === 'cluster') return `cluster://${list(topology.nodes)}`
  return topology.url
}

/**
 * roleOptions: fast-fail connections have no offline queue and no retries; workers keep both.
 * READONLY (a demoted primary still answering) reconnects: a worker resends the command on the
 * new primary, a fast-fail connection fails it (the webhook answers 503 and Alertmanager retries).
 */
function roleOptions(role: ConnectionRole, name: string): RedisOptions {
  const onError = (error: Error) => (error.message.startsWith('READONLY') ? (role === 'worker' ? 2 : 1) : false)
  const common = { connectionName: name, retryStrategy: reconnect, reconnectOnError: onError }
  return role === 'worker' ? { ...common, maxRetriesPerRequest: null } : { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2000 }
}

/**
 * connectRedis opens one connection of a role on a topology. A Cluster is returned as a Redis: it
 * answers the same commands (every key alertwire uses carries one hash tag, so scripts, MULTI and
 * pipelines route to one node), and BullMQ and the stores take either.
 */
export function connectRedis(topology: RedisTopology | string, role: ConnectionRole, name: string): Redis {
  const options = roleOptions(role, name)
  const where: RedisTopology = typeof topology === 'string' ? { kind: 'single', url: topology } : topology
  const password = where.password ? { password: where.password } : {}
  if (where.kind === 'single') return new Redis(where.url, { ...password, ...options })
  if (where.kind === 'sentinel') {
    return new Redis({
      ...options,
      ...password,
      sentinels: where.sentinels,
      name: where.name,
      role: 'master',
      ...(where.sentinelPassword ? { sentinelPassword: where.sentinelPassword } : {}),
      failoverDetector: false,
      sentinelRetryStrategy: reconnect,
    })
  }
  const { enableOfflineQueue, retryStrategy: _perNode, ...perNode } = options
  const cluster = new Cluster(where.nodes, {
    redisOptions: { ...perNode, ...password },
    ...(enableOfflineQueue === false ? { enableOfflineQueue: false } : {}),
    clusterRetryStrategy: reconnect,
  } satisfies ClusterOptions)
  return cluster as unknown as Redis
}

/** fastFailRedis: for the webhook path and the sender: commands fail at once while disconnected. */
export function fastFailRedis(topology: RedisTopology | string, name: string): Redis {
  return connectRedis(topology, 'fast-fail', name)
}

/** workerRedis: for BullMQ workers, which block and must ride out reconnects. */
export function workerRedis(topology: RedisTopology | string, name: string): Redis {
  return connectRedis(topology, 'worker', name)
}

/** within resolves to what the promise gives, or to fallback once timeoutMs passes first. */
function within<T>(promise: Promise<T>, timeoutMs: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), Math.max(0, timeoutMs))))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** whenReady resolves true once the connection is ready, false when timeoutMs passes first or it is closed. */
export async function whenReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true
  if (redis.status === 'end') return false
  let onReady = () => {}
  const ready = new Promise<boolean>((resolve) => {
    onReady = () => resolve(true)
    redis.once('ready', onReady)
  })
  return within(ready, timeoutMs, false).finally(() => redis.off('ready', onReady))
}

/** pingRedis answers whether Redis replies within timeoutMs, without throwing. */
export async function pingRedis(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status !== 'ready') return false
  return within(
    redis.ping().then(
      (reply) => reply === 'PONG',
      () => false,
    ),
    timeoutMs,
    false,
  )
}

/** closeRedis disconnects gracefully, or at once if Redis does not answer within a second. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return
  // already going away when quit fails
  if (redis.status === 'ready')
    await within(
      redis.quit().then(
        () => undefined,
        () => undefined,
      ),
      1000,
      undefined,
    )
  redis.disconnect()
}

/** RedisReach: whether alertwire's commands reach Redis, as their connection's events tell it. */
export interface RedisReach {
  /** starting: not ready yet, nothing said; not yet: said not to answer at start; down: said to be lost at `since` */
  state: 'starting' | 'not yet' | 'up' | 'down'
  since: number
  /** the connection's last error while Redis is away (why it is away) */
  lastError?: string
  /** where the connection reached Redis (host:port; with Sentinel, the primary of the moment) */
  address?: string
}

/** ReachEvent: what the connection reports: an error, ready (at an address), or that starting stopped waiting for it. */
export type ReachEvent = { kind: 'error'; message: string } | { kind: 'ready'; address?: string } | { kind: 'start gave up' }

/** ReachLine: the one log line a change of reach is worth. */
export interface ReachLine {
  level: 'warn' | 'info'
  fields: Record<string, unknown>
  msg: string
}

const seconds = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s`

/**
 * reachStep: the reach after an event, and the line to log, if any. An outage is said once when
 * it starts and once when it ends (how long it lasted, and the primary's new address after a
 * failover); the reconnect attempts in between are the connection's business, not the operator's.
 */
export function reachStep(reach: RedisReach, event: ReachEvent, now: number): { reach: RedisReach; line?: ReachLine } {
  if (event.kind === 'error') {
    if (reach.state !== 'up') return { reach: { ...reach, lastError: event.message } }
    const msg = `Redis lost (${event.message}): webhooks are answered 503 and Alertmanager retries them until Redis answers again`
    return { reach: { ...reach, state: 'down', since: now, lastError: event.message }, line: { level: 'warn', fields: { error: event.message }, msg } }
  }
  if (event.kind === 'start gave up') {
    if (reach.state !== 'starting') return { reach }
    const why = reach.lastError ?? 'no answer'
    const msg = `Redis does not answer yet (${why}); alertwire starts anyway and answers 503 until it does`
    return { reach: { ...reach, state: 'not yet' }, line: { level: 'warn', fields: { error: why }, msg } }
  }
  const { lastError: _gone, ...rest } = reach
  const up: RedisReach = { ...rest, state: 'up', since: now, ...(event.address ? { address: event.address } : {}) }
  const moved = event.address && reach.address && event.address !== reach.address ? ` at ${event.address} (was ${reach.address})` : ''
  const fields = { ...(event.address ? { address: event.address } : {}) }
  if (reach.state === 'down') return { reach: up, line: { level: 'info', fields, msg: `Redis answers again${moved}, after ${seconds(now - reach.since)}` } }
  if (reach.state === 'not yet') return { reach: up, line: { level: 'info', fields, msg: `Redis answers now, ${seconds(now - reach.since)} after start` } }
  if (reach.state === 'up' && moved) return { reach: up, line: { level: 'info', fields, msg: `Redis answers${moved}` } }
  return { reach: up }
}
