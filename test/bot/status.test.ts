/**
 * /status: each chat with the pace alertwire really sends at (a chat's own `pace` wins over its
 * class's), and a report that shows what it can when a source fails.
 */
import t from 'tap'
import { AlertmanagerClient } from '../../src/alertmanager/client.js'
import { gatherStatus, type StatusSources } from '../../src/bot/status.js'
import { chatPaces } from '../../src/config/slices.js'
import { GROUP, PERSON, postWebhook, startWithFake, webhook } from '../helpers/app.js'
import { testConfig } from '../helpers/config.js'

const ADMIN = { id: 1001, username: 'alice' }
const ROUTES = `routing: {routes: [{matchers: ['team="db"'], chats: [{chat_id: ${PERSON}, pace: "6/1m"}]}]}`

t.test("chatPaces: a chat's own pace wins; others are paced by their class", async (t) => {
  const config = testConfig(`telegram: {chat_id: ${GROUP}, pace: {headroom: 0, group: "20/1m", private: "1/1s"}}\n${ROUTES}`)
  t.same(chatPaces(config), [
    { chat: String(GROUP), paceMs: 3000 },
    { chat: String(PERSON), paceMs: 10_000 },
  ])
})

t.test('/status shows a chat with its own pace at that pace, and the last error a chat gave', async (t) => {
  const { fake, url, app } = await startWithFake(t, { yaml: `telegram: {pace: {headroom: 0}}\n${ROUTES}`, env: { ALERTWIRE_ADMINS: String(ADMIN.id) } })
  fake.blockChat(PERSON)
  const alert = { ...webhook().alerts[0], labels: { alertname: 'DiskFull', team: 'db' }, fingerprint: 'db000001' }
  t.equal((await postWebhook(url, webhook({ groupKey: 'db', alerts: [alert] }))).status, 200)
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && !(await app.store.lastErrors())[String(PERSON)]) await new Promise((r) => setTimeout(r, 50))
  const sent = fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/status' }) as { message_id: number }
  const status = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.reply_to_message_id === sent.message_id), 5000, 'the /status reply')
  t.match(
    status.text,
    new RegExp(`chat ${PERSON}: one message per 10s · 0 waiting · 1 dead letter · last error: .*blocked`),
    'pace: 6/1m is one message per 10 s; the chat blocked the bot, so its alert is a dead letter',
  )
  t.match(status.text, new RegExp(`chat ${GROUP}: one message per 100ms`), "the group at its class's pace")
  t.match(status.text, /1 dead letter \(1 chat_unreachable\)/, 'dead letters by reason, as `alertwire dead-letters list` counts them')
})

t.test('/status says when too few Redis replicas confirm webhooks (redis.min_replicas_acked), so Alertmanager is answered 503', async (t) => {
  // a Redis without replicas: none can confirm
  const { fake, url } = await startWithFake(t, {
    yaml: 'redis: {min_replicas_acked: 1}\nwebhook: {store_timeout: 1s}',
    env: { ALERTWIRE_ADMINS: String(ADMIN.id) },
  })
  t.equal((await postWebhook(url, webhook())).status, 503)
  const sent = fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/status' }) as { message_id: number }
  const status = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.reply_to_message_id === sent.message_id), 5000, 'the /status reply')
  t.match(status.text, /❌ 0 of 1 replicas confirmed the webhooks stored \d+(ms|s) ago: answering 503, Alertmanager retries/)
})

t.test('a source that fails does not fail the report', async (t) => {
  const fail = () => Promise.reject(new Error('Redis is down'))
  const sources: StatusSources = {
    dryRun: false,
    redisAnswers: async () => false,
    webhooksWaiting: fail,
    deadLetters: fail,
    alertmanager: () => new AlertmanagerClient({ url: 'http://127.0.0.1:9', timeoutMs: 500 }),
    chats: () => [{ chat: String(GROUP), paceMs: 3000 }],
    waiting: fail,
    mutedUntil: fail,
    lastErrors: fail,
  }
  const report = await gatherStatus(sources)
  t.match(report, {
    redis: false,
    webhooksWaiting: { batches: 0 },
    deadLetters: 0,
    alertmanager: { healthy: false, error: /unreachable/ },
    chats: [{ chat: String(GROUP), paceMs: 3000, waiting: 0 }],
  })
  t.notOk('mutedUntil' in report.chats[0]! || 'lastError' in report.chats[0]!)
})
