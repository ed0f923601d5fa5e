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
