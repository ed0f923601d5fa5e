import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { DeliveryStore, splitWrites, type Write, WRITES_PER_SCRIPT } from '../../src/store/delivery-store.js'
import type { Candidate } from '../../src/core/candidates.js'
import { candidate, commitResults } from '../helpers/candidates.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

async function setup(t: Test, name: string) {
  const url = await testRedisUrl()
  const prefix = uniquePrefix(name)
  const redis = new Redis(url)
  t.teardown(async () => {
    await cleanupPrefix(url, prefix)
    redis.disconnect()
  })
  return { redis, store: new DeliveryStore(redis, prefix, 60_000), prefix }
}

t.test('the same event is queued once per chat, whoever sends it and however often', async (t) => {
  const { store } = await setup(t, 'dedup')
  t.same(await commitResults(store, [candidate('a', 'firing'), candidate('b', 'firing')]), ['queued', 'queued'])
  t.same(await commitResults(store, [candidate('a', 'firing')]), ['duplicate'], 'a webhook retry or the HA twin')
  t.same(await commitResults(store, [candidate('a', 'firing', { chat: '-200' })]), ['queued'], 'the same alert in another chat is its own event')
  t.same(await commitResults(store, [candidate('a', 'firing', { startsAt: '2026-11-24T23:30:00Z' })]), ['queued'], 'a new startsAt is a new event')
  // two replicas committing the same notification at the same moment: exactly one wins
  const racing = await Promise.all(Array.from({ length: 10 }, () => commitResults(store, [candidate('c', 'firing')])))
  t.equal(racing.flat().filter((r) => r === 'queued').length, 1)
  t.equal((await store.loadChat('-100', 100)).items.length, 4, 'a, b, a again (new startsAt), c')
})

t.test('a resolve needs the firing it resolves, whatever order they are planned in', async (t) => {
  const { store } = await setup(t, 'order')
  await commitResults(store, [candidate('y', 'firing')])
  t.same(await commitResults(store, [candidate('y', 'resolved')]), ['queued'], 'the usual order')
  t.same(await commitResults(store, [candidate('y', 'resolved')]), ['duplicate'])
  t.same(await commitResults(store, [candidate('x', 'resolved')]), ['unannounced'], 'no firing seen (yet): nothing to say')
  t.same(await commitResults(store, [candidate('x', 'firing')]), ['queued'], 'the firing planned late brings its resolve along')
  const { items } = await store.loadChat('-100', 10)
  t.same(
    items.map((i) => `${i.alert.fingerprint}/${i.alert.status}`),
    ['y/firing', 'y/resolved', 'x/firing', 'x/resolved'],
    'firing first, then its resolve',
  )
  t.same(await commitResults(store, [candidate('x', 'firing')]), ['duplicate'])
  t.same(await commitResults(store, [candidate('z', 'resolved', { requireFiringSeen: false })]), ['queued'], 'resolved_unannounced queues it anyway')
  t.same(await commitResults(store, [candidate('z', 'firing')]), ['stale'], 'and a firing after a resolve already sent is not announced')
})

t.test('each outbox keeps the order notifications were stored in, whatever order they are planned in', async (t) => {
  const { store } = await setup(t, 'arrival')
  const stored = (fp: string, status: 'firing' | 'resolved', seq: number) => {
    const c = candidate(fp, status)
    return { ...c, item: { ...c.item, seq } }
  }
  // planners working on several notifications at once finish them in any order
  for (const [fp, seq] of [
    ['a', 1],
    ['c', 3],
    ['b', 2],
    ['e', 5],
    ['d', 4],
  ] as const)
    await commitResults(store, [stored(fp, 'firing', seq)])
  // a resolve stored (6) before its firing (7) and planned first waits; the firing is planned after a later alert (8)
  t.same(await commitResults(store, [stored('f', 'resolved', 6)]), ['unannounced'])
  await commitResults(store, [stored('g', 'firing', 8)])
  await commitResults(store, [stored('f', 'firing', 7)])
  const { items } = await store.loadChat('-100', 20)
  t.same(
    items.map((i) => `${i.alert.fingerprint}/${i.alert.status}`),
    ['a/firing', 'b/firing', 'c/firing', 'd/firing', 'e/firing', 'f/firing', 'f/resolved', 'g/firing'],
  )
  // stored before everything queued: it goes to the head, the others keep their order behind it
  await commitResults(store, [stored('first', 'firing', 0)])
  t.same(
    (await store.loadChat('-100', 20)).items.map((i) => i.alert.fingerprint),
    ['first', 'a', 'b', 'c', 'd', 'e', 'f', 'f', 'g'],
  )
})

