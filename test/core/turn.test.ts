/**
 * What a chat's turn does, from the chat's state as loaded: table tests with an injected clock.
 */
import t from 'tap'
import { type BatchOptions, type Call, type EditTask, type Lookups, type MessageRecord, type Notice, planDelivery } from '../../src/core/delivery.js'
import type { OutboxItem } from '../../src/core/candidates.js'
import {
  type ChatView,
  HEAD_WINDOW,
  type InFlight,
  MAX_ITEMS_PER_STORM_ROUND,
  noticesInFlight,
  planCall,
  planTurn,
  planWork,
  retryLetter,
  type TurnPlan,
} from '../../src/core/turn.js'
import type { TurnPolicy } from '../../src/core/turn.js'
import { batchOptions } from '../../src/config/slices.js'
import { testConfig } from '../helpers/config.js'

const NOW = Date.parse('2026-11-24T23:20:00Z')
const options = batchOptions(testConfig(), NOW)
const POLICY = { maxDelayMs: 30_000, maxItems: 500 }
const none: Lookups = { refs: new Map(), records: new Map() }

function item(fp: string, over: Partial<OutboxItem> = {}): OutboxItem {
  return {
    id: fp,
    groupKey: 'g1',
    externalURL: 'http://am:9093',
    truncatedAlerts: 0,
    silent: false,
    route: 'default',
    paceMs: 3150,
    receivedAt: NOW - 5000,
    seq: 0,
    alert: {
      fingerprint: fp,
      status: 'firing',
      labels: { alertname: 'DiskFull', severity: 'warning', instance: fp },
      annotations: {},
      startsAt: '2026-11-24T23:00:00Z',
    },
    ...over,
  }
}
const items = (n: number, over: (i: number) => Partial<OutboxItem> = () => ({})) => Array.from({ length: n }, (_, i) => item(`fp${i}`, over(i)))
const call = (fp: string): Call => ({ op: 'send', html: fp, plain: fp, silent: false, fingerprints: [fp] })
const flight = (over: Partial<InFlight> = {}): InFlight => ({
  calls: [call('a'), call('b')],
  next: 0,
  attempts: 0,
  paceMs: 3150,
  receivedAt: NOW - 1000,
  ...over,
})
const chat = (over: Partial<ChatView> = {}): ChatView => ({ items: [], waiting: 0, notices: [], ...over })
const edit: EditTask = { messageId: 41, resolutions: [{ fingerprint: 'fp1', startsAt: '2026-11-24T23:00:00Z' }] }
const mark: Notice = { kind: 'mark', messageId: 41, silence: null }
const say: Notice = { kind: 'send', html: 'ok', plain: 'ok' }

