import t from 'tap'
import { parseConfig } from '../../src/config/parse.js'
import { handoffsBetween, nextOnCall, onCallAt, type Rota, type RotaOverride } from '../../src/core/rota.js'

const PEOPLE = `
people:
  alice: {id: 1, name: Alice, username: alice}
  bob: {id: 2, name: Bob}
  carol: {id: 3, name: Carol}
  dave: {id: 4, name: Dave}
`

/** rotaOf compiles one rota named "r" from its YAML body (indented under rotas.r). */
function rotaOf(body: string, zone = 'UTC'): Rota {
  const text = `${PEOPLE}messages: {time_zone: ${zone}}\nrotas:\n  r:\n${body
    .trim()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')}\n`
  const result = parseConfig(text, { env: {}, readSecret: () => '' })
  if (!result.ok) throw new Error(result.errors.join('\n'))
  return result.config.oncall.rotas.get('r')!
}

const at = (iso: string) => Date.parse(iso)
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())
const names = (rota: Rota, overrides: readonly RotaOverride[], when: string) => onCallAt(rota, overrides, at(when)).people.map((p) => p.name)
const bob = { id: 2, name: 'Bob' }
const dave = { id: 4, name: 'Dave' }

const weeklyBerlin = rotaOf(
  `
time_zone: Europe/Berlin
layers:
  - {rotation: weekly, handoff: "09:00", day: monday, start: "2026-01-05", people: [alice, bob]}
`,
)

t.test('a weekly Monday 09:00 handoff in Berlin stays at 09:00 local across the March and October changes (29 March, 25 October 2026)', async (t) => {
  const cases: [string, string[], string][] = [
    // [now, on call, until]
    ['2026-03-20T12:00:00Z', ['Alice'], '2026-03-23T08:00:00.000Z'], // 09:00 CET is 08:00 UTC
    ['2026-03-23T07:59:59Z', ['Alice'], '2026-03-23T08:00:00.000Z'],
    ['2026-03-23T08:00:00Z', ['Bob'], '2026-03-30T07:00:00.000Z'], // after the change, 09:00 CEST is 07:00 UTC
    ['2026-03-29T01:30:00Z', ['Bob'], '2026-03-30T07:00:00.000Z'], // the night of the change itself
    ['2026-03-30T07:00:00Z', ['Alice'], '2026-04-06T07:00:00.000Z'],
  ]
  for (const [now, people, until] of cases) {
    const answer = onCallAt(weeklyBerlin, [], at(now))
    t.same(
      answer.people.map((p) => p.name),
      people,
      `${now}: on call`,
    )
    t.equal(iso(answer.untilMs), until, `${now}: until`)
  }
  t.same(
    handoffsBetween(weeklyBerlin, [], at('2026-10-18T00:00:00Z'), at('2026-11-03T00:00:00Z')).map((h) => [iso(h.atMs), h.people[0]!.name]),
    [
      ['2026-10-19T07:00:00.000Z', 'Bob'], // still CEST (the 41st week)
      ['2026-10-26T08:00:00.000Z', 'Alice'], // the day after the October change: 09:00 CET
      ['2026-11-02T08:00:00.000Z', 'Bob'],
    ],
    'and across the October change',
  )
  t.same(nextOnCall(weeklyBerlin, [], at('2026-03-25T12:00:00Z')), {
    people: [{ id: 1, name: 'Alice', username: 'alice' }],
    fromMs: at('2026-03-30T07:00:00Z'),
  })
})

t.test('a daily 09:00 handoff in Berlin stays at 09:00 local across the October change (25 October 2026)', async (t) => {
  const daily = rotaOf(`
time_zone: Europe/Berlin
layers:
  - {rotation: daily, handoff: "09:00", start: "2026-10-20", people: [alice, bob, carol]}
`)
  const handoffs = handoffsBetween(daily, [], at('2026-10-23T12:00:00Z'), at('2026-10-27T12:00:00Z'))
  t.same(
    handoffs.map((h) => [iso(h.atMs), h.people[0]!.name]),
    [
      ['2026-10-24T07:00:00.000Z', 'Bob'], // Saturday, still CEST
      ['2026-10-25T08:00:00.000Z', 'Carol'], // Sunday, the clocks went back at 03:00: CET
      ['2026-10-26T08:00:00.000Z', 'Alice'],
      ['2026-10-27T08:00:00.000Z', 'Bob'],
    ],
  )
  t.same(names(daily, [], '2026-10-25T07:30:00Z'), ['Bob'], '08:30 CET on Sunday is still Saturday’s shift')
})