t.test('a storm round reads the outbox a page at a time, in order, and loses nothing the planner puts before what it read', async (t) => {
  const { redis, store } = await setup(t, 'pages')
  const stored = (n: number) => {
    const c = candidate(`p${n}`, 'firing')
    return { ...c, item: { ...c.item, seq: n } }
  }
  // 600 alerts, every second arrival number: room for late ones between them
  for (let first = 0; first < 600; first += 64)
    await commitResults(
      store,
      Array.from({ length: Math.min(64, 600 - first) }, (_, i) => stored(2 * (first + i + 1))),
    )
  const names = (items: { alert: { fingerprint: string } }[]) => items.map((i) => i.alert.fingerprint)
  const whole = names((await store.loadChat('-100', 1000)).items)
  t.equal(whole.length, 600)
  t.same(names(await store.readOutbox('-100', 1000)), whole, 'two pages read the same as one piece')
  t.same(names(await store.readOutbox('-100', 550)), whole.slice(0, 550), 'no more than asked')

  // a notification stored earlier is planned just after the first page was read: it goes before items already read
  const lrange = redis.lrange.bind(redis) as (key: string, start: number, stop: number) => Promise<string[]>
  let pages = 0
  ;(redis as unknown as { lrange: typeof lrange }).lrange = async (key, start, stop) => {
    const page = await lrange(key, start, stop)
    if (++pages === 1) t.same(await commitResults(store, [stored(801)]), ['queued'])
    return page
  }
  const read = names(await store.readOutbox('-100', 1000))
  t.equal(read.length, 601, 'every item, the late one too')
  t.equal(new Set(read).size, 601, 'none twice')
  t.equal(read.indexOf('p801'), 400, 'in arrival order: between 800 and 802')
  t.ok(pages >= 3, 'the shifted page was noticed and the outbox read again')

  // an item that cannot be read ends what is read, as in loadChat
  ;(redis as unknown as { lrange: typeof lrange }).lrange = lrange
  await redis.lset(store.keys.outbox('-100'), 520, 'not json')
  t.equal((await store.readOutbox('-100', 1000)).length, 520)
})

t.test('a still-firing alert is queued again as a reminder once its repeat interval has passed', async (t) => {
  const { store } = await setup(t, 'repeat')
  const every = candidate('r', 'firing', { repeatIntervalMs: 1000 })
  t.same(await commitResults(store, [every]), ['queued'])
  t.same(await commitResults(store, [every]), ['duplicate'], 'Alertmanager re-sending the group is not news')
  await new Promise((r) => setTimeout(r, 1000))
  t.same(await commitResults(store, [every]), ['repeated'], 'after the interval: a reminder')
  t.same(await commitResults(store, [every]), ['duplicate'], 'and not again before the next interval')
  const { items } = await store.loadChat('-100', 10)
  t.same(
    items.map((i) => i.repeat ?? false),
    [false, true],
  )
  await commitResults(store, [candidate('r', 'resolved')])
  await new Promise((r) => setTimeout(r, 1000))
  t.same(await commitResults(store, [every]), ['duplicate'], 'no reminders once it resolved')
})

t.test('an alert that keeps firing and resolving says how often it flapped', async (t) => {
  const { store } = await setup(t, 'flap')
  const flapping = { windowMs: 60_000, threshold: 3 }
  for (let i = 0; i < 4; i++) {
    const startsAt = `2026-11-24T23:0${i}:00Z`
    await commitResults(store, [candidate('f', 'firing', { startsAt })], { flapping, criticalWhenMuted: 'silent' })
    await commitResults(store, [candidate('f', 'resolved', { startsAt })], { flapping, criticalWhenMuted: 'silent' })
  }
  const { items } = await store.loadChat('-100', 20)
  t.same(
    items.map((i) => `${i.alert.status}:${i.flaps ?? 0}`),
    ['firing:0', 'resolved:0', 'firing:0', 'resolved:0', 'firing:3', 'resolved:3', 'firing:4', 'resolved:4'],
  )
})

