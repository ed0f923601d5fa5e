import type { Queue } from 'bullmq'
import t, { type Test } from 'tap'
import type { Webhook } from '../../src/core/webhook.js'
import {
  createIngestQueue,
  createNotificationStore,
  MAX_BATCH,
  notificationsOf,
  type QueuedData,
  type StoredNotification,
  StoreUnavailable,
  storedNotifications,
} from '../../src/store/notification-queue.js'
import { closeRedis, fastFailRedis } from '../../src/store/redis.js'
import { cleanupPrefix, startPrivateRedis, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

/** opened is a producer connection and its queue as the receiver holds them, closed at teardown. */
function opened(t: Test, url: string, prefix: string, name: string) {
  const redis = fastFailRedis(url, name)
  // a refused connection reports errors while it retries: expected here
  redis.on('error', () => undefined)
  const queue = createIngestQueue(redis, prefix)
  queue.on('error', () => undefined)
  t.teardown(async () => {
    await queue.close().catch(() => undefined)
    await closeRedis(redis)
  })
  return { redis, queue }
}

/** setup opens the receiver's side and, on its own connection, a reader that sees what is in Redis. */
async function setup(t: Test, name: string) {
  const url = await testRedisUrl()
  const prefix = uniquePrefix(name)
  t.teardown(() => cleanupPrefix(url, prefix))
  const producer = opened(t, url, prefix, 'test-webhooks')
  const reader = opened(t, url, prefix, 'test-reader')
  const stored = async () =>
    (await reader.queue.getJobs(['waiting'], 0, -1, true)).flatMap((job) => storedNotifications(job.data, Number(job.id)).map((n) => n.stored))
  return { ...producer, store: createNotificationStore(producer.queue, producer.redis), stored }
}

/** job is a notification as the receiver hands it over (its content is the planner's business, not the queue's). */
function job(groupKey: string, receivedAt = Date.now()): StoredNotification {
  const notification: Webhook = {
    version: '4',
    groupKey,
    status: 'firing',
    receiver: 'telegram',
    alerts: [{ status: 'firing', labels: { alertname: 'HighLatency' }, startsAt: '2026-11-24T23:01:00Z', fingerprint: '076ae3f4b12baf7a' }],
  }
  return { notification, receivedAt }
}

/** countRoundTrips records how many notifications each write the store makes to Redis holds (one job, one atomic round trip). */
function countRoundTrips(queue: Queue<QueuedData>): number[] {
  const sizes: number[] = []
  const add = queue.add.bind(queue)
  queue.add = (name, data, opts) => {
    sizes.push(notificationsOf(data).length)
    return add(name, data, opts)
  }
  return sizes
}

t.test('a notification is in Redis before the store says it is stored', async (t) => {
  const { store, stored } = await setup(t, 'stored')
  const notification = job('{}:{alertname="HighLatency"}', 1_764_000_000_000)
  await store(notification, 2000)
  t.same(await stored(), [notification], 'another connection reads it at once, exactly as received')
})

t.test('notifications arriving together share one round trip, and each is answered when stored', async (t) => {
  const { queue, store, stored } = await setup(t, 'together')
  const roundTrips = countRoundTrips(queue)
  const burst = Array.from({ length: 20 }, (_, i) => job(`{}:{alertname="A${i}"}`, 1_764_000_000_000 + i))
  const answered: number[] = []
  await Promise.all(burst.map((j, i) => store(j, 2000).then(() => answered.push(i))))
  t.same(roundTrips, [20], 'twenty webhooks in the same moment: one write to Redis')
  t.equal(answered.length, 20, 'every request got its answer')
  t.same(await stored(), burst, 'all of them stored, in the order they arrived')

  await store(job('{}:{alertname="Later"}'), 2000)
  t.same(roundTrips, [20, 1], 'one arriving later is not held back for company')

  const flood = Array.from({ length: 600 }, (_, i) => job(`{}:{alertname="F${i}"}`))
  await Promise.all(flood.map((j) => store(j, 5000)))
  const floodTrips = roundTrips.slice(2)
  t.notOk(floodTrips.includes(0), 'no empty writes')
  t.equal(
    floodTrips.reduce((a, b) => a + b, 0),
    600,
    'a flood is stored whole',
  )
  t.ok(floodTrips.length <= 3, `in a few bounded batches, not one per webhook (${floodTrips.join(', ')})`)
  t.ok(
    floodTrips.every((n) => n <= MAX_BATCH),
    `no batch over ${MAX_BATCH} webhooks`,
  )
  t.equal((await stored()).length, 621)
  t.equal((await queue.getJobCounts('waiting')).waiting, roundTrips.length, 'one job per round trip: the planner takes each batch whole')
})

t.test('large webhooks close a batch early, so one job stays a bounded piece of JSON', async (t) => {
  const { queue, store, stored } = await setup(t, 'large')
  const roundTrips = countRoundTrips(queue)
  const large = (i: number): StoredNotification => {
    const { notification, receivedAt } = job(`{}:{alertname="L${i}"}`)
    const alerts = Array.from({ length: 1000 }, (_, k) => ({ ...notification.alerts[0]!, fingerprint: `${i}-${k}` }))
    return { notification: { ...notification, alerts }, receivedAt }
  }
  const five = Array.from({ length: 5 }, (_, i) => large(i))
  await Promise.all(five.map((j) => store(j, 5000)))
  t.same(roundTrips, [2, 2, 1], 'five webhooks of 1,000 alerts each: at most 2,000 alerts a job')
  t.same(await stored(), five, 'all stored, in order')
})

t.test('Redis unreachable: StoreUnavailable within the timeout, so Alertmanager gets a 503 and retries', async (t) => {
  const prefix = uniquePrefix('unreachable')
  const down = opened(t, 'redis://127.0.0.1:1', prefix, 'test-unreachable')
  const store = createNotificationStore(down.queue, down.redis)
  for (const timeoutMs of [50, 300]) {
    const started = Date.now()
    const error = await store(job('{}:{}'), timeoutMs).catch((e: unknown) => e)
    const took = Date.now() - started
    t.type(error, StoreUnavailable, `${timeoutMs} ms: refused`)
    t.ok(took >= timeoutMs - 5 && took < timeoutMs + 500, `${timeoutMs} ms: refused at the deadline, not hanging (${took} ms)`)
  }
})

t.test('a closed connection refuses at once', async (t) => {
  const { redis, store } = await setup(t, 'closed')
  const ended = new Promise((resolve) => redis.once('end', resolve))
  await closeRedis(redis)
  await ended
  const started = Date.now()
  const error = await store(job('{}:{}'), 2000).catch((e: unknown) => e)
  t.type(error, StoreUnavailable)
  t.match((error as Error).message, /closed/)
  t.ok(Date.now() - started < 100, 'no waiting for a connection that will not come back')
})

t.test('Redis frozen mid-connection: StoreUnavailable at the deadline, then stored again once it thaws', async (t) => {
  const redis = await startPrivateRedis()
  t.teardown(() => redis.close())
  const producer = opened(t, redis.url, uniquePrefix('frozen'), 'test-frozen')
  const store = createNotificationStore(producer.queue, producer.redis)
  await store(job('{}:{"before"}'), 2000)
  await redis.kill('SIGSTOP')
  const started = Date.now()
  const error = await store(job('{}:{"frozen"}'), 300).catch((e: unknown) => e)
  const took = Date.now() - started
  await redis.kill('SIGCONT')
  t.type(error, StoreUnavailable)
  t.match((error as Error).message, /did not confirm within 300 ms/)
  t.ok(took >= 295 && took < 800, `answered at the deadline (${took} ms)`)
  await t.resolves(store(job('{}:{"after"}'), 2000), 'the next webhook is stored as usual')
})
