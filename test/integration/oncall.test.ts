/**
 * On call, end to end: /oncall in a chat of the strict Telegram fake, overrides kept in real Redis,
 * and handoff notices posted once per handoff by two replicas sharing one Redis.
 */
import t from 'tap'
import { namesOf } from '../../src/core/oncall.js'
import { handoffsBetween, onCallAt } from '../../src/core/rota.js'
import { GROUP, startTestApp, startWithFake } from '../helpers/app.js'
import { mergeYaml } from '../helpers/config.js'

const ALICE = { id: 1001, username: 'alice', first_name: 'Alice' }
const BOB = { id: 2002, username: 'bob', first_name: 'Bob' }
const OUTSIDER_ADMIN = { id: 5005, username: 'root', first_name: 'Root' }

const PEOPLE = `
people:
  alice: {id: 1001, name: Alice, username: alice}
  bob: {id: 2002, name: Bob, username: bob}
  carol: {id: 3003, name: Carol}
`

t.test('/oncall says who is on call now and next; an admin overrides it, anyone else is refused', async (t) => {
  const yaml = `${PEOPLE}
rotas:
  primary:
    layers:
      - {rotation: 1h, handoff: "00:00", start: "2026-01-01", people: [alice, carol]}
`
  const { fake, app, config } = await startWithFake(t, { yaml, env: { ALERTWIRE_ADMINS: `${ALICE.id},${OUTSIDER_ADMIN.id}` } })
  const rota = config.oncall.rotas.get('primary')!
  let seen = 0
  const answer = async (from: typeof ALICE, text: string) => {
    fake.sendCommand({ chatId: GROUP, from, text })
    const reply = await fake.waitFor(() => fake.messages(GROUP)[seen], 5000, `the answer to ${text}`)
    seen++
    return reply.text
  }

  const now = onCallAt(rota, [], Date.now())
  const shown = await answer(BOB, '/oncall')
  t.match(shown, new RegExp(`primary: ${namesOf(now.people)} \\(until \\w{3} \\d\\d:00\\), next: ${now.people[0]!.name === 'Alice' ? 'Carol' : 'Alice'}`))
  t.notMatch(shown, /@/, 'nobody is mentioned: asking who is on call wakes nobody')

  const made = await answer(ALICE, '/oncall @bob 2h')
  t.match(made, /✅ Bob is on call for primary from now until \w{3} \d\d:\d\d\./)
  t.match(made, /primary: Bob \(until \w{3} \d\d:\d\d\) override by Alice, next: (Alice|Carol)/)
  t.match(await answer(BOB, '/oncall'), /primary: Bob \(until/, 'anyone sees the override')

  t.match(await answer(BOB, '/oncall carol 1h'), /Sorry, only alertwire admins can change who is on call here; \/oncall alone shows who is\./)
  t.match(await answer(BOB, '/oncall'), /primary: Bob \(until/, 'the refused override changed nothing')
  t.match(await app.metrics.registry.getSingleMetricAsString('alertwire_admin_actions_total'), /action="oncall",outcome="refused"\} 1/)
  t.match(await app.metrics.registry.getSingleMetricAsString('alertwire_admin_actions_total'), /action="oncall",outcome="ok"\} 1/)

  t.match(await answer(OUTSIDER_ADMIN, '/oncall me 1h'), /You are not under people: in the config yet.*people: \{yourname: \{id: 5005/)
  t.match(await answer(ALICE, '/oncall dave 1h'), /No one called dave under people: \(people: alice, bob, carol\)/)
  t.match(await answer(ALICE, '/oncall me until 23:59'), /✅ Alice is on call for primary from now until/)
  t.match(await answer(ALICE, '/oncall bob'), /usage: \/oncall/)
})

t.test('with several rotas for the chat, an override names its rota, and /oncall says what to type', async (t) => {
  const yaml = `${PEOPLE}
rotas:
  primary:
    layers: [{rotation: daily, start: "2026-01-01", people: [alice]}]
  secondary:
    layers: [{rotation: daily, start: "2026-01-01", people: [carol]}]
`
  const { fake } = await startWithFake(t, { yaml, env: { ALERTWIRE_ADMINS: String(ALICE.id) } })
  let seen = 0
  const answer = async (text: string) => {
    fake.sendCommand({ chatId: GROUP, from: ALICE, text })
    const reply = await fake.waitFor(() => fake.messages(GROUP)[seen], 5000, `the answer to ${text}`)
    seen++
    return reply.text
  }
  const both = await answer('/oncall')
  t.match(both, /primary: Alice/)
  t.match(both, /secondary: Carol/)
  t.match(await answer('/oncall @bob 8h'), /Say which rota: primary, secondary\. Like \/oncall primary @bob 8h/)
  const made = await answer('/oncall secondary @bob 8h')
  t.match(made, /secondary: Bob \(until/)
  t.notMatch(made, /primary:/, 'the answer is about the rota changed')
  t.match(await answer('/oncall primary'), /primary: Alice/, '/oncall <rota> shows that rota')
})

t.test('a handoff notice is posted once per handoff by two replicas, also when the one posting stops', async (t) => {
  const yaml = `${PEOPLE}
telegram: {updates: "off"}
rotas:
  pager:
    layers:
      - {rotation: 2s, handoff: "00:00", start: "2026-01-01", people: [alice, carol]}
    handoff_notice: {chat: "${GROUP}"}
`
  const leases = { leaseMs: 1000, retryMs: 200 }
  const first = await startWithFake(t, { yaml, poller: leases })
  const startedAt = Date.now()
  const second = await startTestApp(t, {
    yaml: mergeYaml(yaml, 'telegram: {pace: {group: "10/1s", private: "10/1s", headroom: 0.05}}'),
    prefix: first.prefix,
    poller: leases,
    env: { TELEGRAM_BOT_TOKEN: first.fake.token, TELEGRAM_API_URL: first.fake.url, TELEGRAM_CHAT_ID: String(GROUP) },
  })
  const notices = () => first.fake.messages(GROUP).filter((m) => m.text.startsWith('📟 On call for pager now:'))
  await first.fake.waitFor(() => notices().length >= 3, 10_000, 'three handoff notices')
  // whichever replica holds the lease stops; the other takes over within the lease
  await (first.logs.some((l) => l.includes('handoff announced')) ? first.app : second.app).close()
  const before = notices().length
  await first.fake.waitFor(() => notices().length >= before + 3, 10_000, 'three more after one replica stopped')
  const endedAt = Date.now()
  const rota = first.config.oncall.rotas.get('pager')!
  const handoffs = handoffsBetween(rota, [], startedAt - 2000, endedAt)
  const said = notices().map((m) => /now: (\w+)/.exec(m.text)![1])
  t.ok(said.length <= handoffs.length, `${said.length} notices for ${handoffs.length} handoffs: none twice`)
  t.ok(
    said.every((name, i) => i === 0 || name !== said[i - 1]),
    `each notice names the next person: ${said.join(' ')}`,
  )
  t.match(notices()[0]!.text, /^📟 On call for pager now: (Alice|Carol) \(until \w{3} \d\d:\d\d\), next: (Alice|Carol)$/)
})
