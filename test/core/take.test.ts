/**
 * On call in a message, pure: the keyboard in each state, taking and releasing, how taken,
 * escalated, silenced-elsewhere and resolved messages read, the short timeline and its figures,
 * what a change measures, the timeline the sender's own plan keeps (fired, resolved), and that a
 * message in its fullest on-call look still fits Telegram's limit.
 */
import t from 'tap'
import { type Lookups, markedAhead, type MessageRecord, planDeferredEdit, planDelivery, spliceNotices } from '../../src/core/delivery.js'
import type { OutboxItem } from '../../src/core/candidates.js'
import { parseHtml, plainLength } from '../../src/core/html.js'
import type { TimelineEvent } from '../../src/core/incident.js'
import { packDigest, renderDigestPart } from '../../src/core/digest.js'
import { alertKeyboard } from '../../src/core/keyboard.js'
import { type AlertSnapshot, packAlerts, renderMessage, TELEGRAM_TEXT_LIMIT } from '../../src/core/render.js'
import { personOf, planTake } from '../../src/core/take.js'
import { figuresLine, observe, summaryEvents, timelineReply } from '../../src/core/timeline.js'
import { batchOptions } from '../../src/config/slices.js'
import { testConfig } from '../helpers/config.js'

const NOW = Date.parse('2026-11-25T03:20:00Z')
const options = batchOptions(testConfig(), NOW)
const TOKEN = 'tok_0123456789abcdef'
const alice = { id: 111, name: 'Alice', username: 'alice' }
const bob = { id: 222, name: 'Bob <the> & "builder"' }
const at = (hhmm: string) => `2026-11-25T${hhmm}:00.000Z`

function alert(fp: string, over: Partial<AlertSnapshot> = {}): AlertSnapshot {
  return {
    fingerprint: fp,
    status: 'firing',
    labels: { alertname: 'DiskFull', severity: 'critical', instance: `${fp}.example.com` },
    annotations: { summary: 'disk almost full' },
    startsAt: at('03:00'),
    ...over,
  }
}

function record(over: Partial<MessageRecord> = {}): MessageRecord {
  const [content] = packAlerts({ alerts: [alert('a')], externalURL: 'http://am:9093', truncatedAlerts: 0 }, options)
  return { ...content!, token: TOKEN, messageId: 77, silent: false, groupKey: 'g', route: 'pager', ...over }
}

const texts = (k: ReturnType<typeof alertKeyboard>) => k?.map((row) => row.map((b) => b.text))
const silence = { ids: ['s1'], by: '@bob (222)', until: at('05:00'), ack: false }

t.test('alertKeyboard: "I\'m on it" beside ack while firing, Release once taken, beside Unsilence once silenced', async (t) => {
  const taken = { by: alice, at: at('03:12') }
  const resolved = [alert('a', { status: 'resolved', endsAt: at('03:30') })]
  const rows: [string, Partial<MessageRecord>, string[][] | undefined][] = [
    [
      'firing',
      {},
      [
        ['🔕 1h', '🔕 4h', '🔕 1d'],
        ["✋ I'm on it", '✋ Ack until resolved'],
      ],
    ],
    [
      'taken',
      { taken },
      [
        ['🔕 1h', '🔕 4h', '🔕 1d'],
        ['↩️ Release', '✋ Ack until resolved'],
      ],
    ],
    ['silenced', { silence }, [['🔔 Unsilence', "✋ I'm on it"]]],
    ['taken and silenced', { silence, taken }, [['🔔 Unsilence', '↩️ Release']]],
    ['resolved and taken: nothing left to do', { alerts: resolved, taken }, undefined],
    ['resolved and still silenced: unsilence only', { alerts: resolved, silence, taken }, [['🔔 Unsilence']]],
  ]
  for (const [what, over, expected] of rows) t.same(texts(alertKeyboard(record(over), options.durationsMs)), expected, what)
  const data = alertKeyboard(record({ taken }), options.durationsMs)![1]![0]!
  t.equal('callback_data' in data && data.callback_data, `rl.${TOKEN}`, 'release carries the message token')
})

