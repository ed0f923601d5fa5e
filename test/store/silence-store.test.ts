/**
 * The silence watcher's store on real Redis: the index the sender fills, what a message shows
 * (its button target, else the watcher's own note, else the record), and the one atomic step that
 * changes it: two watchers that read the same state change it once; a reminder is sent once.
 */
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import type { MessageRecord } from '../../src/core/delivery.js'
import type { SilenceMark } from '../../src/core/incident.js'
import { DeliveryStore } from '../../src/store/delivery-store.js'
import { SilenceStore } from '../../src/store/silence-store.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const CHAT = '-1001000000001'
const mark: SilenceMark = { ids: ['x1'], by: 'carol', until: '2026-12-01T05:00:00.000Z', ack: false, external: true, comment: 'maintenance' }

async function setup(t: Test) {
  const url = await testRedisUrl()
  const prefix = uniquePrefix('silence-store')
  const redis = new Redis(url)
  t.teardown(async () => {
    await cleanupPrefix(url, prefix)
    redis.disconnect()
  })
  return { redis, store: new SilenceStore(redis, prefix, 60_000), delivery: new DeliveryStore(redis, prefix, 60_000) }
}

const record = (messageId: number, token?: string): MessageRecord =>
  ({
    messageId,
    silent: false,
    groupKey: 'g',
    alerts: [{ fingerprint: 'f1', status: 'firing', labels: { alertname: 'DiskFull' }, annotations: {}, startsAt: '2026-12-01T03:00:00Z' }],
    commonLabels: [],
    externalURL: '',
    truncatedAlerts: 0,
    part: 1,
    parts: 1,
    ...(token ? { token } : {}),
  }) as unknown as MessageRecord

t.test('an announced message enters the index; forget takes it out', async (t) => {
  const { store, delivery, redis } = await setup(t)
  const write = delivery.recordWrites(CHAT, record(8), true).find((w) => w.op === 'hset' && w.key === store.keys.openMessages)
  t.ok(write, 'the sender indexes a message it announces')
  t.notOk(
    delivery.recordWrites(CHAT, record(9), false).some((w) => w.op === 'hset' && w.key === store.keys.openMessages),
    'an edit that announces nothing does not',
  )
  if (write?.op === 'hset') await redis.hset(write.key, write.field, write.value)
  t.same(await store.openMessages(), [{ field: `${CHAT}|8`, chat: CHAT, messageId: 8 }])
  await store.forget([`${CHAT}|8`])
  t.same(await store.openMessages(), [])
  if (write?.op === 'hset') await redis.hset(write.key, write.field, write.value)
  await store.forgetAll()
  t.same(await store.openMessages(), [], 'the watcher turned off drops the index')
})

t.test('without buttons: two watchers that read the same state change the message once', async (t) => {
  const { store, delivery } = await setup(t)
  const a = await store.shown(CHAT, 7, undefined, undefined)
  const b = await store.shown(CHAT, 7, undefined, undefined)
  const notice = { kind: 'mark' as const, messageId: 7, silence: mark, events: [] }
  t.equal(await store.change(CHAT, a, mark, [notice]), true, 'the first changes it')
  t.equal(await store.change(CHAT, b, mark, [notice]), false, 'the second read a state that is gone')
  t.same((await delivery.loadChat(CHAT, 1)).notices, [notice], 'one notice for the chat')
  const now = await store.shown(CHAT, 7, undefined, undefined)
  t.same(now.silence, mark, 'the watcher remembers what it made the message show')
  t.equal(await store.change(CHAT, now, null, []), true)
  t.notOk((await store.shown(CHAT, 7, undefined, { ...mark, ids: ['old'] })).silence, 'cleared stays cleared, whatever the record still says')
})

t.test('with buttons: the button target is what the message shows; a change by the bot in between wins', async (t) => {
  const { store, redis } = await setup(t)
  const token = 'T'.repeat(22)
  const target = { kind: 'message', chat: CHAT, messageId: 7, alerts: [] }
  await redis.set(store.keys.button(token), JSON.stringify(target), 'PX', 60_000)
  const read = await store.shown(CHAT, 7, token, undefined)
  t.notOk(read.silence)
  await redis.set(store.keys.button(token), JSON.stringify({ ...target, silence: { ...mark, external: false } }), 'PX', 60_000)
  t.equal(await store.change(CHAT, read, mark, []), false, 'the bot silenced it meanwhile: nothing done')
  const again = await store.shown(CHAT, 7, token, undefined)
  t.equal(await store.change(CHAT, again, null, []), true)
  t.same(JSON.parse((await redis.get(store.keys.button(token)))!), target, 'the target keeps the rest, without the silence')
  t.ok((await redis.pttl(store.keys.button(token))) > 0, 'and its TTL')
})

t.test('a reminder is sent once per silence and end; a chat that became a supergroup gets none', async (t) => {
  const { store, delivery, redis } = await setup(t)
  const send = { kind: 'send' as const, html: 'x', plain: 'x', replyTo: 7 }
  t.equal(await store.remindOnce(CHAT, 'c1', mark.until, [send]), true)
  t.equal(await store.remindOnce(CHAT, 'c1', mark.until, [send]), false)
  t.equal(await store.remindOnce(CHAT, 'c1', '2026-12-01T06:00:00.000Z', [send]), true, 'extended: its new end is reminded of')
  t.equal((await delivery.loadChat(CHAT, 1)).notices.length, 2)
  await redis.hset(store.keys.chatmap, '-100', CHAT)
  t.equal(await store.remindOnce('-100', 'c2', mark.until, [send]), false)
})
