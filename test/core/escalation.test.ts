import t from 'tap'
import { policyOfRoute } from '../../src/config/escalation.js'
import type { MessageRecord } from '../../src/core/delivery.js'
import {
  choosePolicy,
  describePolicy,
  type EscalationInput,
  type EscalationPlan,
  type EscalationState,
  messageLink,
  planEscalation,
} from '../../src/core/escalation.js'
import { formatDuration } from '../../src/core/duration.js'
import type { Person } from '../../src/core/incident.js'
import { testConfig } from '../helpers/config.js'

const T0 = Date.parse('2026-12-01T10:00:00Z')
const MIN = 60_000
const alice: Person = { id: 111, name: 'Alice', username: 'alice' }
const bob: Person = { id: 222, name: 'Bob' }
const carol: Person = { id: 333, name: 'Carol <C&C>' }

const YAML = `
people:
  alice: {id: 111, name: Alice, username: alice}
  bob: {id: 222, name: Bob}
rotas:
  primary:
    layers: [{rotation: weekly, handoff: "09:00", day: monday, start: "2026-01-05", people: [alice]}]
  secondary:
    layers: [{rotation: weekly, handoff: "09:00", day: monday, start: "2026-01-05", people: [bob]}]
escalation:
  policies:
    pager:
      steps:
        - {after: 0m, mention: ["rota:primary"]}
        - {after: 5m, mention: ["rota:primary", alice], loud: true}
        - {after: 15m, notify: {chat: "-1009876543210", topic: 3}, mention: ["rota:secondary"]}
        - {after: 30m, mention: ["rota:primary", "rota:secondary"], repeat: 10m}
    once:
      severities: [warning]
      steps: [{after: 1m, mention: [bob]}]
routing:
  escalation: pager
  routes:
    - {name: db, matchers: ['team="db"'], escalation: once}
    - {name: quiet, matchers: ['team="quiet"'], escalation: none}
`
const config = testConfig(YAML)
const pager = config.escalation.policies.get('pager')!
const onCall = new Map<string, Person[]>([
  ['primary', [alice]],
  ['secondary', [bob]],
])

function record(over: Partial<MessageRecord> = {}): MessageRecord {
  return {
    messageId: 42,
    silent: true,
    groupKey: 'g',
    route: 'default',
    alerts: [
      {
        fingerprint: 'f1',
        status: 'firing',
        labels: { alertname: 'DiskFull', severity: 'critical' },
        annotations: {},
        startsAt: '2026-12-01T09:59:00Z',
      },
    ],
    commonLabels: [],
    externalURL: 'http://am',
    truncatedAlerts: 0,
    part: 1,
    parts: 1,
    ...over,
  }
}

function state(over: Partial<EscalationState> = {}): EscalationState {
  return { policy: 'pager', fired: 0, firstSentAt: T0, ...over }
}

function plan(now: number, over: Partial<EscalationInput> = {}): EscalationPlan {
  return planEscalation({
    chat: '-1001234567890',
    policy: pager,
    record: record(),
    state: state(),
    onCall,
    recheckMs: 5000,
    severities: config.messages.severities,
    now,
    ...over,
  })
}

t.test('the plan at each moment of an untaken critical alert (table)', async (t) => {
  const cases: [string, number, Partial<EscalationState>, string, number | undefined][] = [
    ['step 1 is due at the first send', T0, {}, 'fire 0', T0 + 5 * MIN],
    ['a late check fires step 1 once; step 2 keeps its gap from it', T0 + 2 * MIN, {}, 'fire 0', T0 + 7 * MIN],
    ['step 2 not due yet', T0 + 4 * MIN, { fired: 1, lastFiredAt: T0 }, 'wait', T0 + 5 * MIN],
    ['step 2 due', T0 + 5 * MIN, { fired: 1, lastFiredAt: T0 }, 'fire 1', T0 + 15 * MIN],
    ['step 3 due', T0 + 15 * MIN, { fired: 2, lastFiredAt: T0 + 5 * MIN }, 'fire 2', T0 + 30 * MIN],
    ['step 4 due; it repeats every 10m', T0 + 30 * MIN, { fired: 3, lastFiredAt: T0 + 15 * MIN }, 'fire 3', T0 + 40 * MIN],
    ['the repeat of step 4', T0 + 40 * MIN, { fired: 4, lastFiredAt: T0 + 30 * MIN }, 'fire 3', T0 + 50 * MIN],
    ['after a long outage only the next step fires, none skipped', T0 + 3 * 60 * MIN, { fired: 1, lastFiredAt: T0 }, 'fire 1', T0 + 190 * MIN],
  ]
  for (const [name, now, over, want, next] of cases) {
    const p = plan(now, { state: state(over) })
    const got = p.kind === 'fire' ? `fire ${p.step}` : p.kind
    t.equal(got, want, name)
    t.equal(p.kind === 'fire' ? p.nextDueAt : p.kind === 'wait' ? p.dueAt : undefined, next, `${name}: next due`)
  }
})

