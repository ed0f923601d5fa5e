/**
 * The sender as an executor, without the whole app: a DeliveryStore on real Redis (a prefix of its
 * own), the real Telegram client against the strict fake, and alerts queued the way the planner
 * queues them.
 */
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { plannerConfig, senderConfig } from '../../src/config/slices.js'
import { planNotification } from '../../src/core/candidates.js'
import type { Webhook, WebhookAlert } from '../../src/core/webhook.js'
import { createLogger } from '../../src/log.js'
import { createMetrics } from '../../src/metrics.js'
import { DeliveryStore } from '../../src/store/delivery-store.js'
import { createTelegramClient, type TelegramPort } from '../../src/telegram/client.js'
import { Sender } from '../../src/workers/sender.js'
import { type FakeTelegramOptions, startFakeTelegram } from '../fakes/telegram.js'
import { mergeYaml, testConfig } from '../helpers/config.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { commitResults } from '../helpers/candidates.js'

const GROUP = -1001000000001
/** a tenth of a second between calls instead of Telegram's seconds; the fake enforces the same */
const FAST = { yaml: 'telegram: {pace: {group: "10/1s", private: "10/1s", headroom: 0.05}}', limits: { group: { max: 10, windowMs: 1000 } } }

function alert(fingerprint: string, status: 'firing' | 'resolved' = 'firing', labels: Record<string, string> = {}): WebhookAlert {
  return {
    status,
    fingerprint,
    startsAt: '2026-11-24T23:01:00Z',
    endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-24T23:11:00Z',
    labels: { alertname: `Alert_${fingerprint}`, severity: 'critical', instance: 'web-1.example.com:9100', ...labels },
    annotations: { summary: `summary of ${fingerprint}` },
  }
}

/** setup: a fake Telegram with one supergroup, a store, and a sender over them (not started). */
async function setup(t: Test, options: { yaml?: string; fake?: FakeTelegramOptions; telegram?: (real: TelegramPort) => TelegramPort } = {}) {
  const fake = await startFakeTelegram({ chats: [{ id: GROUP, type: 'supergroup' }], limits: FAST.limits, ...options.fake })
  const config = testConfig(mergeYaml(FAST.yaml, options.yaml ?? ''), {
    TELEGRAM_BOT_TOKEN: fake.token,
    TELEGRAM_API_URL: fake.url,
    TELEGRAM_CHAT_ID: String(GROUP),
  })
  const url = await testRedisUrl()
  const prefix = uniquePrefix(t.name)
  const redis = new Redis(url)
  const store = new DeliveryStore(redis, prefix, config.delivery.stateTtlMs)
  const real = createTelegramClient({ token: fake.token, apiUrl: fake.url, timeoutMs: config.telegram.requestTimeoutMs })
  const logs: string[] = []
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  const metrics = createMetrics()
  const deps = {
    store,
    telegram: options.telegram?.(real) ?? real,
    metrics,
    log: createLogger({ level: 'debug', destination }),
    config: () => senderConfig(config),
  }
  const sender = new Sender(deps)
  t.teardown(async () => {
    await sender.stop()
    await cleanupPrefix(url, prefix)
    redis.disconnect()
    await fake.close()
  })
  let seq = 0
  /** queue plans a notification and commits its events, as the planner does */
  const queue = async (alerts: WebhookAlert[], groupKey = 'g') => {
    const status = alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved'
    const notification: Webhook = {
      receiver: 'telegram',
      status,
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
    const plan = planNotification(planner.routing, notification, { receivedAt: Date.now(), seq: ++seq }, planner.plan)
    await commitResults(store, plan.candidates, planner.events)
    sender.wake()
  }
  const counted = async (name: string) =>
    (await metrics.registry.getSingleMetricAsString(name))
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n')
  return { fake, store, sender, deps, queue, logs, counted }
}

/** eventually polls until the condition holds (the fake sees a message before the sender has recorded it) */
async function eventually(condition: () => Promise<boolean>, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 20))
  }
  return true
}

const sends = (fake: Awaited<ReturnType<typeof setup>>['fake']) => fake.calls.filter((c) => c.method === 'sendMessage')