t.test('a held event waits outside the outbox until its mute ends', async (t) => {
  const { store } = await setup(t, 'hold')
  t.same(await commitResults(store, [candidate('n', 'firing')]), ['queued'])
  await store.muteChat('-100', Date.now() + 600)
  t.same(await commitResults(store, [candidate('h', 'firing')]), ['held'])
  t.same(
    (await store.loadChat('-100', 10)).items.map((i) => i.alert.fingerprint),
    ['n'],
    'only the unheld one is waiting to be sent',
  )
  const { chat } = await store.claim('t1', 5000, 0)
  await store.complete(chat!, 't1', { paceMs: 0, inflight: undefined, writes: [], retryInMs: 0 })
  await new Promise((r) => setTimeout(r, 700))
  await store.claim('t2', 5000, 0)
  t.same(
    (await store.loadChat('-100', 10)).items.map((i) => i.alert.fingerprint),
    ['n', 'h'],
    'released when the window ended',
  )
})

t.test('a chat is leased to one worker at a time and paced by Redis time', async (t) => {
  const { store } = await setup(t, 'lease')
  await commitResults(store, [candidate('a', 'firing'), candidate('b', 'firing', { chat: '7' })])
  const first = await store.claim('t1', 5000, 0)
  const second = await store.claim('t2', 5000, 0)
  const third = await store.claim('t3', 5000, 0)
  t.ok(first.chat && second.chat && first.chat !== second.chat, 'two chats, two workers')
  t.equal(third.chat, undefined, 'both chats are leased')
  t.ok(third.waitMs > 4000, 'the next turn is when a lease expires')
  t.equal(
    await store.complete(first.chat!, 'wrong-token', { paceMs: 0, inflight: undefined, writes: [], retryInMs: 0 }),
    false,
    'a worker that lost its lease cannot write',
  )
  // the chat had one item still in its outbox: after the call it is due again only after its pace
  t.equal(await store.complete(first.chat!, 't1', { paceMs: 3000, inflight: undefined, writes: [], retryInMs: 0 }), true)
  const paced = await store.claim('t4', 5000, 0)
  t.equal(paced.chat, undefined)
  t.ok(paced.waitMs > 2500 && paced.waitMs <= 3000, `waits for the chat's pace (${paced.waitMs} ms)`)
})

t.test('the global pace spaces claims across all chats', async (t) => {
  const { store } = await setup(t, 'global')
  await commitResults(
    store,
    ['1', '2', '3'].map((chat) => candidate('a', 'firing', { chat })),
  )
  t.ok((await store.claim('a', 5000, 500)).chat)
  const blocked = await store.claim('b', 5000, 500)
  t.equal(blocked.chat, undefined)
  t.ok(blocked.waitMs > 400, 'the next chat waits for the global slot')
})

t.test("of the chats due at once, the one whose slot ends first goes first (a private chat's 1 s before a group's 3 s)", async (t) => {
  const { store } = await setup(t, 'deadline')
  await commitResults(store, [candidate('g', 'firing', { chat: '-100' })])
  await new Promise((r) => setTimeout(r, 300))
  await commitResults(store, [candidate('p', 'firing', { chat: '7' })])
  const classPace = { privateIntervalMs: 1000, groupIntervalMs: 3000 }
  t.equal((await store.claim('t1', 5000, 0, classPace)).chat, '7', 'the private chat, due 0.3 s later, has lost more of its slot')
  t.equal((await store.claim('t2', 5000, 0, classPace)).chat, '-100', 'then the group')
})

t.test('without class paces, the chats due at once go in the order they became due', async (t) => {
  const { store } = await setup(t, 'due-order')
  await commitResults(store, [candidate('g', 'firing', { chat: '-100' })])
  await new Promise((r) => setTimeout(r, 300))
  await commitResults(store, [candidate('p', 'firing', { chat: '7' })])
  t.equal((await store.claim('t1', 5000, 0)).chat, '-100')
  t.equal((await store.claim('t2', 5000, 0)).chat, '7')
})

