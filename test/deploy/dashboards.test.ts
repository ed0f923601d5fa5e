/**
 * The Grafana side, without a Grafana: every shipped dashboard has Grafana's dashboard shape (a
 * TypeBox schema of the fields Grafana needs, plus a grid with no overlaps), uses the provisioned
 * datasource, and every query in it (panels, variables, annotations) evaluates without error
 * against a real Prometheus loaded with the shipped rules, scraping the demo exporter, alertwire
 * and Alertmanager, and returns data.
 */
import { readdirSync } from 'node:fs'
import t from 'tap'
import Type, { type Static } from 'typebox'
import Value from 'typebox/value'
import YAML from 'yaml'
import { GROUP } from '../helpers/app.js'
import { readDeploy, startStack, waitForQuery } from './stack.js'

const Target = Type.Object({
  refId: Type.String({ minLength: 1 }),
  expr: Type.String({ minLength: 1 }),
  legendFormat: Type.Optional(Type.String()),
  datasource: Type.Optional(Type.Object({ type: Type.String(), uid: Type.String() })),
})

const GridPos = Type.Object({
  h: Type.Integer({ minimum: 1 }),
  w: Type.Integer({ minimum: 1, maximum: 24 }),
  x: Type.Integer({ minimum: 0, maximum: 23 }),
  y: Type.Integer({ minimum: 0 }),
})

const Panel = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  type: Type.Union(['timeseries', 'stat', 'gauge', 'bargauge', 'barchart', 'table', 'text', 'row'].map((name) => Type.Literal(name))),
  title: Type.String({ minLength: 1 }),
  description: Type.Optional(Type.String()),
  gridPos: GridPos,
  datasource: Type.Optional(Type.Object({ type: Type.String(), uid: Type.String() })),
  targets: Type.Optional(Type.Array(Target)),
  fieldConfig: Type.Optional(Type.Object({ defaults: Type.Record(Type.String(), Type.Unknown()), overrides: Type.Array(Type.Unknown()) })),
  options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
})

const Dashboard = Type.Object({
  uid: Type.String({ pattern: '^[a-z0-9-]{1,40}$' }),
  title: Type.String({ minLength: 1 }),
  schemaVersion: Type.Integer({ minimum: 30 }),
  version: Type.Integer(),
  refresh: Type.Literal('30s'),
  time: Type.Object({ from: Type.String(), to: Type.String() }),
  tags: Type.Array(Type.String()),
  editable: Type.Boolean(),
  panels: Type.Array(Panel, { minItems: 1 }),
  templating: Type.Object({
    list: Type.Array(
      Type.Object({
        name: Type.String({ minLength: 1 }),
        type: Type.String(),
        query: Type.Optional(Type.Unknown()),
        datasource: Type.Optional(Type.Unknown()),
      }),
    ),
  }),
  annotations: Type.Object({ list: Type.Array(Type.Object({ name: Type.String(), enable: Type.Boolean(), expr: Type.Optional(Type.String()) })) }),
})

type DashboardJson = Static<typeof Dashboard>
type PanelJson = Static<typeof Panel>

const files = readdirSync('deploy/grafana/dashboards').filter((f) => f.endsWith('.json'))
const dashboards = files.map((file) => ({ file, json: JSON.parse(readDeploy(`grafana/dashboards/${file}`)) as DashboardJson }))

const provisioned = YAML.parse(readDeploy('grafana/provisioning/datasources/datasources.yml')) as { datasources: { uid: string; type: string; url: string }[] }

t.test("every dashboard has Grafana's dashboard shape", async (t) => {
  t.same(files.sort(), ['alertwire.json', 'doradura_overview.json'])
  const prometheus = provisioned.datasources.find((d) => d.type === 'prometheus')!
  for (const { file, json } of dashboards) {
    t.same(
      [...Value.Errors(Dashboard, json)].map((e) => `${e.instancePath}: ${e.message}`),
      [],
      `${file} matches the schema`,
    )
    const ids = json.panels.map((p) => p.id)
    t.equal(new Set(ids).size, ids.length, `${file}: panel ids are unique`)
    for (const panel of json.panels) {
      t.ok(panel.gridPos.x + panel.gridPos.w <= 24, `${file} "${panel.title}" fits the 24-column grid`)
      if (panel.type === 'row') continue
      t.ok(panel.targets && panel.targets.length > 0, `${file} "${panel.title}" has a query`)
      t.same(panel.datasource, { type: 'prometheus', uid: prometheus.uid }, `${file} "${panel.title}" uses the provisioned Prometheus`)
    }
    t.same(overlaps(json.panels), [], `${file}: no two panels overlap`)
  }
})

/** overlaps lists pairs of panels whose grid rectangles intersect. */
function overlaps(panels: PanelJson[]): string[] {
  const found: string[] = []
  for (const [i, a] of panels.entries()) {
    for (const b of panels.slice(i + 1)) {
      const [p, q] = [a.gridPos, b.gridPos]
      if (p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h) found.push(`${a.title} / ${b.title}`)
    }
  }
  return found
}

