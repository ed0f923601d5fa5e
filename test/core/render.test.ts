import fc from 'fast-check'
import t from 'tap'
import { parseHtml, plainLength } from '../../src/core/html.js'
import { type AlertSnapshot, formatTime, packAlerts, readableNumber, renderMessage, renderResolvedReply, TELEGRAM_TEXT_LIMIT } from '../../src/core/render.js'
import { batchOptions } from '../../src/config/slices.js'
import { testConfig } from '../helpers/config.js'
import { kubeStateLabels } from '../helpers/kube.js'

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

/** kube-prometheus-stack's alerts from kube-state-metrics: 11 labels, most of them shared or noise */
function kube(pod: string, alertname: string, severity: string, fingerprint = `${alertname}/${pod}`): AlertSnapshot {
  return {
    fingerprint,
    status: 'firing',
    labels: kubeStateLabels(pod, alertname, severity),
    annotations: {
      description: `Pod payments/${pod} (api) is restarting.`,
      runbook_url: `https://runbooks.prometheus-operator.dev/runbooks/kubernetes/${alertname.toLowerCase()}`,
    },
    startsAt: '2026-11-24T23:01:00Z',
  }
}

function group(alerts: AlertSnapshot[], over: Partial<Parameters<typeof packAlerts>[0]> = {}) {
  return packAlerts({ alerts, externalURL: 'https://alertmanager.example.com', truncatedAlerts: 0, ...over }, options)
}

/** pairsOf: every "name: value" a message shows of the alerts' labels */
function pairsOf(plain: string, alerts: readonly AlertSnapshot[]): string[] {
  const pairs = new Set(alerts.flatMap((a) => Object.entries(a.labels).map(([k, v]) => `${k}: ${v}`)))
  return [...pairs].flatMap((pair) => Array(plain.split(pair).length - 1).fill(pair))
}

t.test('a message of several alertnames names every alert, grouped under its alertname', async (t) => {
  const alerts = [
    kube('api-1', 'KubePodCrashLooping', 'warning'),
    kube('api-1', 'KubeContainerWaiting', 'warning'),
    kube('api-2', 'KubePodCrashLooping', 'warning'),
  ]
  const [content, more] = group(alerts)
  t.equal(more, undefined, 'one message')
  const { plain } = renderMessage(content!, options)
  const headings = [...plain.matchAll(/^▸ (\w+)(?: · (\d+) alerts)?$/gm)].map((m) => [m[1], m[2]])
  t.same(
    headings,
    [
      ['KubePodCrashLooping', '2'],
      ['KubeContainerWaiting', undefined],
    ],
    'each alertname heads its alerts, which sit together',
  )
  t.ok(plain.indexOf('pod: api-2') < plain.indexOf('▸ KubeContainerWaiting'), 'api-2 is under KubePodCrashLooping')
  const reply = renderResolvedReply(
    alerts.map((a) => ({ ...a, status: 'resolved' as const, endsAt: '2026-11-24T23:04:20Z' })),
    options,
  ).plain
  t.same(reply.split('\n').slice(1), [
    '• KubePodCrashLooping · pod: api-1 · after 3m 20s',
    '• KubePodCrashLooping · pod: api-2 · after 3m 20s',
    '• KubeContainerWaiting · pod: api-1 · after 3m 20s',
  ])
})

t.test('no wall of labels: shared labels once in the header, per alert what tells it apart, noise hidden', async (t) => {
  const alerts = ['api-1', 'api-2', 'api-3'].map((pod) => kube(pod, 'KubePodCrashLooping', 'warning'))
  const { plain } = renderMessage(group(alerts)[0]!, options)
  t.match(plain.split('\n')[1], /^container: api · namespace: payments · reason: CrashLoopBackOff$/, 'the header says the shared ones')
  for (const noise of ['endpoint', 'prometheus', 'uid', 'instance', 'job', 'service'])
    t.notMatch(plain, new RegExp(`^${noise}: |· ${noise}: `, 'm'), `${noise} hidden`)
  const pairs = pairsOf(plain, alerts)
  t.same(
    pairs.filter((p, i) => pairs.indexOf(p) !== i),
    [],
    'no label shown twice',
  )
  t.same(
    pairs.filter((p) => p.startsWith('pod: ')),
    ['pod: api-1', 'pod: api-2', 'pod: api-3'],
  )
  const alone = renderMessage(group([alerts[0]!])[0]!, options).plain
  t.match(alone, /container: api · namespace: payments · pod: api-1 · reason: CrashLoopBackOff/, 'a single alert shows its labels, still without noise')
})

