import t from 'tap'
import Value from 'typebox/value'
import { planNotification } from '../../src/core/candidates.js'
import type { SchemaIssue } from '../../src/core/schema-errors.js'
import { describeIssues, groupKeyOf, parseDateTime, readWebhook, type Webhook, type WebhookBody, WebhookBodySchema } from '../../src/core/webhook.js'
import { ZERO_TIME } from '../../src/core/duration.js'
import { plannerConfig } from '../../src/config/slices.js'
import { testConfig } from '../helpers/config.js'

/** NOW: the receiving clock of every row. */
const NOW = Date.parse('2026-11-24T23:30:00Z')

type Json = Record<string, unknown>

/** alert: one alert as Alertmanager 0.25 sends it, with `over` replacing fields (undefined removes one). */
function alert(over: Json = {}): Json {
  return strip({
    status: 'firing',
    labels: { alertname: 'HighLatency', instance: 'web-1:9100', severity: 'critical' },
    annotations: { summary: 'p99 > 1s on web-1' },
    startsAt: '2026-11-24T23:01:00.05687024Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prom:9090/graph?g0.expr=up',
    fingerprint: '076ae3f4b12baf7a',
    ...over,
  })
}

/** body: a notification as Alertmanager 0.25 posts it, with `over` replacing fields (undefined removes one). */
function body(over: Json = {}): WebhookBody {
  return strip({
    receiver: 'telegram',
    status: 'firing',
    alerts: [alert()],
    groupLabels: { alertname: 'HighLatency' },
    commonLabels: { alertname: 'HighLatency', severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: '{}:{alertname="HighLatency"}',
    truncatedAlerts: 0,
    ...over,
  }) as WebhookBody
}

function strip<T extends Json>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}

/** read reads a body that must be readable and returns the notification. */
function read(b: WebhookBody, now = NOW): Webhook {
  const reading = readWebhook(b, now)
  if (!reading.ok) throw new Error(`not readable: ${reading.message}`)
  return reading.notification
}

/** first: the one alert of a notification read from a body with the given alert. */
const first = (a: Json, over: Json = {}) => read(body({ alerts: [a], ...over })).alerts[0]!

t.test('an Alertmanager notification is kept as it came, and nothing unknown is stored', async (t) => {
  const reading = readWebhook(body({ somethingNew: { deep: [1] }, alerts: [alert({ newField: 1 })] }), NOW)
  t.same(reading, {
    ok: true,
    unreadable: [],
    version: { text: '4', known: true },
    notification: {
      version: '4',
      groupKey: '{}:{alertname="HighLatency"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'telegram',
      groupLabels: { alertname: 'HighLatency' },
      commonLabels: { alertname: 'HighLatency', severity: 'critical' },
      commonAnnotations: {},
      externalURL: 'http://alertmanager:9093',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'HighLatency', instance: 'web-1:9100', severity: 'critical' },
          annotations: { summary: 'p99 > 1s on web-1' },
          startsAt: '2026-11-24T23:01:00.05687024Z',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://prom:9090/graph?g0.expr=up',
          fingerprint: '076ae3f4b12baf7a',
        },
      ],
    },
  })
  const stored = JSON.stringify(reading.ok && reading.notification)
  t.notMatch(stored, /somethingNew|newField/)
  t.notMatch(stored, /"source"/, 'no source: Alertmanager')
})

t.test('fingerprint: kept when usable, else computed from the labels as Alertmanager does', async (t) => {
  // 8a4c4b3e2317bf4f: what a real Alertmanager 0.25 gives these labels (test/core/fingerprint.test.ts)
  const rows: [string, unknown, string][] = [
    ['given', '076ae3f4b12baf7a', '076ae3f4b12baf7a'],
    ['missing (Alertmanager before 0.19)', undefined, '8a4c4b3e2317bf4f'],
    ['null', null, '8a4c4b3e2317bf4f'],
    ['empty', '', '8a4c4b3e2317bf4f'],
    ['a separator in it (it enters Redis keys)', 'a:b', '8a4c4b3e2317bf4f'],
    ['over 64 characters', 'x'.repeat(65), '8a4c4b3e2317bf4f'],
    ['not ASCII', 'é', '8a4c4b3e2317bf4f'],
    ['a number: text, like every other number', 123, '123'],
  ]
  for (const [name, fingerprint, expected] of rows) t.equal(first(alert({ fingerprint })).fingerprint, expected, name)
  const numeric = first(alert({ fingerprint: undefined, labels: { alertname: 'HighLatency', instance: 'web-1:9100', severity: 'critical', port: 9100 } }))
  t.equal(
    numeric.fingerprint,
    first(alert({ fingerprint: undefined, labels: { ...numeric.labels } })).fingerprint,
    'computed from the labels as read (9100 is "9100")',
  )
})

