import t from 'tap'
import {
  CAPTION_LIMIT,
  chooseSeries,
  flatValue,
  type GraphOptions,
  graphCaption,
  graphForAlert,
  graphQueryFromUrl,
  legendNames,
  splitThreshold,
  stepFor,
  thinPoints,
  type Threshold,
  visibleLength,
  windowText,
} from '../../src/core/graph.js'
import { parseMatcher } from '../../src/core/matchers.js'
import { compileSeverities, DEFAULT_HEARTBEATS, DEFAULT_LEVELS } from '../../src/core/severity.js'
import { shippedAlertRules } from '../helpers/rules.js'

/** Every alert rule shipped in deploy/prometheus/rules, by name: what is drawn and the line it crosses. */
const SHIPPED: Record<string, { plotExpr: string; threshold?: Threshold }> = {
  AlertwireDown: { plotExpr: 'up{job="alertwire"}', threshold: { op: '==', value: 0 } },
  AlertwireWebhookFailures: {
    plotExpr: 'sum by (job, instance, result) (rate(alertwire_webhooks_received_total{result!="accepted"}[5m]))',
    threshold: { op: '>', value: 0 },
  },
  AlertwireTelegramFailing: {
    plotExpr:
      'sum by (job, instance) (rate(alertwire_telegram_request_duration_seconds_count{outcome=~"transient|misconfigured|chat_unreachable|rejected"}[10m]))\n/\nsum by (job, instance) (rate(alertwire_telegram_request_duration_seconds_count[10m]))',
    threshold: { op: '>', value: 0.5 },
  },
  // two thresholds (600 s for the outbox, 120 s for webhooks): both curves, no single line
  AlertwireQueueBacklog: {
    plotExpr:
      'max by (job, instance, queue) (alertwire_queue_oldest_age_seconds{queue="outbox"}) or max by (job, instance, queue) (alertwire_queue_oldest_age_seconds{queue="webhooks"})',
  },
  AlertwireDeadLetters: {
    plotExpr: 'sum by (job, instance) (increase(alertwire_dead_letters_total[15m])) or max by (job, instance) (delta(alertwire_dead_letters[15m]))',
    threshold: { op: '>', value: 0 },
  },
  AlertwireConfigReloadFailed: { plotExpr: 'alertwire_config_last_reload_successful', threshold: { op: '==', value: 0 } },
  AlertmanagerNotificationsFailing: {
    plotExpr: 'sum by (job, instance, integration) (rate(alertmanager_notifications_failed_total{integration="webhook"}[5m]))',
    threshold: { op: '>', value: 0 },
  },
  HighErrorRate: { plotExpr: '1 - instance:doradura_download_success:ratio_rate5m', threshold: { op: '>', value: 0.1 } },
  QueueBackup: { plotExpr: 'instance:doradura_queue_depth:sum', threshold: { op: '>', value: 100 } },
  BotDown: { plotExpr: 'up{job="doradura"}', threshold: { op: '==', value: 0 } },
  YtdlpFailures: { plotExpr: 'instance_category:doradura_errors:rate5m{category="ytdlp"}', threshold: { op: '>', value: 0.5 } },
  PaymentFailures: { plotExpr: 'sum by (job, instance) (increase(doradura_payment_failure_total[5m]))', threshold: { op: '>', value: 0 } },
  SlowDownloads: { plotExpr: 'instance:doradura_download_duration_seconds:p95_rate5m', threshold: { op: '>', value: 60 } },
  LowSuccessRate: { plotExpr: 'instance:doradura_download_success:ratio_rate30m', threshold: { op: '<', value: 0.9 } },
  HighRetryRate: { plotExpr: 'instance:doradura_task_retries:rate5m', threshold: { op: '>', value: 1 } },
  LowDailyActiveUsers: { plotExpr: 'doradura_daily_active_users', threshold: { op: '<', value: 10 } },
  LowConversionRate: { plotExpr: 'instance:doradura_subscription_conversion:ratio_rate1h', threshold: { op: '<', value: 0.01 } },
  HighCancellationRate: { plotExpr: 'instance:doradura_subscription_cancellations:increase1h', threshold: { op: '>', value: 5 } },
}

