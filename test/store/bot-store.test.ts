import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { buttonData, parseButtonData } from '../../src/core/keyboard.js'
import { type Ack, BotStore, type ButtonTarget } from '../../src/store/bot-store.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const STATE_TTL_MS = 60_000

/** replicas opens n BotStores on their own connections under one fresh prefix: n replicas sharing one Redis. */
async function replicas(t: Test, name: string, n = 1) {
  const url = await testRedisUrl()
  const prefix = uniquePrefix(name)
  const connections = Array.from({ length: n }, () => new Redis(url))
  t.teardown(async () => {
    await cleanupPrefix(url, prefix)
    for (const redis of connections) redis.disconnect()
  })
  return { redis: connections[0]!, stores: connections.map((redis) => new BotStore(redis, prefix, STATE_TTL_MS)) }
}

const messageTarget: ButtonTarget = {
  kind: 'message',
  chat: '-1001234567890',
  messageId: 42,
  threadId: 7,
  alerts: [{ fingerprint: '076ae3f4b12baf7a', startsAt: '2026-11-24T23:01:00Z', labels: { alertname: 'HighLatency', instance: 'web-1:9100' } }],
  silence: { ids: ['s-1'], by: '@alice', until: '2026-11-25T01:01:00Z', ack: false },
}

t.test('button tokens are unguessable and fit in callback data', async (t) => {
  const tokens = new Set(Array.from({ length: 1000 }, () => BotStore.newToken()))
  t.equal(tokens.size, 1000, 'no two alike')
  for (const token of [...tokens].slice(0, 50)) {
    t.match(token, /^[A-Za-z0-9_-]{22}$/, '128 random bits, URL-safe')
    const data = buttonData('it999', token)
    t.ok(Buffer.byteLength(data) <= 64, "the longest action and the token fit Telegram's 64 bytes")
    t.same(parseButtonData(data), { action: 'it999', token }, 'and read back')
  }
})

t.test('a button finds what it acts on, on any replica, until its TTL', async (t) => {
  const {
    redis,
    stores: [a, b],
  } = await replicas(t, 'buttons', 2)
  const token = BotStore.newToken()
  t.equal(await a!.target(token), undefined, 'an unknown token acts on nothing')
  await a!.saveTarget(token, messageTarget)
  t.same(await b!.target(token), messageTarget, 'the replica that gets the press reads what another stored')
  const ttl = await redis.pttl(a!.keys.button(token))
  t.ok(ttl > STATE_TTL_MS - 5000 && ttl <= STATE_TTL_MS, 'kept as long as the rest of the alert state by default')

  const page: ButtonTarget = { kind: 'silences', chat: '-100', silences: [{ id: 's-1', text: 'alertname="X"' }], page: 2 }
  const shortLived = BotStore.newToken()
  await a!.saveTarget(shortLived, page, 100)
  t.same(await b!.target(shortLived), page)
  await sleep(200)
  t.equal(await b!.target(shortLived), undefined, "an expired page's buttons act on nothing")
  t.same(await b!.target(token), messageTarget, 'other buttons are unaffected')
})

t.test('acknowledgements are kept until their silences end, and shared by replicas', async (t) => {
  const {
    stores: [a, b],
  } = await replicas(t, 'acks', 2)
  const ack = (silenceId: string, fingerprints: string[]): Ack => ({ silenceId, chat: '-100', messageId: 42, token: BotStore.newToken(), fingerprints })
  t.same(await a!.acks(), [], 'none at first')
  const first = ack('s-1', ['fp1', 'fp2'])
  const second = ack('s-2', ['fp3'])
  await a!.addAck(first)
  await b!.addAck(second)
  const byId = (acks: Ack[]) => [...acks].sort((x, y) => x.silenceId.localeCompare(y.silenceId))
  t.same(byId(await a!.acks()), [first, second], 'each replica sees both')
  const again = { ...first, fingerprints: ['fp1'] }
  await b!.addAck(again)
  t.same(byId(await a!.acks()), [again, second], 'the same silence acknowledged again replaces the old entry')
  await a!.removeAcks([])
  t.equal((await b!.acks()).length, 2, 'removing nothing removes nothing')
  await a!.removeAcks(['s-1', 's-unknown'])
  t.same(await b!.acks(), [second], 'ended silences are forgotten; unknown ids are ignored')
})

t.test('membership answers are cached per chat and user, so every press does not ask Telegram', async (t) => {
  const {
    stores: [a, b],
  } = await replicas(t, 'members', 2)
  const asked: string[] = []
  const ask = (who: string, status: string) => async () => {
    asked.push(who)
    return status
  }
  t.equal(await a!.memberStatus('-100', 1, ask('-100/1', 'administrator')), 'administrator')
  t.equal(await b!.memberStatus('-100', 1, ask('-100/1 again', 'member')), 'administrator', 'the cached answer, on any replica')
  t.equal(await a!.memberStatus('-100', 2, ask('-100/2', 'member')), 'member', 'another user is asked about')
  t.equal(await a!.memberStatus('-200', 1, ask('-200/1', 'left')), 'left', 'the same user in another chat is asked about')
  t.same(asked, ['-100/1', '-100/2', '-200/1'])

  await t.rejects(
    a!.memberStatus('-300', 1, async () => {
      throw new Error('Telegram is down')
    }),
    /Telegram is down/,
    'a failed question fails the check',
  )
  t.equal(await a!.memberStatus('-300', 1, ask('-300/1', 'creator')), 'creator', 'and is not cached: the next press asks again')
})

t.test('polling goes on from the last handled update, on whichever replica polls', async (t) => {
  const {
    stores: [a, b],
  } = await replicas(t, 'offset', 2)
  t.equal(await a!.updateOffset(), undefined, 'nothing handled yet: Telegram decides where to start')
  await a!.setUpdateOffset(880_000_001)
  t.equal(await b!.updateOffset(), 880_000_001, 'the replica taking over goes on from there')
  await b!.setUpdateOffset(880_000_005)
  t.equal(await a!.updateOffset(), 880_000_005)
})