t.test("doradura_overview has the seed's nine panels", async (t) => {
  const overview = dashboards.find((d) => d.file === 'doradura_overview.json')!.json
  const panel = (title: string) => overview.panels.find((p) => p.title === title)
  const seed: [string, string][] = [
    ['Download Rate', 'timeseries'],
    ['Success Rate', 'gauge'],
    ['Queue Depth', 'stat'],
    ['Download Duration p50/p95/p99', 'timeseries'],
    ['Downloads by Format', 'bargauge'],
    ['Daily Active Users', 'stat'],
    ['Total Revenue in Stars', 'stat'],
    ['Active Subscriptions', 'stat'],
    ['Errors by Category', 'timeseries'],
  ]
  for (const [title, type] of seed) t.equal(panel(title)?.type, type, `${title} (${type})`)
  t.same(
    panel('Download Rate')!.targets!.map((q) => q.legendFormat),
    ['success', 'failure'],
  )
  t.same(
    panel('Download Duration p50/p95/p99')!.targets!.map((q) => q.legendFormat),
    ['p50', 'p95', 'p99'],
  )
  t.match(panel('Downloads by Format')!.targets![0]!.expr, /by \(format\)/)
  t.match(panel('Errors by Category')!.targets![0]!.expr, /by \(category\)/)
})

t.test('provisioning points Grafana at the stack: datasources and the dashboards folder', async (t) => {
  t.match(provisioned.datasources, [
    { uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' },
    { type: 'alertmanager', url: 'http://alertmanager:9093' },
  ])
  const providers = YAML.parse(readDeploy('grafana/provisioning/dashboards/dashboards.yml')) as { providers: { type: string; options: { path: string } }[] }
  const compose = YAML.parse(readDeploy('docker-compose.yml')) as { services: { grafana: { volumes: string[] } } }
  t.ok(
    compose.services.grafana.volumes.includes(`./grafana/dashboards:${providers.providers[0]!.options.path}:ro`),
    'the provider reads the folder compose mounts the dashboards into',
  )
  t.ok(compose.services.grafana.volumes.includes('./grafana/provisioning:/etc/grafana/provisioning:ro'))
})

/** grafanaToPromql replaces Grafana's variables with what Grafana would send for "All" over the last minute. */
function grafanaToPromql(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '1m').replace(/\$instance|\$\{instance\}/g, '.*')
}

// Queries that may rightly be empty on a healthy stack that has just started.
const MAY_BE_EMPTY = new Set([
  'alertwire.json: Telegram Retries by Reason', // nothing was retried
  'doradura_overview.json: annotation Firing alerts', // nothing fires
  'alertwire.json: annotation Firing alerts',
])

t.test('every query evaluates against a real Prometheus with the shipped rules, and returns data', async (t) => {
  const { fake, alertmanager, prometheus } = await startStack(t)
  // one alert through Alertmanager and alertwire to the fake, so the delivery metrics exist
  await alertmanager.postAlerts([{ labels: { alertname: 'DashboardProbe', severity: 'warning', service: 'test' }, annotations: { summary: 'probe' } }])
  await fake.waitFor(() => fake.messages(GROUP).length > 0, 15_000, 'the probe message')
  // the slowest series: a quantile of 5-minute rates needs two scrapes, then a rule evaluation
  await waitForQuery(prometheus, 'instance:doradura_download_duration_seconds:p95_rate5m', (v) => v.length > 0)
  await waitForQuery(prometheus, 'sum(alertwire_telegram_request_duration_seconds_count)', (v) => v.length > 0)
  await new Promise((r) => setTimeout(r, 3000)) // and a few more scrapes for the rates

  for (const { file, json } of dashboards) {
    const queries = [
      ...json.panels.flatMap((p) => (p.targets ?? []).map((q) => ({ name: `${file}: ${p.title}`, expr: q.expr }))),
      ...json.templating.list.map((v) => {
        const text = typeof v.query === 'string' ? v.query : (v.query as { query: string }).query
        // label_values(selector, label) is Grafana's; the selector is the PromQL part
        return { name: `${file}: variable ${v.name}`, expr: text.replace(/^label_values\((.*),\s*\w+\)$/, '$1') }
      }),
      ...json.annotations.list.filter((a) => a.expr).map((a) => ({ name: `${file}: annotation ${a.name}`, expr: a.expr! })),
    ]
    for (const { name, expr } of queries) {
      const promql = grafanaToPromql(expr)
      let data: Awaited<ReturnType<typeof prometheus.query>>
      try {
        data = await prometheus.query(promql)
      } catch (error) {
        t.fail(`${name}: ${(error as Error).message}`)
        continue
      }
      const empty = Array.isArray(data.result) && data.result.length === 0
      t.ok(!empty || MAY_BE_EMPTY.has(name), `${name}: evaluates${MAY_BE_EMPTY.has(name) ? '' : ' and returns data'}`, { promql })
    }
  }
})
