/**
 * End to end, graphs: a real Prometheus (Debian's) scrapes a small exporter this test starts and
 * fires an alert rule; a real Alertmanager posts it to alertwire, which talks to the strict
 * Telegram fake. The chat gets the alert, then its graph as a photo replying to it: a PNG of the
 * configured size with the curve drawn. With Prometheus down the reply says so, and the outcome
 * is counted. /graph answers admins with a graph and refuses others politely.
 */
import { writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import { PNG } from 'pngjs'
import t, { type Test } from 'tap'
import type { FakeMessage } from '../fakes/telegram.js'
import { startAlertmanager } from '../helpers/alertmanager.js'
import { GROUP, postWebhook, startWithFake, WEBHOOK_TOKEN, webhook } from '../helpers/app.js'
import { freePort } from '../helpers/net.js'
import { startPrometheus } from '../helpers/prometheus.js'

const ADMIN = { id: 7001, username: 'oncall' }
const SIZE = { width: 640, height: 360 }

/** startExporter serves one gauge, errors_ratio, per instance; the test sets the values. */
async function startExporter(t: Test, values: Record<string, number>) {
  const server = http.createServer((_req, res) => {
    const lines = Object.entries(values).map(([instance, v]) => `errors_ratio{shard="${instance}"} ${v}`)
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
    res.end(`# HELP errors_ratio Share of requests that fail.\n# TYPE errors_ratio gauge\n${lines.join('\n')}\n`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

const RULES = `
groups:
  - name: e2e
    rules:
      - alert: HighErrorRatio
        expr: errors_ratio > 0.5
        labels: {severity: critical}
        annotations: {summary: 'errors at {{ $value }}'}
`

const promConfig = (exporter: string, alertmanager?: string) => `
global: {scrape_interval: 1s, evaluation_interval: 1s}
${alertmanager ? `alerting: {alertmanagers: [{static_configs: [{targets: ['${alertmanager}']}]}]}` : ''}
rule_files: [rules/e2e.yml]
scrape_configs: [{job_name: app, static_configs: [{targets: ['${exporter}']}]}]
`

/**
 * startPipeline: exporter → Prometheus (rule) → Alertmanager → alertwire (graphs on) → fake.
 * Each picks a free port of its own, so Prometheus learns where Alertmanager is by a reload.
 */
async function startPipeline(t: Test, graphsYaml: (prometheusUrl: string) => string) {
  const values = { a: 0.2, b: 0.9 }
  const exporter = await startExporter(t, values)
  const prometheus = await startPrometheus({ configYaml: promConfig(exporter), ruleFiles: { 'rules/e2e.yml': RULES } })
  t.teardown(() => prometheus.stop())
  const started = await startWithFake(t, {
    yaml: `telegram: {admins: [${ADMIN.id}]}
${graphsYaml(prometheus.url)}`,
  })
  const am = await startAlertmanager({ webhookUrl: `${started.url}/alerts`, bearerToken: WEBHOOK_TOKEN, groupBy: ['alertname'] })
  t.teardown(() => am.stop())
  await writeFile(join(prometheus.dir, 'prometheus.yml'), promConfig(exporter, new URL(am.url).host))
  await prometheus.reload()
  return { ...started, prometheus, values }
}

/** plotted: pixels of the picture that are neither white background nor grey grid: the curves, the threshold, the marker. */
function plotted(png: Buffer): { width: number; height: number; coloured: number } {
  const image = PNG.sync.read(png)
  let coloured = 0
  for (let i = 0; i < image.data.length; i += 4) {
    const [r, g, b] = [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!]
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++
  }
  return { width: image.width, height: image.height, coloured }
}

const counted = async (app: { metrics: { registry: { getSingleMetricAsString(name: string): Promise<string> } } }) =>
  await app.metrics.registry.getSingleMetricAsString('alertwire_graphs_total')

t.test('Prometheus → Alertmanager → alertwire: the alert, then its graph replying to it', async (t) => {
  const { fake, app } = await startPipeline(t, (url) => `graphs: {prometheus_url: '${url}', width: ${SIZE.width}, height: ${SIZE.height}}`)
  const alert = await fake.waitFor(() => fake.messages(GROUP).find((m) => /HighErrorRatio/.test(m.text)), 60_000, 'the alert message')
  t.ok(
    alert.reply_markup?.inline_keyboard.flat().some((b) => b.text === '📈 Graph'),
    'the alert message has a 📈 Graph button',
  )
  const photo: FakeMessage = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.photo), 60_000, 'the graph')
  t.equal(photo.reply_to_message_id, alert.message_id, 'replies to the alert message')
  t.same([photo.photo!.width, photo.photo!.height], [SIZE.width, SIZE.height], 'the configured size, as Telegram read it')
  const decoded = plotted(photo.photo!.data)
  t.same([decoded.width, decoded.height], [SIZE.width, SIZE.height], 'the PNG decodes to that size')
  t.ok(decoded.coloured > 200, `the curve is drawn (${decoded.coloured} coloured pixels)`)
  t.match(photo.text, /HighErrorRatio/, 'the caption names the alert')
  t.match(photo.text, /threshold > 0\.5/, 'and the threshold drawn')
  t.equal(photo.disable_notification, true, 'a graph never rings')
  t.match(await counted(app), /outcome="drawn"\} 1/)
  // the fake has the photo a moment before the sender has counted it
  t.ok(await eventually(async () => /outcome="sent"\} 1/.test(await counted(app))), 'counted sent')

  // the button asks for it again, for anyone in the chat
  const answer = await fake.pressButton({
    chatId: GROUP,
    messageId: alert.message_id,
    from: { id: 9, username: 'reader' },
    data: buttonData(alert, '📈 Graph'),
  })
  t.match(answer.text, /Drawing the graph/)
  await fake.waitFor(() => fake.messages(GROUP).filter((m) => m.photo).length === 2, 30_000, 'a second graph')
  t.equal(fake.calls.filter((c) => c.status >= 400).length, 0, 'Telegram accepted every call')
})

t.test('Prometheus down: the reply says so, and the outcome is counted', async (t) => {
  const down = `http://127.0.0.1:${await freePort()}`
  const { fake, app } = await startPipeline(t, () => `graphs: {prometheus_url: '${down}', timeout: 5s}`)
  const alert = await fake.waitFor(() => fake.messages(GROUP).find((m) => /HighErrorRatio/.test(m.text)), 60_000, 'the alert message')
  const reply = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.reply_to_message_id === alert.message_id), 30_000, 'the reply')
  t.notOk(reply.photo, 'no picture')
  t.match(reply.text, /⚠️ no graph: Prometheus (is not answering|could not be asked)/, 'the reply says Prometheus did not answer')
  t.match(await counted(app), /outcome="prometheus_down"\} 1/)
})