t.test('planTake: any admin takes a firing message, release gives it back; the rest changes nothing', async (t) => {
  const now = Date.parse(at('03:12'))
  const taken = planTake(record(), 'take', alice, now)
  t.same(taken, {
    ok: true,
    patch: { taken: { by: alice, at: at('03:12') }, events: [{ at: at('03:12'), kind: 'taken', by: '@alice', chat: true }] },
    text: "✋ You're on it. Nothing was silenced.",
  })
  t.notOk('silence' in (taken.ok ? taken.patch : {}), 'taking silences nothing')
  const byAlice = record({ taken: { by: alice, at: at('03:12') } })
  t.same(planTake(byAlice, 'take', alice, now), { ok: false, text: 'You are already on it.' })
  const over = planTake(byAlice, 'take', bob, now)
  t.same(over.ok && over.patch.events, [{ at: at('03:12'), kind: 'taken', by: bob.name, chat: true, detail: 'from @alice' }], 'taken over, and said from whom')
  t.same(planTake(byAlice, 'release', alice, now), {
    ok: true,
    patch: { taken: null, events: [{ at: at('03:12'), kind: 'released', by: '@alice', chat: true }] },
    text: '↩️ Released: nobody is on it now.',
  })
  t.same(planTake(record(), 'release', alice, now), { ok: false, text: 'Nobody has taken this alert.' })
  t.same(planTake(record({ alerts: [alert('a', { status: 'resolved' })] }), 'take', alice, now), {
    ok: false,
    text: 'Its alerts have resolved: there is nothing to take.',
  })
  t.same(personOf({ id: 5, first_name: 'Bo' }), { id: 5, name: 'Bo' }, 'no username: named by the first name')
  const resolvedAlert = alert('a', { status: 'resolved' })
  const digest = { total: 2, bySeverity: [], byAlertname: [], reminders: 0, resolvedRound: false, unnamed: [alert('b')] }
  t.ok(planTake(record({ alerts: [resolvedAlert], digest }), 'take', alice, now).ok, 'a digest (it escalates too) fires while an alert it only counts does')
})

const timeline: TimelineEvent[] = [
  { at: at('03:08'), kind: 'fired' },
  { at: at('03:09'), kind: 'escalated', detail: 'step 1: @alice' },
  { at: at('03:10'), kind: 'escalated', detail: 'step 2: @alice, Bob' },
  { at: at('03:12'), kind: 'taken', by: '@alice', chat: true },
  { at: at('03:13'), kind: 'released', by: '@alice', chat: true },
  { at: at('03:14'), kind: 'silenced', by: '@bob', detail: 'for 1h', chat: true },
  { at: at('03:31'), kind: 'resolved' },
]

t.test('render: each on-call state reads as a person expects', async (t) => {
  const plain = (over: Partial<MessageRecord>) => renderMessage(record(over), options).plain
  t.match(plain({ taken: { by: alice, at: at('03:12') } }), /\n\n✋ taken by @alice at 03:12$/, 'taken, in messages.time_zone (UTC here)')
  t.match(plain({ taken: { by: { id: 3, name: 'Carol' }, at: at('03:12') } }), /✋ taken by Carol at 03:12$/, 'named when there is no username')
  const html = renderMessage(record({ taken: { by: bob, at: at('03:12') } }), options).html
  t.match(html, /taken by <b>Bob &lt;the&gt; &amp; &quot;builder&quot;<\/b>/, 'escaped')
  t.ok(parseHtml(html).ok)
  t.match(plain({ timeline: timeline.slice(0, 3) }), /\n\n⏫ escalated: step 2: @alice, Bob$/, 'the latest escalation while firing and untaken')
  t.notMatch(plain({ timeline: timeline.slice(0, 4), taken: { by: alice, at: at('03:12') } }), /escalated/, 'taken: who took it instead')
  const external = { ...silence, by: 'ops <team>', external: true, comment: 'deploy <b>window</b> & more' }
  const silencedHtml = renderMessage(record({ silence: external }), options).html
  t.match(
    silencedHtml,
    /🔕 silenced by ops &lt;team&gt; until 2026-11-25 05:00:00 UTC — deploy &lt;b&gt;window&lt;\/b&gt; &amp; more$/,
    'made elsewhere: who, until, why',
  )
  t.match(plain({ silence }), /🔕 Silenced by @bob \(222\) until 2026-11-25 05:00:00 UTC$/, 'from the chat: as before')
  t.match(
    plain({ timeline: [...timeline.slice(0, 1), { at: at('05:00'), kind: 'silence_expired', detail: 'made by ops' }] }),
    /🔔 silence expired: made by ops at 05:00$/,
    'a silence that ended while it fires',
  )
  const resolved = plain({ alerts: [alert('a', { status: 'resolved', endsAt: at('03:31') })], timeline, taken: { by: alice, at: at('03:12') } })
  t.match(
    resolved,
    /\n\n03:08 🔥 fired\n03:09 ⏫ escalated: step 1: @alice\n03:12 ✋ taken by @alice\n03:14 🔕 silenced by @bob\n03:31 ✅ resolved\n✋ taken after 4m · ✅ resolved after 23m$/,
    'resolved: the short timeline and the figures',
  )
})