t.test('what a turn does, in order', async (t) => {
  const rows: [string, ChatView, Partial<TurnPlan>][] = [
    [
      'the bot has something to say: its notices go first, with the messages their marks change',
      chat({ notices: [say, mark], inflight: flight(), items: items(3), waiting: 3 }),
      { kind: 'notices', records: [41] },
    ],
    ['a delivery is in flight: go on with it', chat({ inflight: flight(), items: items(3), waiting: 3 }), { kind: 'continue', inflight: flight() }],
    [
      'the head of the outbox is unreadable: set it aside',
      chat({ poison: '{"id":"poison"}', waiting: 2 }),
      { kind: 'set_aside', take: 1, popEdit: false, item: { id: 'poison' } },
    ],
    [
      'more waits than the chat takes within storms.max_delay, all of it read: a storm round',
      chat({ items: items(16, (i) => ({ groupKey: `g${i}` })), waiting: 16 }),
      { kind: 'storm', readUpTo: 0 },
    ],
    [
      'a storm with more waiting than was read: read the round first',
      chat({ items: items(16, (i) => ({ groupKey: `g${i}` })), waiting: 900 }),
      { kind: 'storm', readUpTo: MAX_ITEMS_PER_STORM_ROUND },
    ],
    [
      'three groups whose own messages would take more than 4096 characters: a storm round at the next slot, well within max_delay',
      chat({
        items: items(16, (i) => ({
          groupKey: `g${Math.floor(i / 6)}`,
          alert: { ...item(`fp${i}`).alert, annotations: { summary: `disk ${i} almost full `.repeat(8) } },
        })),
        waiting: 24,
      }),
      { kind: 'storm', readUpTo: MAX_ITEMS_PER_STORM_ROUND },
    ],
    [
      'three small groups, all out within max_delay: each its own message',
      chat({ items: items(3, (i) => ({ groupKey: `g${i}` })), waiting: 3 }),
      { kind: 'deliver', readUpTo: 0 },
    ],
    ['a few items: deliver the head of the outbox', chat({ items: items(3), waiting: 3 }), { kind: 'deliver', readUpTo: 0 }],
    [
      'the head group runs past what was read: read it all first, and decide the fold again on it',
      chat({ items: items(HEAD_WINDOW), waiting: 40 }),
      { kind: 'deliver', readUpTo: 500, foldCheck: { waiting: 40, maxDelayMs: 30_000, globalWaitMs: 0 } },
    ],
    [
      'a full window whose head group ends within it: nothing more to read',
      chat({ items: items(HEAD_WINDOW, (i) => ({ groupKey: i < 15 ? 'g1' : 'g2' })), waiting: 40 }),
      { kind: 'deliver', readUpTo: 0 },
    ],
    ['only a deferred edit: do it, now that the chat is quiet', chat({ nextEdit: edit }), { kind: 'edit', edit }],
    ['nothing to do: release the chat', chat(), { kind: 'release' }],
  ]
  for (const [name, state, plan] of rows) t.match(planTurn(state, POLICY, NOW), plan, name)
})

t.test('a delivery is given up once older than give_up_after; every call left is a dead letter', async (t) => {
  const giveUpAfterMs = 60_000
  t.same(planCall(flight({ next: 1 }), giveUpAfterMs, NOW), { kind: 'call', call: call('b') }, 'young enough: its next call')
  t.same(planCall(flight({ receivedAt: NOW - giveUpAfterMs }), giveUpAfterMs, NOW).kind, 'call', 'exactly give_up_after old: still tried')
  const old = flight({ next: 1, receivedAt: NOW - giveUpAfterMs - 1, lastError: '502: Bad Gateway' })
  t.same(planCall(old, giveUpAfterMs, NOW), {
    kind: 'give_up',
    reason: 'expired',
    error: 'undelivered for longer than give_up_after (last error: 502: Bad Gateway)',
    letters: [
      {
        reason: 'expired',
        error: 'undelivered for longer than give_up_after (last error: 502: Bad Gateway)',
        op: 'send',
        fingerprints: ['b'],
        text: 'b',
        receivedAt: old.receivedAt,
        call: call('b'),
      },
    ],
  })
})

t.test('notices go before the rest of the delivery, or start one at the chat pace', async (t) => {
  const records = new Map<number, MessageRecord>()
  const fresh = noticesInFlight({ notices: [say] }, records, options, 1050, NOW)
  t.match(fresh, { next: 0, attempts: 0, paceMs: 1050, receivedAt: NOW })
  t.same(
    fresh.calls.map((c) => c.plain),
    ['ok'],
  )
  const spliced = noticesInFlight({ notices: [say], inflight: flight({ next: 1, attempts: 3 }) }, records, options, 1050, NOW)
  t.same(
    spliced.calls.map((c) => c.plain),
    ['ok', 'b'],
    'the notice, then what was left',
  )
  t.match(spliced, { next: 0, attempts: 0, paceMs: 3150, receivedAt: NOW - 1000 })
})