t.test('twelve alerts without summaries: one message, and a reply naming each', async (t) => {
  const alerts = Array.from({ length: 12 }, (_, i) => alert({ fingerprint: `n${i}`, annotations: {}, generatorURL: undefined }, { instance: `node-${i}:9100` }))
  const contents = group(alerts)
  t.equal(contents.length, 1, 'twelve short alerts fit one message')
  const { plain } = renderMessage(contents[0]!, options)
  for (let i = 0; i < 12; i++) t.match(plain, new RegExp(`^🔴 instance: node-${i}:9100$`, 'm'), `alert ${i} is named by its labels on its first line`)
  const reply = renderResolvedReply(
    alerts.map((a) => ({ ...a, status: 'resolved' as const, endsAt: '2026-11-24T23:11:00Z' })),
    options,
  ).plain
  t.equal(reply.split('\n').length, 13)
  t.match(reply, /^• instance: node-11:9100 · after 9m 59s$/m)
  t.notMatch(reply, /• +·/, 'no empty bullet')
})

t.test('short alerts pack densely; the last part of a split group does not repeat the shared labels', async (t) => {
  const short = (n: number) =>
    Array.from({ length: n }, (_, i) => alert({ fingerprint: `s${i}`, annotations: { summary: `web-${i} slow` } }, { instance: `web-${i}:9100` }))
  t.equal(group(short(11)).length, 1, '11 short alerts: one message')
  t.ok(group(short(19)).length <= 2, '19 short alerts: at most two')
  const parts = group(short(40))
  const last = parts.at(-1)!
  const lastPart = renderMessage({ ...last, alerts: last.alerts.slice(-1) }, options).plain
  t.equal(lastPart.split('job: node').length - 1, 1, 'job: node once, in the header')
  t.notMatch(lastPart, /^🔴 CRITICAL · HighLatency\n[\s\S]*\njob: node$/m)
})

t.test('severity as written: any case, aliases, none silent-looking, missing shown plainly', async (t) => {
  const first = (labels: Record<string, string>) => renderMessage(single(alert({}, labels))[0]!, options).plain.split('\n')[0]
  t.equal(first({ severity: 'Critical' }), '🔴 CRITICAL · HighLatency')
  t.equal(first({ severity: 'WARNING' }), '🟠 WARNING · HighLatency')
  t.equal(first({ severity: 'P1' }), '🔴 P1 · HighLatency')
  t.equal(first({ severity: 'page' }), '🔴 PAGE · HighLatency')
  t.equal(first({ severity: 'none', alertname: 'Watchdog' }), '⚪ NONE · Watchdog')
  const noSeverity = alert()
  delete (noSeverity.labels as Record<string, string>).severity
  t.equal(renderMessage(single(noSeverity)[0]!, options).plain.split('\n')[0], '⚪ HighLatency', 'no UNKNOWN')
})

t.test('no annotation dropped: extra ones as lines, URLs as links', async (t) => {
  const rich = alert({
    annotations: {
      summary: 'p99 high',
      description: 'desc',
      impact: 'checkout is slow',
      owner: 'team-web',
      dashboard_url: 'https://grafana.example.com/d/web',
      logs: 'https://logs.example.com/?q=web',
      title: 'Latency',
    },
  })
  const { html, plain } = renderMessage(single(rich)[0]!, options)
  t.match(plain, /^impact: checkout is slow$/m)
  t.match(plain, /^owner: team-web$/m)
  t.match(plain, /^title: Latency$/m, 'a title beside a summary is shown too')
  t.match(html, /<a href="https:\/\/grafana\.example\.com\/d\/web">Dashboard<\/a>/)
  t.match(html, /<a href="https:\/\/logs\.example\.com\/\?q=web">Logs<\/a>/)
})

