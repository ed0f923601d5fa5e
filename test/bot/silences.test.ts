import t from 'tap'
import { escapeRegex, silenceMatchers } from '../../src/bot/silences.js'
import type { SilenceMatcher } from '../../src/alertmanager/matchers.js'
import type { AlertRef } from '../../src/store/bot-store.js'

function alert(labels: Record<string, string>): AlertRef {
  return { fingerprint: Object.values(labels).join('/'), startsAt: '2026-11-24T23:01:00Z', labels }
}

/** silences tells whether a silence made of these matchers would hide an alert with these labels, as Alertmanager decides it (regexes anchored at both ends, a missing label reads as ""). */
function silences(matchers: readonly SilenceMatcher[], labels: Record<string, string>): boolean {
  return matchers.every((m) => {
    const value = labels[m.name] ?? ''
    const hit = m.isRegex ? new RegExp(`^(?:${m.value})$`, 'u').test(value) : value === m.value
    return hit === m.isEqual
  })
}

const eq = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: false, isEqual: true })
const re = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: true, isEqual: true })
const byName = (matchers: SilenceMatcher[]) => [...matchers].sort((a, b) => a.name.localeCompare(b.name))

t.test('the silence for one alert matches every label it carries exactly', async (t) => {
  const one = alert({ severity: 'critical', alertname: 'HighLatency', instance: 'web-1:9100' })
  t.same(silenceMatchers([one], []), [eq('alertname', 'HighLatency'), eq('instance', 'web-1:9100'), eq('severity', 'critical')])
})

t.test('the silence for a message covers exactly its alerts', async (t) => {
  const alerts = [
    alert({ alertname: 'HighLatency', instance: 'web-1:9100', severity: 'critical' }),
    alert({ alertname: 'HighLatency', instance: 'web-2:9100', severity: 'critical' }),
    alert({ alertname: 'HighLatency', instance: 'web-2:9100', severity: 'critical' }),
  ]
  const matchers = silenceMatchers(alerts, [])
  t.same(
    matchers,
    [eq('alertname', 'HighLatency'), re('instance', 'web-1:9100|web-2:9100'), eq('severity', 'critical')],
    'shared labels with =, differing ones with =~ of each value once',
  )
  for (const a of alerts) t.ok(silences(matchers, a.labels), `silences ${a.labels.instance}`)
  t.notOk(silences(matchers, { alertname: 'HighLatency', instance: 'web-3:9100', severity: 'critical' }), 'not another instance')
  t.notOk(silences(matchers, { alertname: 'HighLatency', instance: 'web-1:9100', severity: 'warning' }), 'not another severity')
})

t.test('label values full of regex characters match themselves and nothing else', async (t) => {
  const values = ['web-1.example.com:9100', 'a+b(c)|d', '[prod]{eu}^$*?\\x']
  const alerts = values.map((instance) => alert({ alertname: 'Down', instance }))
  const matchers = silenceMatchers(alerts, [])
  for (const instance of values) t.ok(silences(matchers, { alertname: 'Down', instance }), `silences ${instance}`)
  for (const other of ['web-1Xexample.com:9100', 'web-10.example.com:9100', 'aab(c)|d', 'a+b(c)', 'd', '']) {
    t.notOk(silences(matchers, { alertname: 'Down', instance: other }), `leaves ${JSON.stringify(other)} alone`)
  }
  const rows: [string, string][] = [
    ['web-1.example.com', 'web-1\\.example\\.com'],
    ['a+b*c?', 'a\\+b\\*c\\?'],
    ['(x|y)', '\\(x\\|y\\)'],
    ['[a]{2}', '\\[a\\]\\{2\\}'],
    ['^start$', '\\^start\\$'],
    ['back\\slash', 'back\\\\slash'],
    ['plain-value_1:9100 /path', 'plain-value_1:9100 /path'],
  ]
  for (const [value, escaped] of rows) t.equal(escapeRegex(value), escaped, `escapeRegex(${JSON.stringify(value)})`)
})

t.test('with silences.match_labels, only those labels are matched', async (t) => {
  const alerts = [
    alert({ alertname: 'HighLatency', instance: 'web-1:9100', pod: 'api-7f9c', severity: 'critical' }),
    alert({ alertname: 'HighLatency', instance: 'web-2:9100', pod: 'api-x2b1', severity: 'critical' }),
  ]
  const matchers = silenceMatchers(alerts, ['instance', 'alertname'])
  t.same(byName(matchers), [eq('alertname', 'HighLatency'), re('instance', 'web-1:9100|web-2:9100')])
  t.ok(silences(matchers, { alertname: 'HighLatency', instance: 'web-1:9100', pod: 'api-new1' }), 'the alert keeps its silence when its pod is replaced')
})

t.test('an alert without a chosen label is covered by matching the empty value', async (t) => {
  const alerts = [alert({ alertname: 'HighLatency', instance: 'web-1:9100' }), alert({ alertname: 'HighLatency' })]
  const matchers = silenceMatchers(alerts, ['alertname', 'instance'])
  t.same(byName(matchers), [eq('alertname', 'HighLatency'), re('instance', '|web-1:9100')])
  for (const a of alerts) t.ok(silences(matchers, a.labels), `silences ${JSON.stringify(a.labels)}`)
  t.notOk(silences(matchers, { alertname: 'HighLatency', instance: 'web-2:9100' }))
})

t.test('a silence that would match everything is refused with the setting to look at', async (t) => {
  const rows: [AlertRef[], string[], string][] = [
    [[alert({ alertname: 'HighLatency' })], ['team'], 'none of the chosen labels is on the alert'],
    [[alert({ alertname: 'HighLatency' })], ['team', 'cluster'], 'several chosen labels, none present'],
    [[alert({})], [], 'an alert with no labels at all'],
    [[], [], 'no alerts'],
    [
      [alert({ alertname: 'X' }), alert({ alertname: 'X', team: 'db' })],
      ['team'],
      'the only chosen label is missing on one alert: its regex matches the empty value too',
    ],
  ]
  for (const [alerts, names, why] of rows) t.throws(() => silenceMatchers(alerts, names), /silences\.match_labels.*match everything/, why)
})
