import t from 'tap'
import { type FoldView, type Lookups, type MessageRecord, planDelivery, planFold, planStorm } from '../../src/core/delivery.js'
import type { OutboxItem } from '../../src/core/candidates.js'
import { batchOptions } from '../../src/config/slices.js'
import { testConfig } from '../helpers/config.js'

const NOW = Date.parse('2026-11-24T23:20:00Z')
const options = batchOptions(testConfig(), NOW)
const none: Lookups = { refs: new Map(), records: new Map() }

function item(fp: string, status: 'firing' | 'resolved', over: Partial<OutboxItem> = {}): OutboxItem {
  return {
    id: fp,
    groupKey: 'g1',
    externalURL: 'http://am:9093',
    truncatedAlerts: 0,
    silent: false,
    route: 'default',
    paceMs: 3150,
    receivedAt: 0,
    seq: 0,
    alert: {
      fingerprint: fp,
      status,
      labels: { alertname: 'DiskFull', severity: 'warning', instance: fp },
      annotations: {},
      startsAt: '2026-11-24T23:00:00Z',
      ...(status === 'resolved' ? { endsAt: '2026-11-24T23:10:00Z' } : {}),
    },
    ...over,
  }
}

t.test('firing alerts of one group become one message; the next group waits its turn', async (t) => {
  const items = [item('a', 'firing'), item('b', 'firing'), item('c', 'firing', { groupKey: 'g2' }), item('d', 'firing')]
  const delivery = planDelivery(items, none, options)
  t.equal(delivery.take, 2, 'only contiguous items of the same group, so messages keep the order of events')
  t.equal(delivery.calls.length, 1)
  const call = delivery.calls[0]!
  t.equal(call.op, 'send')
  t.equal(call.announce, true)
  t.same(call.fingerprints, ['a', 'b'])
  t.match(call.plain, /DiskFull · 2 alerts/)
  t.same(
    call.record?.alerts.map((a) => a.fingerprint),
    ['a', 'b'],
    'the record keeps what is needed to edit it later',
  )
})

t.test('silent items and items for another topic are not mixed into one message', async (t) => {
  t.equal(planDelivery([item('a', 'firing'), item('b', 'firing', { silent: true })], none, options).take, 1)
  t.equal(planDelivery([item('a', 'firing'), item('b', 'firing', { threadId: 4 })], none, options).take, 1)
  const call = planDelivery([item('a', 'firing', { threadId: 4, silent: true })], none, options).calls[0]!
  t.same([call.threadId, call.silent], [4, true])
})

t.test('a resolve edits the message that announced the alert and replies to it', async (t) => {
  const record: MessageRecord = {
    messageId: 77,
    silent: false,
    groupKey: 'g1',
    commonLabels: [],
    externalURL: '',
    truncatedAlerts: 0,
    part: 1,
    parts: 1,
    alerts: [item('a', 'firing').alert, item('b', 'firing').alert],
  }
  const lookups: Lookups = { refs: new Map([['a', { messageId: 77, startsAt: '2026-11-24T23:00:00Z' }]]), records: new Map([[77, record]]) }
  const delivery = planDelivery([item('a', 'resolved')], lookups, options)
  t.same(
    delivery.calls.map((c) => [c.op, c.messageId]),
    [
      ['edit', 77],
      ['send', 77],
    ],
  )
  const [edit, reply] = delivery.calls
  t.same(
    edit!.record?.alerts.map((a) => a.status),
    ['resolved', 'firing'],
    'only the resolved alert changes',
  )
  t.match(edit!.plain, /1 resolved/)
  t.match(reply!.plain, /^✅ Resolved: DiskFull \(instance: a\) after 10m$/)
  t.equal(edit!.announce, undefined, 'an edit does not move refs')

  const editOnly = planDelivery([item('a', 'resolved')], lookups, { ...options, resolved: 'edit' })
  t.same(
    editOnly.calls.map((c) => c.op),
    ['edit'],
  )
  const replyOnly = planDelivery([item('a', 'resolved')], lookups, { ...options, resolved: 'reply' })
  t.same(
    replyOnly.calls.map((c) => c.op),
    ['send'],
  )
  t.same(replyOnly.calls[0]!.record?.alerts[0]?.status, 'resolved', 'with replies only, the record still learns the resolution')
})

