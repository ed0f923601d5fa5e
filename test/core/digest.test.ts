import fc from 'fast-check'
import t from 'tap'
import {
  estimateCalls,
  estimateChars,
  isStorm,
  type Lookups,
  type MessageRecord,
  planDelivery,
  planStorm,
  planStormSteps,
  rerender,
} from '../../src/core/delivery.js'
import type { OutboxItem } from '../../src/core/candidates.js'
import { announcedAlerts, packDigest, renderDigestPart, sharedOf } from '../../src/core/digest.js'
import type { AlertSnapshot } from '../../src/core/render.js'
import { parseHtml, plainLength } from '../../src/core/html.js'
import { batchOptions } from '../../src/config/slices.js'
import { testConfig } from '../helpers/config.js'
import { namedValues } from '../helpers/names.js'

const options = batchOptions(testConfig(), Date.parse('2026-11-24T23:30:00Z'))
const none: Lookups = { refs: new Map(), records: new Map() }
const HOSTILE = '<b>&amp;</b> "x" & <'

function alert(i: number, severity = i % 3 === 0 ? 'critical' : 'warning', status: 'firing' | 'resolved' = 'firing'): AlertSnapshot {
  return {
    fingerprint: `fp${i}`,
    status,
    startsAt: '2026-11-24T23:00:00Z',
    annotations: {},
    labels: { alertname: ['HighLatency', 'DiskFull', 'NodeDown'][i % 3]!, severity, instance: `host-${i}.example.com:9100` },
    ...(status === 'resolved' ? { endsAt: '2026-11-24T23:20:00Z' } : {}),
  }
}

function item(a: AlertSnapshot, over: Partial<OutboxItem> = {}): OutboxItem {
  return {
    id: a.fingerprint,
    alert: a,
    groupKey: `g-${a.fingerprint}`,
    externalURL: 'https://am.example.com',
    truncatedAlerts: 0,
    silent: false,
    route: 'default',
    paceMs: 3150,
    receivedAt: 0,
    seq: 0,
    ...over,
  }
}

t.test('a digest counts by severity and alertname, names every alert critical first, and fits Telegram', async (t) => {
  const alerts = Array.from({ length: 500 }, (_, i) => alert(i))
  const parts = packDigest({ alerts, reminders: 2, resolvedRound: false, externalURL: 'https://am.example.com' }, 1000, options)
  t.ok(parts.length > 1, `${parts.length} messages`)
  const rendered = parts.map((p) => rerender(p, options))
  for (const [i, r] of rendered.entries()) {
    t.ok(parseHtml(r.html).ok && plainLength(r.html) <= 4096, `part ${i + 1}: ${plainLength(r.html)} characters`)
    t.match(r.html, /<blockquote expandable>/, 'the list is an expandable quote')
  }
  const first = rendered[0]!.plain
  t.match(first.split('\n')[0], /^🌩 Alert storm · 500 alerts · part 1\/\d+$/)
  t.match(first, /🔴 critical 167 · 🟠 warning 333/)
  t.match(first, /HighLatency 167 · DiskFull 167 · NodeDown 166/)
  t.match(first, /🔁 2 reminders of alerts still firing/)
  const named = rendered.flatMap((r) => [...namedValues(r.plain, /host-\d+\.example\.com:9100/)].map((v) => Number(/\d+/.exec(v)![0])))
  t.equal(new Set(named).size, 500, 'every alert is named, its full value put back together from heading and line')
  t.equal(rendered.flatMap((r) => r.plain.split('\n').filter((l) => /^host-\d+$/.test(l))).length, 500, 'one line each, the host alone')
  const critical = named.map((i) => i % 3 === 0)
  t.equal(critical.lastIndexOf(true), 166, 'critical first')
  t.equal(critical.indexOf(false), 167)
  t.match(
    first,
    /^🔴 HighLatency · instance ….example.com:9100\nhost-0\nhost-3$/m,
    'a run is headed once by its severity, alertname and label name, with what its values share',
  )
  t.match(
    rendered[1]!.plain,
    /^🌩 Alert storm · 500 alerts · part 2\/\d+\n(🔴|🟠) \w+ · instance ….example.com:9100\nhost-\d+\n/,
    'each part heads its first run again, shared part included, so it reads on its own',
  )
})