t.test('the work a turn starts', async (t) => {
  const head = [item('a', { receivedAt: NOW - 9000, paceMs: 6000 }), item('b', { receivedAt: NOW - 12_000 }), item('c', { groupKey: 'g2' })]
  const loaded = { items: head, lookups: none, records: new Map<number, MessageRecord>() }
  const failing = (name: 'alert' | 'digest_header'): BatchOptions => ({
    ...options,
    templates: {
      ...options.templates,
      [name]: () => {
        throw new Error(`${name} broke`)
      },
    },
  })

  const delivery = planWork({ kind: 'deliver', readUpTo: 0 }, loaded, options, 1050, NOW)
  t.match(
    delivery,
    {
      kind: 'start',
      storm: false,
      popEdit: false,
      delivery: { take: 2 },
      inflight: { next: 0, attempts: 0, paceMs: 6000, receivedAt: NOW - 12_000 },
      last: { id: 'b' },
    },
    'the head group; paced as its first item asks; as old as its oldest event; the store checks b is still its last item',
  )

  t.match(
    planWork({ kind: 'storm', readUpTo: 0 }, loaded, options, 1050, NOW),
    { kind: 'start', storm: true, delivery: { take: 3 } },
    'a storm round folds everything read',
  )
  t.match(
    planWork({ kind: 'storm', readUpTo: 0 }, loaded, failing('digest_header'), 1050, NOW),
    { kind: 'start', storm: false, delivery: { take: 2 } },
    'a storm round that cannot be rendered goes on one batch at a time',
  )

  const broken = planWork({ kind: 'deliver', readUpTo: 0 }, loaded, failing('alert'), 1050, NOW)
  t.match(
    broken,
    { kind: 'set_aside', take: 1, popEdit: false, last: { id: 'a' }, fingerprint: 'a', item: { id: 'a' } },
    'what cannot be rendered is set aside, one item',
  )
  t.match(broken.kind === 'set_aside' && broken.error.message, /alert broke/)

  // the record a message announcing fp1 left behind
  const announced = planDelivery([item('fp1')], none, options).calls[0]!.record!
  const record: MessageRecord = { ...announced, messageId: 41 }
  const editing = planWork({ kind: 'edit', edit }, { items: [], lookups: none, records: new Map([[41, record]]) }, options, 1050, NOW)
  t.match(
    editing,
    { kind: 'start', popEdit: true, delivery: { take: 0, calls: [{ op: 'edit', messageId: 41 }] }, inflight: { paceMs: 1050, receivedAt: NOW } },
    'a deferred edit, at the chat pace',
  )
  t.match(
    planWork({ kind: 'edit', edit }, { items: [], lookups: none, records: new Map() }, options, 1050, NOW),
    { kind: 'start', popEdit: true, delivery: { calls: [] } },
    'a deferred edit of a message forgotten meanwhile: nothing to call',
  )
})