t.test('the short timeline: at most five events, in time order, and its figures', async (t) => {
  const many = [...timeline, ...Array.from({ length: 30 }, (_, i) => ({ at: at('03:20'), kind: 'escalated' as const, detail: `step ${i}` }))]
  t.same(
    summaryEvents([...many].reverse()).map((e) => e.kind),
    ['fired', 'escalated', 'taken', 'silenced', 'resolved'],
  )
  t.equal(figuresLine(timeline), '✋ taken after 4m · ✅ resolved after 23m')
  t.equal(figuresLine([timeline[0]!, timeline[6]!]), 'nobody took it · ✅ resolved after 23m')
  t.equal(
    figuresLine([timeline[0]!, { at: at('03:10'), kind: 'acknowledged', by: '@a', chat: true }, timeline[6]!]),
    '✋ acknowledged after 2m · ✅ resolved after 23m',
  )
  t.equal(
    figuresLine([timeline[0]!, { at: at('03:10'), kind: 'silenced', by: 'amtool' }, timeline[6]!]),
    '✅ resolved after 23m',
    'a silence made elsewhere is no reaction from the chat',
  )
  const reply = timelineReply('DiskFull', { firing: false, timeline }, 'UTC', (iso) => iso.slice(11, 16))
  t.equal(reply.split('\n').length, 1 + timeline.length + 1, 'every event, one a line, and the figures')
  t.match(reply, /03:13 ↩️ released by @alice/)
  t.match(
    timelineReply('X', { firing: true }, 'UTC', (iso) => iso),
    /Nothing recorded/,
  )
})

t.test('observe: the first reaction and the first resolve, each once per message', async (t) => {
  const labels = { route: 'pager', severity: 'critical' }
  t.same(observe(timeline.slice(0, 3), timeline.slice(0, 4), labels), [{ metric: 'acknowledge', ...labels, seconds: 240 }])
  t.same(observe(timeline.slice(0, 6), timeline.slice(0, 6), labels), [], 'nothing new: nothing measured')
  t.same(observe(timeline.slice(0, 6), timeline, labels), [{ metric: 'resolve', ...labels, seconds: 1380 }])
  t.same(observe(timeline.slice(0, 3), [...timeline.slice(0, 3), timeline[6]!], labels), [
    { metric: 'resolve', ...labels, seconds: 1380 },
    { metric: 'resolved_untaken', ...labels, seconds: 0 },
  ])
  t.same(observe(timeline, [...timeline, { at: at('04:00'), kind: 'resolved' }], labels), [], 'resolved again after a flap: measured once')
})

function item(fp: string, status: 'firing' | 'resolved', endsAt?: string): OutboxItem {
  return {
    id: fp,
    groupKey: 'g',
    externalURL: 'http://am:9093',
    truncatedAlerts: 0,
    silent: false,
    route: 'pager',
    paceMs: 1000,
    receivedAt: 0,
    seq: 0,
    alert: { ...alert(fp, { status }), ...(endsAt ? { endsAt } : {}) },
  }
}