t.test('a queued alert is sent once, and recorded so that its resolve edits that message', async (t) => {
  const { fake, store, sender, queue, counted } = await setup(t)
  await queue([alert('once')])
  sender.start()
  const [message] = await fake.waitFor(() => fake.messages(GROUP).length === 1 && fake.messages(GROUP), 5000, 'sent')
  t.match(message!.text, /Alert_once/)
  await queue([alert('once', 'resolved')])
  await fake.waitFor(() => fake.messages(GROUP).length === 2, 5000, 'the resolved reply')
  t.match(fake.message(GROUP, message!.message_id)!.text, /^✅ RESOLVED · Alert_once/, 'the first message now shows it resolved')
  t.ok((await store.records(String(GROUP), [message!.message_id])).has(message!.message_id), 'its record is kept for later edits')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(sends(fake).length, 2, 'nothing sent twice: the announcement and the reply')
  t.match(await counted('alertwire_messages_total'), /outcome="sent"\} 2/)
  t.match(await counted('alertwire_messages_total'), /outcome="edited"\} 1/)
  t.match(await store.backlog(), { items: 0, inflight: 0 }, 'nothing left to do')
})

t.test('a 429 waits exactly retry_after and spends no attempt', async (t) => {
  // Telegram is stricter than the configured pace here, so it has to say 429
  const { fake, store, sender, queue, counted } = await setup(t, { fake: { limits: { group: { max: 1, windowMs: 2000 } } } })
  await queue([alert('first')], 'g1')
  await queue([alert('second')], 'g2')
  sender.start()
  const refused = await fake.waitFor(() => sends(fake).find((c) => c.status === 429), 5000, 'a 429')
  await new Promise((r) => setTimeout(r, 200))
  t.match((await store.loadChat(String(GROUP), 1)).inflight, { attempts: 0 }, 'no attempt spent while it waits')
  await fake.waitFor(() => fake.messages(GROUP).length === 2, 5000, 'both sent')
  const next = sends(fake).find((c) => c.at > refused.at)!
  const asked = Number(/retry after (\d+)/.exec(refused.description ?? '')?.[1]) * 1000
  t.ok(next.at - refused.at >= asked - 50 && next.at - refused.at < asked + 600, `asked to wait ${asked} ms, waited ${next.at - refused.at} ms`)
  t.equal(sends(fake).filter((c) => c.status === 429).length, 1, 'not hammered')
  t.match(await counted('alertwire_telegram_rate_limited_total'), /\} 1$/)
})

t.test('HTML Telegram refuses is resent as plain text', async (t) => {
  // passes alertwire's own template check, but Telegram refuses a link that is not a URL
  const { fake, sender, queue, counted } = await setup(t, {
    yaml: `messages: {templates: {alert: '<a href="{{labels.instance}}">{{alertname}}</a> {{summary}}'}}`,
  })
  await queue([alert('plain', 'firing', { instance: 'not a url' })])
  sender.start()
  const [message] = await fake.waitFor(() => fake.messages(GROUP).length === 1 && fake.messages(GROUP), 5000, 'sent')
  t.equal(message!.parse_mode, undefined, 'sent without parse_mode')
  t.match(message!.text, /Alert_plain summary of plain/)
  t.equal(sends(fake).filter((c) => c.status === 400).length, 1, 'refused once, then plain')
  t.ok(await eventually(async () => /outcome="sent_plain"\} 1/.test(await counted('alertwire_messages_total'))), 'counted as sent in plain text')
})

t.test("the bot's notices go before the alerts waiting in the chat", async (t) => {
  const { fake, store, sender, queue } = await setup(t)
  await queue([alert('waiting')])
  await store.pushNotice(String(GROUP), { kind: 'send', html: '<b>Silenced</b> for 1h', plain: 'Silenced for 1h' })
  sender.start()
  await fake.waitFor(() => fake.messages(GROUP).length === 2, 5000, 'both')
  const [notice, waiting] = fake.messages(GROUP)
  t.match(notice!.text, /^Silenced for 1h$/)
  t.match(waiting!.text, /Alert_waiting/)
})

t.test('stop() waits for the call in progress, and nothing is sent twice after a restart', async (t) => {
  let started: () => void = () => undefined
  const inCall = new Promise<void>((resolve) => (started = resolve))
  const { fake, sender, deps, queue } = await setup(t, {
    telegram: (real) => ({
      ...real,
      sendMessage: async (message) => {
        started()
        await new Promise((r) => setTimeout(r, 500))
        return real.sendMessage(message)
      },
    }),
  })
  await queue([alert('slow')])
  sender.start()
  await inCall
  await sender.stop()
  t.equal(fake.messages(GROUP).length, 1, 'the call in progress finished before stop() returned')
  const again = new Sender(deps)
  again.start()
  await new Promise((r) => setTimeout(r, 500))
  await again.stop()
  t.equal(fake.messages(GROUP).length, 1, 'its result was recorded: a new sender does not send it again')
})
