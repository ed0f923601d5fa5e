/**
 * End to end: a real Alertmanager (Debian's prometheus-alertmanager) posts to alertwire, which
 * talks to the strict Telegram fake. What a person in the chat sees, from firing to resolved.
 */
import t from 'tap'
import { GROUP, startWithFake, WEBHOOK_TOKEN } from '../helpers/app.js'
import { startAlertmanager } from '../helpers/alertmanager.js'
import { freePort } from '../helpers/net.js'

const labels = { alertname: 'DiskFull', severity: 'critical', instance: 'db-1.example.com:9100', mount: '/var/<lib>' }
const annotations = { summary: 'Disk /var/<lib> is 97% full', description: 'Only 3% left & falling', runbook_url: 'https://runbooks.example.com/disk-full' }

t.test('Alertmanager → alertwire → Telegram: the alert arrives, its resolve edits it', async (t) => {
  const { url, fake } = await startWithFake(t)
  const am = await startAlertmanager({ webhookUrl: `${url}/alerts`, bearerToken: WEBHOOK_TOKEN, groupBy: ['alertname'] })
  t.teardown(() => am.stop())
  await am.postAlerts([{ labels, annotations, generatorURL: 'http://prometheus.example.com/graph?g0.expr=disk' }])
  const [message] = await fake.waitFor(() => fake.messages(GROUP).length === 1 && fake.messages(GROUP), 10_000, 'firing message')
  t.match(message!.text, /^🔴 CRITICAL · DiskFull\n/)
  t.match(message!.text, /Disk \/var\/<lib> is 97% full/)
  t.match(message!.text, /Only 3% left & falling/)
  t.match(message!.text, /instance: db-1\.example\.com:9100/)
  t.match(message!.text, /mount: \/var\/<lib>/)
  t.ok(
    message!.entities.some((e) => e.type === 'text_link' && e.url === 'https://runbooks.example.com/disk-full'),
    'the runbook is a link',
  )
  t.ok(
    message!.entities.some((e) => e.type === 'text_link' && e.url?.startsWith(`${am.url}/#/alerts?filter=`)),
    'a link to the alert in Alertmanager',
  )

  await am.resolveAlerts([labels])
  const reply = await fake.waitFor(() => fake.messages(GROUP)[1], 10_000, 'resolved reply')
  t.match(fake.message(GROUP, message!.message_id)!.text, /^✅ RESOLVED · DiskFull/, 'the original message now says resolved')
  t.equal(reply.reply_to_message_id, message!.message_id)
  await new Promise((r) => setTimeout(r, 2500)) // Alertmanager re-sends groups at every group_interval
  t.equal(fake.messages(GROUP).length, 2, 'repeats from Alertmanager change nothing')
  t.equal(fake.stats.tooManyRequests, 0)
  t.equal(fake.calls.filter((c) => c.status >= 400).length, 0, 'Telegram accepted every call')
})

t.test('an HA pair of Alertmanagers sending the same alerts makes one message per alert', async (t) => {
  const { url, fake } = await startWithFake(t)
  const pair = await Promise.all(
    [1, 2].map(() => startAlertmanager({ webhookUrl: `${url}/alerts`, bearerToken: WEBHOOK_TOKEN, groupBy: ['alertname', 'instance'] })),
  )
  t.teardown(() => Promise.all(pair.map((am) => am.stop())))
  const startsAt = new Date(Date.now() - 60_000).toISOString()
  const alerts = ['a', 'b', 'c'].map((host) => ({ labels: { ...labels, instance: `${host}.example.com` }, annotations, startsAt }))
  await Promise.all(pair.map((am) => am.postAlerts(alerts)))
  await fake.waitFor(() => fake.messages(GROUP).length >= 3, 10_000, 'three messages')
  await new Promise((r) => setTimeout(r, 2500))
  t.equal(fake.messages(GROUP).length, 3, 'each alert once, though both Alertmanagers sent it, repeatedly')
})

t.test('alertwire down while Alertmanager fires: the alert arrives once alertwire is up', async (t) => {
  const port = await freePort()
  const am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/alerts`, bearerToken: WEBHOOK_TOKEN })
  t.teardown(() => am.stop())
  await am.postAlerts([{ labels, annotations }])
  await new Promise((r) => setTimeout(r, 2000)) // Alertmanager tries, fails, and keeps the group
  const { fake } = await startWithFake(t, { env: { PORT: String(port) } })
  await fake.waitFor(() => fake.messages(GROUP).length === 1, 15_000, 'delivered after the outage')
  t.match(fake.messages(GROUP)[0]!.text, /DiskFull/)
})

t.test('a wrong token: Alertmanager gets 401 and nothing reaches the chat', async (t) => {
  const { url, fake, app } = await startWithFake(t)
  const am = await startAlertmanager({ webhookUrl: `${url}/alerts`, bearerToken: 'not-the-token' })
  t.teardown(() => am.stop())
  await am.postAlerts([{ labels, annotations }])
  const deadline = Date.now() + 5000
  while (
    Date.now() < deadline &&
    !/result="unauthorized"\} [1-9]/.test(await app.metrics.registry.getSingleMetricAsString('alertwire_webhooks_received_total'))
  ) {
    await new Promise((r) => setTimeout(r, 100))
  }
  t.match(await app.metrics.registry.getSingleMetricAsString('alertwire_webhooks_received_total'), /result="unauthorized"\} [1-9]/)
  t.equal(fake.messages(GROUP).length, 0)
})
