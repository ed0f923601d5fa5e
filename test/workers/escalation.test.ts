/**
 * The escalation watcher on real Redis with an injected clock: what each check queues for the
 * chats, who is mentioned (an /oncall override made in the chat wins over the rota), and what a
 * taken or resolved message does to its escalation.
 */
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import type { MessageRecord, Notice } from '../../src/core/delivery.js'
import { createLogger } from '../../src/log.js'
import { createMetrics } from '../../src/metrics.js'
import { DeliveryStore } from '../../src/store/delivery-store.js'
import { EscalationStore } from '../../src/store/escalation-store.js'
import { Lease } from '../../src/store/lease.js'
import { RotaStore } from '../../src/store/rota-store.js'
import { EscalationWatcher } from '../../src/workers/escalation.js'
import { testConfig } from '../helpers/config.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const CHAT = '-1001234567890'
const T0 = Date.parse('2026-12-01T10:00:00Z')
const config = testConfig(`
people:
  alice: {id: 111, name: Alice, username: alice}
  bob: {id: 222, name: Bob}
rotas:
  primary:
    layers: [{rotation: weekly, handoff: "09:00", day: monday, start: "2026-01-05", people: [alice]}]
escalation:
  policies:
    pager:
      steps:
        - {after: 0m, mention: ["rota:primary"]}
        - {after: 5m, mention: [bob]}
`)

const record: MessageRecord = {
  messageId: 42,
  silent: false,
  groupKey: 'g',
  route: 'default',
  alerts: [{ fingerprint: 'f1', status: 'firing', labels: { alertname: 'DiskFull', severity: 'critical' }, annotations: {}, startsAt: '2026-12-01T09:59:00Z' }],
  commonLabels: [],
  externalURL: 'http://am',
  truncatedAlerts: 0,
  part: 1,
  parts: 1,
}

async function setup(t: Test) {
  const url = await testRedisUrl()
  const prefix = uniquePrefix('esc-worker')
  const redis = new Redis(url)
  t.teardown(async () => {
    await cleanupPrefix(url, prefix)
    redis.disconnect()
  })
  let now = T0
  const delivery = new DeliveryStore(redis, prefix, 60_000)
  const store = new EscalationStore(redis, prefix, 60_000)
  const rotas = new RotaStore(redis, prefix, () => now)
  const metrics = createMetrics()
  const watcher = new EscalationWatcher({
    store,
    delivery,
    rotas,
    config: () => ({ escalation: config.escalation, oncall: config.oncall, severities: config.messages.severities }),
    metrics,
    log: createLogger({ level: 'silent' }),
    lease: new Lease(redis, store.keys.escalationWatcher, 10_000),
    retryMs: 1000,
    now: () => now,
  })
  const save = (r: MessageRecord) => redis.set(delivery.keys.message(CHAT, r.messageId), JSON.stringify(r))
  const notices = async (): Promise<Notice[]> => (await redis.lrange(delivery.keys.notices(CHAT), 0, -1)).map((n) => JSON.parse(n) as Notice)
  const at = (ms: number) => {
    now = ms
  }
  await save(record)
  await store.schedule(CHAT, 42, 'pager', T0, T0)
  return { watcher, store, rotas, metrics, save, notices, at }
}

t.test('each check fires what is due, once; an override made in the chat is who the rota mentions', async (t) => {
  const { watcher, rotas, metrics, notices, at } = await setup(t)
  await rotas.addOverride('primary', { who: [config.oncall.people.get('bob')!], fromMs: T0 - 60_000, untilMs: T0 + 3_600_000, by: '@alice' })
  await watcher.check()
  await watcher.check()
  const first = await notices()
  t.equal(first.length, 2, 'the reply and the timeline mark, once though checked twice')
  t.match(first[0], { kind: 'send', replyTo: 42, html: /tg:\/\/user\?id=222/ }, 'Bob, on call by the override, not Alice')
  t.match(first[1], { kind: 'mark', messageId: 42, events: [{ kind: 'escalated', detail: 'step 1: Bob' }] })
  at(T0 + 4 * 60_000)
  await watcher.check()
  t.equal((await notices()).length, 2, 'step 2 is not due yet')
  at(T0 + 5 * 60_000)
  await watcher.check()
  t.equal((await notices()).length, 4, 'step 2')
  t.match(await metrics.registry.getSingleMetricAsString('alertwire_escalations_total'), /policy="pager",step="2"\} 1/)
})

t.test('taken: it waits; resolved: it ends', async (t) => {
  const { watcher, store, save, notices, at } = await setup(t)
  await save({ ...record, taken: { by: { id: 1, name: 'Carol' }, at: new Date(T0).toISOString() } })
  await watcher.check()
  t.same(await notices(), [], 'nothing while taken')
  t.equal(await store.pending(), 1, 'still scheduled, parked')
  await save({ ...record, alerts: record.alerts.map((a) => ({ ...a, status: 'resolved' as const })) })
  at(T0 + 60_000)
  await watcher.check()
  t.same(await notices(), [], 'nothing once resolved')
  t.equal(await store.pending(), 0, 'and it is over')
})