t.test('splitThreshold on every alert rule shipped in deploy/prometheus/rules', async (t) => {
  const rules = shippedAlertRules()
  t.ok(rules.filter((r) => r.file.startsWith('doradura')).length >= 11, "doradura's 11 rules are read")
  t.ok(rules.filter((r) => r.file.startsWith('alertwire')).length >= 7, "alertwire's own rules are read")
  for (const rule of rules) {
    const expected = SHIPPED[rule.alert]
    if (!expected) {
      t.fail(`${rule.file}: ${rule.alert} is new: add what it draws to SHIPPED (splitThreshold gives ${JSON.stringify(splitThreshold(rule.expr))})`)
      continue
    }
    t.same(splitThreshold(rule.expr), expected, rule.alert)
  }
})

t.test('splitThreshold on tricky expressions', async (t) => {
  const cases: [string, string, Threshold | undefined][] = [
    ['rate(x[5m]) > bool 0.1', 'rate(x[5m])', { op: '>', value: 0.1 }],
    ['((x > 5))', 'x', { op: '>', value: 5 }],
    ['(sum(rate(a[5m])) / sum(rate(b[5m]))) >= 0.05', '(sum(rate(a[5m])) / sum(rate(b[5m])))', { op: '>=', value: 0.05 }],
    ['0.1 < rate(x[5m])', 'rate(x[5m])', { op: '>', value: 0.1 }],
    ['10 >= free_bytes', 'free_bytes', { op: '<=', value: 10 }],
    ['x > 0.1 unless on() maintenance_mode == 1', 'x', { op: '>', value: 0.1 }],
    ['x > 0.1 and on(instance) hour() >= 8', 'x', { op: '>', value: 0.1 }],
    ['x > ignoring(job) y', 'x', undefined],
    ['x{path=~"/a|b>c", q="\\"<"} > 1', 'x{path=~"/a|b>c", q="\\"<"}', { op: '>', value: 1 }],
    [
      'histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m]))) > 2.5e-1',
      'histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))',
      { op: '>', value: 0.25 },
    ],
    ['x > 3 # was 5', 'x', { op: '>', value: 3 }],
    ['x\n  # more than five > 5\n  > 3', 'x', { op: '>', value: 3 }],
    ['absent(up{job="x"})', 'absent(up{job="x"})', undefined],
    ['temperature_celsius < -10', 'temperature_celsius', { op: '<', value: -10 }],
    ['x != 0', 'x', { op: '!=', value: 0 }],
    ['x offset 5m > 10', 'x offset 5m', { op: '>', value: 10 }],
    ['sum(x) by (job) > 3', 'sum(x) by (job)', { op: '>', value: 3 }],
    ['max_over_time(x[1h:5m]) > 3', 'max_over_time(x[1h:5m])', { op: '>', value: 3 }],
    ['a > 1 or b > 2', 'a or b', undefined],
    ['a > 1 or b > 1', 'a or b', { op: '>', value: 1 }],
    ['x > 0x10', 'x', { op: '>', value: 16 }],
    ['x > 2 ^ 3', 'x', { op: '>', value: 8 }],
    ['rate(errors_total[5m]) / rate(requests_total[5m]) * 100 > 5', 'rate(errors_total[5m]) / rate(requests_total[5m]) * 100', { op: '>', value: 5 }],
    ['up', 'up', undefined],
    ['  up == 0  ', 'up', { op: '==', value: 0 }],
  ]
  for (const [expr, plotExpr, threshold] of cases) t.same(splitThreshold(expr), threshold ? { plotExpr, threshold } : { plotExpr }, expr)
  const computed = splitThreshold('x > (1 - 0.95) * 100')
  t.equal(computed.plotExpr, 'x')
  t.ok(computed.threshold && Math.abs(computed.threshold.value - 5) < 1e-9, 'a number written as arithmetic is computed')
})