t.test('alert status: kept when given, else resolved once endsAt has passed, else firing', async (t) => {
  const rows: [string, Json, 'firing' | 'resolved', string | undefined][] = [
    ['given firing', { status: 'firing' }, 'firing', ZERO_TIME],
    ['given resolved', { status: 'resolved', endsAt: '2026-11-24T23:13:00Z' }, 'resolved', '2026-11-24T23:13:00Z'],
    ['given in capitals', { status: 'RESOLVED', endsAt: '2026-11-24T23:13:00Z' }, 'resolved', '2026-11-24T23:13:00Z'],
    ['missing, endsAt the zero time', { status: undefined }, 'firing', ZERO_TIME],
    ['missing, endsAt passed', { status: undefined, endsAt: '2026-11-24T23:13:00Z' }, 'resolved', '2026-11-24T23:13:00Z'],
    ['missing, endsAt exactly now', { status: undefined, endsAt: '2026-11-24T23:30:00Z' }, 'resolved', '2026-11-24T23:30:00Z'],
    ['missing, endsAt with an offset, passed', { status: undefined, endsAt: '2026-11-25T00:20:00+01:00' }, 'resolved', '2026-11-25T00:20:00+01:00'],
    ['missing, endsAt ahead (Alertmanager API: when it will resolve)', { status: undefined, endsAt: '2026-11-24T23:35:00Z' }, 'firing', '2026-11-24T23:35:00Z'],
    ['missing, no endsAt', { status: undefined, endsAt: undefined }, 'firing', undefined],
    ['missing, endsAt unreadable (dropped)', { status: undefined, endsAt: 'soon' }, 'firing', undefined],
    ['unknown word', { status: 'burning', endsAt: '2026-11-24T23:13:00Z' }, 'resolved', '2026-11-24T23:13:00Z'],
    ['null', { status: null }, 'firing', ZERO_TIME],
  ]
  for (const [name, over, status, endsAt] of rows) {
    const read = first(alert(over))
    t.same([read.status, read.endsAt], [status, endsAt], name)
  }
})

t.test('notification status: kept when given, else firing if any alert fires', async (t) => {
  const resolved = alert({ status: 'resolved', endsAt: '2026-11-24T23:13:00Z', fingerprint: 'r1' })
  t.equal(read(body({ status: undefined, alerts: [resolved, alert()] })).status, 'firing')
  t.equal(read(body({ status: undefined, alerts: [resolved] })).status, 'resolved')
  t.equal(read(body({ status: 'nonsense', alerts: [resolved] })).status, 'resolved')
  t.equal(read(body({ status: 'resolved', alerts: [resolved] })).status, 'resolved')
})

t.test('version: Alertmanager "4", Grafana "1" with orgId, anything else read alike and reported unknown', async (t) => {
  const rows: [string, Json, string | undefined, boolean][] = [
    ['"4"', { version: '4' }, '4', true],
    ['4 as a number', { version: 4 }, '4', true],
    ['missing', { version: undefined }, undefined, false],
    ['"1" with orgId (Grafana)', { version: '1', orgId: 1 }, '1', true],
    ['"1" without orgId', { version: '1' }, '1', false],
    ['"3"', { version: '3' }, '3', false],
    ['null', { version: null }, undefined, false],
  ]
  for (const [name, over, text, known] of rows) {
    const reading = readWebhook(body(over), NOW)
    t.same(reading.ok && reading.version, { text, known }, name)
    t.equal(reading.ok && reading.notification.alerts.length, 1, `${name}: accepted`)
  }
})