t.test('/graph: an admin gets a graph of any expression; others are refused politely', async (t) => {
  const { fake, app } = await startPipeline(t, (url) => `graphs: {prometheus_url: '${url}', width: ${SIZE.width}, height: ${SIZE.height}}`)
  // once the alert's graph is in, Prometheus has scraped what /graph asks for
  await fake.waitFor(() => fake.messages(GROUP).find((m) => m.photo), 60_000, "the alert's graph")
  const command = fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/graph errors_ratio 10m' })
  const photo = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.photo && m.reply_to_message_id === command.message_id), 30_000, 'the graph')
  t.match(photo.text, /errors_ratio/)
  t.match(photo.text, /10m\)/, 'over the range asked for')
  const refused = fake.sendCommand({ chatId: GROUP, from: { id: 9, username: 'reader' }, text: '/graph up' })
  const answer = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.reply_to_message_id === refused.message_id), 30_000, 'the refusal')
  t.match(answer.text, /only alertwire admins can use \/graph/)
  const bad = fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/graph' })
  const usage = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.reply_to_message_id === bad.message_id), 30_000, 'the usage')
  t.match(usage.text, /^usage: \/graph <PromQL> \[range\]/)
  t.match(await app.metrics.registry.getSingleMetricAsString('alertwire_admin_actions_total'), /action="graph",outcome="refused"\} 1/)
})

async function eventually(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

t.test('on_resolve: the resolve gets a final graph of the incident, replying to the alert message', async (t) => {
  const { fake, values } = await startPipeline(t, (url) => `graphs: {prometheus_url: '${url}', on_resolve: true}`)
  const alert = await fake.waitFor(() => fake.messages(GROUP).find((m) => /HighErrorRatio/.test(m.text)), 60_000, 'the alert message')
  await fake.waitFor(() => fake.messages(GROUP).find((m) => m.photo), 60_000, 'the graph')
  values.b = 0.1
  await fake.waitFor(() => /^✅ RESOLVED/.test(fake.message(GROUP, alert.message_id)!.text), 60_000, 'resolved')
  const photos = await fake.waitFor(
    () => {
      const found = fake.messages(GROUP).filter((m) => m.photo && m.reply_to_message_id === alert.message_id)
      return found.length === 2 && found
    },
    30_000,
    'the final graph',
  )
  t.match(photos[1]!.text, /HighErrorRatio/)
  const resolvedReply = fake.messages(GROUP).find((m) => !m.photo && m.reply_to_message_id === alert.message_id)
  t.ok(resolvedReply && photos[1]!.message_id > resolvedReply.message_id, 'the final graph comes after the resolved reply')
})

t.test('a text alert never waits for its graph: Prometheus hangs, the alerts come at once, the graph says it timed out', async (t) => {
  const sockets = new Set<Socket>()
  const hanging = http.createServer(() => undefined) // accepts, never answers
  hanging.on('connection', (socket) => sockets.add(socket))
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    return new Promise<void>((resolve) => hanging.close(() => resolve()))
  })
  const slow = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`
  const { fake, url, app } = await startWithFake(t, { yaml: `graphs: {prometheus_url: '${slow}', timeout: 4s}` })
  const started = Date.now()
  for (const name of ['First', 'Second']) {
    const alerts = [
      {
        status: 'firing',
        labels: { alertname: name, severity: 'critical' },
        annotations: {},
        startsAt: new Date(started - 60_000).toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: `${slow}/graph?g0.expr=errors_ratio+%3E+0.5`,
        fingerprint: `fp${name}`,
      },
    ]
    t.equal((await postWebhook(url, webhook({ alerts, groupKey: name }))).status, 200)
  }
  await fake.waitFor(() => fake.messages(GROUP).filter((m) => /First|Second/.test(m.text) && !m.reply_to_message_id).length === 2, 10_000, 'both alerts')
  t.ok(Date.now() - started < 3000, `both alerts within ${Date.now() - started} ms, while Prometheus hangs`)
  const replies = await fake.waitFor(
    () => {
      const found = fake.messages(GROUP).filter((m) => m.reply_to_message_id)
      return found.length === 2 && found
    },
    20_000,
    'both graphs',
  )
  for (const reply of replies) t.match(reply.text, /⚠️ no graph: Prometheus did not answer in time/)
  t.match(await counted(app), /outcome="timeout"\} 2/)
})

function buttonData(message: FakeMessage, text: string): string {
  const button = message.reply_markup?.inline_keyboard.flat().find((b) => b.text === text)
  if (!button?.callback_data) throw new Error(`no ${text} button`)
  return button.callback_data
}