t.test('graphQueryFromUrl reads the expression of Prometheus graph links', async (t) => {
  const expr = 'rate(http_requests_total{code=~"5.."}[5m]) > 0.1'
  const q = encodeURIComponent(expr)
  const cases: [string, string | undefined][] = [
    [`http://prom:9090/graph?g0.expr=${q}&g0.tab=1`, expr],
    [`https://prom.example.com/classic/graph?g0.expr=${q}`, expr],
    [`http://prom:9090/query?g0.expr=${q}&g0.show_tree=0`, expr],
    [`http://h/prometheus/graph?g0.tab=1&g0.expr=${q}`, expr],
    [`http://vm:8428/vmui/#/?g0.expr=${q}&g0.range_input=1h`, expr],
    ['http://prom:9090/graph?g0.expr=up+%3D%3D+0', 'up == 0'],
    ['http://prom:9090/graph?g0.expr=&g0.tab=1', undefined],
    ['http://grafana:3000/alerting/grafana/abc/view', undefined],
    ['not a url', undefined],
    ['ftp://prom/graph?g0.expr=up', undefined],
  ]
  for (const [url, want] of cases) t.equal(graphQueryFromUrl(url), want, url)
})

const scheme = compileSeverities(DEFAULT_LEVELS, {}, DEFAULT_HEARTBEATS).scheme
const options: GraphOptions = {
  enabled: true,
  hostMap: new Map(),
  severities: new Set(['critical', 'warning']),
  severityScheme: scheme,
  routeGraphs: new Map(),
  windowMs: 3_600_000,
  onResolve: false,
  targetPoints: 400,
}
const started = Date.parse('2026-12-01T12:00:00Z')
const now = started + 10 * 60_000
const link = `http://prometheus:9090/graph?g0.expr=${encodeURIComponent('instance:doradura_queue_depth:sum > 100')}&g0.tab=1`
const firing = { labels: { alertname: 'QueueBackup', severity: 'critical' }, startsAt: '2026-12-01T12:00:00Z', generatorURL: link, status: 'firing' }

t.test('graphForAlert: a firing critical alert with a graph link gets the hour before it started until now', async (t) => {
  t.same(graphForAlert(firing, options, now), {
    expr: 'instance:doradura_queue_depth:sum > 100',
    plotExpr: 'instance:doradura_queue_depth:sum',
    threshold: { op: '>', value: 100 },
    startMs: started - 3_600_000,
    endMs: now,
    stepSeconds: 15,
    title: 'QueueBackup',
    alertStartMs: started,
    prometheusUrl: 'http://prometheus:9090',
    fromGenerator: true,
  })
})

t.test('graphForAlert: who gets a graph', async (t) => {
  const ask = (alert: Partial<typeof firing> & { route?: string; endsAt?: string }, opts: Partial<GraphOptions> = {}) =>
    graphForAlert({ ...firing, ...alert }, { ...options, ...opts }, now)
  t.ok(ask({ labels: { alertname: 'X', severity: 'warn' } }), 'warning, written as an alias')
  t.notOk(ask({ labels: { alertname: 'X', severity: 'info' } }), 'info: not in graphs.severities')
  t.ok(ask({ labels: { alertname: 'X', severity: 'info' } }, { severities: new Set() }), 'an empty list: every severity')
  t.notOk(ask({}, { enabled: false }), 'graphs.enabled: false')
  t.notOk(ask({ generatorURL: undefined as unknown as string }), 'no generator link')
  t.notOk(ask({ generatorURL: 'http://grafana:3000/alerting/grafana/x/view' }), 'a link that is not a Prometheus graph')
  t.notOk(ask({ startsAt: 'garbage' }), 'no start to place the window')
  t.notOk(ask({ route: 'db' }, { routeGraphs: new Map([['db', false]]) }), 'the route says graphs: false')
  t.ok(ask({ route: 'web', labels: { alertname: 'X', severity: 'info' } }, { routeGraphs: new Map([['web', true]]) }), 'the route says graphs: true')
  t.notOk(ask({ status: 'resolved', endsAt: '2026-12-01T12:05:00Z' }), 'resolved: only with on_resolve')
  const resolved = ask({ status: 'resolved', endsAt: '2026-12-01T12:05:00Z' }, { onResolve: true })
  t.equal(resolved?.endMs, started + 6 * 60_000, 'the whole incident and a minute after')
  t.equal(resolved?.startMs, started - 3_600_000)
})

