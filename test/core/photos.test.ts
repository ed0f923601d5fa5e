/**
 * Graphs in the chat, the pure parts: which sent call asks for a graph, what a waiting graph
 * becomes at the chat's turn, and that a graph waits behind everything else the chat is told.
 */
import t from 'tap'
import type { Call, MessageRecord } from '../../src/core/delivery.js'
import type { GraphOptions } from '../../src/core/graph.js'
import { GRAPH_MAX_WAIT_MS, graphsForCall, type PhotoJob, photoTurn, type StoredPhoto } from '../../src/core/photos.js'
import { type ChatView, planTurn } from '../../src/core/turn.js'
import type { AlertSnapshot } from '../../src/core/render.js'
import { alertKeyboard, parseButtonData } from '../../src/core/keyboard.js'
import { testConfig } from '../helpers/config.js'

const NOW = Date.parse('2026-12-01T12:00:00Z')
const GENERATOR = 'http://prometheus:9090/graph?g0.expr=rate%28errors_total%5B5m%5D%29+%3E+0.1&g0.tab=1'

const options: GraphOptions = {
  enabled: true,
  prometheusUrl: 'http://127.0.0.1:9090',
  hostMap: new Map(),
  severities: new Set(['critical', 'warning']),
  severityScheme: testConfig().messages.severities,
  routeGraphs: new Map(),
  windowMs: 3_600_000,
  onResolve: false,
  targetPoints: 120,
}

function alert(fingerprint: string, over: Partial<AlertSnapshot> = {}): AlertSnapshot {
  return {
    fingerprint,
    status: 'firing',
    labels: { alertname: 'Errors', severity: 'critical', instance: fingerprint },
    annotations: {},
    startsAt: '2026-12-01T11:50:00Z',
    generatorURL: GENERATOR,
    ...over,
  }
}

function record(alerts: AlertSnapshot[], over: Partial<MessageRecord> = {}): MessageRecord {
  return { alerts, commonLabels: [], externalURL: 'http://am:9093', truncatedAlerts: 0, part: 1, parts: 1, messageId: 0, silent: false, groupKey: 'g', ...over }
}

const send = (rec: MessageRecord, over: Partial<Call> = {}): Call => ({
  op: 'send',
  html: 'x',
  plain: 'x',
  silent: false,
  record: rec,
  announce: true,
  fingerprints: rec.alerts.map((a) => a.fingerprint),
  ...over,
})

t.test('graphsForCall: a new alert message gets one graph, replying to it; other calls get none', async (t) => {
  const announced = graphsForCall(
    '-100',
    send(record([alert('a', { generatorURL: 'http://grafana/alerting/x' }), alert('b')], { threadId: 7 })),
    42,
    options,
    NOW,
  )
  t.equal(announced.length, 1, 'one graph for the message, not one per alert')
  t.match(announced[0], {
    chat: '-100',
    replyTo: 42,
    threadId: 7,
    silent: true,
    kind: 'alert',
    query: { plotExpr: 'rate(errors_total[5m])', threshold: { op: '>', value: 0.1 }, title: 'Errors' },
  })
  t.equal(announced[0]!.query.alertStartMs, Date.parse('2026-12-01T11:50:00Z'))

  const cases: [string, Call, GraphOptions][] = [
    ['graphs off', send(record([alert('a')])), { ...options, enabled: false }],
    ['a severity without graphs', send(record([alert('a', { labels: { alertname: 'X', severity: 'info' } })])), options],
    ['a digest', send(record([alert('a')], { digest: { unnamed: [], counts: {} } as unknown as MessageRecord['digest'] })), options],
    ['no graph link', send(record([alert('a', { generatorURL: undefined })])), options],
    ['a reminder (no record)', { op: 'send', html: 'x', plain: 'x', silent: false, messageId: 5, fingerprints: ['a'] }, options],
    ['a flapping update (an edit that announces)', send(record([alert('a')], { messageId: 5 }), { op: 'edit', messageId: 5 }), options],
    [
      'a silence mark (an edit of no alert)',
      send(record([alert('a', { status: 'resolved' })], { messageId: 5 }), { op: 'edit', announce: false, fingerprints: [] }),
      { ...options, onResolve: true },
    ],
  ]
  for (const [why, call, opts] of cases) t.same(graphsForCall('-100', call, 9, opts, NOW), [], why)
})

