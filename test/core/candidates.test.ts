import t from 'tap'
import { planNotification } from '../../src/core/candidates.js'
import type { Webhook } from '../../src/core/webhook.js'
import { testConfig } from '../helpers/config.js'

const config = testConfig(`
telegram: {chat_id: -100}
routing:
  routes:
    - matchers: ['team="db"']
      chats: [{chat_id: -200, thread_id: 5}]
      continue: true
`)

const options = { resolvedUnannounced: false, alertmanagerUrl: '', pace: config.telegram.pace, severities: config.messages.severities }

function webhook(alerts: Partial<Webhook['alerts'][number]>[]): Webhook {
  return {
    version: '4',
    groupKey: '{}:{alertname="X"}',
    status: 'firing',
    receiver: 'telegram',
    externalURL: '',
    truncatedAlerts: 2,
    alerts: alerts.map((a, i) => ({
      status: 'firing',
      labels: { alertname: 'X' },
      annotations: {},
      startsAt: '2026-11-24T23:01:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: `fp${i}`,
      ...a,
    })),
  }
}

t.test('every alert becomes one candidate per target chat, keyed by fingerprint, status and startsAt', async (t) => {
  const plan = planNotification(
    config.routing,
    webhook([{ labels: { alertname: 'X', team: 'db' } }, {}]),
    { receivedAt: 1000, seq: 7 },
    { ...options, alertmanagerUrl: 'http://am:9093' },
  )
  t.same(
    plan.candidates.map((c) => c.item.id),
    ['-200/5/fp0/firing/2026-11-24T23:01:00Z', '-100//fp1/firing/2026-11-24T23:01:00Z'],
    'a route that matched (even with continue) keeps the alert from the default chat, as in Alertmanager',
  )
  const item = plan.candidates[0]!.item
  t.equal(item.threadId, 5)
  t.equal(item.externalURL, 'http://am:9093', 'the configured Alertmanager URL stands in for a missing externalURL')
  t.equal(item.truncatedAlerts, 2)
  t.equal(item.alert.endsAt, undefined, 'the zero endsAt of a firing alert is not kept')
  t.equal(plan.unrouted, 0)
})

t.test('a resolve is only worth a message where the firing was seen, unless configured otherwise', async (t) => {
  const resolved = webhook([{ status: 'resolved', endsAt: '2026-11-24T23:05:00Z' }])
  t.equal(planNotification(config.routing, resolved, { receivedAt: 0, seq: 1 }, options).candidates[0]!.requireFiringSeen, true)
  t.equal(
    planNotification(config.routing, resolved, { receivedAt: 0, seq: 1 }, { ...options, resolvedUnannounced: true }).candidates[0]!.requireFiringSeen,
    false,
  )
  t.equal(planNotification(config.routing, resolved, { receivedAt: 0, seq: 1 }, options).candidates[0]!.item.alert.endsAt, '2026-11-24T23:05:00Z')
})

t.test('alerts nobody takes are counted', async (t) => {
  const plan = planNotification(testConfig('').routing, webhook([{}, {}]), { receivedAt: 0, seq: 1 }, options)
  t.same([plan.candidates.length, plan.unrouted], [0, 2])
})

t.test('silence and mute policy compare levels, however the alert writes its severity', async (t) => {
  const quiet = testConfig(`
telegram: {chat_id: -100}
routing: {silent_severities: [Info, warning]}
`)
  const plan = (labels: Record<string, string>) =>
    planNotification(
      quiet.routing,
      webhook([{ labels: { alertname: 'X', ...labels } }]),
      { receivedAt: 1000, seq: 1 },
      { ...options, severities: quiet.messages.severities },
    ).candidates[0]!
  // [labels, silent, level]
  const rows: [Record<string, string>, boolean, string][] = [
    [{ severity: 'INFO' }, true, 'info'],
    [{ severity: 'P4' }, true, 'info'],
    [{ severity: 'Warning' }, true, 'warning'],
    [{ severity: 'P1' }, false, 'critical'],
    [{ severity: 'none' }, true, 'none'],
    [{ alertname: 'Watchdog', severity: 'critical' }, true, 'none'],
    [{}, false, ''],
  ]
  for (const [labels, silent, level] of rows) {
    const candidate = plan(labels)
    t.same([candidate.item.silent, candidate.level], [silent, level], JSON.stringify(labels))
  }
})