t.test('graphForAlert: which Prometheus is asked', async (t) => {
  const configured = graphForAlert(firing, { ...options, prometheusUrl: 'http://127.0.0.1:9090' }, now)
  t.equal(configured?.prometheusUrl, 'http://127.0.0.1:9090')
  t.notOk(configured?.fromGenerator, 'a configured Prometheus is not the generator')
  const mapped = graphForAlert(firing, { ...options, hostMap: new Map([['prometheus:9090', 'http://10.0.0.5:9090']]) }, now)
  t.equal(mapped?.prometheusUrl, 'http://10.0.0.5:9090')
  t.notOk(mapped?.fromGenerator, 'a mapped host is configured')
  const prefixed = graphForAlert({ ...firing, generatorURL: 'https://mon.example.com/prometheus/classic/graph?g0.expr=up' }, options, now)
  t.equal(prefixed?.prometheusUrl, 'https://mon.example.com/prometheus', "the server's path prefix is kept")
})

t.test('stepFor picks round steps near the target', async (t) => {
  t.equal(stepFor(0, 3_600_000, 400), 10)
  t.equal(stepFor(0, 24 * 3_600_000, 400), 300)
  t.equal(stepFor(0, 7 * 24 * 3_600_000, 400), 1800)
  t.equal(stepFor(0, 60_000, 400), 1)
})

t.test('chooseSeries keeps the curves nearest the alarm, in their order, and counts the rest', async (t) => {
  const s = (name: string, ...values: number[]) => ({ labels: { name }, points: values.map((v, i) => [i, v] as [number, number]) })
  const all = [s('a', 1, 2), s('b', 9, 1), s('c', Number.NaN), s('d', 5, 4), s('e', 0, 0)]
  const high = chooseSeries(all, 2, { op: '>', value: 3 })
  t.same(
    high.shown.map((x) => x.labels.name),
    ['b', 'd'],
  )
  t.equal(high.omitted, 3)
  const low = chooseSeries(all, 2, { op: '<', value: 3 })
  t.same(
    low.shown.map((x) => x.labels.name),
    ['a', 'e'],
    'for < the lowest',
  )
  t.equal(chooseSeries(all, 10).omitted, 0)
})

t.test('legendNames names only the labels that differ', async (t) => {
  t.same(
    legendNames([
      { __name__: 'up', job: 'api', instance: 'a:1' },
      { __name__: 'up', job: 'api', instance: 'b:1' },
    ]),
    ['instance=a:1', 'instance=b:1'],
  )
  t.same(legendNames([{ job: 'api', instance: 'a' }]), [''], 'one series: no legend')
  t.same(
    legendNames([
      { queue: 'outbox', job: 'x' },
      { queue: 'webhooks', job: 'y' },
    ]),
    ['job=x, queue=outbox', 'job=y, queue=webhooks'],
  )
  t.same(legendNames([{ __name__: 'a' }, { __name__: 'b' }]), ['a', 'b'], 'a metric name alone, as written')
})