t.test('a fixed-length rotation counts elapsed time, not the wall clock', async (t) => {
  const twelve = rotaOf(`
time_zone: Europe/Berlin
layers:
  - {rotation: 12h, handoff: "08:00", start: "2026-03-28", people: [alice, bob]}
`)
  // 08:00 CET = 07:00 UTC; every 12 h of real time after, whatever the clock on the wall says
  t.same(
    handoffsBetween(twelve, [], at('2026-03-28T06:00:00Z'), at('2026-03-29T20:00:00Z')).map((h) => [iso(h.atMs), h.people[0]!.name]),
    [
      ['2026-03-28T07:00:00.000Z', 'Alice'],
      ['2026-03-28T19:00:00.000Z', 'Bob'],
      ['2026-03-29T07:00:00.000Z', 'Alice'],
      ['2026-03-29T19:00:00.000Z', 'Bob'],
    ],
  )
  t.same(names(twelve, [], '2026-03-27T12:00:00Z'), [], 'nobody before the start')
  t.equal(iso(onCallAt(twelve, [], at('2026-03-27T12:00:00Z')).untilMs), '2026-03-28T07:00:00.000Z', 'until the first one starts')
})

t.test('a later layer wins where it covers; hours and days restrict it (the night after midnight belongs to the day before)', async (t) => {
  const rota = rotaOf(`
time_zone: Europe/Berlin
layers:
  - {rotation: weekly, handoff: "09:00", day: monday, start: "2026-01-05", people: [alice, bob]}
  - {rotation: daily, handoff: "18:00", start: "2026-01-05", people: [carol, dave], hours: "18:00-09:00", days: [sat, sun]}
`)
  const cases: [string, string[], string | undefined][] = [
    // week of Monday 2026-11-23 is Alice's (46 weeks after 5 January)
    ['2026-11-27T20:00:00Z', ['Alice'], '2026-11-28T17:00:00.000Z'], // Friday night: no weekend layer
    ['2026-11-28T12:00:00Z', ['Alice'], '2026-11-28T17:00:00.000Z'], // Saturday day: outside the layer's hours
    ['2026-11-28T17:00:00Z', ['Dave'], '2026-11-29T08:00:00.000Z'], // Saturday 18:00: the weekend layer (day 327 since the start: Dave)
    ['2026-11-29T03:00:00Z', ['Dave'], '2026-11-29T08:00:00.000Z'], // Sunday 04:00 belongs to Saturday night
    ['2026-11-29T12:00:00Z', ['Alice'], '2026-11-29T17:00:00.000Z'],
    ['2026-11-29T17:00:00Z', ['Carol'], '2026-11-30T08:00:00.000Z'], // Sunday night, the daily handoff gave it to Carol
    ['2026-11-30T06:00:00Z', ['Carol'], '2026-11-30T08:00:00.000Z'], // Monday 07:00 still Sunday night
    ['2026-11-30T08:00:00Z', ['Bob'], '2026-12-05T17:00:00.000Z'], // Monday 09:00: Bob's week, until Saturday 18:00
  ]
  for (const [now, people, until] of cases) {
    const answer = onCallAt(rota, [], at(now))
    t.same(
      answer.people.map((p) => p.name),
      people,
      `${now}: on call`,
    )
    t.equal(iso(answer.untilMs), until, `${now}: until`)
  }
})