t.test('groupKey: kept (numbers as text), else derived as Alertmanager writes them', async (t) => {
  const rows: [string, Json, string][] = [
    ['given', {}, '{}:{alertname="HighLatency"}'],
    ['a number', { groupKey: 42 }, '42'],
    [
      'missing: from groupLabels',
      { groupKey: undefined, groupLabels: { job: 'api', alertname: 'A "quoted" name' } },
      '{}:{alertname="A \\"quoted\\" name", job="api"}',
    ],
    ['missing, no groupLabels: from commonLabels', { groupKey: undefined, groupLabels: {} }, '{}:{alertname="HighLatency", severity="critical"}'],
    [
      'missing, no group or common labels: what the alerts share',
      {
        groupKey: undefined,
        groupLabels: undefined,
        commonLabels: undefined,
        alerts: [alert(), alert({ fingerprint: 'b', labels: { alertname: 'HighLatency', instance: 'web-2:9100', severity: 'critical' } })],
      },
      '{}:{alertname="HighLatency", severity="critical"}',
    ],
    ['empty', { groupKey: '', groupLabels: { alertname: 'X' } }, '{}:{alertname="X"}'],
  ]
  for (const [name, over, groupKey] of rows) t.equal(read(body(over)).groupKey, groupKey, name)
  t.equal(groupKeyOf({}), '{}:{}', 'no labels: one group, as Alertmanager without group_by')
})

t.test('numbers and booleans become text, null values are dropped', async (t) => {
  const read1 = read(
    body({
      truncatedAlerts: '3',
      receiver: undefined,
      alerts: [alert({ labels: { alertname: 'Disk', port: 9100, ok: true, gone: null }, annotations: { value: 0.93, none: null } })],
    }),
  )
  t.same(read1.alerts[0]!.labels, { alertname: 'Disk', port: '9100', ok: 'true' })
  t.same(read1.alerts[0]!.annotations, { value: '0.93' })
  t.equal(read1.truncatedAlerts, 3, 'truncatedAlerts written as text')
  t.equal(read1.receiver, '', 'missing receiver')
  for (const truncatedAlerts of [-1, 1.5, 'many', null])
    t.equal(read(body({ truncatedAlerts })).truncatedAlerts, undefined, `truncatedAlerts ${truncatedAlerts}`)
  t.equal(read(body({ alerts: [alert({ annotations: null })] })).alerts[0]!.annotations, undefined, 'annotations: null')
})

t.test('startsAt: kept as sent when it is a date-time, else the zero time (never invented)', async (t) => {
  const rows: [string, unknown, string][] = [
    ['RFC 3339', '2026-11-24T23:01:00.05687024Z', '2026-11-24T23:01:00.05687024Z'],
    ['with an offset (Grafana)', '2021-10-12T09:51:03.157076+02:00', '2021-10-12T09:51:03.157076+02:00'],
    ['lower case t and z', '2026-11-24t23:01:00z', '2026-11-24t23:01:00z'],
    ['missing', undefined, ZERO_TIME],
    ['not a date', 'yesterday', ZERO_TIME],
    ['a date without a time', '2026-11-24', ZERO_TIME],
    ['no zone', '2026-11-24T23:01:00', ZERO_TIME],
    ['February 30th', '2026-02-30T00:00:00Z', ZERO_TIME],
    ['seconds since the epoch', 1700000000, ZERO_TIME],
  ]
  for (const [name, startsAt, expected] of rows) t.equal(first(alert({ startsAt })).startsAt, expected, name)
})

