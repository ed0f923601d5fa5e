import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import type { Notice } from '../../src/core/delivery.js'
import type { EscalationState } from '../../src/core/escalation.js'
import { DeliveryStore } from '../../src/store/delivery-store.js'
import { EscalationStore } from '../../src/store/escalation-store.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const TTL_MS = 60_000
const CHAT = '-1001234567890'
const OTHER = '-1009876543210'

/** replicas opens n escalation stores on their own connections under one fresh prefix: n replicas sharing one Redis. */
async function replicas(t: Test, name: string, n = 1) {
  const url = await testRedisUrl()
  const prefix = uniquePrefix(name)
  const connections = Array.from({ length: n }, () => new Redis(url))
  t.teardown(async () => {
    await cleanupPrefix(url, prefix)
    for (const redis of connections) redis.disconnect()
  })
  return {
    redis: connections[0]!,
    delivery: new DeliveryStore(connections[0]!, prefix, TTL_MS),
    stores: connections.map((redis) => new EscalationStore(redis, prefix, TTL_MS)),
  }
}

const reply: Notice = { kind: 'send', html: 'step 1 <a href="tg://user?id=1">A</a>', plain: 'step 1 A', replyTo: 42 }
const copy: Notice = { kind: 'send', html: 'copy', plain: 'copy', threadId: 3 }

t.test('a scheduled escalation is due at its time, with its state', async (t) => {
  const { stores } = await replicas(t, 'esc-due')
  const [store] = stores
  await store!.schedule(CHAT, 42, 'pager', 1000, 1000)
  await store!.schedule(CHAT, 43, 'pager', 5000, 65_000)
  const due = await store!.due(2000, 10)
  t.same(due, [{ member: `${CHAT}/42`, chat: CHAT, messageId: 42, state: { policy: 'pager', fired: 0, firstSentAt: 1000 } }])
  await store!.schedule(CHAT, 42, 'other', 9, 9)
  t.equal((await store!.due(2000, 10))[0]!.state!.policy, 'pager', 'scheduling again keeps the escalation that runs')
})

t.test('two replicas advance one step: one wins, the notices are pushed once', async (t) => {
  const { stores, delivery } = await replicas(t, 'esc-cas', 2)
  await stores[0]!.schedule(CHAT, 42, 'pager', 1000, 1000)
  const fired: EscalationState = { policy: 'pager', fired: 1, firstSentAt: 1000, lastFiredAt: 1500 }
  const change = {
    expected: 0,
    next: { state: fired, dueAt: 301_500 },
    notices: [
      { chat: CHAT, notice: reply },
      { chat: OTHER, notice: copy },
    ],
  }
  const results = await Promise.all(stores.map((s) => s.advance(CHAT, 42, change)))
  t.same(results.sort(), [false, true], 'exactly one wins')
  t.same((await delivery.loadChat(CHAT, 10)).notices, [reply], 'the reply is queued once in the alert chat')
  t.same((await delivery.loadChat(OTHER, 10)).notices, [copy], 'the copy once in the other chat')
  const due = await stores[1]!.due(400_000, 10)
  t.same(due[0]!.state, fired, 'the state advanced')
  t.equal(await stores[1]!.advance(CHAT, 42, change), false, 'a restart replaying the same plan changes nothing')
  t.same((await delivery.loadChat(CHAT, 10)).notices, [reply], 'and pushes nothing again')
  t.same(await stores[0]!.due(300_000, 10), [], 'not due before its time')
})

t.test('the end removes the escalation; parking keeps its count', async (t) => {
  const { stores } = await replicas(t, 'esc-end')
  const [store] = stores
  await store!.schedule(CHAT, 42, 'pager', 1000, 1000)
  const parked: EscalationState = { policy: 'pager', fired: 0, firstSentAt: 1000, parked: true }
  t.ok(await store!.advance(CHAT, 42, { expected: 0, next: { state: parked, dueAt: 6000 }, notices: [] }))
  t.same((await store!.due(6000, 10))[0]!.state, parked)
  const resumed: EscalationState = { policy: 'pager', fired: 1, firstSentAt: 1000, lastFiredAt: 7000 }
  t.ok(await store!.advance(CHAT, 42, { expected: 0, next: { state: resumed, dueAt: 9000 }, notices: [] }))
  t.same((await store!.due(9000, 10))[0]!.state, resumed, 'parked is cleared when it resumes')
  t.ok(await store!.advance(CHAT, 42, { expected: 1, next: undefined, notices: [] }))
  t.equal(await store!.pending(), 0, 'ended: nothing scheduled')
  t.same(await store!.due(Number.MAX_SAFE_INTEGER, 10), [])
})

t.test('a notice for a group that became a supergroup is dropped, as pushNotice drops it', async (t) => {
  const { stores, redis, delivery } = await replicas(t, 'esc-moved')
  const [store] = stores
  await redis.hset(store!.keys.chatmap, '-4242', CHAT)
  await store!.schedule('-4242', 7, 'pager', 1000, 1000)
  const fired: EscalationState = { policy: 'pager', fired: 1, firstSentAt: 1000, lastFiredAt: 1000 }
  t.ok(await store!.advance('-4242', 7, { expected: 0, next: { state: fired, dueAt: 2000 }, notices: [{ chat: '-4242', notice: reply }] }))
  t.same((await delivery.loadChat('-4242', 10)).notices, [])
})