t.test('past digest_max_alerts, alerts are counted and said to be counted, not dropped', async (t) => {
  const alerts = Array.from({ length: 60 }, (_, i) => alert(i))
  const parts = packDigest({ alerts, reminders: 0, resolvedRound: false, externalURL: '' }, 50, options)
  const last = rerender(parts.at(-1)!, options).plain
  t.match(last, /… and 10 more alerts not named here/)
  t.equal(parts.at(-1)!.digest!.unnamed.length, 10, 'the last message keeps them, for their resolves')
  t.equal(parts.flatMap((p) => p.alerts).length, 50)
})

t.test('a 40 KB Alertmanager URL takes no more digest messages than a short one', async (t) => {
  const alerts = Array.from({ length: 400 }, (_, i) => alert(i))
  const pack = (externalURL: string) => packDigest({ alerts, reminders: 0, resolvedRound: false, externalURL }, 1000, options)
  const usual = pack('http://alertmanager:9093')
  const huge = pack(`http://alertmanager:9093/${'x'.repeat(40_000)}`)
  t.equal(huge.length, usual.length, `${huge.length} digest messages for 400 alerts, as with a short URL`)
  t.ok(huge.every((content) => plainLength(renderDigestPart(content, options).html) <= 4096))
})

t.test('a digest resolving shows it, line by line and then as a whole', async (t) => {
  const [part] = packDigest({ alerts: [alert(0), alert(1)], reminders: 0, resolvedRound: false, externalURL: '' }, 1000, options)
  const half = rerender({ ...part!, alerts: [{ ...part!.alerts[0]!, status: 'resolved' }, part!.alerts[1]!] }, options)
  t.match(half.plain, /1 here resolved/)
  t.match(half.html, /✅ <s>/)
  const all = rerender({ ...part!, alerts: part!.alerts.map((a) => ({ ...a, status: 'resolved' as const })) }, options)
  t.match(all.plain, /^✅ Storm resolved · 2 alerts/)
})

t.test('hostile values stay valid in digests', async (t) => {
  const hostile = { ...alert(1), labels: { alertname: HOSTILE, severity: HOSTILE, [HOSTILE.replace(/\W/g, '') || 'x']: HOSTILE, instance: HOSTILE } }
  const [part] = packDigest({ alerts: [hostile, alert(2)], reminders: 0, resolvedRound: false, externalURL: '' }, 1000, options)
  const r = rerender(part!, options)
  t.ok(parseHtml(r.html).ok)
  t.ok(r.plain.includes(HOSTILE))
})

t.test('sharedOf: what every value of a run shares, cut between the parts of a name, when saying it once saves enough', async (t) => {
  const none = { prefix: '', suffix: '' }
  const cases: [string, string[], ReturnType<typeof sharedOf>][] = [
    ['domain and port', ['node-1.example.com:9100', 'node-22.example.com:9100', 'node-333.example.com:9100'], { prefix: '', suffix: '.example.com:9100' }],
    ['cut at a separator, never inside a name', ['node-11.example.com', 'node-21.example.com', 'node-31.example.com'], { prefix: '', suffix: '.example.com' }],
    [
      'a URL base',
      ['https://api.example.com/v1/users', 'https://api.example.com/v1/orders', 'https://api.example.com/v1/items'],
      { prefix: 'https://api.example.com/v1/', suffix: '' },
    ],
    [
      'both ends',
      ['https://a.example.com/users/list', 'https://a.example.com/orders/list', 'https://a.example.com/items/list'],
      { prefix: 'https://a.example.com/', suffix: '/list' },
    ],
    ['node-1 never becomes 1', ['node-1', 'node-2', 'node-3'], none],
    ['an address stays whole (its port alone saves too little)', ['10.0.0.1:9100', '10.0.0.2:9100', '10.0.0.3:9100'], none],
    [
      'a prefix that would leave bare numbers stays',
      ['node-1.example.com:9100', 'node-2.example.com:9100', 'node-3.example.com:9100'],
      { prefix: '', suffix: '.example.com:9100' },
    ],
    ['a run of two is not worth it', ['node-1.example.com:9100', 'node-2.example.com:9100'], none],
    ['too little saved', ['a-1.eu', 'b-2.eu', 'c-3.eu'], none],
    ['every line keeps something of its own', ['example.com:9100', 'a.example.com:9100', 'b.example.com:9100'], { prefix: '', suffix: '.com:9100' }],
    ['one value for all: said whole', ['node', 'node', 'node'], { prefix: '', suffix: '', whole: 'node' }],
    ['hosts of two kinds in one domain', ['web-1.prod.eu', 'web-2.prod.eu', 'db-1.prod.eu'], { prefix: '', suffix: '.prod.eu' }],
  ]
  for (const [why, values, expected] of cases) t.same(sharedOf(values), expected, why)
})

