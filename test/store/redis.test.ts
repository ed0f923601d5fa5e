/** Redis connections: waiting for one is bounded, a ping never throws or hangs, closing never hangs. */
import t from 'tap'
import { closeRedis, fastFailRedis, pingRedis, whenReady, workerRedis } from '../../src/store/redis.js'
import { testRedisUrl } from '../helpers/redis.js'

const NOBODY = 'redis://127.0.0.1:9'

t.test('a Redis that answers: ready, pings, closes', async (t) => {
  const redis = fastFailRedis(await testRedisUrl(), 'test-ok')
  t.equal(await whenReady(redis, 5000), true)
  t.equal(await pingRedis(redis, 1000), true)
  await closeRedis(redis)
  await new Promise((r) => setTimeout(r, 50))
  const started = Date.now()
  t.equal(await whenReady(redis, 5000), false, 'a closed connection is never ready')
  t.ok(Date.now() - started < 100, 'and says so at once')
  t.equal(await pingRedis(redis, 1000), false)
})

t.test('a Redis that does not answer: each wait ends on time, nothing throws', async (t) => {
  for (const redis of [fastFailRedis(NOBODY, 'test-down'), workerRedis(NOBODY, 'test-down-worker')]) {
    redis.on('error', () => undefined)
    const started = Date.now()
    t.equal(await whenReady(redis, 300), false)
    t.equal(await pingRedis(redis, 300), false)
    await closeRedis(redis)
    t.ok(Date.now() - started < 2000, `done in ${Date.now() - started} ms`)
    t.equal(redis.listenerCount('ready'), 0, 'no waiter left behind')
  }
})
