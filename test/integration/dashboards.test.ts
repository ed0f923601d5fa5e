/**
 * Dashboards on the demo stack: the demo exporter (deploy/demo-exporter) scraped by a real
 * Prometheus with the shipped rules (deploy/prometheus/rules), and alertwire with the shipped
 * config (deploy/alertwire/alertwire.yaml) and its five dashboards. `/metrics performance` answers
 * with the exporter's values, aligned, and the graphs of its graph panels; the range buttons edit
 * the summary; who may ask is checked.
 */
import { PNG } from 'pngjs'
import t, { type Test } from 'tap'
import { startExporter } from '../../deploy/demo-exporter/exporter.js'
import { GROUP, startWithFake } from '../helpers/app.js'
import { startPrometheus } from '../helpers/prometheus.js'
import { mergeYaml } from '../helpers/config.js'
import { testRedisUrl } from '../helpers/redis.js'
import { readDeploy, testPrometheusConfig, testRuleFiles, waitForQuery } from '../deploy/stack.js'

const ADMIN = { id: 7001, username: 'oncall' }
const KNOBS = { failure_ratio: 0.1, queue_depth: 7, active_subscriptions: 42 }

/** startDemo starts the demo exporter and a Prometheus with the shipped rules scraping it (alertwire and Alertmanager are not scraped: their targets are addresses nobody answers). */
async function startDemo(t: Test) {
  const exporter = await startExporter({ port: 0, knobs: KNOBS })
  t.teardown(() => exporter.close())
  const prometheus = await startPrometheus({
    configYaml: testPrometheusConfig({ doradura: new URL(exporter.url).host, alertwire: '127.0.0.1:9', alertmanager: '127.0.0.1:9' }),
    ruleFiles: testRuleFiles(),
    extraArgs: ['--enable-feature=expand-external-labels'],
  })
  t.teardown(() => prometheus.stop())
  return { prometheus }
}

t.test('/metrics performance on the demo stack: the seed values, aligned, with graphs; ranges by button', async (t) => {
  const { prometheus } = await startDemo(t)
  await waitForQuery(prometheus, 'instance:doradura_download_success:ratio_rate5m', (v) => v.length === 1 && Math.abs(v[0]! - 0.9) < 1e-9, 60_000)
  // what the panels show is tested here, not how fast: a loaded CI machine once took longer than the default 10 s to draw one
  const yaml = mergeYaml(readDeploy('alertwire/alertwire.yaml'), `telegram: {admins: [${ADMIN.id}]}\ngraphs: {width: 640, height: 360, timeout: 30s}`)
  const { fake } = await startWithFake(t, { yaml, env: { PROMETHEUS_URL: prometheus.url, REDIS_URL: await testRedisUrl() } })

  const command = fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/metrics performance' })
  const summary = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.reply_to_message_id === command.message_id && !m.photo), 30_000, 'the summary')
  const lines = summary.text.split('\n')
  t.equal(lines[0], '📊 Performance · last 1h')
  t.match(summary.text, /^Success rate +90% +/m, "the exporter's 10% failures")
  t.match(summary.text, /^Queue depth +7 tasks +/m, 'its queue')
  t.match(summary.text, /^Downloads +[0-9.]+\/s +/m)
  t.match(summary.text, /^Download p95 +[0-9.]+s +/m)
  t.equal(lines.length, 2 + 6, 'a heading, the column names, one line per panel')
  // the values are right-aligned under "now": each ends where it ends
  const end = [...lines[1]!].indexOf('w') + 1
  for (const line of lines.slice(2)) t.same([[...line][end - 1] !== ' ', [...line].slice(end, end + 2).join('')], [true, '  '], `aligned: ${line}`)
  t.ok(
    summary.entities.some((e) => e.type === 'pre'),
    'a monospace block, so the columns align',
  )
  t.same(
    summary.reply_markup?.inline_keyboard[0]?.map((b) => b.text),
    ['• 1h •', '24h', '7d'],
  )

  const graphs = await fake.waitFor(
    () => {
      const photos = fake.messages(GROUP).filter((m) => m.photo && m.reply_to_message_id === command.message_id)
      return photos.length === 2 && photos
    },
    60_000,
    'the two graph panels',
  )
  // both panels' graphs, drawn two at once by the graphs worker: they arrive in the order they are ready
  t.match(graphs.map((g) => g.text).sort(), [/^📈 Download p95/, /^📈 Success rate/])
  for (const g of graphs) t.same([PNG.sync.read(g.photo!.data).width, g.photo!.height], [640, 360], 'decodes at the configured size')

  await fake.pressButton({ chatId: GROUP, messageId: summary.message_id, from: ADMIN, data: 'dash.24h.performance' })
  await fake.waitFor(() => fake.message(GROUP, summary.message_id)!.text.startsWith('📊 Performance · last 24h'), 30_000, 'the summary over 24h')
  t.same(
    fake.message(GROUP, summary.message_id)?.reply_markup?.inline_keyboard[0]?.map((b) => b.text),
    ['1h', '• 24h •', '7d'],
  )

  const other = fake.sendCommand({ chatId: GROUP, from: { id: 9, username: 'reader' }, text: '/health' })
  const refused = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.reply_to_message_id === other.message_id), 30_000, 'the refusal')
  t.match(refused.text, /only alertwire admins can see the health dashboard/)
  const list = fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/dashboards' })
  const listed = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.reply_to_message_id === list.message_id), 30_000, 'the list')
  for (const name of ['performance', 'business', 'engagement', 'health', 'revenue']) t.match(listed.text, new RegExp(`/${name} — `))
  t.equal(fake.calls.filter((c) => c.status >= 400).length, 0, 'Telegram accepted every call')
})

t.test('every panel of the shipped dashboards answers on the demo stack', async (t) => {
  const { prometheus } = await startDemo(t)
  await waitForQuery(prometheus, 'instance:doradura_download_success:ratio_rate5m', (v) => v.length === 1, 60_000)
  const yaml = mergeYaml(readDeploy('alertwire/alertwire.yaml'), `telegram: {admins: [${ADMIN.id}]}`)
  const { fake } = await startWithFake(t, { yaml, env: { PROMETHEUS_URL: prometheus.url, REDIS_URL: await testRedisUrl() } })
  for (const name of ['business', 'engagement', 'health', 'revenue']) {
    const command = fake.sendCommand({ chatId: GROUP, from: ADMIN, text: `/${name}` })
    const summary = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.reply_to_message_id === command.message_id && !m.photo), 30_000, name)
    t.notMatch(summary.text, /⚠️/, `/${name}: every panel's query is accepted`)
    t.notMatch(summary.text, /no data/, `/${name}: every panel has data`)
  }
  t.match(fake.messages(GROUP).find((m) => /Business/.test(m.text))?.text, /^Active subs +42 +/m, 'the exporter’s 42 subscriptions')
})
