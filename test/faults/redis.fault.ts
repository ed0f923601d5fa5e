/**
 * Redis stopped for 30 s under webhook load: alertwire answers 503 while it is down (within 2 s,
 * never a hang), does not crash, and delivers everything it accepted before and after. And Redis
 * stopped while a message is out to Telegram: the message is recorded once Redis is back, not sent
 * twice.
 */
import t, { type Test } from 'tap'
import { startPrivateRedis } from '../helpers/redis.js'
import { postTo, startService } from '../helpers/service.js'
import { CHAT, FAST, mentions, notification, startFake, unnamed, until } from './common.js'

/** onPrivateRedis: alertwire on a Redis of its own that keeps its data across a stop (appendonly), and the fake it sends to. */
async function onPrivateRedis(t: Test) {
  const redis = await startPrivateRedis({ appendonly: true })
  t.teardown(() => redis.close())
  const fake = await startFake(t)
  const service = await startService(t, {
    redisUrl: redis.url,
    env: { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_URL: fake.url, TELEGRAM_CHAT_ID: String(CHAT) },
    yaml: FAST,
  })
  return { redis, fake, service }
}

t.test('Redis down for 30 s under load: 503 while down, no crash, everything accepted delivered', async (t) => {
  const { redis, fake, service } = await onPrivateRedis(t)
  const accepted = new Set<number>()
  const during: number[] = []
  let slowest = 0
  const state: { phase: 'before' | 'down' | 'after' } = { phase: 'before' }
  let n = 0
  let stop = false
  // load: eight posters at once, as several Alertmanager groups would be
  const poster = async () => {
    while (!stop) {
      const i = n++
      const started = Date.now()
      const status = await postTo(service.url, notification(i), 5000)
      if (state.phase === 'down') {
        during.push(status)
        slowest = Math.max(slowest, Date.now() - started)
      }
      if (status === 200) accepted.add(i)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const pour = Promise.all(Array.from({ length: 8 }, poster))
  await new Promise((r) => setTimeout(r, 3000))
  await redis.stop()
  state.phase = 'down'
  await new Promise((r) => setTimeout(r, 30_000))
  await redis.restart()
  state.phase = 'after'
  await new Promise((r) => setTimeout(r, 5000))
  stop = true
  await pour
  t.ok(during.length > 100, `${during.length} webhooks while Redis was down`)
  t.ok(
    during.every((s) => s === 503 || s === 200),
    `only 503s while down (a few 200s at the edges): ${[...new Set(during)].join(', ')}`,
  )
  t.ok(during.filter((s) => s === 503).length >= during.length - 3, 'refused with 503 so Alertmanager retries')
  t.ok(slowest < 2100, `the slowest answer while down took ${slowest} ms`)
  t.equal(service.child.exitCode, null, 'alertwire is still running')
  await until(() => unnamed(fake, accepted).length === 0, 60_000, 'every accepted alert in the chat')
  t.comment(`accepted ${accepted.size} of ${n}; while down: ${during.length} answers, slowest ${slowest} ms`)
})

t.test('Redis gone while a message is out: recorded once Redis answers again, never sent twice', async (t) => {
  const { redis, fake, service } = await onPrivateRedis(t)
  // Telegram takes 1.5 s to answer the message; Redis is gone from 0.3 s until 1 s after the answer
  fake.failNext(1, 'slow', { method: 'sendMessage', delayMs: 1500 })
  t.equal(await postTo(service.url, notification(1), 5000), 200)
  await until(() => fake.calls.some((c) => c.method === 'sendMessage'), 5000, 'the message on its way')
  await redis.stop()
  await new Promise((r) => setTimeout(r, 2500))
  await redis.restart()
  // a turn that could not record the message kept its lease (9 s with request_timeout 2s): past it, a second turn would send it again
  await new Promise((r) => setTimeout(r, 12_000))
  t.same([...mentions(fake)], [[1, 1]], 'the alert is in the chat once')
  const resolved = { ...notification(1), status: 'resolved' }
  resolved.alerts = resolved.alerts.map((a) => ({ ...a, status: 'resolved', endsAt: new Date().toISOString() }))
  t.equal(await postTo(service.url, resolved, 5000), 200)
  await until(() => fake.messages(CHAT).some((m) => /RESOLVED/.test(m.text)), 10_000, 'the resolve')
  t.equal(fake.messages(CHAT).filter((m) => /RESOLVED/.test(m.text)).length, 1, 'and its resolve edits that very message: it was recorded')
})
