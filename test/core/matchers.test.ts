import t from 'tap'
import { formatMatcher, matchesAll, parseMatcher } from '../../src/core/matchers.js'

t.test('matchers follow Alertmanager semantics', async (t) => {
  const labels = { alertname: 'HighLatency', instance: 'web-12:9100', severity: 'critical' }
  const cases: [string, boolean][] = [
    ['alertname="HighLatency"', true],
    ['alertname=HighLatency', true],
    ['alertname!="HighLatency"', false],
    ['instance=~"web-.*"', true],
    ['instance=~"web-1"', false],
    ['instance!~"db-.*"', true],
    ['severity=~"critical|warning"', true],
    ['team=""', true],
    ['team!=""', false],
    ['team=~".*"', true],
    ['alertname="High\\"Latency"', false],
  ]
  for (const [text, expected] of cases) t.equal(matchesAll([parseMatcher(text)], labels), expected, text)
  t.equal(matchesAll([], labels), true, 'no matchers match everything')
})

t.test('a quoted value may hold line and paragraph separators', async (t) => {
  for (const separator of ['\u2028', '\u2029']) {
    const matcher = parseMatcher(`note="a${separator}b"`)
    t.equal(matcher.value, `a${separator}b`)
    t.ok(matchesAll([matcher], { note: `a${separator}b` }), `U+${separator.charCodeAt(0).toString(16)} matches`)
  }
})

t.test('malformed matchers are refused with the reason', async (t) => {
  t.throws(() => parseMatcher('severity critical'), /expected a matcher like severity="critical"/)
  t.throws(() => parseMatcher('a=~"("'), /invalid regex/)
  t.throws(() => parseMatcher('a=b c'), /must be quoted/)
  t.equal(formatMatcher(parseMatcher('instance =~ "web-.*"')), 'instance=~"web-.*"')
})