t.test('a run says once what its values share; each line what differs, in every look', async (t) => {
  const run = Array.from(
    { length: 4 },
    (_, i): AlertSnapshot => ({
      fingerprint: `r${i}`,
      status: 'firing',
      startsAt: '2026-11-24T23:00:00Z',
      annotations: {},
      labels: { alertname: 'NodeDown', severity: 'warning', instance: `node-${i}.example.com:9100`, job: 'node' },
    }),
  )
  const [part] = packDigest({ alerts: run, reminders: 0, resolvedRound: false, externalURL: '' }, 1000, options)
  const firing = rerender(part!, options).plain
  t.match(
    firing,
    /^🟠 NodeDown · instance ….example.com:9100, job node\nnode-0\nnode-1\nnode-2\nnode-3$/m,
    'the heading carries the domain, the port and the job',
  )
  t.same(
    [...namedValues(firing, /node-\d+\.example\.com:9100/)],
    ['node-0.example.com:9100', 'node-1.example.com:9100', 'node-2.example.com:9100', 'node-3.example.com:9100'],
    'each value put back together',
  )
  const resolved = rerender({ ...part!, alerts: part!.alerts.map((a, i) => (i === 1 ? { ...a, status: 'resolved' as const } : a)) }, options)
  t.match(resolved.html, /\nnode-0\n✅ <s>node-1<\/s>\nnode-2\n/, 'a resolved alert is struck through on its own line')
  t.match(resolved.plain, /· instance ….example.com:9100, job node\n/, 'and the heading reads as before')

  const pair = packDigest({ alerts: run.slice(0, 2), reminders: 0, resolvedRound: false, externalURL: '' }, 1000, options)
  t.match(rerender(pair[0]!, options).plain, /^🟠 NodeDown · instance, job\nnode-0\.example\.com:9100 · node\n/m, 'two alerts: each line says it all')
  const mixed = run.map((a, i) => ({ ...a, labels: { ...a.labels, instance: `node-${i}.${['eu', 'us', 'ap', 'sa'][i]}.example.net:9100`, job: `job-${i}` } }))
  const [apart] = packDigest({ alerts: mixed, reminders: 0, resolvedRound: false, externalURL: '' }, 1000, options)
  t.match(rerender(apart!, options).plain, /instance ….example.net:9100, job\nnode-0\.eu · job-0\n/, 'a label whose values differ stays on the lines')
})

t.test('a storm round folds firing and resolved together and defers edits of earlier messages', async (t) => {
  const earlier: MessageRecord = {
    messageId: 9,
    silent: false,
    groupKey: 'old',
    commonLabels: [],
    externalURL: '',
    truncatedAlerts: 0,
    part: 1,
    parts: 1,
    alerts: [alert(90)],
  }
  const lookups: Lookups = { refs: new Map([['fp90', { messageId: 9, startsAt: '2026-11-24T23:00:00Z' }]]), records: new Map([[9, earlier]]) }
  const items = [
    item(alert(1)),
    item(alert(2)),
    item(alert(1, 'warning', 'resolved')),
    item(alert(90, 'critical', 'resolved')),
    item(alert(77, 'critical', 'resolved')),
    item(alert(5), { repeat: true }),
  ]
  const delivery = planStorm(items, lookups, options)
  t.equal(delivery.take, 6)
  t.same(delivery.deferredEdits, [{ messageId: 9, resolutions: [{ fingerprint: 'fp90', startsAt: '2026-11-24T23:00:00Z', endsAt: '2026-11-24T23:20:00Z' }] }])
  t.same(delivery.dropped, [{ fingerprint: 'fp77', reason: 'resolve of an alert whose message is unknown' }])
  const [digest, resolvedDigest] = delivery.calls
  t.match(digest!.plain, /2 alerts/)
  t.match(digest!.plain, /🟠 DiskFull · instance\n✅ host-1\.example\.com:9100/, 'fired and resolved within the round: named once, resolved')
  t.match(digest!.html, /✅ <s>host-1\.example\.com:9100<\/s>/)
  t.match(digest!.plain, /1 reminders/)
  t.equal(digest!.announce, true, 'its alerts point at the digest')
  t.match(resolvedDigest!.plain, /^✅ 1 alerts resolved/)
  t.equal(resolvedDigest!.record, undefined)
})