t.test('a resolve for a message alertwire does not know sends nothing, unless configured to', async (t) => {
  const stale: Lookups = { refs: new Map([['a', { messageId: 5, startsAt: '2026-11-01T00:00:00Z' }]]), records: new Map() }
  const quiet = planDelivery([item('a', 'resolved'), item('b', 'resolved')], stale, options)
  t.same(quiet.calls, [])
  t.equal(quiet.take, 2)
  t.same(
    quiet.dropped.map((d) => d.fingerprint),
    ['a', 'b'],
    'dropped, with a reason',
  )
  const loud = planDelivery([item('a', 'resolved')], none, { ...options, resolvedUnannounced: true })
  t.equal(loud.calls.length, 1)
  t.match(loud.calls[0]!.plain, /^✅ RESOLVED · DiskFull/)
})

t.test('a resolve of an alert announced before the chat became a supergroup is told in a message of its own', async (t) => {
  const moved: Lookups = { refs: new Map([['a', { messageId: 5, startsAt: '2026-11-24T23:00:00Z', elsewhere: true }]]), records: new Map() }
  const delivery = planDelivery([item('a', 'resolved'), item('b', 'resolved')], moved, options)
  t.same(
    delivery.calls.map((c) => [c.op, c.messageId, c.fingerprints]),
    [['send', undefined, ['a']]],
    'no edit, no reply: that message is in the old group',
  )
  t.match(delivery.calls[0]!.plain, /^✅ RESOLVED · DiskFull/)
  t.equal(delivery.calls[0]!.announce, true, 'later edits find the new message')
  t.same(
    delivery.dropped.map((d) => d.fingerprint),
    ['b'],
    'a resolve of an alert never announced still says nothing',
  )
  const round = planStorm([item('a', 'resolved'), item('b', 'resolved')], moved, options)
  t.same(
    round.calls.map((c) => c.fingerprints),
    [['a']],
    'in a storm: named in the resolved digest',
  )
  t.same(round.deferredEdits, [])
})

t.test("Grafana's alerts get Grafana's links and picture, and no Alertmanager buttons (a silence there would match nothing)", async (t) => {
  const withButtons = { ...options, newToken: () => 'tok_0123456789abcdef' }
  const grafana = item('g', 'firing', {
    source: 'grafana',
    externalURL: 'https://grafana.example.com/',
    alert: {
      ...item('g', 'firing').alert,
      grafana: { silenceURL: 'https://grafana.example.com/alerting/silence/new', imageURL: 'https://grafana.example.com/img/g.png' },
    },
  })
  const [call] = planDelivery([grafana], none, withButtons).calls
  t.equal(call!.keyboard, undefined, 'no silence buttons')
  t.equal(call!.preview, 'https://grafana.example.com/img/g.png', 'its picture previewed')
  t.match(call!.html, /<a href="https:\/\/grafana\.example\.com\/alerting\/list">Grafana<\/a>/)
  t.match(call!.html, /<a href="https:\/\/grafana\.example\.com\/alerting\/silence\/new">Silence<\/a>/)
  const [alertmanager] = planDelivery([item('a', 'firing')], none, withButtons).calls
  t.ok(alertmanager!.keyboard, "Alertmanager's alerts keep their buttons")
})