t.test('overrides win over layers, the latest made winning where they overlap; the YAML ones count as made first', async (t) => {
  const rota = rotaOf(`
time_zone: Europe/Berlin
layers:
  - {rotation: weekly, handoff: "09:00", day: monday, start: "2026-01-05", people: [alice, bob]}
overrides:
  - {who: carol, from: "2026-12-24T18:00", until: "2026-12-27T09:00"}
`)
  t.same(names(rota, [], '2026-12-24T16:59:00Z'), ['Alice'], 'before the YAML override (week of 21 December, the 50th: Alice)')
  t.same(names(rota, [], '2026-12-24T17:00:00Z'), ['Carol'], 'the YAML override, 18:00 Berlin')
  t.equal(iso(onCallAt(rota, [], at('2026-12-25T12:00:00Z')).untilMs), '2026-12-27T08:00:00.000Z')
  const chat: RotaOverride[] = [
    { who: [dave], fromMs: at('2026-12-25T10:00:00Z'), untilMs: at('2026-12-25T20:00:00Z'), by: '@alice' },
    { who: [bob], fromMs: at('2026-12-25T12:00:00Z'), untilMs: at('2026-12-25T14:00:00Z'), by: '@alice' },
  ]
  const cases: [string, string[], string | undefined][] = [
    ['2026-12-25T09:00:00Z', ['Carol'], '2026-12-25T10:00:00.000Z'],
    ['2026-12-25T11:00:00Z', ['Dave'], '2026-12-25T12:00:00.000Z'],
    ['2026-12-25T13:00:00Z', ['Bob'], '2026-12-25T14:00:00.000Z'], // made after Dave's: wins inside it
    ['2026-12-25T15:00:00Z', ['Dave'], '2026-12-25T20:00:00.000Z'],
    ['2026-12-25T21:00:00Z', ['Carol'], '2026-12-27T08:00:00.000Z'],
  ]
  for (const [now, people, until] of cases) {
    const answer = onCallAt(rota, chat, at(now))
    t.same(
      answer.people.map((p) => p.name),
      people,
      `${now}: on call`,
    )
    t.equal(iso(answer.untilMs), until, `${now}: until`)
  }
  t.same(names(rota, [{ who: [dave, bob], fromMs: at('2026-12-01T00:00:00Z'), untilMs: at('2026-12-02T00:00:00Z') }], '2026-12-01T12:00:00Z'), ['Dave', 'Bob'])
})

t.test('a rota in another zone than the chat hands off at its own local time, and on its own DST date', async (t) => {
  // the chat shows Berlin time; the rota lives in New York, whose clocks change on 8 March 2026
  const ny = rotaOf(
    `
time_zone: America/New_York
layers:
  - {rotation: daily, handoff: "09:00", start: "2026-03-01", people: [alice, bob]}
`,
    'Europe/Berlin',
  )
  t.equal(ny.timeZone, 'America/New_York')
  t.same(
    handoffsBetween(ny, [], at('2026-03-06T00:00:00Z'), at('2026-03-10T00:00:00Z')).map((h) => iso(h.atMs)),
    ['2026-03-06T14:00:00.000Z', '2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z', '2026-03-09T13:00:00.000Z'],
  )
  const inChatZone = rotaOf(`layers: [{rotation: daily, handoff: "09:00", start: "2026-03-01", people: [alice, bob]}]`, 'Europe/Berlin')
  t.equal(inChatZone.timeZone, 'Europe/Berlin', 'without time_zone, messages.time_zone')
})

t.test('no change ahead: untilMs and nextOnCall are undefined; a handoff to the same person is no change', async (t) => {
  const alone = rotaOf(`layers: [{rotation: daily, start: "2026-01-01", people: [alice]}]`)
  t.same(onCallAt(alone, [], at('2026-06-01T00:00:00Z')), { people: [{ id: 1, name: 'Alice', username: 'alice' }], untilMs: undefined })
  t.equal(nextOnCall(alone, [], at('2026-06-01T00:00:00Z')), undefined)
  const empty = rotaOf(`layers: []`)
  t.same(onCallAt(empty, [], at('2026-06-01T00:00:00Z')), { people: [], untilMs: undefined })
  const twice = rotaOf(`
layers:
  - {rotation: daily, handoff: "09:00", start: "2026-01-01", people: [alice, alice, bob]}
`)
  t.equal(iso(onCallAt(twice, [], at('2026-01-01T10:00:00Z')).untilMs), '2026-01-03T09:00:00.000Z', 'Alice twice in a row is one shift')
  t.same(handoffsBetween(twice, [], at('2026-01-01T10:00:00Z'), at('2026-01-01T10:00:00Z')), [], 'an empty span has no handoffs')
})