t.test('parseDateTime reads RFC 3339 as JSON Schema does, to ms', async (t) => {
  const rows: [string, number | undefined][] = [
    ['2026-11-24T23:01:00Z', Date.UTC(2026, 10, 24, 23, 1)],
    ['2026-11-24T23:01:00.5Z', Date.UTC(2026, 10, 24, 23, 1, 0, 500)],
    ['2026-11-24 23:01:00.123456789z', Date.UTC(2026, 10, 24, 23, 1, 0, 123)],
    ['2026-11-25T00:31:00+01:30', Date.UTC(2026, 10, 24, 23, 1)],
    ['2026-11-24T22:01:00-0100', Date.UTC(2026, 10, 24, 23, 1)],
    ['2016-12-31T23:59:60Z', Date.UTC(2017, 0, 1)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['0001-01-01T00:00:00Z', -62135596800000],
    ['2023-02-29T00:00:00Z', undefined],
    ['2026-11-24T24:00:00Z', undefined],
    ['2026-11-24T23:01:00+25:00', undefined],
    ['2026-11-24T23:01:00Z\n', undefined],
    [' 2026-11-24T23:01:00Z', undefined],
    ['+002026-11-24T23:01:00Z', undefined],
  ]
  for (const [text, ms] of rows) t.equal(parseDateTime(text), ms, JSON.stringify(text))
})

t.test('generatorURL: absolute kept, relative resolved against an http(s) externalURL, else dropped', async (t) => {
  const rows: [string, unknown, unknown, string | undefined][] = [
    ['absolute', 'http://prom:9090/graph?g0.expr=up', 'http://alertmanager:9093', 'http://prom:9090/graph?g0.expr=up'],
    ['from the root', '/graph?g0.expr=up', 'http://alertmanager:9093', 'http://alertmanager:9093/graph?g0.expr=up'],
    [
      'from the root, behind a path',
      '/prometheus/graph?g0.expr=up',
      'https://ops.example.com/alertmanager/',
      'https://ops.example.com/prometheus/graph?g0.expr=up',
    ],
    ['relative to the path', 'graph?g0.expr=up', 'https://ops.example.com/alertmanager/', 'https://ops.example.com/alertmanager/graph?g0.expr=up'],
    ['relative, no externalURL', '/graph?g0.expr=up', undefined, undefined],
    ['relative, externalURL not http(s)', '/graph?g0.expr=up', 'alertmanager:9093', undefined],
    ['empty (amtool alerts)', '', 'http://alertmanager:9093', undefined],
    ['null', null, 'http://alertmanager:9093', undefined],
  ]
  for (const [name, generatorURL, externalURL, expected] of rows) {
    t.equal(first(alert({ generatorURL }), { externalURL }).generatorURL, expected, name)
  }
})

/** GRAFANA: Grafana alerting's documented webhook payload (version "1"), trimmed to one alert. */
const GRAFANA = {
  receiver: 'My Super Webhook',
  status: 'firing',
  orgId: 1,
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'High memory usage', team: 'blue', zone: 'us-1' },
      annotations: { description: 'The system has high memory usage', runbook_url: 'https://myrunbook.com/runbook/1234' },
      startsAt: '2021-10-12T09:51:03.157076+02:00',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'https://play.grafana.org/alerting/1afz29v7z/edit',
      fingerprint: 'c6eadffa33fcdf37',
      silenceURL: 'https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1',
      dashboardURL: '',
      panelURL: '',
      values: { B: 44.23943737541908, C: 1, D: null },
      valueString: "[ var='B' labels={__name__=go_memstats_alloc_bytes} value=4.4e+01 ]",
    },
  ],
  groupLabels: {},
  commonLabels: { alertname: 'High memory usage', team: 'blue', zone: 'us-1' },
  commonAnnotations: {},
  externalURL: 'https://play.grafana.org/',
  version: '1',
  groupKey: '{}:{alertname="High memory usage"}',
  truncatedAlerts: 0,
  title: '[FIRING:1]  (High memory usage blue us-1)',
  state: 'alerting',
  message: '**Firing**\n\nLabels:\n - alertname = T2',
}

t.test('Grafana alerting: source grafana, its links (http(s) only) and values kept per alert', async (t) => {
  const notification = read(GRAFANA as WebhookBody)
  t.equal(notification.source, 'grafana')
  t.same(notification.alerts[0]!.grafana, {
    silenceURL: GRAFANA.alerts[0]!.silenceURL,
    values: { B: 44.23943737541908, C: 1, D: null },
  })
  t.notMatch(JSON.stringify(notification), /"title"|"state"|"message"|"orgId"/, "Grafana's top-level text is not stored")
  const links = first(
    {
      ...GRAFANA.alerts[0],
      dashboardURL: 'https://grafana.example.com/d/abc',
      panelURL: 'https://grafana.example.com/d/abc?viewPanel=2',
      imageURL: 'javascript:alert(1)',
      silenceURL: '/alerting/silence/new',
      values: null,
    },
    { version: '1', orgId: 1 },
  )
  t.same(links.grafana, {
    dashboardURL: 'https://grafana.example.com/d/abc',
    panelURL: 'https://grafana.example.com/d/abc?viewPanel=2',
    valueString: GRAFANA.alerts[0]!.valueString,
  })
  const notGrafana = read(body({ alerts: [{ ...alert(), dashboardURL: 'https://grafana.example.com/d/abc' }] }))
  t.equal(notGrafana.source, undefined)
  t.equal(notGrafana.alerts[0]!.grafana, undefined, "Grafana's fields only from Grafana")
})

