/**
 * Redis topologies for tests, from Debian's redis-server and redis-sentinel on loopback: a primary
 * with one replica watched by three sentinels, and a three-primary Cluster. Every process is a
 * tracked child (processes.ts) on a free port with its own temp dir; close() kills them all and
 * removes the dirs, and the tracker does it anyway if a test dies first.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import type { RedisTopology } from '../../src/store/redis.js'
import { makeTempDir, type ManagedProcess, removeTempDir, runCommand, spawnTracked, startOnFreePort, waitUntilReady } from './processes.js'
import { type PrivateRedis, redisPing, startPrivateRedis } from './redis.js'

/** SENTINEL_NAME: the name the sentinels monitor the primary under. */
export const SENTINEL_NAME = 'awprimary'

/** SentinelSet: a primary, its replica and three sentinels. */
export interface SentinelSet {
  primary: PrivateRedis
  replica: PrivateRedis
  sentinelPorts: number[]
  topology: RedisTopology
  /** the port Sentinel names as the primary now */
  primaryPort(): Promise<number>
  /** waits until every sentinel names this port as the primary (a failover done: a client may ask any of them) */
  waitForPrimary(port: number, timeoutMs?: number): Promise<void>
  /** a short-lived plain connection to one server, for REPLICAOF, INFO, WAIT and the like */
  direct(port: number): Redis
  close(): Promise<void>
}

/** untilTrue polls check every 100 ms until it holds, or throws naming what was awaited. */
export async function untilTrue(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(100)
  }
}

function direct(port: number, password?: string): Redis {
  return new Redis({
    host: '127.0.0.1',
    port,
    ...(password ? { password } : {}),
    lazyConnect: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2000,
  })
}

/** ask runs one command on a short-lived connection to port. */
export function ask(port: number, ...args: (string | number)[]): Promise<unknown> {
  return askWith(undefined, port, ...args)
}

/** askWith is ask with a password (a server or sentinel that requires one). */
export async function askWith(password: string | undefined, port: number, ...args: (string | number)[]): Promise<unknown> {
  const client = direct(port, password)
  client.on('error', () => {})
  try {
    return await client.call(String(args[0]), ...args.slice(1))
  } finally {
    client.disconnect()
  }
}

/** startSentinel starts one redis-sentinel watching the primary (quorum 2, a second to call it down). */
async function startSentinel(primaryPort: number, dirs: string[]): Promise<{ port: number; proc: ManagedProcess }> {
  const dir = makeTempDir('sentinel')
  dirs.push(dir)
  return startOnFreePort(async (port) => {
    const file = join(dir, 'sentinel.conf')
    // sentinel rewrites its own config file: it must be a writable file of its own
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_NAME} 5000`,
        `sentinel parallel-syncs ${SENTINEL_NAME} 1`,
        '',
      ].join('\n'),
    )
    const proc = spawnTracked(`redis-sentinel:${port}`, 'redis-sentinel', [file])
    await waitUntilReady(proc, async (signal) => {
      while (!(await redisPing(`redis://127.0.0.1:${port}`, 300))) {
        signal.throwIfAborted()
        await sleep(50)
      }
    })
    return { port, proc }
  })
}

/** startSentinelSet starts a primary, a replica of it and three sentinels, and waits until the sentinels know the replica. */
export async function startSentinelSet(): Promise<SentinelSet> {
  const dirs: string[] = []
  const primary = await startPrivateRedis()
  const replica = await startPrivateRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] })
  const sentinels: { port: number; proc: ManagedProcess }[] = []
  const close = async () => {
    await Promise.all(sentinels.map((s) => s.proc.stop()))
    await Promise.all([replica.close(), primary.close()])
    await Promise.all(dirs.map(removeTempDir))
  }
  try {
    await untilTrue(async () => /master_link_status:up/.test(String(await ask(replica.port, 'INFO', 'replication'))), 15_000, 'the replica to sync')
    for (let i = 0; i < 3; i++) sentinels.push(await startSentinel(primary.port, dirs))
    const namedBy = async (sentinel: number) => Number(((await ask(sentinel, 'SENTINEL', 'get-master-addr-by-name', SENTINEL_NAME)) as string[])[1])
    const primaryPort = () => namedBy(sentinels[0]!.port)
    // a client may ask any sentinel: the failover is done when every one of them names the new primary
    const allName = async (port: number) => (await Promise.all(sentinels.map((s) => namedBy(s.port)))).every((named) => named === port)
    const knowsReplica = async () => ((await ask(sentinels[0]!.port, 'SENTINEL', 'replicas', SENTINEL_NAME)) as unknown[]).length === 1
    const sentinelsMet = async () => ((await ask(sentinels[0]!.port, 'SENTINEL', 'sentinels', SENTINEL_NAME)) as unknown[]).length === 2
    await untilTrue(async () => (await knowsReplica()) && (await sentinelsMet()), 20_000, 'the sentinels to find the replica and each other')
    return {
      primary,
      replica,
      sentinelPorts: sentinels.map((s) => s.port),
      topology: { kind: 'sentinel', sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), name: SENTINEL_NAME },
      primaryPort,
      waitForPrimary: (port, timeoutMs = 30_000) => untilTrue(() => allName(port), timeoutMs, `every sentinel to name port ${port} the primary`),
      direct,
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}