t.test('the sender plan keeps the timeline: fired when first sent, resolved when the last alert resolves, and what that measures', async (t) => {
  const tokens = { ...options, newToken: () => TOKEN, now: Date.parse(at('03:08')) }
  const sent = planDelivery([item('a', 'firing'), item('b', 'firing')], { refs: new Map(), records: new Map() }, tokens).calls[0]!
  t.same(sent.record?.timeline, [{ at: at('03:08'), kind: 'fired' }])
  const stored: MessageRecord = { ...sent.record!, messageId: 77, timeline: [...sent.record!.timeline!, timeline[3]!] }
  const lookups = (r: MessageRecord): Lookups => ({
    refs: new Map(r.alerts.map((a) => [a.fingerprint, { messageId: 77, startsAt: a.startsAt }])),
    records: new Map([[77, r]]),
  })
  const later = { ...tokens, now: Date.parse(at('03:40')) }
  const first = planDelivery([item('a', 'resolved', at('03:20'))], lookups(stored), later).calls[0]!
  t.equal(first.record?.timeline?.length, 2, 'one of two resolved: nothing to say yet')
  t.notOk(first.observe)
  const halfway = { ...first.record!, messageId: 77 }
  const last = planDelivery([item('b', 'resolved', at('03:31'))], lookups(halfway), later).calls[0]!
  t.same(last.record?.timeline?.at(-1), { at: at('03:31'), kind: 'resolved' }, 'resolved when the last alert ended')
  t.same(last.observe, [{ metric: 'resolve', route: 'pager', severity: 'critical', seconds: 1380 }])
  t.match(last.plain, /✋ taken after 4m · ✅ resolved after 23m$/)
  const deferred = planDeferredEdit(
    { messageId: 77, resolutions: halfway.alerts.map((a) => ({ fingerprint: a.fingerprint, startsAt: a.startsAt })) },
    halfway,
    later,
  )!
  t.same(deferred.record?.timeline?.at(-1), { at: at('03:40'), kind: 'resolved' }, 'a deferred edit without an end time: resolved when planned')
})

t.test('spliceNotices: two marks of one message in a turn both land, and the first reaction is measured once', async (t) => {
  const stored = record({ timeline: [timeline[0]!] })
  const calls = spliceNotices(
    [],
    0,
    [
      { kind: 'mark', messageId: 77, events: [timeline[1]!] },
      { kind: 'mark', messageId: 77, taken: { by: alice, at: at('03:12') }, events: [timeline[3]!] },
      { kind: 'mark', messageId: 77, silence, events: [timeline[5]!] },
    ],
    new Map([[77, stored]]),
    options,
  )
  const final = calls.at(-1)!.record!
  t.same(
    final.timeline?.map((e) => e.kind),
    ['fired', 'escalated', 'taken', 'silenced'],
  )
  t.ok(final.taken && final.silence, 'taken and silenced')
  t.same(
    calls.map((c) => c.observe?.map((o) => o.metric) ?? []),
    [[], ['acknowledge'], []],
  )
})

t.test('fit: a message in its fullest on-call look (taken, silenced elsewhere, escalated, resolved) stays within 4096 characters', async (t) => {
  const alerts = Array.from({ length: 60 }, (_, i) =>
    alert(`n${i}`, { annotations: { summary: `p99 latency above 1s on node-${i}`, description: 'x'.repeat(i * 5) } }),
  )
  const parts = packAlerts({ alerts, externalURL: 'http://am:9093', truncatedAlerts: 0 }, options)
  const name = 'Ω'.repeat(64)
  const full: TimelineEvent[] = [
    { at: at('03:08'), kind: 'fired' },
    { at: at('03:09'), kind: 'escalated', detail: `step 1: ${name}, ${name}, ${name}` },
    { at: at('03:12'), kind: 'taken', by: name, detail: `from ${name}`, chat: true },
    { at: at('03:14'), kind: 'silenced', by: name, detail: 'x'.repeat(500), chat: true },
    { at: at('03:31'), kind: 'resolved' },
  ]
  const external = { ids: ['s'], by: 'W'.repeat(1000), until: at('05:00'), ack: false, external: true, comment: 'Ж'.repeat(10_000) }
  const old = { ...options, now: Date.parse('2029-08-20T22:00:00Z') }
  for (const part of parts) {
    const taken = { by: { id: 1, name, username: 'u'.repeat(32) }, at: at('03:12') }
    const looks = [
      { ...part, taken, silence: external, timeline: full.slice(0, 4) },
      {
        ...part,
        alerts: part.alerts.map((a) => ({ ...a, status: 'resolved' as const, endsAt: '2029-08-20T21:59:00Z' })),
        taken,
        silence: external,
        timeline: full,
      },
    ]
    for (const look of looks) {
      const { html, plain } = renderMessage(look, old)
      t.ok(plainLength(html) <= TELEGRAM_TEXT_LIMIT && parseHtml(html).ok, `part ${part.part}/${part.parts}: ${plainLength(html)} characters`)
      t.match(plain, /ЖЖ…$/, 'and uncut: it still ends with the silence note')
    }
    // untaken, escalated, and its silence expired while it fires
    const expired = { at: at('03:20'), kind: 'silence_expired' as const, detail: `made by ${name}` }
    const { html, plain } = renderMessage({ ...part, timeline: [...full.slice(0, 2), expired] }, old)
    t.ok(
      plainLength(html) <= TELEGRAM_TEXT_LIMIT && /⏫ escalated: .*\n🔔 silence expired: made by Ω+… at 03:20$/.test(plain),
      `part ${part.part}: escalated and expired`,
    )
  }
})