t.test('a delivery survives a lost worker: the lease expires and the work is still there', async (t) => {
  const { store } = await setup(t, 'takeover')
  await commitResults(store, [candidate('a', 'firing')])
  const { chat } = await store.claim('dead-worker', 200, 0)
  const { items } = await store.loadChat(chat!, 10)
  t.ok(await store.startDelivery(chat!, 'dead-worker', { take: 1 }, { calls: [], next: 0, attempts: 0, paceMs: 0, receivedAt: 1 }))
  await new Promise((r) => setTimeout(r, 300))
  const again = await store.claim('new-worker', 5000, 0)
  t.equal(again.chat, chat, 'another worker takes the chat over')
  const state = await store.loadChat(chat!, 10)
  t.ok(state.inflight, 'with the delivery that was in flight')
  t.equal(items.length, 1)
})

t.test('an event the planner puts before what a turn read is not lost when the turn takes its items', async (t) => {
  const { store } = await setup(t, 'reordered')
  const stored = (fp: string, seq: number) => {
    const c = candidate(fp, 'firing')
    return { ...c, item: { ...c.item, seq } }
  }
  await commitResults(store, [stored('a', 1), stored('c', 3)])
  const { chat } = await store.claim('tok', 5000, 0)
  const read = (await store.loadChat(chat!, 10)).items
  await commitResults(store, [stored('b', 2)]) // stored before c, planned after the turn read the outbox
  const flight = { calls: [], next: 0, attempts: 0, paceMs: 0, receivedAt: 1 }
  t.notOk(await store.startDelivery(chat!, 'tok', { take: read.length, last: read.at(-1)! }, flight), 'the turn must plan again')
  t.same(
    (await store.loadChat(chat!, 10)).items.map((i) => i.alert.fingerprint),
    ['a', 'b', 'c'],
    'nothing taken',
  )
  t.ok(await store.startDelivery(chat!, 'tok', { take: 3, last: { id: 'c/firing' } }, flight), 'planned again on what is there now')
  t.equal((await store.loadChat(chat!, 10)).waiting, 0)
})

t.test('a migrated group moves its pending work and future events to the supergroup', async (t) => {
  const { store } = await setup(t, 'migrate')
  await commitResults(store, [candidate('a', 'firing'), candidate('b', 'firing')])
  const { chat } = await store.claim('tok', 5000, 0)
  t.ok(await store.startDelivery(chat!, 'tok', { take: 1 }, { calls: [], next: 0, attempts: 0, paceMs: 0, receivedAt: 1 }))
  t.ok(await store.migrate('-100', '-100999', 'tok'))
  const moved = await store.loadChat('-100999', 10)
  t.ok(moved.inflight, 'the delivery in flight moved')
  t.equal(moved.items.length, 1, 'the pending event moved')
  t.same(await commitResults(store, [candidate('c', 'firing')]), ['queued'])
  t.equal((await store.loadChat('-100999', 10)).items.length, 2, 'new events for the old id land in the new chat')
  t.equal((await store.loadChat('-100', 10)).items.length, 0)
})

