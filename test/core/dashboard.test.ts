/**
 * Dashboards in the chat, the pure parts: /graph's arguments, ranges, values with units, the
 * aligned summary, and the range buttons' callback data.
 */
import t from 'tap'
import {
  DEFAULT_RANGE_MS,
  dashboardButtonData,
  dashboardKeyboard,
  dashboardSummary,
  formatNumber,
  formatValue,
  GRAPH_USAGE,
  parseDashboardButton,
  parseGraphArgs,
  parseRange,
  readingOf,
} from '../../src/core/dashboard.js'

t.test('parseGraphArgs: the expression, then an optional range', async (t) => {
  const cases: [string, ReturnType<typeof parseGraphArgs>][] = [
    ['up', { expr: 'up', rangeMs: DEFAULT_RANGE_MS }],
    ['rate(http_requests_total[5m]) 6h', { expr: 'rate(http_requests_total[5m])', rangeMs: 6 * 3_600_000 }],
    ['sum by (job) (rate(x[5m])) > 0.1   7d', { expr: 'sum by (job) (rate(x[5m])) > 0.1', rangeMs: 7 * 86_400_000 }],
    ['x offset 1h', { expr: 'x offset', rangeMs: 3_600_000 }],
    ['increase(x[1h])', { expr: 'increase(x[1h])', rangeMs: DEFAULT_RANGE_MS }],
    ['up 90d', { error: 'the range 90d is out of bounds: from 1m to 30d' }],
    ['up 10s', { error: 'the range 10s is out of bounds: from 1m to 30d' }],
    ['', { error: GRAPH_USAGE }],
    ['   24h', { error: GRAPH_USAGE }],
  ]
  for (const [args, want] of cases) t.same(parseGraphArgs(args), want, JSON.stringify(args))
  t.match(parseGraphArgs('x'.repeat(2001)), { error: /too long/ })
})

t.test('parseRange: 1 minute to 30 days', async (t) => {
  t.same(['1h', '24h', '7d', '30d', '1m', '59s', '31d', 'soon', ''].map(parseRange), [
    3_600_000,
    86_400_000,
    604_800_000,
    2_592_000_000,
    60_000,
    undefined,
    undefined,
    undefined,
    undefined,
  ])
})

t.test('formatValue: units a person reads at a glance', async (t) => {
  const cases: [number, string | undefined, string][] = [
    [0.9712, 'ratio', '97.1%'],
    [1, 'ratio', '100%'],
    [42.456, 'percent', '42.5%'],
    [0.35, 'seconds', '350ms'],
    [2.345, 'seconds', '2.35s'],
    [5400, 'seconds', '1h 30m'],
    [1536, 'bytes', '1.5 KiB'],
    [3 * 1024 ** 3, 'bytes', '3 GiB'],
    [12.3456, 'req/s', '12.3 req/s'],
    [2, '/s', '2/s'],
    [123456, 'stars', '123k stars'],
    [7, undefined, '7'],
    [0.000123, '', '0'],
    [Number.NaN, 'ratio', 'NaN'],
    [Number.POSITIVE_INFINITY, '', '+Inf'],
  ]
  for (const [value, unit, want] of cases) t.equal(formatValue(value, unit), want, `${value} ${unit ?? ''}`)
  t.same([formatNumber(2_500_000), formatNumber(-15_000), formatNumber(0.5)], ['2.5M', '-15k', '0.5'])
})

t.test('dashboardSummary: an aligned monospace block, one line per series, no blanks', async (t) => {
  const series = (labels: Record<string, string>, values: number[]) => ({ labels, points: values.map((v, i) => [i * 60_000, v] as [number, number]) })
  const panels = [
    readingOf('Success rate', 'ratio', [series({ job: 'doradura', instance: 'bot:9090' }, [0.95, 0.99, 0.971])]),
    readingOf('p95 download', 'seconds', [series({ instance: 'a' }, [3.2, 4.1]), series({ instance: 'b' }, [0.8, 0.8])]),
    readingOf('Queue', '', []),
    { title: 'Revenue', rows: [], error: 'Prometheus is not answering' },
  ]
  const text = dashboardSummary('Performance', 86_400_000, panels)
  t.same(text.plain.split('\n'), [
    '📊 Performance · last 24h',
    '                  now  low–high',
    'Success rate    97.1%  95%–99%',
    'p95 download a   4.1s  3.2s–4.1s',
    'p95 download b  800ms  steady',
    'Queue               —  no data',
    'Revenue            ⚠️  Prometheus is not answering',
  ])
  t.match(text.html, /^📊 <b>Performance · last 24h<\/b>\n<pre> {18}now {2}low–high\nSuccess rate/)
  t.notMatch(text.html, /<(?!\/?(b|pre)>)/, 'only b and pre tags: Telegram accepts it')
})

t.test('dashboardSummary: names are escaped and cut, many series counted', async (t) => {
  const many = Array.from({ length: 8 }, (_, i) => ({ labels: { shard: String(i) }, points: [[0, i]] as [number, number][] }))
  const text = dashboardSummary('<ops>', 3_600_000, [readingOf('A very long panel title indeed', '', many)])
  t.match(text.html, /&lt;ops&gt;/)
  t.match(text.plain, /A very long pan… 0 {2}0 {2}steady/, 'the label is kept whole')
  t.match(text.plain, /A very long panel…\s+and 3 more series/)
})

t.test('range buttons: data fits Telegram, reads back, marks the shown range', async (t) => {
  const data = dashboardButtonData('performance_overview_for_the_bot', '24h')
  t.ok(Buffer.byteLength(data) <= 64)
  t.same(parseDashboardButton(data), { name: 'performance_overview_for_the_bot', range: '24h', rangeMs: 86_400_000 })
  t.same([parseDashboardButton('dash.24h.Bad-Name'), parseDashboardButton('dash.99y.x'), parseDashboardButton('s0.abc')], [undefined, undefined, undefined])
  t.same(dashboardKeyboard('health', 86_400_000), [
    [
      { text: '1h', callback_data: 'dash.1h.health' },
      { text: '• 24h •', callback_data: 'dash.24h.health' },
      { text: '7d', callback_data: 'dash.7d.health' },
    ],
  ])
})
