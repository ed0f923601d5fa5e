/**
 * Graphs in a chat's lane: a DeliveryStore and a GraphStore on real Redis, the real sender and
 * Telegram client against the strict fake. A graph waits behind everything else the chat is told,
 * goes as a photo replying to its message at the chat's pace, and is skipped (and counted) in a
 * storm or once stale; a graph without a picture goes as its caption.
 */
import { Redis } from 'ioredis'
import { PNG } from 'pngjs'
import t, { type Test } from 'tap'
import { plannerConfig, senderConfig } from '../../src/config/slices.js'
import { planNotification } from '../../src/core/candidates.js'
import type { Call } from '../../src/core/delivery.js'
import { GRAPH_MAX_WAIT_MS, type PhotoJob } from '../../src/core/photos.js'
import type { Webhook, WebhookAlert } from '../../src/core/webhook.js'
import { createLogger } from '../../src/log.js'
import { createMetrics } from '../../src/metrics.js'
import { DeliveryStore } from '../../src/store/delivery-store.js'
import { GraphStore } from '../../src/store/graph-store.js'
import { createTelegramClient } from '../../src/telegram/client.js'
import { drawForChat } from '../../src/workers/graph-jobs.js'
import { Sender } from '../../src/workers/sender.js'
import { startFakeTelegram } from '../fakes/telegram.js'
import { mergeYaml, testConfig } from '../helpers/config.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { commitResults } from '../helpers/candidates.js'

const GROUP = -1001000000002
const CHAT = String(GROUP)
const FAST = 'telegram: {pace: {group: "10/1s", private: "10/1s", headroom: 0.05}}'

function alert(fingerprint: string): WebhookAlert {
  return {
    status: 'firing',
    fingerprint,
    startsAt: '2026-11-24T23:01:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    labels: { alertname: `Alert_${fingerprint}`, severity: 'critical', instance: 'web-1:9100' },
    annotations: {},
  }
}

async function setup(t: Test, yaml = '') {
  const fake = await startFakeTelegram({
    chats: [{ id: GROUP, type: 'supergroup' }],
    limits: { group: { max: 10, windowMs: 1000 }, private: null, global: null },
  })
  const config = testConfig(mergeYaml(FAST, yaml), { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_URL: fake.url, TELEGRAM_CHAT_ID: CHAT })
  const url = await testRedisUrl()
  const prefix = uniquePrefix(t.name)
  const redis = new Redis(url)
  const store = new DeliveryStore(redis, prefix, config.delivery.stateTtlMs)
  const graphs = new GraphStore(redis, prefix)
  const metrics = createMetrics()
  const seen: { call: Call; messageId?: number }[] = []
  const sender = new Sender({
    store,
    telegram: createTelegramClient({ token: fake.token, apiUrl: fake.url, timeoutMs: 5000 }),
    metrics,
    log: createLogger({ level: 'silent' }),
    config: () => senderConfig(config),
    graphs: {
      afterCall: (_chat, call, messageId) => void seen.push({ call, ...(messageId ? { messageId } : {}) }),
      png: (id) => graphs.png(id),
      storm: (chat) => graphs.storm(chat, 60_000),
    },
  })
  t.teardown(async () => {
    await sender.stop()
    await cleanupPrefix(url, prefix)
    redis.disconnect()
    await fake.close()
  })
  let seq = 0
  const queue = async (alerts: WebhookAlert[], groupKey: string) => {
    const notification: Webhook = {
      receiver: 'telegram',
      status: 'firing',
      alerts,
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      externalURL: 'http://alertmanager:9093',
      version: '4',
      groupKey,
      truncatedAlerts: 0,
    }
    const planner = plannerConfig(config)
    await commitResults(store, planNotification(planner.routing, notification, { receivedAt: Date.now(), seq: ++seq }, planner.plan).candidates, planner.events)
  }
  const counted = async () => (await metrics.registry.getSingleMetricAsString('alertwire_graphs_total')).split('\n').filter((l) => !l.startsWith('#'))
  return { fake, store, graphs, sender, queue, seen, counted }
}

const picture = PNG.sync.write(Object.assign(new PNG({ width: 400, height: 225 }), {}))
const job = (over: Partial<PhotoJob> = {}): PhotoJob => ({
  id: `p-${Math.random()}`,
  silent: true,
  caption: '📈 <b>Alert_a</b>',
  png: true,
  queuedAt: Date.now(),
  kind: 'alert',
  ...over,
})

