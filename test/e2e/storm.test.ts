/**
 * The storm, end to end: a real Alertmanager (group_by alertname and instance, group_wait 1s) gets
 * 500 alerts in 500 groups for one group chat; the strict Telegram fake enforces 20 messages per
 * minute per group. Every alert must be named in the chat, in the fewest messages 4096 characters
 * allow, and Telegram must answer 429 zero times. Timings are printed, not asserted
 * (`npm run bench -- storm` measures them against the goal).
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
  const names = () => new Set(fake.messages(GROUP).flatMap((m) => [...m.text.matchAll(/node-(\d+)\.example\.com/g)].map((x) => x[1])))
  await fake.waitFor(() => names().size === 500, 60_000, 'all 500 alerts named')
  const messages = fake.messages(GROUP)
  const sends = fake.calls.filter((c) => c.method === 'sendMessage')
  t.comment(`storm: first message ${sends[0]!.at - started} ms after posting, all named ${sends.at(-1)!.at - started} ms, ${messages.length} messages`)
  for (const c of sends)
    t.comment(
      `  ${c.at - started} ms: ${[...String(c.params.text).matchAll(/node-\d+\.example\.com/g)].length} alerts named, ${String(c.params.text).length} characters`,
    )

  // the first alert goes out on its own at once (whichever it is: count as if the longest); each of
  // the other 499 needs a line at least as long as its instance and a resolved mark ("✅ "), which
  // no fewer digest messages than this can hold
  const lines = alerts.map((a) => a.labels.instance.length + '✅ \n'.length).sort((a, b) => a - b)
  const fewest = 1 + Math.ceil(lines.slice(0, -1).reduce((a, b) => a + b, 0) / 4096)
  t.ok(messages.length <= fewest, `${messages.length} messages: the first alert, then digests (${fewest} at the fewest 4096 characters allow)`)
  t.equal(names().size, 500, 'every alert named')
  t.equal(fake.stats.tooManyRequests, 0, 'Telegram answered 429 zero times')
  t.equal(fake.calls.filter((c) => c.status >= 400).length, 0, 'and refused nothing')
})