t.test("Grafana's alerts: its links, values, image and alert list", async (t) => {
  const grafana: AlertSnapshot = {
    ...alert({ annotations: { summary: 'CPU above 90%', __dashboardUid__: 'abc' } }, { grafana_folder: 'Infra' }),
    generatorURL: 'https://grafana.example.com/alerting/grafana/uid1/view',
    grafana: {
      dashboardURL: 'https://grafana.example.com/d/abc',
      panelURL: 'https://grafana.example.com/d/abc?viewPanel=2',
      silenceURL: 'https://grafana.example.com/alerting/silence/new?matcher=alertname%3DHighLatency',
      imageURL: 'https://grafana.example.com/public/img/x.png',
      values: { B: 93.2, C: 1 },
    },
  }
  const [content] = group([grafana], { externalURL: 'https://grafana.example.com/', source: 'grafana' })
  const { html, plain, preview } = renderMessage(content!, options)
  t.match(plain, /^📈 B=93\.2 · C=1$/m)
  for (const title of ['Dashboard', 'Panel', 'Silence', 'Image'])
    t.match(html, new RegExp(`<a href="https://grafana\\.example\\.com/[^"]*">${title}</a>`), title)
  t.match(html, /<a href="https:\/\/grafana\.example\.com\/alerting\/list">Grafana<\/a>/, "the footer links Grafana's alert list")
  t.notMatch(plain, /#\/alerts|__dashboardUid__/)
  t.equal(preview, 'https://grafana.example.com/public/img/x.png', "Grafana's image is shown with the message")
  const text = renderMessage(group([{ ...grafana, grafana: { valueString: "[ var='B' value=93.2 ]" } }])[0]!, options).plain
  t.match(text, /^📈 \[ var='B' value=93\.2 \]$/m, 'without values, its text of them')
})

t.test('a zero or unknown start is not shown as year 1', async (t) => {
  const zero = alert({ startsAt: '0001-01-01T00:00:00Z' })
  const firing = renderMessage(single(zero)[0]!, options).plain
  t.notMatch(firing, /0001|1-01-01|739\d+d/)
  t.match(firing, /🕒 firing, start unknown/)
  const resolved = renderMessage(single({ ...zero, status: 'resolved', endsAt: '2026-11-24T23:05:00Z' })[0]!, options).plain
  t.match(resolved, /^✅ resolved$/m)
  t.match(renderResolvedReply([{ ...zero, status: 'resolved' }], options).plain, /^✅ Resolved: HighLatency \(instance: web-1:9100, job: node\)$/)
})

t.test('what every alert of a message says is said once, in its header', async (t) => {
  const alerts = Array.from({ length: 19 }, (_, i) =>
    alert(
      {
        fingerprint: `p${i}`,
        annotations: { summary: 'Pod has been in a non-ready state for more than 15 minutes.', runbook_url: 'https://runbooks.example/pod-not-ready' },
      },
      { instance: `pod-${i}` },
    ),
  )
  const contents = group(alerts)
  const { plain, html } = renderMessage(contents[0]!, options)
  t.equal(plain.split('non-ready state').length - 1, 1, 'the summary once')
  t.equal(html.split('>Runbook</a>').length - 1, 1, 'the shared runbook once')
  t.match(plain, /^🔴 instance: pod-0$/m, 'each alert is named by what tells it apart')
  const resolved = renderMessage({ ...contents[0]!, alerts: contents[0]!.alerts.map((a) => ({ ...a, status: 'resolved' as const })) }, options).plain
  t.equal(resolved.split('non-ready state').length - 1, 1, 'and so in its resolved look')
})

t.test("Grafana's values read as numbers people write", async (t) => {
  const rows: [number, string][] = [
    [44.23943737541908, '44.24'],
    [0, '0'],
    [1250000, '1250000'],
    [0.001234567, '0.00123'],
    [-7.12545, '-7.13'],
    [1, '1'],
  ]
  for (const [value, text] of rows) t.equal(readableNumber(value), text, String(value))
})

/** looks: what a part can look like later: resolved (all, or all but its first), at the longest age, flapping, silenced or acknowledged */
function laterLooks(content: ReturnType<typeof packAlerts>[number]) {
  const old = { ...options, now: Date.parse('2029-08-20T22:00:00Z') }
  const resolvedFrom = (first: number) => ({
    ...content,
    alerts: content.alerts.map((a, i) => (i >= first ? { ...a, status: 'resolved' as const, endsAt: '2029-08-20T21:59:00Z' } : a)),
  })
  const silence = (ack: boolean) => ({
    ids: ['s1'],
    by: `${'Ω'.repeat(64)} ${'Ж'.repeat(64)} (@${'u'.repeat(32)}, 1234567890123)`,
    until: '2026-11-25T01:00:00Z',
    ack,
  })
  // on call: taken, silenced elsewhere with a long comment, escalated; resolved with the whole short timeline
  const name = 'Ω'.repeat(64)
  const external = { ...silence(false), external: true, comment: 'Ж'.repeat(5000) }
  const at = '2026-11-25T00:00:00Z'
  const timeline = [
    { at, kind: 'fired' as const },
    { at, kind: 'escalated' as const, detail: `step 2: ${name}`.repeat(20) },
    { at, kind: 'taken' as const, by: name, chat: true as const },
    { at, kind: 'silenced' as const, by: name, detail: 'for 1h', chat: true as const },
    { at, kind: 'silence_expired' as const, by: name },
    { at: '2029-08-20T21:59:00Z', kind: 'resolved' as const },
  ]
  const taken = { by: { id: 1, name, username: 'u'.repeat(32) }, at }
  return [
    [content, options],
    [resolvedFrom(0), old],
    [{ ...resolvedFrom(1), silence: silence(false) }, old],
    [{ ...resolvedFrom(0), silence: silence(true) }, old],
    [{ ...resolvedFrom(1), silence: external, taken, timeline: timeline.slice(0, 4) }, old, /ЖЖЖ…$/],
    [{ ...resolvedFrom(1), taken, timeline: timeline.slice(0, 5) }, old, /🔔 silence expired at \d\d:\d\d$/],
    [{ ...resolvedFrom(0), taken, timeline }, old, /✅ resolved after \d+d \d+h$/],
    [{ ...resolvedFrom(0), silence: external, taken, timeline }, old, /ЖЖЖ…$/],
  ] as const
}

t.test('80 alerts of one group take the fewest messages their resolved looks allow', async (t) => {
  const alerts = Array.from({ length: 80 }, (_, i) =>
    alert({ fingerprint: `d${i}`, annotations: { summary: `p99 latency above 1s on node-${i}` } }, { instance: `node-${i}.example.com:9100` }),
  )
  const parts = group(alerts)
  const now = parts.map((p) => plainLength(renderMessage(p, options).html))
  const worst = parts.map((p) => Math.max(...laterLooks(p).map(([look, at]) => plainLength(renderMessage(look, at).html))))
  t.comment(`${parts.length} parts of ${parts.map((p) => p.alerts.length).join(', ')}: ${now.join(', ')} characters now, ${worst.join(', ')} at most later`)
  t.ok(
    worst.every((n) => n <= TELEGRAM_TEXT_LIMIT),
    'every later look fits',
  )
  t.ok(
    worst.slice(0, -1).every((n) => n > TELEGRAM_TEXT_LIMIT - 250),
    'and fills the message, but for about one alert',
  )
  t.ok(worst.reduce((a, b) => a + b, 0) > (parts.length - 1) * TELEGRAM_TEXT_LIMIT, `${parts.length} messages are the fewest that hold their later looks`)
})

t.test('every packed part stays within 4096 characters, uncut, in every later look (property)', async (t) => {
  const text = (max: number) => fc.string({ unit: fc.constantFrom('a', 'Z', '9', ' ', '.', '<', '&', '"', 'é', '😀', '\n'), maxLength: max })
  const spec = fc.record({
    alertname: fc.constantFrom('HighLatency', 'DiskFull', '<i>x</i>'),
    instance: text(60),
    summary: fc.option(text(300), { nil: undefined }),
    description: fc.option(text(900), { nil: undefined }),
    flaps: fc.option(fc.integer({ min: 3, max: 40 }), { nil: undefined }),
    startsAt: fc.constantFrom('2026-11-24T23:01:00Z', '2025-01-01T00:00:00Z', '0001-01-01T00:00:00Z'),
  })
  fc.assert(
    fc.property(fc.array(spec, { minLength: 1, maxLength: 60 }), (specs) => {
      const alerts = specs.map((s, i) =>
        alert(
          {
            fingerprint: `p${i}`,
            startsAt: s.startsAt,
            annotations: { ...(s.summary ? { summary: s.summary } : {}), ...(s.description ? { description: s.description } : {}) },
            ...(s.flaps ? { flaps: s.flaps } : {}),
          },
          { alertname: s.alertname, instance: `${s.instance}#${i}` },
        ),
      )
      for (const part of group(alerts)) {
        for (const [look, at, onCallEnd] of laterLooks(part)) {
          const { html, plain } = renderMessage(look, at)
          if (!parseHtml(html).ok || plainLength(html) > TELEGRAM_TEXT_LIMIT) return false
          // uncut: the message still ends with its own end (the footer's link, the silence note, or its on-call lines, whose names are cut where their room ends)
          if (onCallEnd) {
            if (!onCallEnd.test(plain)) return false
            continue
          }
          const end = look.silence ? (look.silence.ack ? 'silenced until it resolves' : 'UTC') : look.part === look.parts ? 'Alertmanager' : ''
          if (!plain.endsWith(end) || plain.endsWith('…')) return false
        }
      }
      return true
    }),
    { numRuns: 60 },
  )
  t.pass('60 random groups, every part in seven later looks (on call: taken, silenced elsewhere, the resolved timeline)')
})
