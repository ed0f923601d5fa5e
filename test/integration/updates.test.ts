/**
 * How updates reach the bot: webhook mode with its secret header, and polling with exactly one
 * poller across replicas, taken over when that replica dies; a 409 is handled, not looped on.
 */
import { Redis } from 'ioredis'
import t from 'tap'
import { GROUP, startTestApp, startWithFake } from '../helpers/app.js'
import { freePort } from '../helpers/net.js'

const ADMIN = { id: 1001, username: 'alice' }

t.test('webhook mode: Telegram posts updates with the secret; anything else gets 401', async (t) => {
  const port = await freePort()
  const { fake, app } = await startWithFake(t, {
    env: { PORT: String(port), ALERTWIRE_ADMINS: String(ADMIN.id) },
    yaml: `telegram: {updates: webhook, webhook_url: "http://127.0.0.1:${port}/telegram/updates", webhook_secret: "s3cret-Hook_token"}`,
  })
  t.same(
    fake.webhookInfo(),
    { url: `http://127.0.0.1:${port}/telegram/updates`, secretToken: 's3cret-Hook_token' },
    'alertwire set the webhook with its secret',
  )
  fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/help' })
  await fake.waitFor(() => fake.messages(GROUP).some((m) => /alertwire relays/.test(m.text)), 5000, 'the command came by webhook')
  const forged = await fetch(`http://127.0.0.1:${port}/telegram/updates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'wrong' },
    body: JSON.stringify({ update_id: 1, message: { message_id: 1, chat: { id: GROUP, type: 'supergroup' }, from: ADMIN, text: '/mute 1h' } }),
  })
  t.equal(forged.status, 401)
  const missing = await fetch(`http://127.0.0.1:${port}/telegram/updates`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.equal(missing.status, 401)
  await new Promise((r) => setTimeout(r, 300))
  t.notOk(
    fake.messages(GROUP).some((m) => /paused/.test(m.text)),
    'the forged command did nothing',
  )
  t.equal(fake.calls.filter((c) => c.method.toLowerCase() === 'getupdates').length, 0, 'no polling in webhook mode')
  t.equal(
    await app.metrics.registry.getSingleMetricAsString('alertwire_bot_updates_total').then((m) => /kind="command",via="webhook"\} 1/.test(m)),
    true,
    'counted as a webhook update',
  )
})

t.test('two replicas, one poller; when it stops the other takes over', async (t) => {
  const poller = { leaseMs: 1500, retryMs: 200 }
  const one = await startWithFake(t, { env: { ALERTWIRE_ADMINS: String(ADMIN.id) }, poller })
  const env = { TELEGRAM_BOT_TOKEN: one.fake.token, TELEGRAM_API_URL: one.fake.url, TELEGRAM_CHAT_ID: String(GROUP), ALERTWIRE_ADMINS: String(ADMIN.id) }
  const two = await startTestApp(t, { prefix: one.prefix, env, poller, yaml: 'telegram: {pace: {group: "10/1s"}}' })
  await new Promise((r) => setTimeout(r, 800))
  const polling = async () =>
    Promise.all([one, two].map(async (r) => / 1$/m.test(await r.app.metrics.registry.getSingleMetricAsString('alertwire_bot_polling'))))
  const first = await polling()
  t.same(first.filter(Boolean).length, 1, 'exactly one replica polls')
  t.equal(one.fake.stats.byMethod.getUpdates?.['409'] ?? 0, 0, 'so Telegram never sees two pollers')
  one.fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/help' })
  await one.fake.waitFor(() => one.fake.messages(GROUP).length === 1, 5000, 'answered once')
  // the polling replica stops: it hands the lease on
  const leader = first[0] ? one : two
  const survivor = first[0] ? two : one
  await leader.app.close()
  one.fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/status' })
  await one.fake.waitFor(() => one.fake.messages(GROUP).length === 2, 8000, 'answered by the survivor')
  t.match(await survivor.app.metrics.registry.getSingleMetricAsString('alertwire_bot_polling'), / 1$/m)
  await new Promise((r) => setTimeout(r, 300))
  t.equal(one.fake.messages(GROUP).length, 2, 'each command answered once, none twice')
})

t.test('a lease left by a replica that died is taken over when it expires', async (t) => {
  const { fake, app, redisUrl, prefix } = await startWithFake(t, {
    start: false,
    env: { ALERTWIRE_ADMINS: String(ADMIN.id) },
    poller: { leaseMs: 1500, retryMs: 200 },
  })
  const redis = new Redis(redisUrl)
  t.teardown(() => redis.disconnect())
  await redis.set(`${prefix}:poller`, 'a-replica-that-died', 'PX', 2000)
  await app.start()
  await new Promise((r) => setTimeout(r, 1000))
  t.equal(fake.calls.filter((c) => c.method.toLowerCase() === 'getupdates').length, 0, "nobody polls while the dead replica's lease lasts")
  fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/help' })
  await fake.waitFor(() => fake.messages(GROUP).length === 1, 5000, 'answered once the lease expired')
})

t.test('another process polling the same bot: 409 is backed off from, not looped on', async (t) => {
  const { fake, logs } = await startWithFake(t)
  await fake.waitFor(() => fake.calls.some((c) => c.method.toLowerCase() === 'getupdates'), 5000, 'polling started')
  // an outsider polls too: Telegram ends our long poll with 409 each time it asks
  const outsider = async () => {
    for (let i = 0; i < 6; i++) {
      await fetch(`${fake.url}/bot${fake.token}/getUpdates?timeout=1`).catch(() => undefined)
    }
  }
  await outsider()
  const conflicts = fake.calls.filter((c) => c.method.toLowerCase() === 'getupdates' && c.status === 409).length
  t.ok(conflicts >= 1, `${conflicts} conflicts`)
  t.ok(conflicts <= 3, 'alertwire backed off instead of fighting for the updates')
  t.equal(logs.filter((l) => l.includes('another process polls this bot')).length, 1, 'logged once')
})