t.test('graphsForCall: the resolve of an alert gets a final graph of the incident only with on_resolve', async (t) => {
  const resolved = record([alert('a', { status: 'resolved', endsAt: '2026-12-01T11:58:00Z' }), alert('b')], { messageId: 42 })
  const edit = send(resolved, { op: 'edit', announce: false, messageId: 42, fingerprints: ['a'] })
  t.same(graphsForCall('-100', edit, undefined, options, NOW), [], 'off by default')
  const final = graphsForCall('-100', edit, undefined, { ...options, onResolve: true }, NOW)
  t.match(final, [{ replyTo: 42, kind: 'resolved' }])
  t.ok(final[0]!.query.endMs < NOW, 'the window ends soon after the alert did, not now')
  t.same(graphsForCall('-100', { ...edit, fingerprints: ['b'] }, undefined, { ...options, onResolve: true }, NOW), [], 'b still fires: no final graph')
})

const job = (over: Partial<PhotoJob> = {}): PhotoJob => ({
  id: 'p1',
  silent: true,
  caption: '📈 <b>Errors</b>',
  png: true,
  queuedAt: NOW - 1000,
  kind: 'alert',
  ...over,
})
const stored = (j: PhotoJob): StoredPhoto => ({ raw: JSON.stringify(j), job: j })

t.test('photoTurn: send while fresh, skip once stale or unreadable', async (t) => {
  t.same(photoTurn(stored(job()), NOW), { kind: 'send', job: job() })
  t.same(photoTurn(stored(job({ queuedAt: NOW - GRAPH_MAX_WAIT_MS })), NOW).kind, 'send', 'at the limit')
  t.same(photoTurn(stored(job({ queuedAt: NOW - GRAPH_MAX_WAIT_MS - 1 })), NOW), { kind: 'skip', reason: 'stale' })
  t.same(photoTurn({ raw: '{nope' }, NOW), { kind: 'skip', reason: 'unreadable' })
})

t.test('planTurn: a graph is sent only when nothing else waits', async (t) => {
  const photo = stored(job())
  const base: ChatView = { items: [], waiting: 0, notices: [], photo }
  const policy = { maxDelayMs: 30_000, maxItems: 500 }
  t.same(planTurn(base, policy, NOW), { kind: 'photo', photo }, 'alone: its turn')
  const call: Call = { op: 'send', html: 'a', plain: 'a', silent: false, fingerprints: ['a'] }
  const others: [string, Partial<ChatView>, string][] = [
    ['a notice', { notices: [{ kind: 'send', html: 'hi', plain: 'hi' }] }, 'notices'],
    ['a delivery in flight', { inflight: { calls: [call], next: 0, attempts: 0, paceMs: 1000, receivedAt: NOW } }, 'continue'],
    ['a deferred edit', { nextEdit: { messageId: 3, resolutions: [{ fingerprint: 'a', startsAt: 'x' }] } }, 'edit'],
    ['an unreadable outbox head', { poison: '{', waiting: 1 }, 'set_aside'],
  ]
  for (const [what, over, kind] of others) t.equal(planTurn({ ...base, ...over }, policy, NOW).kind, kind, `${what} goes first`)
  t.equal(planTurn({ items: [], waiting: 0, notices: [] }, policy, NOW).kind, 'release', 'no graph: nothing to do')
})

t.test('alertKeyboard: a 📈 Graph button beside Ack where graphs are on and an alert has a graph link', async (t) => {
  const content = (alerts: AlertSnapshot[]) => ({ ...record(alerts), token: 'tok_0123456789abcdef' })
  const graphRow = (k: ReturnType<typeof alertKeyboard>) => k?.[1]?.map((b) => b.text)
  t.same(graphRow(alertKeyboard(content([alert('a')]), [3_600_000], true)), ["✋ I'm on it", '✋ Ack until resolved', '📈 Graph'])
  const data = alertKeyboard(content([alert('a')]), [3_600_000], true)![1]![2]!
  t.same('callback_data' in data && parseButtonData(data.callback_data), { action: 'gr', token: 'tok_0123456789abcdef' }, 'reads back')
  t.same(graphRow(alertKeyboard(content([alert('a')]), [3_600_000])), ["✋ I'm on it", '✋ Ack until resolved'], 'graphs off: no button')
  t.same(
    graphRow(alertKeyboard(content([alert('a', { generatorURL: 'http://grafana/alerting/grafana/x/view' })]), [3_600_000], true)),
    ["✋ I'm on it", '✋ Ack until resolved'],
    'no graph link: no button',
  )
  t.equal(alertKeyboard(content([alert('a', { status: 'resolved' })]), [3_600_000], true), undefined, 'resolved: no buttons at all')
})