t.test('the notification carries its source to the outbox; one without (older jobs) is Alertmanager', async (t) => {
  const config = plannerConfig(testConfig('telegram: {chat_id: -100}'))
  const plan = (notification: Webhook) => planNotification(config.routing, notification, { receivedAt: 0, seq: 1 }, config.plan).candidates[0]!.item
  const grafana = plan(read(GRAFANA as WebhookBody))
  t.equal(grafana.source, 'grafana')
  t.same(grafana.alert.grafana?.values, { B: 44.23943737541908, C: 1, D: null })
  const old = plan({
    version: '4',
    groupKey: 'g',
    status: 'firing',
    receiver: 'r',
    alerts: [{ status: 'firing', labels: { alertname: 'X' }, startsAt: ZERO_TIME, fingerprint: 'f' }],
  })
  t.equal(old.source, undefined)
  t.equal(old.alert.grafana, undefined)
})

t.test('every string is made well-formed (a lone surrogate becomes U+FFFD)', async (t) => {
  const notification = read(
    body({ receiver: 'r\ud800', groupKey: 'g\udfff', alerts: [alert({ labels: { alertname: 'Disk\ud800Full', ['bad\udfffname']: 'x\ud800' } })] }),
  )
  t.same(notification.alerts[0]!.labels, { alertname: 'Disk\ufffdFull', 'bad\ufffdname': 'x\ufffd' })
  t.same([notification.receiver, notification.groupKey], ['r\ufffd', 'g\ufffd'])
  t.equal(Object.getPrototypeOf(read(body({ alerts: [alert({ labels: JSON.parse('{"__proto__": "x"}') })] })).alerts[0]!.labels), null, 'labels are plain data')
})

t.test('alerts that cannot be read are skipped and named; the others are kept', async (t) => {
  const reading = readWebhook(
    body({
      alerts: [alert({ labels: undefined }), alert({ fingerprint: 'ok' }), 7, alert({ labels: { a: { nested: true } } }), alert({ annotations: 'text' })],
    }),
    NOW,
  )
  t.same(reading.ok && reading.notification.alerts.map((a) => a.fingerprint), ['ok'])
  t.same(reading.ok && reading.unreadable, [
    'alerts[0].labels: is missing',
    'alerts[2]: must be object',
    'alerts[3].labels.a: must be string, number, boolean or null',
    'alerts[4].annotations: must be object or null',
  ])
})

t.test('a body from which no alert can be read: refused, naming the field', async (t) => {
  const rows: [string, unknown[], string][] = [
    ['no labels', [alert({ labels: undefined })], 'alerts[0].labels: is missing'],
    ['labels not an object', [alert({ labels: ['alertname'] })], 'alerts[0].labels: must be object'],
    ['a label that is an object', [alert({ labels: { alertname: { x: 1 } } })], 'alerts[0].labels.alertname: must be string, number, boolean or null'],
    ['a status that is an object', [alert({ status: { state: 'active' } })], 'alerts[0].status: must be string, number, boolean or null'],
    ['alerts that are not objects', ['firing', null], 'alerts[0]: must be object (none of the 2 alerts can be read)'],
    [
      'a 100 KB label name is not repeated back',
      [alert({ labels: { ['n'.repeat(100_000)]: [] } })],
      `alerts[0].labels.${'n'.repeat(183)}…: must be string, number, boolean or null`,
    ],
  ]
  for (const [name, alerts, message] of rows) t.same(readWebhook(body({ alerts }), NOW), { ok: false, message }, name)
})

t.test('the body schema refuses only what cannot be read, naming the field (what the route answers 400 with)', async (t) => {
  const describe = (value: unknown) =>
    Value.Check(WebhookBodySchema, value) ? 'ok' : describeIssues([...Value.Errors(WebhookBodySchema, value)] as SchemaIssue[])
  const rows: [string, unknown, string][] = [
    ['an Alertmanager body', body(), 'ok'],
    ['only alerts', { alerts: [{ labels: { alertname: 'X' } }] }, 'ok'],
    ['numbers and nulls', body({ version: 4, groupKey: 7, truncatedAlerts: '2', receiver: null, groupLabels: null }), 'ok'],
    ['not an object', [body()], 'body: must be object'],
    ['no alerts', body({ alerts: undefined }), 'alerts: is missing'],
    ['alerts not an array', body({ alerts: { 0: alert() } }), 'alerts: must be array'],
    ['alerts empty', body({ alerts: [] }), 'alerts: must not have fewer than 1 items'],
    ['groupKey an object', body({ groupKey: { a: 1 } }), 'groupKey: must be string, number, boolean or null'],
    ['commonLabels a string', body({ commonLabels: 'x' }), 'commonLabels: must be object or null'],
  ]
  for (const [name, value, expected] of rows) t.equal(describe(value).replace('NOT', 'not'), expected, name)
})