/**
 * protectSentinelSet puts passwords on a running set, as an operator would configure them: the
 * servers require password (the replica authenticates to the primary with it, the sentinels too),
 * the sentinels require sentinelPassword (and give it to each other).
 */
export async function protectSentinelSet(set: SentinelSet, password: string, sentinelPassword: string): Promise<void> {
  for (const port of [set.replica.port, set.primary.port]) await ask(port, 'CONFIG', 'SET', 'masterauth', password)
  for (const port of [set.replica.port, set.primary.port]) await ask(port, 'CONFIG', 'SET', 'requirepass', password)
  for (const port of set.sentinelPorts) {
    await ask(port, 'SENTINEL', 'SET', SENTINEL_NAME, 'auth-pass', password)
    await ask(port, 'SENTINEL', 'CONFIG', 'SET', 'sentinel-pass', sentinelPassword)
  }
  for (const port of set.sentinelPorts) await ask(port, 'ACL', 'SETUSER', 'default', 'resetpass', `>${sentinelPassword}`)
  set.topology = { ...set.topology, password, sentinelPassword } as RedisTopology
}

/** RedisCluster: three primaries (with a replica each when asked), every slot covered. */
export interface RedisCluster {
  nodes: PrivateRedis[]
  topology: RedisTopology
  /** the primary serving a key's slot, and its replica (when the cluster has replicas) */
  servingKey(key: string): Promise<{ primary: PrivateRedis; replica?: PrivateRedis }>
  close(): Promise<void>
}

/** ClusterNode: one line of CLUSTER NODES, the fields the tests read. */
interface ClusterNode {
  id: string
  port: number
  primaryId: string
  slots: [number, number][]
}

function clusterNodes(text: string): ClusterNode[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, , primaryId, , , , , ...slots] = line.split(' ')
      return {
        id: id!,
        port: Number(/:(\d+)@/.exec(address!)![1]),
        primaryId: primaryId!,
        slots: slots.filter((s) => /^\d/.test(s)).map((s) => s.split('-').map(Number) as [number, number]),
      }
    })
    .map((node) => ({ ...node, slots: node.slots.map(([from, to]) => [from, to ?? from] as [number, number]) }))
}

/** startRedisCluster starts three cluster-enabled redis-servers (six with a replica each) and joins them with redis-cli --cluster create. */
export async function startRedisCluster(options: { replicas?: 0 | 1 } = {}): Promise<RedisCluster> {
  const replicas = options.replicas ?? 0
  const nodes: PrivateRedis[] = []
  const close = async () => {
    await Promise.all(nodes.map((node) => node.close()))
  }
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) nodes.push(await startPrivateRedis({ args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'] }))
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`)
    const created = await runCommand('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], 60_000)
    if (created.code !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.output}`)
    for (const node of nodes) {
      await untilTrue(async () => /cluster_state:ok/.test(String(await ask(node.port, 'CLUSTER', 'INFO'))), 20_000, `node ${node.port} to see the cluster ok`)
      if (replicas && /role:slave/.test(String(await ask(node.port, 'INFO', 'replication'))))
        await untilTrue(async () => /master_link_status:up/.test(String(await ask(node.port, 'INFO', 'replication'))), 20_000, `replica ${node.port} to sync`)
    }
    const servingKey = async (key: string) => {
      const slot = Number(await ask(nodes[0]!.port, 'CLUSTER', 'KEYSLOT', key))
      const known = clusterNodes(String(await ask(nodes[0]!.port, 'CLUSTER', 'NODES')))
      const primary = known.find((node) => node.slots.some(([from, to]) => from <= slot && slot <= to))!
      const replica = known.find((node) => node.primaryId === primary.id)
      const byPort = (port: number) => nodes.find((node) => node.port === port)!
      return { primary: byPort(primary.port), ...(replica ? { replica: byPort(replica.port) } : {}) }
    }
    return { nodes, topology: { kind: 'cluster', nodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })) }, servingKey, close }
  } catch (error) {
    await close()
    throw error
  }
}
