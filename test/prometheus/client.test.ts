// The Prometheus client and makeGraph against a real Prometheus (Debian's) scraping a small
// exporter this test starts: a range query returns the exporter's series, a broken expression is
// bad_query, a Prometheus that is not there is down, one that never answers is a timeout.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PNG } from 'pngjs'
import t from 'tap'
import { graphQueryForExpr, splitThreshold } from '../../src/core/graph.js'
import { createPrometheusClient, PrometheusError, prometheusPool, sampleValue } from '../../src/prometheus/client.js'
import { makeGraph } from '../../src/workers/graphs.js'
import { freePort } from '../helpers/net.js'
import { type PrometheusHandle, startPrometheus } from '../helpers/prometheus.js'
import { shippedAlertRules } from '../helpers/rules.js'

/** listen starts an HTTP server on a free loopback port. */
async function listen(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })

// three queues whose depth climbs by one per scrape, and one steady gauge
let scrapes = 0
const exporter = await listen((_req, res) => {
  scrapes++
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
  res.end(
    [
      '# TYPE demo_queue_depth gauge',
      ...['a', 'b', 'c'].map((q, i) => `demo_queue_depth{queue="${q}"} ${(i + 1) * 10 + scrapes}`),
      '# TYPE demo_steady gauge',
      'demo_steady 42',
      '',
    ].join('\n'),
  )
})
const target = new URL(exporter.url).host

let prometheus: PrometheusHandle
t.before(async () => {
  prometheus = await startPrometheus({
    configYaml: `global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: demo\n    static_configs: [{targets: ['${target}']}]\n`,
  })
  // enough scrapes for a curve
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    const samples = await prometheus.queryVector('count_over_time(demo_steady[1m])').catch(() => [])
    if (Number(samples[0]?.value[1] ?? 0) >= 4) break
    await new Promise((r) => setTimeout(r, 500))
  }
})
t.teardown(async () => {
  await prometheus?.stop()
  await close(exporter.server)
})

const limits = { width: 640, height: 360, maxSeries: 2, timeoutMs: 5000 }

const window = () => {
  const end = Date.now()
  return { start: end - 60_000, end }
}

t.test('a range query returns the exporter’s series with their labels and points', async (t) => {
  const client = createPrometheusClient({ url: prometheus.url, timeoutMs: 10_000 })
  const { start, end } = window()
  const series = await client.queryRange('demo_queue_depth', start, end, 1)
  t.same(series.map((s) => s.labels.queue).sort(), ['a', 'b', 'c'])
  for (const s of series) {
    t.equal(s.labels.job, 'demo')
    t.ok(s.points.length >= 4, `${s.labels.queue}: ${s.points.length} points`)
    t.ok(
      s.points.every(([ms]) => ms >= start - 1000 && ms <= end + 1000),
      'times in ms, inside the window',
    )
    t.ok(s.points.at(-1)![1] > s.points[0]![1], 'the depth climbs')
  }
})

t.test('a broken expression is bad_query, with Prometheus’s words', async (t) => {
  const client = createPrometheusClient({ url: prometheus.url, timeoutMs: 10_000 })
  const { start, end } = window()
  const error = await client.queryRange('rate(demo_queue_depth[5m', start, end, 1).catch((e: unknown) => e)
  t.ok(error instanceof PrometheusError)
  t.equal((error as PrometheusError).kind, 'bad_query')
  t.match((error as PrometheusError).message, /parse error/)
})

t.test('every shipped alert rule’s curve is a query Prometheus accepts', async (t) => {
  const client = createPrometheusClient({ url: prometheus.url, timeoutMs: 10_000 })
  const { start, end } = window()
  for (const rule of shippedAlertRules()) {
    const { plotExpr } = splitThreshold(rule.expr)
    const error = await client.queryRange(plotExpr, start, end, 15).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.equal(error, undefined, `${rule.alert}: ${plotExpr.replace(/\s+/g, ' ')}`)
  }
})

t.test('nobody listening is down; a server that never answers is a timeout; a wrong path is http', async (t) => {
  const { start, end } = window()
  const down = await createPrometheusClient({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 5000 })
    .queryRange('up', start, end, 1)
    .catch((e: unknown) => e)
  t.equal((down as PrometheusError).kind, 'down')
  t.match((down as PrometheusError).message, /unreachable \(ECONNREFUSED\)/)

  const hanging = await listen(() => {})
  const began = Date.now()
  const slow = await createPrometheusClient({ url: hanging.url, timeoutMs: 500 })
    .queryRange('up', start, end, 1)
    .catch((e: unknown) => e)
  t.equal((slow as PrometheusError).kind, 'timeout')
  t.ok(Date.now() - began < 10_000, 'given up on time')
  await close(hanging.server)

  const wrong = await createPrometheusClient({ url: `${prometheus.url}/nothing-here`, timeoutMs: 5000 })
    .queryRange('up', start, end, 1)
    .catch((e: unknown) => e)
  t.equal((wrong as PrometheusError).kind, 'http')
})

