/**
 * The storm, end to end: a real Alertmanager (group_by alertname and instance, group_wait 1s) gets
 * 500 alerts in 500 groups for one group chat; the strict Telegram fake enforces 20 messages per
 * minute per group. Every alert must be named in the chat within 60 s, Telegram must answer 429
 * zero times, and the first message must arrive within 2 s.
 */
import t from 'tap'
import { startAlertmanager } from '../helpers/alertmanager.js'
import { GROUP, startWithFake, WEBHOOK_TOKEN } from '../helpers/app.js'

t.test("500 alerts in 500 groups reach a group chat inside Telegram's limit", async (t) => {
  const { url, fake } = await startWithFake(t, { fast: false })
  const am = await startAlertmanager({
    webhookUrl: `${url}/alerts`,
    bearerToken: WEBHOOK_TOKEN,
    groupBy: ['alertname', 'instance'],
    groupWait: '1s',
    groupInterval: '5m',
  })
  t.teardown(() => am.stop())
  const alerts = Array.from({ length: 500 }, (_, i) => ({
    labels: {
      alertname: ['HighLatency', 'DiskFull', 'NodeDown', 'HighErrorRate'][i % 4]!,
      severity: i % 10 === 0 ? 'critical' : 'warning',
      instance: `node-${i}.example.com:9100`,
    },
    annotations: { summary: `storm alert ${i}` },
  }))
  const started = Date.now()
  await am.postAlerts(alerts)
  await fake.waitFor(() => fake.messages(GROUP).length > 0, 2000 + 1000, 'a first message')
  const first = Date.now() - started
  const names = () => new Set(fake.messages(GROUP).flatMap((m) => [...m.text.matchAll(/node-(\d+)\.example\.com/g)].map((x) => x[1])))
  await fake.waitFor(() => names().size === 500, 60_000 - (Date.now() - started), 'all 500 alerts named within 60 s')
  const last = Date.now() - started
  const messages = fake.messages(GROUP)
  t.ok(first <= 1000 + 2000, `the first message ${first} ms after posting (Alertmanager's group_wait is 1 s of that)`)
  t.ok(last <= 60_000, `every alert named after ${(last / 1000).toFixed(1)} s, in ${messages.length} messages`)
  t.equal(fake.stats.tooManyRequests, 0, 'Telegram answered 429 zero times')
  t.equal(fake.calls.filter((c) => c.status >= 400).length, 0, 'and refused nothing')
  t.comment(`storm: first message ${first} ms, all named ${last} ms, ${messages.length} messages`)
})
