import t from 'tap'
import { parseHtml, plainLength } from '../../src/core/html.js'
import { type AlertSnapshot, formatTime, packAlerts, renderMessage, renderResolvedReply, TELEGRAM_TEXT_LIMIT } from '../../src/core/render.js'
import { batchOptions } from '../../src/config/slices.js'
import { testConfig } from '../helpers/config.js'

const NOW = Date.parse('2026-11-24T23:06:00Z')
const options = batchOptions(testConfig(), NOW)
const HOSTILE = `</b><i>&amp; <script>"x"</script> *_[]()~\`>#+-=|{}.! &nbsp; &#0; 😀`

function alert(over: Partial<AlertSnapshot> = {}, labels: Record<string, string> = {}): AlertSnapshot {
  return {
    fingerprint: 'fp1',
    status: 'firing',
    labels: { alertname: 'HighLatency', severity: 'critical', instance: 'web-1:9100', job: 'node', ...labels },
    annotations: { summary: 'p99 > 1s on web-1', description: '<b>x</b> & y', runbook_url: 'https://runbooks.example/high-latency' },
    startsAt: '2026-11-24T23:01:00.05687024Z',
    generatorURL: 'http://prom.example.com:9090/graph?g0.expr=up&g0.tab=1',
    ...over,
  }
}

function single(a: AlertSnapshot) {
  return packAlerts({ alerts: [a], externalURL: 'https://alertmanager.example.com', truncatedAlerts: 0 }, options)
}

t.test('a firing alert: severity marker first, then what a person needs at 3 a.m.', async (t) => {
  const [content] = single(alert())
  const { html, plain } = renderMessage(content!, options)
  t.ok(parseHtml(html).ok, 'valid Telegram HTML')
  const firstLine = plain.split('\n')[0]!
  t.match(firstLine, /^🔴 CRITICAL · HighLatency$/)
  t.match(plain, /p99 > 1s on web-1/, 'summary')
  t.match(plain, /<b>x<\/b> & y/, 'description shown exactly as written, not interpreted')
  t.match(plain, /instance: web-1:9100/, 'identifying labels')
  t.match(plain, /job: node/)
  t.match(plain, /since 2026-11-24 23:01:00 UTC \(4m 59s\)/, 'when it started and for how long')
  t.match(html, /<a href="http:\/\/prom\.example\.com:9090\/graph\?g0\.expr=up&amp;g0\.tab=1">Source<\/a>/, 'generatorURL link, escaped once')
  t.match(html, /<a href="https:\/\/runbooks\.example\/high-latency">Runbook<\/a>/)
  t.match(
    html,
    /<a href="https:\/\/alertmanager\.example\.com\/#\/alerts\?filter=%7Balertname%3D%22HighLatency%22%7D">Alertmanager<\/a>/,
    'Alertmanager link filtered to the alert',
  )
  t.notMatch(plain, /severity|alertname:/, 'severity and alertname are not repeated as labels')
})