t.test('a chat that became a supergroup keeps what alertwire remembers about it, under either id', async (t) => {
  const { store } = await setup(t, 'memory')
  const firing = (fp: string, over: Partial<Candidate> = {}) => candidate(fp, 'firing', { repeatIntervalMs: 600_000, ...over })
  await commitResults(store, [firing('a')])
  // the announcement goes out in the group
  const first = await store.claim('t1', 5000, 0)
  t.ok(await store.startDelivery(first.chat!, 't1', { take: 1 }, { calls: [], next: 0, attempts: 0, paceMs: 0, receivedAt: 1 }))
  const record = {
    messageId: 1,
    silent: false,
    groupKey: 'g',
    commonLabels: [],
    externalURL: '',
    truncatedAlerts: 0,
    part: 1,
    parts: 1,
    alerts: [firing('a').item.alert],
  }
  t.ok(await store.complete('-100', 't1', { paceMs: 0, inflight: undefined, writes: store.recordWrites('-100', record, true), retryInMs: 0 }))
  // Telegram says the group moved while the next alert is on its way
  await commitResults(store, [firing('b')])
  const second = await store.claim('t2', 5000, 0)
  t.ok(await store.migrate(second.chat!, '-100999', 't2'))

  t.same(await commitResults(store, [firing('a')]), ['duplicate'], 'Alertmanager repeating the firing: not announced again')
  t.same(await commitResults(store, [firing('a', { chat: '-100999' })]), ['duplicate'], 'nor once the route names the new id')
  t.same(await commitResults(store, [candidate('a', 'resolved')]), ['queued'], 'its resolve is worth a message: its firing was seen here')
  const moved = await store.loadChat('-100999', 10)
  t.same(
    moved.items.map((i) => `${i.alert.fingerprint}/${i.alert.status}`),
    ['b/firing', 'a/resolved'],
    'both wait in the supergroup',
  )
  const { refs, records } = await store.lookups('-100999', moved.items)
  t.same(refs.get('a'), { messageId: 1, startsAt: '2026-11-24T23:00:00Z', elsewhere: true }, 'its message is known to be in the old group')
  t.equal(records.size, 0, "whose message 1 is not the supergroup's message 1")

  await store.muteChat('-100999', Date.now() + 60_000)
  t.ok(await store.chatMutedUntil('-100'), '/mute from the supergroup mutes the chat under both ids')
  t.same(await commitResults(store, [firing('c')]), ['held'], 'an alert routed to the old id is held')
  t.equal(await store.unmuteChat('-100999'), 1, '/unmute there releases it')
  t.same(
    (await store.loadChat('-100999', 10)).items.map((i) => i.alert.fingerprint),
    ['b', 'a', 'c'],
  )

  await store.pushNotice('-100', { kind: 'mark', messageId: 1, silence: null })
  t.equal(
    (await store.loadChat('-100', 10)).notices.length + (await store.loadChat('-100999', 10)).notices.length,
    0,
    'a note about a message in the old group is dropped: it can no longer change',
  )

  const third = await store.claim('t3', 5000, 0)
  t.equal(third.chat, '-100999')
  t.ok(await store.migrate('-100999', '-100777', 't3'), 'and moved once more')
  t.same(
    await commitResults(store, [firing('a'), firing('a', { chat: '-100999' }), firing('a', { chat: '-100777' })]),
    ['duplicate', 'duplicate', 'duplicate'],
    'any of its ids finds the same memory',
  )
  t.same(await commitResults(store, [firing('d')]), ['queued'])
  t.same(
    (await store.loadChat('-100777', 10)).items.map((i) => i.alert.fingerprint),
    ['b', 'a', 'c', 'd'],
    'everything waits at the newest address',
  )
  t.equal((await store.lookups('-100777', [candidate('a', 'resolved').item])).refs.get('a')?.elsewhere, true)
})

t.test('backlog reports depth and age across chats', async (t) => {
  const { store } = await setup(t, 'backlog')
  await commitResults(store, [candidate('a', 'firing'), candidate('b', 'firing', { chat: '5' })])
  const backlog = await store.backlog()
  t.same([backlog.items, backlog.chats, backlog.inflight, backlog.deadLetters], [2, 2, 0, 0])
  t.ok(backlog.oldestReceivedAt && backlog.oldestReceivedAt <= Date.now())
})

t.test("a storm digest's counted alerts are found like its named ones: their resolves mark its last part", async (t) => {
  const { store } = await setup(t, 'counted')
  const alert = (fp: string) => candidate(fp, 'firing').item.alert
  // the last part of a round that named 'n' and only counted 'c' (past storms.digest_max_alerts)
  const record = {
    messageId: 7,
    silent: false,
    groupKey: 'g',
    commonLabels: [],
    externalURL: '',
    truncatedAlerts: 0,
    part: 2,
    parts: 2,
    alerts: [alert('n')],
    digest: { total: 2, bySeverity: [], byAlertname: [], reminders: 0, resolvedRound: false, unnamed: [alert('c')] },
  }
  await commitResults(store, [candidate('n', 'firing'), candidate('c', 'firing')])
  const claimed = await store.claim('t1', 5000, 0)
  t.ok(await store.startDelivery(claimed.chat!, 't1', { take: 2 }, { calls: [], next: 0, attempts: 0, paceMs: 0, receivedAt: 1 }))
  t.ok(await store.complete('-100', 't1', { paceMs: 0, inflight: undefined, writes: store.recordWrites('-100', record, true), retryInMs: 0 }))
  t.same(await commitResults(store, [candidate('n', 'resolved'), candidate('c', 'resolved')]), ['queued', 'queued'])
  const { items } = await store.loadChat('-100', 10)
  const { refs, records } = await store.lookups('-100', items)
  t.same(refs.get('n'), { messageId: 7, startsAt: '2026-11-24T23:00:00Z' }, 'the named alert points at the part')
  t.same(refs.get('c'), { messageId: 7, startsAt: '2026-11-24T23:00:00Z' }, 'so does the counted one: its resolve is not dropped as unknown')
  t.ok(records.has(7), 'and the part can be edited to show it resolved')
})