t.test('taken, silenced, resolved, done: the plan parks or stops', async (t) => {
  const taken = record({ taken: { by: alice, at: '2026-12-01T10:01:00Z' } })
  const silenced = record({ silence: { ids: ['s'], by: 'bob', until: '2026-12-01T12:00:00Z', ack: false } })
  const resolved = record({ alerts: record().alerts.map((a) => ({ ...a, status: 'resolved' as const })) })
  t.same(plan(T0, { record: taken }), { kind: 'park', recheckAt: T0 + 5000, why: 'taken' })
  t.same(plan(T0, { record: silenced }), { kind: 'park', recheckAt: T0 + 5000, why: 'silenced' })
  t.same(plan(T0, { record: resolved }), { kind: 'stop', why: 'resolved' })
  const calmer = record({
    alerts: [
      { ...record().alerts[0]!, status: 'resolved' },
      { ...record().alerts[0]!, fingerprint: 'f2', labels: { alertname: 'DiskFull', severity: 'warning' } },
    ],
  })
  t.same(plan(T0, { record: calmer }), { kind: 'stop', why: 'calmer' }, 'its critical resolved, a warning fires on')
  t.same(plan(T0, { record: undefined }), { kind: 'stop', why: 'gone' }, 'the message expired')
  t.same(plan(T0, { policy: undefined }), { kind: 'stop', why: 'gone' }, 'a reload removed the policy')
  const once = config.escalation.policies.get('once')!
  const warning = record({ alerts: [{ ...record().alerts[0]!, labels: { alertname: 'Slow', severity: 'warning' } }] })
  t.same(
    plan(T0 + 10 * MIN, { policy: once, record: warning, state: state({ fired: 1, lastFiredAt: T0 + MIN }) }),
    { kind: 'stop', why: 'done' },
    'no repeat: done',
  )
  const p = plan(T0 + MIN, { policy: once, record: warning })
  t.same(p.kind === 'fire' ? p.nextDueAt : 'not fired', undefined, 'its only step fires, and then it is done')
})

t.test('released after 20 minutes: the step that came due fires at once, later ones keep their gaps', async (t) => {
  // step 1 fired at T0, then it was taken; released at T0+20m
  const p = plan(T0 + 20 * MIN, { state: state({ fired: 1, lastFiredAt: T0, parked: true }) })
  t.equal(p.kind, 'fire')
  if (p.kind !== 'fire') return
  t.equal(p.step, 1, 'step 2, not step 3: nothing is skipped')
  t.equal(p.nextDueAt, T0 + 30 * MIN, 'step 3 is its 10m gap after')
  t.notOk(p.state.parked, 'no longer parked')
  t.equal(p.state.fired, 2)
})

t.test('a step mentions people by id, loud when the step says so, and marks the timeline', async (t) => {
  const p = plan(T0 + 5 * MIN, { state: state({ fired: 1, lastFiredAt: T0 }) })
  if (p.kind !== 'fire') return t.fail(p.kind)
  const [reply, mark] = p.notices
  t.equal(p.notices.length, 2)
  t.equal(reply!.chat, '-1001234567890')
  if (reply!.notice.kind !== 'send') return t.fail('a send')
  t.match(reply!.notice.html, /<a href="tg:\/\/user\?id=111">Alice<\/a>/)
  t.notMatch(reply!.notice.html, /Alice<\/a>.*Alice<\/a>/s, 'alice from the rota and by name is mentioned once')
  t.equal(reply!.notice.replyTo, 42)
  t.equal(reply!.notice.silent, false, 'loud: sound even though the route is silent')
  t.match(reply!.notice.plain, /step 2 of 4: DiskFull is not taken yet/)
  t.same(mark!.notice, { kind: 'mark', messageId: 42, events: [{ at: new Date(T0 + 5 * MIN).toISOString(), kind: 'escalated', detail: 'step 2: @alice' }] })
  const quiet = plan(T0)
  if (quiet.kind === 'fire' && quiet.notices[0]!.notice.kind === 'send') t.equal(quiet.notices[0]!.notice.silent, true, 'not loud: as silent as the alert')
})

