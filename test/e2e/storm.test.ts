/**
 * The storm, end to end: a real Alertmanager (group_by alertname and instance, group_wait 1s) gets
 * 500 alerts in 500 groups for one group chat; the strict Telegram fake enforces 20 messages per
 * minute per group. Every alert must be named in the chat (its full value put back together from a
 * digest run's heading and its line), in at most 4 messages (issue 12's goal), and Telegram must
 * answer 429 zero times. Timings are printed, not asserted (`npm run bench -- storm` measures them
 * against the goal).
 */
import t from 'tap'
import { startAlertmanager } from '../helpers/alertmanager.js'
import { GROUP, startWithFake, WEBHOOK_TOKEN } from '../helpers/app.js'
import { namedValues } from '../helpers/names.js'

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
  const instance = (i: number) => `node-${i}.example.com:9100`
  const alerts = Array.from({ length: 500 }, (_, i) => ({
    labels: {
      alertname: ['HighLatency', 'DiskFull', 'NodeDown', 'HighErrorRate'][i % 4]!,
      severity: i % 10 === 0 ? 'critical' : 'warning',
      instance: instance(i),
    },
    annotations: { summary: `storm alert ${i}` },
  }))
  const started = Date.now()
  await am.postAlerts(alerts)
  // named: the full value can be read off the chat, whole or as a run's shared part in its heading plus the line's own
  const FULL = /node-\d+\.example\.com:9100/
  const names = () => new Set(fake.messages(GROUP).flatMap((m) => [...namedValues(m.text, FULL)]))
  await fake.waitFor(() => names().size === 500, 60_000, 'all 500 alerts named')
  const messages = fake.messages(GROUP)
  const sends = fake.calls.filter((c) => c.method === 'sendMessage')
  t.comment(`storm: first message ${sends[0]!.at - started} ms after posting, all named ${sends.at(-1)!.at - started} ms, ${messages.length} messages`)
  for (const [i, m] of messages.entries()) t.comment(`  ${sends[i]!.at - started} ms: ${namedValues(m.text, FULL).size} named, ${m.text.length} characters`)

  t.equal(names().size, 500, 'every alert named')
  t.same([...names()].sort(), alerts.map((a) => a.labels.instance).sort(), 'each by its full value, put back together from what the chat shows')
  t.equal(
    messages.reduce((n, m) => n + namedValues(m.text, FULL).size, 0),
    500,
    'and none in two messages',
  )
  t.ok(messages.length <= 4, `${messages.length} messages: the first alert, then digests (issue 12: at most 4)`)
  t.ok(
    messages.some((m) => /^🟠 \w+ · instance ….example.com:9100\nnode-\d+$/m.test(m.text)),
    "a digest run's heading says the domain and port once, its lines the host",
  )
  t.equal(fake.stats.tooManyRequests, 0, 'Telegram answered 429 zero times')
  t.equal(fake.calls.filter((c) => c.status >= 400).length, 0, 'and refused nothing')
})