t.test("a flap folded into a message moves only the flapping alert's ref: another alert announced anew since stays found", async (t) => {
  const { store } = await setup(t, 'flapref')
  const alert = (fp: string, startsAt = '2026-11-24T23:00:00Z') => ({ ...candidate(fp, 'firing').item.alert, startsAt })
  const message = (messageId: number, alerts: ReturnType<typeof alert>[]) => ({
    messageId,
    silent: false,
    groupKey: 'g',
    commonLabels: [],
    externalURL: '',
    truncatedAlerts: 0,
    part: 1,
    parts: 1,
    alerts,
  })
  const write = async (writes: ReturnType<DeliveryStore['recordWrites']>) => {
    await commitResults(store, [candidate(`w${writes.length}${Math.random()}`, 'firing')])
    const claimed = await store.claim('t', 5000, 0)
    t.ok(await store.startDelivery(claimed.chat!, 't', { take: 1 }, { calls: [], next: 0, attempts: 0, paceMs: 0, receivedAt: 1 }))
    t.ok(await store.complete('-100', 't', { paceMs: 0, inflight: undefined, writes, retryInMs: 0 }))
  }
  await write(store.recordWrites('-100', message(7, [alert('a'), alert('b')]), true))
  // b fires again (a new startsAt) and is announced in message 8; then a flaps and its flap edits message 7
  await write(store.recordWrites('-100', message(8, [alert('b', '2026-11-24T23:40:00Z')]), true))
  await write(store.recordWrites('-100', message(7, [alert('a', '2026-11-24T23:45:00Z'), alert('b')]), true, ['a']))
  const resolves = [candidate('a', 'resolved').item, candidate('b', 'resolved').item].map((i) => ({ ...i, alert: { ...i.alert, startsAt: '' } }))
  const { refs } = await store.lookups('-100', resolves)
  t.same(refs.get('a'), { messageId: 7, startsAt: '2026-11-24T23:45:00Z' }, 'the flapping alert points at the message it flaps in')
  t.same(refs.get('b'), { messageId: 8, startsAt: '2026-11-24T23:40:00Z' }, 'the other stays where it was announced last: its resolve finds message 8')
})

t.test('a turn applies every kind of write it carries, in order, thousands at once', async (t) => {
  const { redis, store, prefix } = await setup(t, 'writes')
  await commitResults(store, [candidate('a', 'firing')])
  const { chat } = await store.claim('t1', 5000, 0)
  const key = (name: string) => `${prefix}:test:${name}`
  await redis.rpush(key('photos'), 'sent', 'next')
  await redis.zadd(key('escalations'), 5, 'kept')
  const refs = Array.from({ length: 3000 }, (_, i) => ({ op: 'hset' as const, key: key(`ref:${i}`), field: chat!, value: `{"messageId":${i}}`, ttl: 60_000 }))
  const done = await store.complete(chat!, 't1', {
    paceMs: 0,
    inflight: undefined,
    retryInMs: 0,
    writes: [
      { op: 'set', key: key('record'), value: 'x'.repeat(1_000_000), ttl: 60_000 },
      ...refs,
      { op: 'push', key: key('letters'), value: 'one', cap: 2 },
      { op: 'push', key: key('letters'), value: 'two', cap: 2 },
      { op: 'push', key: key('letters'), value: 'three', cap: 2 },
      { op: 'shift', key: key('photos'), value: 'sent' },
      { op: 'shift', key: key('photos'), value: 'sent' },
      { op: 'zadd', key: key('escalations'), member: 'kept', score: 99 },
      { op: 'zadd', key: key('escalations'), member: 'new', score: 7 },
    ],
  })
  t.ok(done)
  t.equal((await redis.get(key('record')))?.length, 1_000_000, 'a record of a megabyte, whole')
  const ttl = await redis.pttl(key('record'))
  t.ok(ttl > 50_000 && ttl <= 60_000, 'with its time to live')
  t.equal(await redis.hget(key('ref:2999'), chat!), '{"messageId":2999}', 'the last of 3,000 refs')
  t.ok((await redis.pttl(key('ref:0'))) > 50_000, 'refs expire')
  t.same(await redis.lrange(key('letters'), 0, -1), ['three', 'two'], 'a capped list keeps the newest')
  t.same(await redis.lrange(key('photos'), 0, -1), ['next'], 'a shift drops the head only while it is still that value')
  t.same(await redis.zrange(key('escalations'), '0', '-1', 'WITHSCORES'), ['kept', '5', 'new', '7'], 'a zadd never moves what is there')
})