t.test('URLs Telegram would not link (hosts without a dot) are shown as text, not lost', async (t) => {
  const internal = alert({ generatorURL: 'http://prometheus:9090/graph?g0.expr=up' })
  const [content] = packAlerts({ alerts: [internal], externalURL: 'http://alertmanager:9093', truncatedAlerts: 0 }, options)
  const { html, plain } = renderMessage(content!, options)
  t.notMatch(html, /href="http:\/\/prometheus:9090/)
  t.match(plain, /Source: http:\/\/prometheus:9090\/graph\?g0\.expr=up/)
  t.match(plain, /Alertmanager: http:\/\/alertmanager:9093\//)
  t.match(html, /<a href="https:\/\/runbooks\.example\/high-latency">Runbook<\/a>/, 'a dotted host is still a link')
})

t.test('severities are told apart on the first line', async (t) => {
  const first = (severity: string) => renderMessage(single(alert({}, { severity }))[0]!, options).plain.split('\n')[0]
  t.match(first('critical'), /^🔴 CRITICAL/)
  t.match(first('warning'), /^🟠 WARNING/)
  t.match(first('info'), /^🔵 INFO/)
  t.match(first('whatever'), /^⚪ WHATEVER/)
})

t.test('hostile label and annotation values stay valid HTML and read exactly as written', async (t) => {
  const hostile = alert(
    { annotations: { summary: HOSTILE, description: HOSTILE, dashboard_url: 'javascript:alert(1)' } },
    { instance: HOSTILE, [HOSTILE.replace(/[^a-z]/g, '') || 'x']: HOSTILE },
  )
  const contents = single(hostile)
  const { html, plain } = renderMessage(contents[0]!, options)
  const parsed = parseHtml(html)
  t.ok(parsed.ok, parsed.ok ? 'valid' : parsed.error)
  t.ok(plain.includes(HOSTILE), 'the value appears verbatim in what the chat shows')
  t.notMatch(html, /href="javascript:/, 'only http(s) links are linked')
  t.match(plain, /dashboard_url: javascript:alert\(1\)/, 'anything else is shown as text, not dropped')
})

t.test('a huge alert is cut in plain text and still fits, firing and resolved', async (t) => {
  const huge = alert({ annotations: { summary: '&<'.repeat(5000), description: 'd'.repeat(20000) } }, { instance: '<'.repeat(3000) })
  const [content] = single(huge)
  const firing = renderMessage(content!, options)
  const resolved = renderMessage({ ...content!, alerts: [{ ...huge, status: 'resolved', endsAt: '2026-11-28T23:01:00Z' }] }, options)
  for (const r of [firing, resolved]) {
    t.ok(parseHtml(r.html).ok)
    t.ok(plainLength(r.html) <= TELEGRAM_TEXT_LIMIT, `${plainLength(r.html)} characters`)
    t.equal(r.plain.length, plainLength(r.html), 'the plain fallback is as long as the parsed HTML')
  }
})

t.test('a 100 KB severity or label name cannot push the status lines out of the message', async (t) => {
  const big = '🔥'.repeat(50_000)
  for (const [what, labels] of [
    ['severity', { severity: big }],
    ['label name', { [big]: 'v' }],
  ] as const) {
    const huge = alert({ flaps: 3 }, labels)
    const [content] = single(huge)
    const firing = renderMessage(content!, options)
    const resolved = renderMessage({ ...content!, alerts: [{ ...huge, status: 'resolved', endsAt: '2026-11-24T23:05:00Z' }] }, options)
    t.ok(plainLength(firing.html) <= TELEGRAM_TEXT_LIMIT, `${what}: fits`)
    t.match(firing.plain, /HighLatency[\s\S]*since 2026-11-24 23:01:00 UTC[\s\S]*flapping: 3 times/, `${what}: name, start and flapping shown`)
    t.match(resolved.plain, /^✅ RESOLVED · HighLatency/, `${what}: the resolved look differs from the firing one`)
    t.not(resolved.plain, firing.plain, `${what}: a resolve edit changes what the chat shows`)
  }
})

t.test('a 40 KB Alertmanager URL does not split a group into one message per alert', async (t) => {
  const alerts = Array.from({ length: 100 }, (_, i) => alert({ fingerprint: `fp${i}` }, { instance: `web-${i}:9100` }))
  const pack = (externalURL: string) => packAlerts({ alerts, externalURL, truncatedAlerts: 0 }, options)
  const usual = pack('http://alertmanager:9093')
  const huge = pack(`http://alertmanager:9093/${'x'.repeat(40_000)}`)
  // its footer shows 200 characters of it: room for a few alerts less than a short URL leaves
  t.ok(huge.length <= usual.length + 1, `${huge.length} messages for 100 alerts (${usual.length} with a short URL)`)
  const last = renderMessage(huge.at(-1)!, options)
  t.ok(plainLength(last.html) <= TELEGRAM_TEXT_LIMIT)
  t.match(last.plain, /Alertmanager: http:\/\/alertmanager:9093\/x+…/, 'the URL is shown, cut')
})

t.test('a big group is split over several messages and no alert is left out', async (t) => {
  const alerts = Array.from({ length: 120 }, (_, i) =>
    alert({ fingerprint: `fp${i}`, annotations: { summary: `disk ${i} is full `.repeat(8), description: 'x'.repeat(200) } }, { instance: `web-${i}:9100` }),
  )
  const contents = packAlerts({ alerts, externalURL: 'http://am:9093', truncatedAlerts: 7 }, options)
  t.ok(contents.length > 1, `${contents.length} messages`)
  t.same(
    contents.flatMap((c) => c.alerts.map((a) => a.fingerprint)),
    alerts.map((a) => a.fingerprint),
    'every alert, in order, exactly once',
  )
  contents.forEach((content, i) => {
    for (const status of ['firing', 'resolved'] as const) {
      const { html, plain } = renderMessage({ ...content, alerts: content.alerts.map((a) => ({ ...a, status, endsAt: '2026-11-30T00:00:00Z' })) }, options)
      t.ok(parseHtml(html).ok && plainLength(html) <= TELEGRAM_TEXT_LIMIT, `part ${i + 1} ${status}: ${plainLength(html)} characters`)
      t.match(plain.split('\n')[0], new RegExp(`part ${i + 1}/${contents.length}`), 'says which part it is')
      if (status === 'firing') t.match(plain, /web-\d+:9100/)
    }
  })
  const last = renderMessage(contents.at(-1)!, options).plain
  t.match(last, /7 more alerts in this group were not sent by Alertmanager/, 'truncatedAlerts is shown')
  t.match(renderMessage(contents[0]!, options).plain, /job: node/, 'labels shared by the whole group are said once')
})

t.test('a resolved message and the reply say it resolved and how long it fired', async (t) => {
  const resolvedAlert = alert({ status: 'resolved', endsAt: '2026-11-24T23:13:03.05687024Z' })
  const [content] = single(alert())
  const edited = renderMessage({ ...content!, alerts: [resolvedAlert] }, options).plain
  t.match(edited.split('\n')[0], /^✅ RESOLVED · HighLatency/)
  t.match(edited, /resolved after 12m 3s/)
  const reply = renderResolvedReply([resolvedAlert], options).plain
  t.match(reply, /^✅ Resolved: HighLatency \(instance: web-1:9100, job: node\) after 12m 3s$/)
  const many = renderResolvedReply(
    Array.from({ length: 40 }, (_, i) => alert({ status: 'resolved', endsAt: '2026-11-24T23:13:03Z' }, { instance: `w${i}` })),
    options,
  )
  t.match(many.plain, /40 alerts/)
  t.match(many.plain, /and 10 more/, 'a long list of resolved alerts is summarised, not truncated silently')
})

t.test('formatTime uses the configured zone', async (t) => {
  t.equal(formatTime('2026-11-24T23:01:00Z', 'UTC'), '2026-11-24 23:01:00 UTC')
  t.equal(formatTime('2026-11-24T23:01:00Z', 'Europe/Berlin'), '2026-11-25 00:01:00 Europe/Berlin')
})

t.test('links Telegram would refuse or drop are shown as text; the message stays within 32 KiB as sent', async (t) => {
  const link = (url: string) => renderMessage(single(alert({ generatorURL: url }))[0]!, options)
  t.notMatch(link('http://prom!1.example.com/graph').html, /href="http:\/\/prom!1/, 'a host Telegram refuses')
  t.notMatch(link('https://wiki.example.com:0/x').html, `${/href=/.source}"https://wiki`, 'port 0')
  const long = link(`https://prometheus.example.com/graph?g0.expr=${'x'.repeat(40_000)}`)
  t.notMatch(long.html, /href="https:\/\/prometheus/, 'a 40 KB URL is not a link')
  t.ok(Buffer.byteLength(long.html) < 32_768, `${Buffer.byteLength(long.html)} bytes as sent`)
  t.match(link('https://[2001:db8::1]:9090/graph').html, /href="https:\/\/\[2001:db8::1\]:9090\/graph"/, 'an IPv6 literal is fine')
})

t.test('a severity named like an object property is just an unknown severity', async (t) => {
  for (const severity of ['constructor', '__proto__', 'toString']) {
    t.match(renderMessage(single(alert({}, { severity }))[0]!, options).plain.split('\n')[0], new RegExp(`^⚪ ${severity.toUpperCase()} · `))
  }
})
