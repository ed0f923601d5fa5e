/**
 * Writes confirmed by replicas: WAIT numreplicas timeout answers how many replicas hold every
 * write the connection it runs on made before it. So it must run on the connection that wrote:
 * with Sentinel the primary's, in a Cluster the connection to the node serving the key's slot.
 * When that connection was replaced between the write and the WAIT (a reconnect, a failover, a
 * slot moved), the count would describe a connection that wrote nothing: it counts as 0.
 */
import type { Cluster, Redis } from 'ioredis'

/** ConfirmedWrite runs a write and answers how many replicas confirmed it within timeoutMs (0 when it cannot tell). */
export type ConfirmedWrite = (write: () => Promise<unknown>, replicas: number, timeoutMs: number) => Promise<number>

const closes = new WeakMap<Redis, { count: number }>()

/** closeCount counts how often a connection closed: unchanged across a write and its WAIT, both ran on one socket. */
function closeCount(redis: Redis): number {
  let counter = closes.get(redis)
  if (!counter) {
    const created = { count: 0 }
    redis.on('close', () => created.count++)
    closes.set(redis, created)
    counter = created
  }
  return counter.count
}

/** nodeFor is the Cluster's connection to the primary serving slot, if it has one. */
function nodeFor(cluster: Cluster, slot: number): Redis | undefined {
  const address = cluster.slots[slot]?.[0]
  return cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === address)
}

/** confirmedWrites makes the ConfirmedWrite for a connection; slotKey is a key the writes use (it places them in a Cluster). */
export function confirmedWrites(connection: Redis, slotKey: string): ConfirmedWrite {
  const cluster = (connection as unknown as { isCluster?: boolean }).isCluster ? (connection as unknown as Cluster) : undefined
  let slot: number | undefined
  const serving = async (): Promise<Redis | undefined> => {
    if (!cluster) return connection
    slot ??= Number(await cluster.call('CLUSTER', 'KEYSLOT', slotKey))
    return nodeFor(cluster, slot)
  }
  return async (write, replicas, timeoutMs) => {
    const before = await serving()
    const closedBefore = before ? closeCount(before) : -1
    await write()
    const after = await serving()
    if (!after || after !== before) return 0
    // WAIT 0 would wait forever: a deadline already passed still asks, for at least a millisecond
    const acked = Number(await after.wait(replicas, Math.max(1, Math.round(timeoutMs))))
    return closeCount(after) === closedBefore ? acked : 0
  }
}