t.test("a storm part's thousands of refs go to Redis in pieces, so webhooks are stored between them", async (t) => {
  const { redis, store, prefix } = await setup(t, 'pieces')
  await commitResults(store, [candidate('a', 'firing')])
  const { chat } = await store.claim('t1', 5000, 0)
  const refs = Array.from({ length: 1200 }, (_, i) => ({ op: 'hset' as const, key: `${prefix}:test:ref:${i}`, field: chat!, value: String(i), ttl: 60_000 }))
  const monitor = await redis.monitor()
  t.teardown(() => monitor.disconnect())
  const scriptArgs: number[] = []
  const marks: string[] = []
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (/^echo$/i.test(args[0] ?? '')) marks.push(args[1] ?? '')
    if (/^eval(sha)?$/i.test(args[0] ?? '') && args.some((a) => a.startsWith(`${prefix}:test:ref:`))) scriptArgs.push(args.length)
  })
  // MONITOR reports on its own connection, in the order Redis ran the commands, and may lag
  // behind: a marker sent after a step tells when everything before it has been seen
  const seenAllUpTo = async (mark: string) => {
    await redis.echo(mark)
    for (let waited = 0; !marks.includes(mark) && waited < 10_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const turn = { paceMs: 0, inflight: undefined, retryInMs: 0, writes: refs }
  t.equal(await store.complete(chat!, 'someone-else', turn), false, 'a worker that lost its lease is refused at the first piece')
  t.equal(await redis.exists(`${prefix}:test:ref:0`), 0, 'and writes none of them')
  await seenAllUpTo(`${prefix}:refused`)
  scriptArgs.length = 0
  t.ok(await store.complete(chat!, 't1', turn))
  t.equal(await redis.hget(`${prefix}:test:ref:1199`, chat!), '1199', 'every ref is written')
  await seenAllUpTo(`${prefix}:done`)
  const pieces = Math.ceil(refs.length / WRITES_PER_SCRIPT)
  t.equal(scriptArgs.length, pieces, `1,200 writes: ${pieces - 1} pieces ahead, the rest with the end of the turn`)
  t.ok(
    scriptArgs.every((n) => n <= 3 + 8 + 5 + WRITES_PER_SCRIPT * 5),
    `no script carries more than ${WRITES_PER_SCRIPT} writes (${scriptArgs.join(', ')} arguments)`,
  )
})

t.test('splitWrites: many writes go ahead in pieces; what must happen once stays with the end of the turn', async (t) => {
  const hset = (i: number): Write => ({ op: 'hset', key: `ref:${i}`, field: 'c', value: String(i), ttl: 1 })
  const push: Write = { op: 'push', key: 'letters', value: 'x', cap: 5 }
  const shift: Write = { op: 'shift', key: 'photos', value: 'p' }
  const names = (writes: readonly Write[]) => writes.map((w) => (w.op === 'hset' ? w.key : w.op)).join(' ')
  const cases: [string, Write[], string[], string][] = [
    ['no writes', [], [], ''],
    ['as many as one script takes: one COMPLETE, in order', [push, hset(1), shift], [], 'push ref:1 shift'],
    ['more: repeatable pieces first', [hset(1), push, hset(2), hset(3), hset(4)], ['ref:1 ref:2 ref:3'], 'ref:4 push'],
    ['what must happen once never goes ahead', [push, shift, hset(1), push], ['ref:1'], 'push shift push'],
    ['an exact multiple', [1, 2, 3, 4, 5, 6].map(hset), ['ref:1 ref:2 ref:3'], 'ref:4 ref:5 ref:6'],
  ]
  for (const [name, writes, ahead, last] of cases) {
    const split = splitWrites(writes, 3)
    t.same({ ahead: split.ahead.map(names), last: names(split.last) }, { ahead, last }, name)
  }
})
