/**
 * Redis connections, each tuned for its job: the webhook path fails fast (so Alertmanager gets a
 * 503 and retries instead of a hanging request), workers wait out outages (BullMQ requires it).
 */
import { Redis, type RedisOptions } from 'ioredis'

const reconnect = (times: number) => Math.min(100 * times, 2000)

/** fastFailRedis: for the webhook path and the sender: commands fail at once while disconnected. */
export function fastFailRedis(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: reconnect,
    lazyConnect: false,
  } satisfies RedisOptions)
}

/** workerRedis: for BullMQ workers, which block and must ride out reconnects. */
export function workerRedis(url: string, name: string): Redis {
  return new Redis(url, { connectionName: name, maxRetriesPerRequest: null, retryStrategy: reconnect } satisfies RedisOptions)
}

/** whenReady resolves true once the connection is ready, false when timeoutMs passes first or it is closed. */
export function whenReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true)
  if (redis.status === 'end') return Promise.resolve(false)
  return new Promise((resolve) => {
    const onReady = () => {
      clearTimeout(timer)
      resolve(true)
    }
    const timer = setTimeout(() => {
      redis.off('ready', onReady)
      resolve(false)
    }, Math.max(0, timeoutMs))
    redis.once('ready', onReady)
  })
}

/** pingRedis answers whether Redis replies within timeoutMs, without throwing. */
export async function pingRedis(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status !== 'ready') return false
  let timer: NodeJS.Timeout | undefined
  try {
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))
    return await Promise.race([redis.ping().then((reply) => reply === 'PONG'), timeout])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}

/** closeRedis disconnects gracefully, or at once if Redis does not answer. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return
  try {
    if (redis.status === 'ready') await Promise.race([redis.quit(), new Promise((r) => setTimeout(r, 1000))])
  } catch {
    // already going away
  }
  redis.disconnect()
}