t.test("a storm is when what waits would take longer than max_delay at the chat's pace", async (t) => {
  const distinct = Array.from({ length: 16 }, (_, i) => item(alert(i)))
  const oneGroup = distinct.map((i) => ({ ...i, groupKey: 'same' }))
  t.equal(estimateCalls(distinct, 16), 16)
  t.equal(estimateCalls(oneGroup, 16), 1, 'one group is one message, however many alerts')
  t.equal(estimateCalls(distinct, 160), 160, 'what the window saw, scaled to all that waits')
  t.equal(isStorm(distinct, 16, 3150, 30_000), true)
  t.equal(isStorm(distinct.slice(0, 5), 5, 3150, 30_000), false)
  t.equal(isStorm(oneGroup, 16, 3150, 30_000), false, 'one big group is one message')
  t.equal(isStorm(oneGroup, 500, 3150, 30_000), true, 'but past the window, what waits may be many groups')
  t.equal(isStorm(distinct.slice(0, 2), 2, 600_000, 30_000), true, 'a throttled route folds what waited for its slot')
  t.equal(estimateChars(distinct, 160), estimateChars(distinct, 16) * 10, 'scaled to all that waits')
  const asItIs = distinct.reduce((sum, i) => sum + planDelivery([i], none, options).calls[0]!.plain.length, 0)
  t.ok(Math.abs(estimateChars(distinct, 16) - asItIs) < asItIs * 0.3, `about what saying them as they are takes (${estimateChars(distinct, 16)} for ${asItIs})`)
  const crowded = Array.from({ length: 16 }, (_, i) => item(alert(i), { groupKey: `g${i % 5}` })).sort((a, b) => a.groupKey.localeCompare(b.groupKey))
  t.equal(isStorm(crowded.slice(0, 5), 5, 3150, 30_000), false, 'five small groups: each its own message')
  t.equal(isStorm(crowded, 160, 3150, 30_000), true, 'five groups of 32 alerts: more than one message names them, so a digest at the next slot')
})

t.test('a reminder replies to the message that announced the alert; without one, it announces it', async (t) => {
  const record: MessageRecord = {
    messageId: 4,
    silent: false,
    groupKey: 'g',
    commonLabels: [],
    externalURL: '',
    truncatedAlerts: 0,
    part: 1,
    parts: 1,
    alerts: [alert(3)],
  }
  const lookups: Lookups = { refs: new Map([['fp3', { messageId: 4, startsAt: '2026-11-24T23:00:00Z' }]]), records: new Map([[4, record]]) }
  const reminder = planDelivery([item(alert(3), { repeat: true })], lookups, options)
  t.same(
    reminder.calls.map((c) => [c.op, c.messageId]),
    [['send', 4]],
  )
  t.match(reminder.calls[0]!.plain, /^🔁 Still firing: HighLatency \(instance: host-3\.example\.com:9100\) for 30m$/)
  const orphan = planDelivery([item(alert(3), { repeat: true })], none, options)
  t.equal(orphan.calls[0]!.announce, true)
})

