/**
 * The connection factory: the topology each config gives, and what a connection does when the
 * server it reaches is (or became) a read-only replica, as a demoted primary is after a failover.
 */
import { once } from 'node:events'
import t from 'tap'
import { parseConfig } from '../../src/config/parse.js'
import { closeRedis, connectRedis, describeTopology, topologyOf } from '../../src/store/redis.js'
import { ask, untilTrue } from '../helpers/redis-topologies.js'
import { startPrivateRedis } from '../helpers/redis.js'

const redisOf = (yaml: string, env: Record<string, string> = {}) => {
  const result = parseConfig(yaml, { env, readSecret: () => 'from-file' })
  if (!result.ok) throw new Error(result.errors.join())
  return result.config.redis
}

t.test('topologyOf: Sentinel, Cluster, else the URL given (resolved at start), else the configured one; described without passwords', async (t) => {
  const sentinel = topologyOf(redisOf('redis: {sentinels: ["s1:26379", "s2:26379"], sentinel_name: m, password_file: p, sentinel_password: sp}'), undefined)
  t.same(sentinel, {
    kind: 'sentinel',
    sentinels: [
      { host: 's1', port: 26379 },
      { host: 's2', port: 26379 },
    ],
    name: 'm',
    password: 'from-file',
    sentinelPassword: 'sp',
  })
  t.equal(describeTopology(sentinel), 'sentinel://s1:26379,s2:26379/m')
  const cluster = topologyOf(redisOf('', { REDIS_CLUSTER_NODES: 'r1:7000,[::1]:7001' }), 'redis://ignored:6379')
  t.equal(describeTopology(cluster), 'cluster://r1:7000,[::1]:7001')
  t.same(topologyOf(redisOf(''), 'redis://127.0.0.1:6390'), { kind: 'single', url: 'redis://127.0.0.1:6390' }, 'the Redis found at start')
  t.same(
    topologyOf(redisOf('redis: {url: "redis://r:1"}'), 'redis://given:2'),
    { kind: 'single', url: 'redis://given:2' },
    'the URL resolved at start (or a test gives) over the file, as main resolves the configured one first',
  )
  t.same(topologyOf(redisOf('redis: {url: "redis://r:1"}'), undefined), { kind: 'single', url: 'redis://r:1' }, 'else the configured URL')
  t.throws(() => topologyOf(redisOf(''), undefined), /no Redis URL/)
})

t.test('READONLY from a demoted primary: the webhook path fails (503) and reconnects; a worker resends on the new primary', async (t) => {
  const primary = await startPrivateRedis()
  t.teardown(() => primary.close())
  const replica = await startPrivateRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] })
  t.teardown(() => replica.close())
  await untilTrue(async () => /master_link_status:up/.test(String(await ask(replica.port, 'INFO', 'replication'))), 15_000, 'the replica to sync')

  const fast = connectRedis(replica.url, 'fast-fail', 'test-fast')
  const worker = connectRedis(replica.url, 'worker', 'test-worker')
  for (const connection of [fast, worker]) {
    connection.on('error', () => {})
    t.teardown(() => closeRedis(connection))
  }
  // both connect at once: wait for each without missing a 'ready' that came first
  await Promise.all([fast, worker].map((connection) => (connection.status === 'ready' ? undefined : once(connection, 'ready'))))
  const reconnecting = once(fast, 'reconnecting')
  await t.rejects(fast.set('k', 'v'), /READONLY/, 'the write fails at once: the webhook answers 503 and Alertmanager retries')
  await reconnecting
  t.pass('and the connection reconnects, to ask again where to write')

  // the worker's write waits through the reconnect and lands once this server is a primary
  const written = worker.set('k', 'from-worker')
  await new Promise((r) => setTimeout(r, 300))
  await ask(replica.port, 'REPLICAOF', 'NO', 'ONE')
  t.equal(await written, 'OK', 'the worker resent its command after the reconnect')
  t.equal(await ask(replica.port, 'GET', 'k'), 'from-worker')
})
