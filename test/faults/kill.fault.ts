/**
 * alertwire killed with SIGKILL while alerts pour in, then restarted: every alert it answered 2xx
 * for reaches the chat, and an alert appears in at most one extra message (only what was in flight).
 */
import t from 'tap'
import { postTo, startService } from '../helpers/service.js'
import { CHAT, FAST, mentions, notification, startFake, unnamed, until } from './common.js'

t.test('SIGKILL under load, restart: nothing accepted is lost, nothing doubled beyond what was in flight', async (t) => {
  const fake = await startFake(t)
  const env = { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_URL: fake.url, TELEGRAM_CHAT_ID: String(CHAT) }
  const first = await startService(t, { env, yaml: FAST })
  const accepted = new Set<number>()
  let n = 0
  const pour = async (url: string, until: () => boolean) => {
    while (!until()) {
      const batch = Array.from({ length: 10 }, () => n++)
      const statuses = await Promise.all(batch.map((i) => postTo(url, notification(i), 2000)))
      for (const [k, i] of batch.entries()) {
        if (statuses[k] === 200) accepted.add(i)
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  // pour for a while, then kill it in the middle of pouring
  let killed = false
  const pouring = pour(first.url, () => killed)
  await new Promise((r) => setTimeout(r, 3000))
  first.child.kill('SIGKILL')
  killed = true
  await pouring
  t.equal(await first.exited, null, 'killed, not exited')
  const acceptedBefore = accepted.size
  const second = await startService(t, { env, yaml: FAST, prefix: first.prefix, redisUrl: first.redisUrl })
  const deadline = Date.now() + 2000
  await pour(second.url, () => Date.now() > deadline)
  t.ok(acceptedBefore > 100, `${acceptedBefore} alerts accepted before the kill, ${accepted.size} in all`)
  await until(() => unnamed(fake, accepted).length === 0, 90_000, 'every accepted alert in the chat')
  await new Promise((r) => setTimeout(r, 2000))
  const counts = mentions(fake)
  const doubled = [...counts.values()].filter((c) => c > 1).length
  const tripled = [...counts.values()].filter((c) => c > 2).length
  t.equal(tripled, 0, 'no alert appears in more than one extra message')
  t.ok(doubled <= 60, `${doubled} alerts appeared twice (in flight when killed, at most one delivery's worth)`)
  t.comment(`accepted ${accepted.size}, in the chat ${counts.size}, named twice ${doubled}, messages ${fake.messages(CHAT).length}`)
})
