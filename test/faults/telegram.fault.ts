/**
 * Telegram failing for 60 s (5xx, hanging connections, connection resets): everything is
 * delivered afterwards, in order, with the retries visible in /metrics.
 */
import t from 'tap'
import { mergeYaml } from '../helpers/config.js'
import { postTo, startService } from '../helpers/service.js'
import { CHAT, FAST, namedIn, notification, startFake, unnamed, until } from './common.js'

t.test('Telegram failing for 60 s: everything delivered afterwards, in order, retries visible', async (t) => {
  const fake = await startFake(t)
  const service = await startService(t, {
    env: { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_URL: fake.url, TELEGRAM_CHAT_ID: String(CHAT) },
    yaml: mergeYaml(FAST, 'telegram: {updates: off}\nstorms: {max_delay: 1h}'),
  })
  const modes = ['500', 'hang', 'reset'] as const
  fake.failFor(20_000, modes[0], { method: 'sendMessage' })
  const posted: number[] = []
  for (let phase = 0; phase < 3; phase++) {
    if (phase > 0) fake.failFor(20_000, modes[phase]!, { method: 'sendMessage' })
    const phaseEnd = Date.now() + 20_000
    while (Date.now() < phaseEnd) {
      const i = posted.length
      if ((await postTo(service.url, notification(i))) === 200) posted.push(i)
      await new Promise((r) => setTimeout(r, 400))
    }
  }
  t.ok(posted.length >= 100, `${posted.length} alerts posted during the outage`)
  await until(() => unnamed(fake, posted).length === 0, 90_000, 'everything delivered after the outage')
  const order = fake.messages(CHAT).flatMap((m) => namedIn(m.text))
  t.same(
    order,
    [...order].sort((a, b) => a - b),
    'in the order the alerts came',
  )
  const metrics = await (await fetch(`${service.url}/metrics`)).text()
  const retries = Number(/alertwire_telegram_retries_total\{reason="transient"\} (\d+)/.exec(metrics)?.[1] ?? 0)
  t.ok(retries > 10, `${retries} retries visible in /metrics`)
  t.equal(Number(/alertwire_dead_letters_total\{reason="[a-z_]+"\} (\d+)/.exec(metrics)?.[1] ?? 0), 0, 'nothing given up on')
})