t.test('the fold decision: fold as soon as what waits no longer fits the next slot', async (t) => {
  const view = (calls: number, chars: number, paceMs = 3150, maxDelayMs = 30_000): FoldView => ({ calls, chars, paceMs, maxDelayMs })
  const rows: [string, FoldView, boolean, string][] = [
    ['nothing waits', view(0, 0), false, 'fits the next slot'],
    ["a quiet chat's first alert: it goes out at once", view(1, 60), false, 'fits the next slot'],
    ['one group of 80 alerts (one batch): its own parts, buttons and all', view(1, 80 * 60), false, 'fits the next slot'],
    ['one group of 60 long alerts running past what was read: its own parts', { ...view(4, 60 * 200), oneBatch: true }, false, 'one group'],
    ['one group of 5,000 alerts: its parts one per slot would take minutes', { ...view(313, 5000 * 100), oneBatch: true }, true, 'beyond max_delay'],
    ['a few small groups, all said within max_delay: each its own message', view(3, 3 * 60), false, 'within max_delay'],
    ['nine small groups, the last at 28.4 s of 30 s', view(9, 9 * 60), false, 'within max_delay'],
    ['499 groups after the first alert (the benchmark storm): folded at the next slot', view(499, 499 * 55), true, 'beyond one message'],
    ['five groups whose messages would take more than 4096 characters: a digest takes the fewest slots', view(5, 5000), true, 'beyond one message'],
    ['twelve small groups would take 37.8 s one at a time', view(12, 12 * 60), true, 'beyond max_delay'],
    ['a route throttled to one message per 10 m: two alerts fold into its next slot', view(2, 120, 600_000), true, 'beyond max_delay'],
    ['exactly at max_delay: still said one at a time', view(10, 600, 3000), false, 'within max_delay'],
    // Telegram's overall limit (~30/s) serves 100 busy chats before this one's next slot: 3.3 s more per slot
    ['five small groups while few chats are busy: 15.8 s at its own pace, each its own message', view(5, 5 * 60), false, 'within max_delay'],
    [
      'the same five groups while the overall limit is busy: one digest, not five of its calls',
      { ...view(5, 5 * 60), globalWaitMs: 550 },
      true,
      'overall limit busy',
    ],
    ['two small groups while the overall limit is busy', { ...view(2, 2 * 60), globalWaitMs: 1 }, true, 'overall limit busy'],
    // a burst across chats (the scale benchmark's tail: 100 chats, each ending with a few small groups)
    [
      'five small groups while other chats wait for the overall limit too: one digest in the next slot, not five slots',
      { ...view(5, 5 * 60), othersDue: 40 },
      true,
      'other chats waiting',
    ],
    ['two small groups while one other chat is due', { ...view(2, 2 * 60), othersDue: 1 }, true, 'other chats waiting'],
    ["a quiet chat's first alert while other chats are busy: it goes out at once, as it is", { ...view(1, 60), othersDue: 99 }, false, 'fits the next slot'],
    ['one long group while other chats are busy: its own parts', { ...view(4, 4 * 4000), oneBatch: true, othersDue: 99 }, false, 'one group'],
    ['the five groups with no other chat due: each its own message, within max_delay', { ...view(5, 5 * 60), othersDue: 0 }, false, 'within max_delay'],
    ['one long group whose 4 parts fit at its own pace (12.6 s)', { ...view(4, 4 * 4000), oneBatch: true }, false, 'one group'],
    [
      'the same group behind 300 busy chats: 4 parts 10 s apart run past 30 s',
      { ...view(4, 4 * 4000), oneBatch: true, globalWaitMs: 7000 },
      true,
      'beyond max_delay',
    ],
    ['a wait with one batch to say: it still goes out as it is', { ...view(1, 60), globalWaitMs: 60_000 }, false, 'fits the next slot'],
  ]
  for (const [name, input, fold, why] of rows) t.same(planFold(input), { fold, why }, name)
})

t.test('a flap mark that would push a full message past 4096 announces the alert anew instead', async (t) => {
  const firing = (i: number): OutboxItem =>
    item(`f${i}`, 'firing', {
      alert: {
        ...item(`f${i}`, 'firing').alert,
        labels: { alertname: 'HighLatency', severity: 'warning', instance: `node-${i}.example.com:9100` },
        annotations: { summary: `p99 latency above 1s on node-${i}` },
      },
    })
  const full = planDelivery(
    Array.from({ length: 80 }, (_, i) => firing(i)),
    none,
    options,
  ).calls[0]!.record!
  const small = planDelivery([firing(0)], none, options).calls[0]!.record!
  t.ok(full.alerts.length > 20, `the first part holds ${full.alerts.length} alerts`)
  // ten of its alerts start flapping at once (one network blip): ten flap marks
  const flap = (record: MessageRecord) => {
    const again = record.alerts.slice(0, 10).map((a) => firing(Number(a.fingerprint.slice(1))))
    const refs = new Map(again.map((i) => [i.alert.fingerprint, { messageId: 5, startsAt: i.alert.startsAt }]))
    const flapping = again.map((i) => ({ ...i, alert: { ...i.alert, startsAt: '2026-11-24T23:15:00Z' }, flaps: 4 }))
    return planDelivery(flapping, { refs, records: new Map([[5, { ...record, messageId: 5 }]]) }, options).calls
  }
  t.same(
    flap(small).map((c) => [c.op, c.messageId]),
    [['edit', 5]],
    'room for the mark: its message is edited',
  )
  const anew = flap(full)
  t.same(
    anew.map((c) => [c.op, c.announce]),
    [['send', true]],
    'no room: a message of their own, which their later resolves edit',
  )
  t.match(anew[0]!.plain, /flapping: 4 times in 10m/)
})
