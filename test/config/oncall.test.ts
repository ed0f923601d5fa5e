import t from 'tap'
import { parseConfig } from '../../src/config/parse.js'
import { chatRotas, oncallSlice } from '../../src/config/slices.js'

const noSecrets = () => {
  throw new Error('ENOENT')
}

const VALID = `
messages: {time_zone: Europe/Berlin}
people:
  alice: {id: 111111, name: "Alice", username: "@alice"}
  bob: {id: 222222}
rotas:
  primary:
    layers:
      - {rotation: weekly, day: monday, start: "2026-01-05", people: [alice, bob]}
      - {rotation: 12h, handoff: "06:30", start: "2026-01-05", people: [bob], hours: "18:00-24:00", days: [saturday, sun]}
    overrides:
      - {who: [bob, alice], from: "2026-12-24T18:00", until: "2026-12-27T09:00"}
    handoff_notice: {chat: -1001234567890, topic: 12}
  follow-the-sun:
    time_zone: America/New_York
`

t.test('people and rotas compile to config.oncall, with their defaults', async (t) => {
  const result = parseConfig(VALID, { env: {}, readSecret: noSecrets })
  if (!result.ok) return t.fail(result.errors.join(' | '))
  const { people, rotas } = result.config.oncall
  t.same(people.get('alice'), { id: 111111, name: 'Alice', username: 'alice' }, 'the @ of a username is dropped')
  t.same(people.get('bob'), { id: 222222, name: 'bob' }, 'no name: the key')
  const primary = rotas.get('primary')!
  t.equal(primary.timeZone, 'Europe/Berlin', 'no time_zone: messages.time_zone')
  t.equal(primary.layers[0]!.handoff, 9 * 60, 'handoff defaults to 09:00')
  t.equal(primary.layers[0]!.day, 1, 'monday')
  t.equal(primary.layers[1]!.rotation, 12 * 3_600_000)
  t.same(primary.layers[1]!.hours, { from: 18 * 60, to: 24 * 60 })
  t.same([...primary.layers[1]!.days!], [6, 0])
  t.same(primary.overrides, [
    { who: [people.get('bob'), people.get('alice')], fromMs: Date.parse('2026-12-24T17:00:00Z'), untilMs: Date.parse('2026-12-27T08:00:00Z'), by: 'config' },
  ])
  t.same(primary.handoffNotice, { chat: '-1001234567890', topic: 12 })
  t.same(rotas.get('follow-the-sun'), { name: 'follow-the-sun', timeZone: 'America/New_York', layers: [], overrides: [] })
})

t.test('no people: and no rotas: is a config without on call', async (t) => {
  const result = parseConfig('', { env: {}, readSecret: noSecrets })
  t.ok(result.ok)
  if (result.ok) t.same([result.config.oncall.people.size, result.config.oncall.rotas.size], [0, 0])
})

t.test('every on-call error in one run, each at its exact path', async (t) => {
  const text = `
people:
  alice: {id: 1, username: alice}
  bob: {id: 2, username: Alice}
rotas:
  primary:
    layers:
      - {rotation: weekly, start: "2026-13-01", people: [alice, carol]}
      - {rotation: daily, day: friday, start: "2026-01-05", people: [bob]}
      - {rotation: 0h, start: "2026-01-05", people: [bob]}
    overrides:
      - {who: [alice, eve], from: "2026-12-24T18:00", until: "2026-12-24T18:00"}
  "bad name":
    layers: []
`
  const result = parseConfig(text, { env: {}, readSecret: noSecrets })
  t.notOk(result.ok)
  if (result.ok) return
  t.same(result.errors.sort(), [
    "people.bob.username: Alice is people.alice's username too",
    'rotas.bad name: expected a name of letters, digits, _ . or - (at most 32), like primary',
    'rotas.primary.layers[0].day: is required with rotation: weekly (the weekday of the handoff, like monday)',
    'rotas.primary.layers[0].people[1]: unknown person "carol" (people: alice, bob)',
    'rotas.primary.layers[0].start: expected a date like "2026-01-05", got "2026-13-01" (no such day)',
    'rotas.primary.layers[1].day: set only with rotation: weekly',
    'rotas.primary.layers[2].rotation: expected daily, weekly or a duration like "12h", got "0h" (it must be longer than 0)',
    'rotas.primary.overrides[0].until: must be after from (2026-12-24T18:00)',
    'rotas.primary.overrides[0].who[1]: unknown person "eve" (people: alice, bob)',
  ])
})

t.test("a chat's rotas are those its routes' escalation policies mention (the default chat's: also the routing default's)", async (t) => {
  const text = `
telegram: {chat_id: -100222}
people:
  alice: {id: 1}
rotas:
  primary: {}
  secondary: {}
  tertiary: {}
escalation:
  policies:
    pager: {steps: [{after: 0m, mention: ["rota:primary"]}, {after: 5m, mention: ["rota:secondary", alice, "rota:primary"]}]}
    night: {steps: [{after: 0m, mention: ["rota:tertiary"]}]}
routing:
  escalation: night
  routes:
    - {matchers: ['team="db"'], chats: [{chat_id: -100111}], escalation: pager}
    - {matchers: ['team="web"'], chats: [{chat_id: -100333}], escalation: none}
`
  const result = parseConfig(text, { env: {}, readSecret: noSecrets })
  if (!result.ok) return t.fail(result.errors.join(' | '))
  t.same(chatRotas(result.config, '-100111'), ['primary', 'secondary'])
  t.same(chatRotas(result.config, '-100222'), ['tertiary'], 'alerts no route takes escalate under routing.escalation')
  t.same(chatRotas(result.config, '-100333'), [], 'none: /oncall then shows every rota')
  t.same(oncallSlice(result.config).rotasOf('-100111'), ['primary', 'secondary'])
})