t.test('a flapping alert updates its message instead of sending a new one', async (t) => {
  const record: MessageRecord = {
    messageId: 4,
    silent: false,
    groupKey: 'g',
    commonLabels: [],
    externalURL: '',
    truncatedAlerts: 0,
    part: 1,
    parts: 1,
    alerts: [{ ...alert(3), status: 'resolved', endsAt: '2026-11-24T23:05:00Z' }],
  }
  const lookups: Lookups = { refs: new Map([['fp3', { messageId: 4, startsAt: '2026-11-24T23:00:00Z' }]]), records: new Map([[4, record]]) }
  const again = { ...alert(3), startsAt: '2026-11-24T23:10:00Z' }
  const flap = planDelivery([item(again, { flaps: 4 })], lookups, options)
  t.same(
    flap.calls.map((c) => [c.op, c.messageId, c.announce]),
    [['edit', 4, true]],
  )
  t.match(flap.calls[0]!.plain, /^🔴 CRITICAL · HighLatency/, 'firing again')
  t.match(flap.calls[0]!.plain, /🔁 flapping: 4 times in 10m/)
  const settled = planDelivery(
    [item({ ...again, status: 'resolved', endsAt: '2026-11-24T23:12:00Z' }, { flaps: 4 })],
    { ...lookups, refs: new Map([['fp3', { messageId: 4, startsAt: again.startsAt }]]), records: new Map([[4, flap.calls[0]!.record!]]) },
    options,
  )
  t.same(
    settled.calls.map((c) => c.op),
    ['edit'],
    'its resolve edits, with no reply',
  )
})

/** storm: the benchmark's round as it reaches a digest, the first alert already sent on its own */
const storm = Array.from({ length: 499 }, (_, j) => {
  const i = j + 1
  const labels = {
    alertname: ['HighLatency', 'DiskFull', 'NodeDown', 'HighErrorRate'][i % 4]!,
    severity: i % 10 === 0 ? 'critical' : 'warning',
    instance: `node-${i}.example.com:9100`,
  }
  return { fingerprint: `fp${i}`, status: 'firing' as const, startsAt: '2026-11-24T23:00:00Z', labels, annotations: { summary: `storm alert ${i}` } }
})
const allResolved = (content: ReturnType<typeof packDigest>[number]) => ({
  ...content,
  alerts: content.alerts.map((a) => ({ ...a, status: 'resolved' as const })),
})

t.test('a storm round takes the fewest digest messages 4096 characters allow, in every later look', async (t) => {
  const parts = packDigest({ alerts: storm, reminders: 0, resolvedRound: false, externalURL: 'http://127.0.0.1:9093' }, 1000, options)
  const firing = parts.map((p) => plainLength(renderDigestPart(p, options).html))
  // resolved at last, after an escalation and a take by someone with a long name: the on-call lines' room is reserved in every part
  const name = 'Ω'.repeat(64)
  const at = '2026-11-25T00:00:00Z'
  const onCall = (p: (typeof parts)[number]) => ({
    ...p,
    taken: { by: { id: 1, name }, at },
    timeline: [
      { at, kind: 'fired' as const },
      { at, kind: 'escalated' as const, detail: `step 1: ${name}` },
      { at, kind: 'taken' as const, by: name, chat: true as const },
      { at, kind: 'silenced' as const, by: name },
      { at: '2026-11-26T00:00:00Z', kind: 'resolved' as const },
    ],
  })
  const resolved = parts.map((p) => plainLength(renderDigestPart(onCall(allResolved(p)), options).html))
  t.comment(`${parts.length} parts of ${parts.map((p) => p.alerts.length).join(', ')} alerts; ${firing.join(', ')} characters, resolved ${resolved.join(', ')}`)
  t.ok(Math.max(...resolved) <= 4096, 'every part fits when all its alerts resolved, with its on-call lines')
  t.ok(
    resolved.slice(0, -1).every((n) => n > 4096 - 60),
    'and is filled to within a line of 4096 in that look',
  )
  // the lines alone, in the look every alert ends in (resolved), already need more than one message fewer could hold
  const lines = parts.flatMap((p) =>
    renderDigestPart(allResolved(p), options)
      .plain.split('\n')
      .filter((l) => l.startsWith('✅ node-')),
  )
  t.equal(lines.length, 499, 'every alert named on a line of its own')
  t.ok(lines.reduce((n, l) => n + l.length + 1, 0) > (parts.length - 1) * 4096, `${parts.length} messages are the fewest that can name them`)
})