t.test('after an outage longer than catch_up_after, what piled up is caught up on in one digest', async (t) => {
  const MIN = 60_000
  const policy = { ...POLICY, catchUpAfterMs: 15 * MIN }
  const late = (i: number) => ({ receivedAt: NOW - 20 * MIN - i, groupKey: `g${i}` })
  const failing = flight({ attempts: 4, lastError: '502: Bad Gateway', receivedAt: NOW - 20 * MIN, items: [item('first', late(0))] })
  const rows: [string, ChatView, TurnPolicy, Partial<TurnPlan>][] = [
    ['waited longer than catch_up_after: a catch-up round', chat({ items: items(2, late), waiting: 2 }), policy, { kind: 'storm', catchUp: true }],
    ['even a single alert is told as caught up', chat({ items: items(1, late), waiting: 1 }), policy, { kind: 'storm', catchUp: true }],
    [
      'a catch-up with more waiting than was read: read the round first',
      chat({ items: items(3, late), waiting: 900 }),
      policy,
      { kind: 'storm', catchUp: true, readUpTo: MAX_ITEMS_PER_STORM_ROUND },
    ],
    ['catch_up_after 0: never', chat({ items: items(2, late), waiting: 2 }), POLICY, { kind: 'deliver' }],
    [
      'younger than catch_up_after: delivered as usual',
      chat({ items: items(2, () => ({ receivedAt: NOW - 14 * MIN })), waiting: 2 }),
      policy,
      { kind: 'deliver' },
    ],
    [
      'a throttle explains the wait: not late before catch_up_after plus its pace',
      chat({ items: items(1, () => ({ receivedAt: NOW - 20 * MIN, paceMs: 10 * MIN })), waiting: 1 }),
      policy,
      { kind: 'deliver' },
    ],
    [
      'held by a mute window until 5 minutes ago: not late, it was meant to wait',
      chat({ items: items(1, () => ({ receivedAt: NOW - 8 * 60 * MIN, heldUntil: NOW - 5 * MIN }) as Partial<OutboxItem>), waiting: 1 }),
      policy,
      { kind: 'deliver' },
    ],
    [
      'a delivery in flight that an outage held up, none of it sent: folded into the catch-up with what waits',
      chat({ inflight: failing, items: items(3), waiting: 3 }),
      policy,
      { kind: 'storm', catchUp: true, fold: failing },
    ],
    [
      'a delivery in flight that is failing but not yet late goes on',
      chat({ inflight: { ...failing, items: items(1) }, items: items(3), waiting: 3 }),
      policy,
      { kind: 'continue' },
    ],
    [
      'a delivery in flight with a call already sent goes on',
      chat({ inflight: { ...failing, next: 1 }, items: items(3), waiting: 3 }),
      policy,
      { kind: 'continue' },
    ],
    [
      'a delivery in flight that never failed goes on',
      chat({ inflight: { ...failing, attempts: 0 }, items: items(3), waiting: 3 }),
      policy,
      { kind: 'continue' },
    ],
    ['a catch-up round in flight with nothing new waiting goes on', chat({ inflight: { ...failing, catchUp: true } }), policy, { kind: 'continue' }],
    [
      'a catch-up round in flight takes in what arrived since',
      chat({ inflight: { ...failing, catchUp: true }, items: items(2), waiting: 2 }),
      policy,
      { kind: 'storm', catchUp: true },
    ],
  ]
  for (const [name, state, p, plan] of rows) t.match(planTurn(state, p, NOW), plan, name)
  t.equal(planTurn(chat({ items: items(2), waiting: 2 }), policy, NOW).kind, 'deliver', 'fresh items: no catch-up')
})

t.test('a catch-up round names every alert, resolved ones marked, in a digest saying why it is late', async (t) => {
  const MIN = 60_000
  const fold = flight({ attempts: 3, lastError: '502: Bad Gateway', items: [item('first', { receivedAt: NOW - 30 * MIN })] })
  const waiting = [
    item('second', { groupKey: 'g2', receivedAt: NOW - 25 * MIN }),
    item('third', { groupKey: 'g3', receivedAt: NOW - 24 * MIN }),
    item('third-ok', {
      groupKey: 'g3',
      receivedAt: NOW - 20 * MIN,
      alert: { ...item('third').alert, status: 'resolved', endsAt: '2026-11-24T23:10:00Z' },
    }),
  ]
  const work = planWork(
    { kind: 'storm', readUpTo: 0, catchUp: true, fold },
    { items: [...fold.items!, ...waiting], lookups: none, records: new Map() },
    options,
    1050,
    NOW,
  )
  if (work.kind !== 'start') return t.fail('expected a delivery')
  t.equal(work.delivery.take, 3, 'it consumes the three outbox items; the folded one was in flight')
  t.same(work.last, { id: 'third-ok' })
  t.equal(work.delivery.calls.length, 1, 'one message')
  const text = work.delivery.calls[0]!.plain
  t.match(text, /^📡 While alertwire could not reach Telegram · 3 alerts · 1 here resolved/, 'says why it comes late')
  t.match(text, /^🟠 DiskFull · instance$/m, 'one heading for the run')
  for (const fp of ['first', 'second', 'third']) t.match(text, new RegExp(`^(✅ )?${fp}$`, 'm'), `names ${fp}, on a line of its own`)
  t.match(work.inflight, { catchUp: true, attempts: 3, lastError: '502: Bad Gateway', receivedAt: NOW - 30 * MIN }, 'the outage backoff goes on')
  t.equal(work.inflight.items?.length, 4, 'kept, to take in what arrives before it goes out')
})