t.test('nobody on call: the reply says so and the other targets still fire', async (t) => {
  const empty = new Map<string, Person[]>([
    ['primary', []],
    ['secondary', [carol]],
  ])
  const p = plan(T0 + 30 * MIN, { state: state({ fired: 3, lastFiredAt: T0 + 15 * MIN }), onCall: empty })
  if (p.kind !== 'fire' || p.notices[0]!.notice.kind !== 'send') return t.fail('fires')
  t.match(p.notices[0]!.notice.html, /<a href="tg:\/\/user\?id=333">Carol &lt;C&amp;C&gt;<\/a>, nobody is on call in primary/)
  t.equal(p.detail, 'step 4: Carol <C&C>, nobody is on call in primary')
})

t.test('notify: a copy to another chat and topic links the original message and says nobody took it', async (t) => {
  const p = plan(T0 + 15 * MIN, { state: state({ fired: 2, lastFiredAt: T0 + 5 * MIN }) })
  if (p.kind !== 'fire') return t.fail(p.kind)
  const copy = p.notices.find((n) => n.chat === '-1009876543210')!
  if (copy.notice.kind !== 'send') return t.fail('a send')
  t.equal(copy.notice.threadId, 3)
  t.match(copy.notice.html, /<a href="https:\/\/t\.me\/c\/1234567890\/42">Open the alert<\/a>/)
  t.match(copy.notice.plain, /DiskFull has fired for 15m .* nobody took it/)
  t.match(copy.notice.html, /tg:\/\/user\?id=222/, 'the rota secondary is mentioned where it is reached')
  t.equal(p.detail, 'step 3: Bob, copy to -1009876543210')
})

t.test('message links exist for supergroups and public chats only', async (t) => {
  t.equal(messageLink('-1001234567890', 7), 'https://t.me/c/1234567890/7')
  t.equal(messageLink('-1001234567890', 7, 12), 'https://t.me/c/1234567890/12/7')
  t.equal(messageLink('@ops', 7), 'https://t.me/ops/7')
  t.equal(messageLink('-4242', 7), undefined, 'a basic group has no links')
})

t.test('which policy a new message gets: route, default, none, severity, digests', async (t) => {
  const lookup = (route: string | undefined) => policyOfRoute(config.escalation, route)
  const pick = (r: MessageRecord) => {
    const c = choosePolicy(r, '-1001', lookup, config.routing, config.messages.severities)
    return 'policy' in c ? c.policy.name : c.none
  }
  t.equal(pick(record()), 'pager', 'the routing default')
  t.equal(pick(record({ route: 'quiet' })), 'route quiet has no escalation policy', 'escalation: none')
  t.match(pick(record({ route: 'db' })), /critical is not among once's severities/)
  const warning = record({ route: 'db', alerts: [{ ...record().alerts[0]!, labels: { alertname: 'Slow', severity: 'warn' } }] })
  t.equal(pick(warning), 'once', 'aliases count: warn is warning')
  const digest = record({
    route: 'db',
    alerts: [{ ...record().alerts[0]!, labels: { alertname: 'Slow', severity: 'warning', team: 'db' } }],
    digest: {
      unnamed: [{ ...record().alerts[0]!, fingerprint: 'f9', labels: { alertname: 'Down', severity: 'critical', team: 'web' } }],
    } as unknown as MessageRecord['digest'],
  })
  t.equal(pick(digest), 'pager', "a digest escalates under its most severe alert's route")
  t.match(pick({ ...digest, part: 2, parts: 2 }), /later part of a digest/, 'once per round, from its first part')
})

t.test('describePolicy writes the policy step by step with who is on call now', async (t) => {
  t.equal(
    describePolicy(pager, onCall, formatDuration),
    'escalation pager (critical): 0m mention rota primary (now: Alice); 5m mention rota primary (now: Alice), mention @alice, loud; ' +
      '15m mention rota secondary (now: Bob), notify chat -1009876543210 topic 3; 30m mention rota primary (now: Alice), mention rota secondary (now: Bob), repeat every 10m',
  )
})