t.test('every packed digest part stays within 4096 characters in every look it can take (property)', async (t) => {
  const value = fc.string({ unit: fc.constantFrom('a', 'Z', '9', '.', '-', '<', '&', '"', 'é', '😀', ' '), maxLength: 70 })
  const alertArb = fc.record({
    severity: fc.constantFrom('critical', 'warning', 'info', ''),
    alertname: fc.constantFrom('A', 'HighLatency', 'KubePodCrashLooping', '<b>&amp;</b>'),
    instance: value,
    job: fc.option(value, { nil: undefined }),
  })
  // what a round's values may share, said once in a run's heading: a URL's base, a domain and port, a hostile tail, more than a line shows
  const aroundArb = fc.constantFrom(
    ['', ''],
    ['https://api.example.com/v1/', ''],
    ['', '.example.com:9100'],
    ['a/', '.<&>".é😀:1'],
    [`${'x'.repeat(90)}/`, `-${'y'.repeat(90)}`],
  )
  let factored = 0
  fc.assert(
    fc.property(
      fc.array(alertArb, { minLength: 1, maxLength: 400 }),
      fc.integer({ min: 10, max: 400 }),
      fc.integer(),
      aroundArb,
      (specs, maxNamed, seed, around) => {
        const alerts: AlertSnapshot[] = specs.map((s, i) => ({
          fingerprint: `f${i}`,
          status: 'firing',
          startsAt: '2026-11-24T23:00:00Z',
          annotations: {},
          labels: {
            alertname: s.alertname,
            instance: `${around[0]}${s.instance}#${i}${around[1]}`,
            ...(s.severity ? { severity: s.severity } : {}),
            ...(s.job === undefined ? {} : { job: `${s.job}#` }),
          },
        }))
        const parts = packDigest({ alerts, reminders: 3, resolvedRound: false, externalURL: 'http://am.example.com:9093' }, maxNamed, options)
        for (const part of parts) {
          // now; every alert resolved; every other one resolved; and on the last part, its unnamed alerts resolved too
          const some = { ...part, alerts: part.alerts.map((a, i) => (i % 2 === (seed & 1) ? { ...a, status: 'resolved' as const } : a)) }
          const unnamedResolved = part.digest && { ...part.digest, unnamed: part.digest.unnamed.map((a) => ({ ...a, status: 'resolved' as const })) }
          for (const look of [part, allResolved(part), some, { ...allResolved(part), digest: unnamedResolved! }]) {
            const html = renderDigestPart(look, options).html
            if (!parseHtml(html).ok || plainLength(html) > 4096) return false
            if (/ · instance [^\n]*…/.test(html)) factored++
            // nothing was cut to make it fit: the part still ends as it should (the footer's link, or its last alert)
            const plain = renderDigestPart(look, options).plain
            if (part.part === part.parts ? !plain.endsWith('Alertmanager') : !plain.includes(`#${alerts.indexOf(part.alerts.at(-1)!)}`)) return false
          }
        }
        return parts.flatMap((p) => p.alerts).length === Math.min(maxNamed, alerts.length)
      },
    ),
    {
      numRuns: 40,
      // besides the random rounds, one that surely shares a domain and port, so the check below cannot depend on the draw
      examples: [
        [
          Array.from({ length: 20 }, () => ({ severity: 'warning' as const, alertname: 'HighLatency' as const, instance: 'node', job: undefined })),
          400,
          0,
          ['', '.example.com:9100'],
        ],
      ],
    },
  )
  t.ok(factored > 0, `every part of 40 random rounds and a sharing one, in four looks each (${factored} looks with a run saying what its values share)`)
})