t.test('a graph waits behind the alerts, then replies to its message as a photo; the sender tells the graphs what it sent', async (t) => {
  const { fake, graphs, sender, queue, seen, counted } = await setup(t)
  await queue([alert('a')], 'g1')
  await queue([alert('b')], 'g2')
  const first = job({ replyTo: 1 })
  await graphs.queuePhoto(CHAT, first, picture, 60_000)
  await graphs.queuePhoto(CHAT, job({ replyTo: 2, png: false, caption: '📈 <b>Alert_b</b>\n⚠️ no graph: Prometheus is not answering' }), undefined, 60_000)
  sender.start()
  await fake.waitFor(() => fake.messages(GROUP).length === 4, 8000, 'two alerts and two graphs')
  const [a, b, photo, text] = fake.messages(GROUP)
  t.match([a!.text, b!.text], [/Alert_a/, /Alert_b/], 'the alerts first, though the graphs were queued before them')
  t.same([photo!.photo?.width, photo!.photo?.height, photo!.reply_to_message_id, photo!.text], [400, 225, 1, '📈 Alert_a'])
  t.ok(photo!.photo?.data.equals(picture), 'the picture as drawn')
  t.equal(photo!.disable_notification, true, 'a graph never rings')
  t.same(
    [text!.photo, text!.reply_to_message_id, text!.text],
    [undefined, 2, '📈 Alert_b\n⚠️ no graph: Prometheus is not answering'],
    'no picture: the caption says why',
  )
  const gaps = fake.calls.filter((c) => c.status === 200 && /^send/.test(c.method)).map((c, i, all) => (i ? c.at - all[i - 1]!.at : 100))
  t.ok(
    gaps.every((gap) => gap >= 90),
    `paced like every message: ${gaps.join(', ')} ms`,
  )
  t.match(seen, [
    { call: { op: 'send', announce: true }, messageId: a!.message_id },
    { call: { op: 'send', announce: true }, messageId: b!.message_id },
  ])
  // the fake has the photo a moment before the sender has counted it
  const deadline = Date.now() + 5000
  while (!(await counted()).some((l) => /outcome="sent"\} 2/.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  t.ok(
    (await counted()).some((l) => /outcome="sent"\} 2/.test(l)),
    'counted sent',
  )
})

t.test('in a storm the waiting graphs are dropped and counted; a stale or expired graph is skipped', async (t) => {
  const { fake, graphs, sender, queue, counted } = await setup(t, 'storms: {max_delay: 1s}\ntelegram: {pace: {group: "2/1s"}}')
  await graphs.queuePhoto(CHAT, job({ replyTo: 1 }), picture, 60_000)
  await graphs.queuePhoto(CHAT, job({ replyTo: 1 }), picture, 60_000)
  for (let i = 0; i < 12; i++) await queue([alert(`s${i}`)], `storm-${i}`)
  sender.start()
  await fake.waitFor(() => fake.messages(GROUP).some((m) => /storm|digest|alerts/i.test(m.text)), 8000, 'a digest')
  await new Promise((r) => setTimeout(r, 1500))
  t.notOk(
    fake.messages(GROUP).some((m) => m.photo),
    'no graph sent during the storm',
  )
  t.ok(await graphs.inStorm(CHAT), 'graphs for the chat are not drawn for a while')
  t.ok(
    (await counted()).some((l) => /outcome="skipped_storm"\} 2/.test(l)),
    'both counted skipped_storm',
  )
  await sender.stop()

  const { fake: quiet, graphs: quietGraphs, sender: quietSender, counted: quietCounted } = await setup(t)
  await quietGraphs.queuePhoto(CHAT, job({ queuedAt: Date.now() - GRAPH_MAX_WAIT_MS - 1000 }), picture, 60_000)
  await quietGraphs.queuePhoto(CHAT, job(), undefined, 60_000) // its picture is gone (expired)
  quietSender.start()
  await new Promise((r) => setTimeout(r, 800))
  t.equal(quiet.messages(GROUP).length, 0, 'nothing sent')
  t.ok(
    (await quietCounted()).some((l) => /outcome="skipped_stale"\} 2/.test(l)),
    'both counted skipped_stale',
  )
})

t.test('the graphs worker does not draw for a chat in a storm, nor a request that waited too long', async (t) => {
  const { graphs, store } = await setup(t)
  const metrics = createMetrics()
  let drawn = 0
  const deps = {
    graphs,
    draw: async () => {
      drawn++
      return { caption: 'x', outcome: 'empty' as const }
    },
    metrics,
    log: createLogger({ level: 'silent' }),
    onQueued: () => undefined,
  }
  const query = { expr: 'up', plotExpr: 'up', startMs: 0, endMs: 1, stepSeconds: 1, title: 'up' }
  const request = { chat: CHAT, silent: true, query, kind: 'command' as const, requestedAt: Date.now() }
  t.equal(await drawForChat(deps, { ...request, requestedAt: Date.now() - GRAPH_MAX_WAIT_MS - 1 }), 'skipped_stale')
  t.equal(await drawForChat(deps, request), 'empty', 'drawn when the chat is quiet')
  t.equal((await store.loadChat(CHAT, 1)).photo?.job?.caption, 'x', 'queued in the chat')
  await graphs.storm(CHAT, 60_000)
  t.equal(await drawForChat(deps, request), 'skipped_storm')
  t.equal(drawn, 1, 'Prometheus asked once: not for the stale request, not in the storm')
  t.match(await metrics.registry.getSingleMetricAsString('alertwire_graphs_total'), /outcome="skipped_storm"\} 1/)
})