t.test('credentials go to the configured Prometheus, never to a generator’s host', async (t) => {
  const seen: (string | undefined)[] = []
  const fake = await listen((req, res) => {
    seen.push(req.headers.authorization)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }))
  })
  const pool = prometheusPool({ url: fake.url, auth: { username: 'aw', password: 'pw' }, timeoutMs: 5000 })
  await pool({})!.queryRange('up', 0, 1000, 1)
  await pool({ prometheusUrl: fake.url, fromGenerator: true })!.queryRange('up', 0, 1000, 1)
  const bearer = prometheusPool({ url: fake.url, auth: { bearerToken: 'tok' }, timeoutMs: 5000 })
  await bearer({})!.queryRange('up', 0, 1000, 1)
  t.same(seen, [`Basic ${Buffer.from('aw:pw').toString('base64')}`, undefined, 'Bearer tok'])
  t.equal(prometheusPool({ timeoutMs: 5000 })({}), undefined, 'nothing configured, nothing to ask')
  await close(fake.server)
})

t.test('an answer larger than the cap is refused before it takes the memory', async (t) => {
  const client = createPrometheusClient({ url: prometheus.url, timeoutMs: 10_000, maxBytes: 200 })
  const { start, end } = window()
  const error = await client.queryRange('demo_queue_depth', start, end, 1).catch((e: unknown) => e)
  t.equal((error as PrometheusError).kind, 'too_big')
  t.match((error as PrometheusError).message, /too many series or points/)
  const image = await makeGraph(graphQueryForExpr('demo_queue_depth', 60_000, { targetPoints: 300 }, end), { prometheus: client, timeZone: 'UTC', limits })
  t.match(image, { outcome: 'bad_query', png: undefined })
  t.match(image.caption, /too many series or points for a picture/)
})

t.test('makeGraph draws the real curves: a PNG of the configured size, two series shown, one counted', async (t) => {
  const query = graphQueryForExpr('demo_queue_depth > 5', 60_000, { targetPoints: 300 }, Date.now())
  const image = await makeGraph(query, { prometheus: createPrometheusClient({ url: prometheus.url, timeoutMs: 5000 }), timeZone: 'UTC', limits })
  t.equal(image.outcome, 'drawn', image.caption)
  const png = PNG.sync.read(image.png!)
  t.same([png.width, png.height], [640, 360])
  t.same([image.shown, image.omitted], [2, 1])
  t.match(image.caption, /2 series, 1 more not shown · threshold &gt; 5/)
})

t.test('makeGraph: flat, empty, broken, down and slow each say so in the caption; only flat has a picture', async (t) => {
  const now = Date.now()
  const real = createPrometheusClient({ url: prometheus.url, timeoutMs: 5000 })
  const flat = await makeGraph(graphQueryForExpr('demo_steady', 60_000, { targetPoints: 300 }, now), { prometheus: real, timeZone: 'UTC', limits })
  t.equal(flat.outcome, 'flat')
  t.ok(flat.png && PNG.sync.read(flat.png).width === 640, 'a flat curve is still drawn')
  t.match(flat.caption, /flat at 42 all along/)
  const empty = await makeGraph(graphQueryForExpr('no_such_metric', 60_000, { targetPoints: 300 }, now), { prometheus: real, timeZone: 'UTC', limits })
  t.match(empty, { outcome: 'empty', png: undefined })
  t.match(empty.caption, /no data/)
  const bad = await makeGraph(graphQueryForExpr('sum(', 60_000, { targetPoints: 300 }, now), { prometheus: real, timeZone: 'UTC', limits })
  t.match(bad, { outcome: 'bad_query', png: undefined })
  t.match(bad.caption, /Prometheus refused the query: .*parse error/)
  const nowhere = createPrometheusClient({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 5000 })
  const down = await makeGraph(graphQueryForExpr('up', 60_000, { targetPoints: 300 }, now), { prometheus: nowhere, timeZone: 'UTC', limits })
  t.match(down, { outcome: 'prometheus_down', png: undefined })
  t.match(down.caption, /Prometheus could not be asked: Prometheus at 127\.0\.0\.1:\d+ is unreachable/)
  const hanging = await listen(() => {})
  const slowClient = createPrometheusClient({ url: hanging.url, timeoutMs: 60_000 })
  const slow = await makeGraph(graphQueryForExpr('up', 60_000, { targetPoints: 300 }, now), {
    prometheus: slowClient,
    timeZone: 'UTC',
    limits: { ...limits, timeoutMs: 400 },
  })
  t.match(slow, { outcome: 'timeout', png: undefined })
  t.match(slow.caption, /did not answer in time/)
  await close(hanging.server)
  const nothing = await makeGraph(graphQueryForExpr('up', 60_000, { targetPoints: 300 }, now), { prometheus: () => undefined, timeZone: 'UTC', limits })
  t.match(nothing.caption, /no Prometheus is configured/)
  const broken = await makeGraph(graphQueryForExpr('demo_steady', 60_000, { targetPoints: 300 }, now), {
    prometheus: real,
    render: () => Promise.reject(new Error('out of crayons')),
    timeZone: 'UTC',
    limits,
  })
  t.match(broken, { outcome: 'render_error', png: undefined })
  t.match(broken.caption, /could not be drawn: out of crayons/)
})

t.test('a Prometheus that stops is down', async (t) => {
  const client = createPrometheusClient({ url: prometheus.url, timeoutMs: 5000 })
  await prometheus.stop()
  const { start, end } = window()
  const error = await client.queryRange('up', start, end, 1).catch((e: unknown) => e)
  t.equal((error as PrometheusError).kind, 'down')
})

t.test('sample values as Prometheus writes them', async (t) => {
  t.same(['1.5', '-2e3', 'NaN', '+Inf', '-Inf'].map(sampleValue), [1.5, -2000, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
})