t.test('what a retried dead letter becomes', async (t) => {
  const sent = call('a')
  t.same(
    retryLetter({ chat: '-100', reason: 'chat_unreachable', call: sent }),
    { kind: 'notices', notices: [{ kind: 'call', call: sent }] },
    'a call: made again',
  )
  t.same(retryLetter({ chat: '-100', reason: 'render_failed', item: item('x') }), { kind: 'items', items: [item('x')] }, 'an item: back to the outbox')
  t.same(
    retryLetter({ chat: '-100', reason: 'migration conflict', delivery: JSON.stringify(flight({ next: 1 })) }),
    { kind: 'notices', notices: [{ kind: 'call', call: call('b') }] },
    'a delivery a move left over: from where it stopped',
  )
  t.match(retryLetter({ chat: '-100', reason: 'expired', op: 'send', text: 'old' }), { kind: 'none', why: /only its text/ }, 'an old letter without its call')
  t.match(retryLetter('garbage'), { kind: 'none' })
})

t.test('a long group read past the window: its own parts, unless groups behind it make a storm', async (t) => {
  const plan = planTurn(chat({ items: items(HEAD_WINDOW), waiting: 160 }), POLICY, NOW)
  t.match(plan, { kind: 'deliver', readUpTo: 500 }, 'the window saw one group: read on rather than guess')
  if (plan.kind !== 'deliver') return
  const oneGroup = items(60, () => ({ alert: { ...item('x').alert, annotations: { summary: 'disk almost full '.repeat(6) } } })).map((it, i) => ({
    ...it,
    alert: { ...it.alert, fingerprint: `fp${i}`, labels: { ...it.alert.labels, instance: `fp${i}` } },
  }))
  const alone = planWork(plan, { items: oneGroup, lookups: none, records: new Map() }, options, 3150, NOW)
  t.match(alone, { kind: 'start', storm: false }, 'one group of 60: its own parts, with its buttons and resolve edits')
  const fourGroups = items(160, (i) => ({ groupKey: `wave${Math.floor(i / 40)}` }))
  const folded = planWork(
    { ...plan, foldCheck: { waiting: 160, maxDelayMs: 30_000, globalWaitMs: 0 } },
    { items: fourGroups, lookups: none, records: new Map() },
    options,
    3150,
    NOW,
  )
  t.match(folded, { kind: 'start', storm: true }, 'four groups of 40 behind it: one storm round at the next slot')
})

t.test("what arrives while a storm round goes out joins the round's parts not yet sent", async (t) => {
  const named = (i: number, fp: string) => ({
    ...item(fp).alert,
    labels: { alertname: 'DiskFull', severity: 'warning', instance: `node-${i}.example.com:9100` },
  })
  // 500 hosts (FOLD_LIMIT) under one heading that says their domain and port: two digests of a line per host
  const first = items(500, (i) => ({ groupKey: `g${i}`, alert: named(i, `fp${i}`) }))
  const round = planWork({ kind: 'storm', readUpTo: 0 }, { items: first, lookups: none, records: new Map() }, options, 3150, NOW)
  if (round.kind !== 'start') return t.fail('expected a storm round')
  t.ok(round.inflight.storm && round.inflight.calls.length >= 2, `a storm round of ${round.inflight.calls.length} digests, marked so`)
  const sent = { ...round.inflight, next: 1 }
  const late = Array.from({ length: 40 }, (_, i) => item(`late${i}`, { groupKey: `late${i}`, alert: named(500 + i, `late${i}`) }))
  const plan = planTurn(chat({ inflight: sent, items: late, waiting: 40 }), POLICY, NOW)
  if (plan.kind !== 'storm' || !plan.fold) return t.fail(`expected the round folded again, got ${plan.kind}`)
  const unsent = new Set(sent.calls.slice(1).flatMap((c) => c.fingerprints))
  t.same(
    plan.fold.items?.map((i) => i.alert.fingerprint),
    first.map((i) => i.alert.fingerprint).filter((fp) => unsent.has(fp)),
    'the items of the parts not sent yet, and only those',
  )
  const again = planWork(plan, { items: [...plan.fold.items!, ...late], lookups: none, records: new Map() }, options, 3150, NOW)
  if (again.kind !== 'start') return t.fail('expected a delivery')
  t.equal(again.delivery.take, 40, 'it consumes the newcomers from the outbox')
  t.same(
    new Set(again.delivery.calls.flatMap((c) => c.fingerprints)),
    new Set([...unsent, ...late.map((i) => i.alert.fingerprint)]),
    'and names them with the rest',
  )
  t.ok(
    again.delivery.calls.length <= sent.calls.length,
    `${again.delivery.calls.length} digests where ${sent.calls.length - 1} were left, plus a round of their own`,
  )
  const rows: [string, ChatView][] = [
    ['nothing new: the round goes on', chat({ inflight: sent, items: [], waiting: 0 })],
    ['its next call failed: it goes on (an outage is the catch-up round to fold)', chat({ inflight: { ...sent, attempts: 1 }, items: late, waiting: 40 })],
    ['not a storm round: it goes on', chat({ inflight: { ...sent, storm: undefined }, items: late, waiting: 40 })],
    ['every part sent', chat({ inflight: { ...sent, next: sent.calls.length }, items: late, waiting: 40 })],
  ]
  for (const [name, state] of rows) t.equal(planTurn(state, POLICY, NOW).kind, 'continue', name)
})