t.test('flatValue and thinPoints', async (t) => {
  const flat = [
    {
      labels: {},
      points: [
        [0, 1],
        [1, 1],
        [2, Number.NaN],
      ] as [number, number][],
    },
  ]
  t.equal(flatValue(flat), 1)
  t.equal(flatValue([...flat, { labels: {}, points: [[0, 2]] }]), undefined)
  t.equal(flatValue([{ labels: {}, points: [[0, Number.NaN]] }]), undefined, 'no value at all is not flat: it is empty')
  const many = Array.from({ length: 10_000 }, (_, i) => [i, i === 4321 ? 1000 : Math.sin(i / 100)] as [number, number])
  const thin = thinPoints(many, 400)
  t.ok(thin.length <= 400, `${thin.length} points`)
  t.ok(
    thin.some(([, v]) => v === 1000),
    'the spike survives',
  )
  t.ok(
    thin.every(([x], i) => i === 0 || x > thin[i - 1]![0]),
    'in time order',
  )
})

t.test('graphCaption says what the picture shows, or why there is none, within 1024 characters', async (t) => {
  const base = { title: 'QueueBackup', startMs: started - 3_600_000, endMs: started + 5 * 60_000, timeZone: 'Europe/Berlin' }
  t.equal(
    graphCaption({ ...base, outcome: 'drawn', shown: 6, omitted: 3, threshold: { op: '>', value: 100 } }),
    '📈 <b>QueueBackup</b>\n2026-12-01 12:00–13:05 Europe/Berlin (1h 5m)\n6 series, 3 more not shown · threshold &gt; 100',
  )
  t.match(graphCaption({ ...base, outcome: 'flat', shown: 1, flatValue: 0 }), /flat at 0 all along/)
  t.match(graphCaption({ ...base, outcome: 'empty' }), /no graph: no data/)
  t.match(graphCaption({ ...base, outcome: 'bad_query', detail: 'parse error: unexpected <' }), /Prometheus refused the query: parse error: unexpected &lt;$/)
  t.match(graphCaption({ ...base, outcome: 'timeout' }), /did not answer in time/)
  const long = graphCaption({ ...base, title: 'T'.repeat(5000), outcome: 'prometheus_down', detail: '<&>'.repeat(2000) })
  t.ok(visibleLength(long) <= CAPTION_LIMIT, `${visibleLength(long)} characters after parsing`)
  t.equal(windowText(Date.parse('2026-12-01T23:30:00Z'), Date.parse('2026-12-02T00:30:00Z'), 'UTC'), '2026-12-01 23:30 – 2026-12-02 00:30 UTC (1h)')
})

t.test('graphForAlert: without the route given, every route the labels match is asked', async (t) => {
  const route = (name: string, team: string) => ({
    name,
    matchers: [parseMatcher(`team="${team}"`)],
    continue: true,
    silentSeverities: new Set<string>(),
    repeatIntervalMs: 0,
    muteWindows: [],
  })
  const routing = {
    routes: [route('db', 'db'), route('all-db', 'db'), route('web', 'web')],
    silentSeverities: new Set<string>(),
    repeatIntervalMs: 0,
    muteWindows: [],
  }
  const opts = {
    ...options,
    routing,
    routeGraphs: new Map([
      ['db', false],
      ['web', false],
    ]),
  }
  const alert = (team: string, severity = 'critical') => ({ ...firing, labels: { alertname: 'X', severity, team } })
  t.notOk(graphForAlert(alert('web'), opts, now), 'its only route says no')
  t.ok(
    graphForAlert(
      alert('db'),
      {
        ...opts,
        routeGraphs: new Map([
          ['db', false],
          ['all-db', true],
        ]),
      },
      now,
    ),
    'one of its routes says yes',
  )
  t.notOk(graphForAlert(alert('db'), opts, now), 'the routes that say anything say no')
  t.ok(graphForAlert(alert('other'), opts, now), 'no route says anything: the severity decides')
})
