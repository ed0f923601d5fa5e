import { Redis } from 'ioredis'
import pino from 'pino'
import t, { type Test } from 'tap'
import { plannerConfig } from '../../src/config/slices.js'
import type { Webhook } from '../../src/core/webhook.js'
import { createMetrics } from '../../src/metrics.js'
import { DeliveryStore } from '../../src/store/delivery-store.js'
import { createIngestQueue, createNotificationStore, type StoredNotification } from '../../src/store/notification-queue.js'
import { closeRedis, fastFailRedis, workerRedis } from '../../src/store/redis.js'
import { groupCommit, startPlanner } from '../../src/workers/planner.js'
import { candidate as event } from '../helpers/candidates.js'
import { testConfig } from '../helpers/config.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const POLICY = { flapping: { windowMs: 0, threshold: 0 }, criticalWhenMuted: 'silent' as const }

async function setup(t: Test) {
  const url = await testRedisUrl()
  const prefix = uniquePrefix(t.name)
  const redis = new Redis(url)
  t.teardown(async () => {
    await cleanupPrefix(url, prefix)
    redis.disconnect()
  })
  const store = new DeliveryStore(redis, prefix, 60_000)
  const commits: number[] = []
  const commitOnce = store.commit.bind(store)
  store.commit = (candidates, policy) => {
    commits.push(candidates.length)
    return commitOnce(candidates, policy)
  }
  const grouped = groupCommit(store)
  const commit = async (...args: Parameters<typeof grouped>) => (await grouped(...args)).results
  return { store, commits, commit, grouped }
}

t.test('notifications planned while a commit is in flight are committed together, each told its own results', async (t) => {
  const { store, commits, commit } = await setup(t)
  const answers = await Promise.all([
    commit([event('a', 'firing', {}, 1)], POLICY),
    commit([event('b', 'firing', {}, 2), event('c', 'firing', {}, 2)], POLICY),
    commit([event('a', 'firing', {}, 3)], POLICY), // the HA twin of the first, in the same group
    commit([], POLICY),
    commit([event('d', 'firing', {}, 4)], POLICY),
  ])
  t.same(answers, [['queued'], ['queued', 'queued'], ['duplicate'], [], ['queued']])
  t.same(commits, [1, 4], 'the first commits alone; the three that came meanwhile share the next one')
  const queued = (await store.loadChat('-100', 10)).items.map((i) => i.alert.fingerprint)
  t.same(queued, ['a', 'b', 'c', 'd'], 'each event queued once, in the order stored')
})

t.test('a group that cannot be committed fails each of its notifications, and the next group goes on', async (t) => {
  const { store, commit } = await setup(t)
  const commitOnce = store.commit.bind(store)
  let failNext = false
  store.commit = (candidates, policy) => (failNext ? Promise.reject(new Error('Redis went away')) : commitOnce(candidates, policy))
  const first = commit([event('a', 'firing', {}, 1)], POLICY)
  failNext = true
  const failing = [commit([event('b', 'firing', {}, 2)], POLICY), commit([event('c', 'firing', {}, 3)], POLICY)].map((p) => p.catch((e: Error) => e.message))
  await first
  failNext = false
  t.same(await Promise.all(failing), ['Redis went away', 'Redis went away'], 'each is told, so BullMQ retries each')
  t.same(await commit([event('b', 'firing', {}, 2)], POLICY), ['queued'], 'the retry goes through')
})

t.test('a commit says when a chat became due sooner, so the sender is woken only then', async (t) => {
  const { grouped } = await setup(t)
  const first = await grouped([event('a', 'firing', {}, 1)], POLICY)
  t.same(first, { results: ['queued'], dueSooner: true }, 'the first alert makes an idle chat due')
  const second = await grouped([event('b', 'firing', {}, 2)], POLICY)
  t.same(second, { results: ['queued'], dueSooner: false }, 'a chat already due is served at its time: no wake')
  const elsewhere = await grouped([event('c', 'firing', { chat: '-200' }, 3)], POLICY)
  t.same(elsewhere, { results: ['queued'], dueSooner: true }, 'another idle chat is due sooner')
})

/** firing is a stored notification of one firing alert (its fingerprint names it). */
function firing(fingerprint: string): StoredNotification {
  const notification: Webhook = {
    version: '4',
    groupKey: `{}:{alertname="${fingerprint}"}`,
    status: 'firing',
    receiver: 'telegram',
    externalURL: 'http://alertmanager:9093',
    truncatedAlerts: 0,
    alerts: [{ status: 'firing', labels: { alertname: fingerprint }, annotations: {}, startsAt: '2026-11-24T23:01:00Z', fingerprint }],
  }
  return { notification, receivedAt: Date.now() }
}

t.test('the planner plans every notification of a stored batch, and a job stored one notification at a time by an earlier version', async (t) => {
  const url = await testRedisUrl()
  const prefix = uniquePrefix('planner-batches')
  const [producer, commands, worker] = [fastFailRedis(url, 'test-producer'), fastFailRedis(url, 'test-commands'), workerRedis(url, 'test-planner')]
  const queue = createIngestQueue(producer, prefix)
  t.teardown(async () => {
    await queue.close()
    await Promise.all([producer, commands, worker].map(closeRedis))
    await cleanupPrefix(url, prefix)
  })
  // what an earlier version left in the queue at an upgrade: one job per notification
  await queue.add('notification', firing('legacy'), { removeOnComplete: true })
  const store = createNotificationStore(queue, producer)
  await Promise.all(['a', 'b', 'c'].map((fp) => store(firing(fp), 2000)))
  t.equal((await queue.getJobCounts('waiting')).waiting, 2, 'the three stored together are one job')

  const delivery = new DeliveryStore(commands, prefix, 60_000)
  const config = plannerConfig(testConfig('', { TELEGRAM_CHAT_ID: '-100' }))
  const planner = startPlanner({
    connection: worker,
    prefix,
    store: delivery,
    config: () => config,
    metrics: createMetrics(),
    log: pino({ level: 'silent' }),
    onDue: () => {},
  })
  t.teardown(() => planner.close())
  const deadline = Date.now() + 5000
  let queued: string[] = []
  while (queued.length < 4 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50))
    queued = (await delivery.loadChat('-100', 10)).items.map((i) => i.alert.fingerprint)
  }
  t.same(queued, ['legacy', 'a', 'b', 'c'], 'each planned once, in the order stored')
})

t.test('what waits for the commit in flight is committed in arrival order, whatever order it was planned in', async (t) => {
  const { store, commit } = await setup(t)
  const committed: string[][] = []
  const commitOnce = store.commit.bind(store)
  store.commit = (candidates, policy) => {
    committed.push(candidates.map((c) => c.fingerprint))
    return commitOnce(candidates, policy)
  }
  await Promise.all([
    commit([event('a', 'firing', {}, 1)], POLICY),
    // BullMQ started these jobs in another order than they were stored in
    commit([event('d', 'firing', {}, 4)], POLICY),
    commit([event('b', 'firing', {}, 2)], POLICY),
    commit([event('c', 'firing', {}, 3)], POLICY),
  ])
  t.same(committed, [['a'], ['b', 'c', 'd']], 'the three that waited go in the order they were stored')
  t.same(
    (await store.loadChat('-100', 10)).items.map((i) => i.alert.fingerprint),
    ['a', 'b', 'c', 'd'],
  )
})
