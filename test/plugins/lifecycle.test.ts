/**
 * The assembly's lifecycle: a built app answers injected requests without starting any work, and
 * closing follows the plugins' order: no new webhooks first, then the work in progress finishes
 * (the Telegram call under way is completed and recorded in Redis), then Redis closes.
 */
import { Redis } from 'ioredis'
import t from 'tap'
import { freePort } from '../helpers/net.js'
import { GROUP, postWebhook, startWithFake, webhook, WEBHOOK_TOKEN } from '../helpers/app.js'

t.test('built, not started: webhooks are stored, nothing is planned or sent', async (t) => {
  const { app, fake } = await startWithFake(t, { start: false })
  const response = await app.server.inject({
    method: 'POST',
    url: '/alerts',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
    payload: webhook(),
  })
  t.equal(response.statusCode, 200)
  await new Promise((r) => setTimeout(r, 500))
  t.equal((await app.queue.getJobCounts('waiting')).waiting, 1, 'the notification waits in the queue')
  t.equal(fake.calls.length, 0, 'no Telegram call: not even the bot set up')
})

t.test('close: webhooks refused first, the Telegram call under way finishes and is recorded, then Redis closes', async (t) => {
  const { app, fake, url, redisUrl } = await startWithFake(t)
  fake.failNext(1, 'slow', { method: 'sendMessage', delayMs: 1000 })
  t.equal((await postWebhook(url, webhook())).status, 200)
  await fake.waitFor(() => fake.calls.some((c) => c.method === 'sendMessage'), 5000, 'the send under way')
  const closed = app.close()
  await new Promise((r) => setTimeout(r, 100))
  const late = await postWebhook(url, webhook({ groupKey: 'late' })).then(
    (r) => r.status,
    () => 0,
  )
  t.not(late, 200, 'a webhook posted while closing is not accepted')
  await closed
  t.equal(fake.messages(GROUP).length, 1, 'the message under way was delivered')
  const redis = new Redis(redisUrl)
  t.teardown(() => redis.disconnect())
  const chat = String(GROUP)
  t.equal(await redis.exists(app.store.keys.inflight(chat)), 0, 'and its delivery recorded as done before Redis closed')
  t.equal(await redis.llen(app.store.keys.outbox(chat)), 0, 'nothing left to send again')
})

t.test('close: an app that never reached Redis closes at once instead of waiting for it', async (t) => {
  const nobody = `redis://127.0.0.1:${await freePort()}`
  const { app } = await startWithFake(t, { redisUrl: nobody, prefix: 'never-stored' })
  const started = Date.now()
  let closed = false
  await Promise.race([app.close().then(() => (closed = true)), new Promise((r) => setTimeout(r, 10_000))])
  t.ok(closed, `closed within 10 s (took ${Date.now() - started} ms); the planner and other workers do not wait for a Redis that never answered`)
})