t.test("an operator's own digest_alert template with {{value}} keeps every full value and still fits", async (t) => {
  const own = batchOptions(
    testConfig(
      'messages: {templates: {digest_alert: "{{#if heading}}{{alertname}}\\n{{/if}}{{#if resolved}}✅ {{/if}}{{#each identifying}}{{value}}{{/each}}"}}',
    ),
    Date.parse('2026-11-24T23:30:00Z'),
  )
  const parts = packDigest({ alerts: storm, reminders: 0, resolvedRound: false, externalURL: '' }, 1000, own)
  const rendered = parts.map((p) => renderDigestPart(allResolved(p), own))
  t.ok(
    rendered.every((r) => plainLength(r.html) <= 4096),
    `${parts.length} parts, each within 4096 characters resolved`,
  )
  t.equal(rendered.flatMap((r) => [...r.plain.matchAll(/^✅ node-\d+\.example\.com:9100$/gm)]).length, 499)
})

t.test("what a digest's parts announce: the named alerts, and on the last part the counted ones", async (t) => {
  // distinct long instances, so the names take several parts
  const long = (i: number) => ({ ...alert(i), labels: { ...alert(i).labels, instance: `${(i * 7919).toString(36)}-${'q'.repeat(40)}-${i}` } })
  const round = { alerts: Array.from({ length: 400 }, (_, i) => long(i)), reminders: 0, resolvedRound: false, externalURL: '' }
  const parts = packDigest(round, 300, options)
  t.ok(parts.length >= 2, `${parts.length} parts name 300 of 400 alerts`)
  const fingerprints = (i: number) => new Set(announcedAlerts(parts[i]!).map((a) => a.fingerprint))
  const named = parts.map((p) => p.alerts.length)
  const cases: [string, number, number][] = [
    ['the first part: the alerts it names', 0, named[0]!],
    ['the last part: the alerts it names and the 100 it counts (a resolve of one has to find this message)', parts.length - 1, named.at(-1)! + 100],
  ]
  for (const [what, i, count] of cases) t.equal(fingerprints(i).size, count, what)
  t.equal(new Set(parts.flatMap((p) => announcedAlerts(p).map((a) => a.fingerprint))).size, 400, 'every alert of the round points at one part')
  const plain = { alerts: [alert(1)] }
  t.same(announcedAlerts(plain), [alert(1)], 'an alert message announces its alerts')
})

t.test('the same alerts packed under another template, or resolved, read as that template and state say (no line is reused from another look)', async (t) => {
  const alerts = Array.from({ length: 6 }, (_, i) => alert(i, 'warning'))
  const round = { alerts, reminders: 0, resolvedRound: false, externalURL: '' }
  const [ours] = packDigest(round, 1000, options)
  const own = batchOptions(
    testConfig('messages: {templates: {digest_alert: "OWN {{alertname}} {{#each identifying}}{{value}}{{/each}}"}}'),
    Date.parse('2026-11-24T23:30:00Z'),
  )
  const [theirs] = packDigest(round, 1000, own)
  t.notMatch(renderDigestPart(ours!, options).plain, /OWN/)
  t.equal([...renderDigestPart(theirs!, own).plain.matchAll(/^OWN /gm)].length, 6, 'every line in the operator template, with the very same alert objects')
  t.match(renderDigestPart(ours!, options).plain, /^host-0.example.com:9100$/m, 'and the first packing still reads as before')
  const resolved = { ...ours!, alerts: [{ ...ours!.alerts[0]!, status: 'resolved' as const }, ...ours!.alerts.slice(1)] }
  t.match(renderDigestPart(resolved, options).html, /✅ <s>/, 'a resolved copy of a rendered alert shows resolved')
})

t.test('a storm round is planned in steps: it pauses at least every 50 alerts it packs, and gives what planning it at once gives', async (t) => {
  const items = Array.from({ length: 1200 }, (_, i) => item(alert(i)))
  const steps = planStormSteps(items, none, options)
  let pauses = 0
  let step = steps.next()
  while (!step.done) {
    pauses++
    step = steps.next()
  }
  // 1,000 named (digest_max_alerts) are packed, 50 at a time; each part rendered is a pause too
  t.ok(pauses >= 1000 / 50, `${pauses} pauses`)
  const atOnce = planStorm(items, none, options)
  t.same(
    step.value.calls.map((c) => c.fingerprints),
    atOnce.calls.map((c) => c.fingerprints),
  )
  t.same(
    step.value.calls.map((c) => c.html),
    atOnce.calls.map((c) => c.html),
  )
})