t.test('a digest (it escalates too) says who took it, and its escalation while nobody has', async (t) => {
  const alerts = Array.from({ length: 30 }, (_, i) => alert(`d${i}`))
  const [part] = packDigest({ alerts, reminders: 0, resolvedRound: false, externalURL: 'http://am:9093' }, 1000, options)
  t.match(renderDigestPart({ ...part!, timeline: timeline.slice(0, 3) }, options).plain, /\n⏫ escalated: step 2: @alice, Bob$/)
  t.match(renderDigestPart({ ...part!, taken: { by: alice, at: at('03:12') } }, options).plain, /\n✋ taken by @alice at 03:12$/)
})

t.test('spliceNotices: a mark the message does not show (a reminder on its timeline) is saved without a Telegram edit', async (t) => {
  const stored = record({ timeline: [timeline[0]!], silence })
  const [reminded, taken] = spliceNotices(
    [],
    0,
    [
      { kind: 'mark', messageId: 77, events: [{ at: at('04:50'), kind: 'reminded' }] },
      { kind: 'mark', messageId: 77, taken: { by: alice, at: at('04:51') } },
    ],
    new Map([[77, stored]]),
    options,
  )
  t.equal(reminded!.unchanged, true, 'the reminder leaves the message as it reads: no edit ("message is not modified")')
  t.same(reminded!.record?.timeline?.at(-1), { at: at('04:50'), kind: 'reminded' }, 'yet the record learns the event')
  t.notOk(taken!.unchanged, 'a take changes what the message says: an edit')
  t.match(taken!.html, /taken by <b>@alice<\/b>/)
})

t.test("markedAhead: a take waiting in the chat's notices already counts for the record", async (t) => {
  const stored = record({ timeline: [timeline[0]!] })
  const waiting = [
    { kind: 'mark' as const, messageId: 12, taken: { by: bob, at: at('03:11') } },
    { kind: 'mark' as const, messageId: 77, taken: { by: alice, at: at('03:12') } },
    { kind: 'send' as const, html: 'x', plain: 'x' },
  ]
  t.same(markedAhead(stored, waiting).taken, { by: alice, at: at('03:12') }, "its own take, not another message's")
  t.same(markedAhead(stored, []), stored, 'nothing waiting: the record as stored')
})

t.test('spliceNotices: an edit waiting in the delivery that a mark said first already shows is not made twice', async (t) => {
  const stored = record({ silence })
  const extended = { ...silence, until: at('06:00') }
  // the delivery already holds the edit that says the silence was extended; the watcher's mark of the same end comes first
  const [waitingEdit] = spliceNotices([], 0, [{ kind: 'mark', messageId: 77, silence: extended }], new Map([[77, stored]]), options)
  const calls = spliceNotices([waitingEdit!], 0, [{ kind: 'mark', messageId: 77, silence: extended }], new Map([[77, stored]]), options)
  t.same(
    calls.map((c) => c.unchanged === true),
    [false, true],
    'the mark edits; the waiting edit would read the same and is saved without a call',
  )
})