t.test("a few small groups fold at once when Telegram's overall limit makes the chat's slots later", async (t) => {
  const five = chat({ items: items(5, (i) => ({ groupKey: `g${i}` })), waiting: 5 })
  t.match(planTurn(five, POLICY, NOW), { kind: 'deliver' }, 'a quiet moment: five messages within max_delay, each with its buttons')
  t.match(planTurn(five, { ...POLICY, globalWaitMs: 550 }, NOW), { kind: 'storm' }, 'behind 99 busy chats (3.7 s of the overall limit): one digest now')
  const one = chat({ items: items(3), waiting: 3 })
  t.match(planTurn(one, { ...POLICY, globalWaitMs: 550 }, NOW), { kind: 'deliver' }, 'one group still goes as it is, with its buttons')
})

t.test('a few small groups fold at once while other chats wait for the overall limit (a burst across chats)', async (t) => {
  const five = chat({ items: items(5, (i) => ({ groupKey: `g${i}` })), waiting: 5 })
  const rows: [string, ChatView, number, string][] = [
    ['the tail of a burst: five groups, 40 other chats due', five, 40, 'storm'],
    ['the same five groups, no other chat due: each its own message', five, 0, 'deliver'],
    ["a quiet chat's first alert, 99 other chats due: at once, as it is", chat({ items: items(1), waiting: 1 }), 99, 'deliver'],
    ['one group of three, 99 other chats due: as it is, with its buttons', chat({ items: items(3), waiting: 3 }), 99, 'deliver'],
  ]
  for (const [name, state, othersDue, kind] of rows) t.match(planTurn(state, { ...POLICY, othersDue }, NOW), { kind }, name)
  const long = chat({ items: items(16), waiting: 40 })
  t.match(
    planTurn(long, { ...POLICY, othersDue: 3 }, NOW),
    { kind: 'deliver', foldCheck: { othersDue: 3 } },
    'a group running past what was read: the check on all of it counts the other chats too',
  )
  // what the check then reads: the long group and four small groups behind it
  const read = [...items(20), ...items(4, (i) => ({ groupKey: `g${i}` })).map((i, k) => ({ ...i, id: `s${k}`, alert: { ...i.alert, fingerprint: `s${k}` } }))]
  const loaded = { items: read, lookups: none, records: new Map() }
  const check = (othersDue?: number) =>
    planWork(
      { kind: 'deliver', readUpTo: 500, foldCheck: { waiting: 24, maxDelayMs: 30_000, globalWaitMs: 0, ...(othersDue ? { othersDue } : {}) } },
      loaded,
      options,
      3150,
      NOW,
    )
  t.match(check(3), { kind: 'start', storm: true }, 'other chats due: the five batches fold into one round')
  t.match(check(), { kind: 'start', storm: false }, 'alone: the long group goes as it is (five batches within max_delay)')
})
