import t from 'tap'
import { parseConfig } from '../../src/config/parse.js'
import { parseHtml } from '../../src/core/html.js'
import { handoffNotice, onCallReply, parseOnCallArgs, planHandoffNotice, resolvePerson, rotaLine, whenText } from '../../src/core/oncall.js'
import { lastHandoffAt, type Rota } from '../../src/core/rota.js'

const at = (iso: string) => Date.parse(iso)
const NOW = at('2026-12-01T15:30:00Z') // a Tuesday; 16:30 in Berlin

function compiled(): { rota: Rota; people: Map<string, { id: number; name: string; username?: string }> } {
  const result = parseConfig(
    `
people:
  alice: {id: 1, name: Alice, username: alice}
  bob: {id: 2, name: "Bob <ops>", username: BobTheBuilder}
  carol: {id: 3, name: Carol}
rotas:
  primary:
    time_zone: Europe/Berlin
    layers: [{rotation: daily, handoff: "09:00", start: "2026-11-30", people: [alice, carol]}]
`,
    { env: {}, readSecret: () => '' },
  )
  if (!result.ok) throw new Error(result.errors.join('\n'))
  return { rota: result.config.oncall.rotas.get('primary')!, people: result.config.oncall.people }
}
const { rota, people } = compiled()

t.test('parseOnCallArgs reads what an admin types; times are the chat’s', async (t) => {
  const ctx = { chatRotas: ['primary'], allRotas: new Set(['primary', 'secondary']), nowMs: NOW, timeZone: 'Europe/Berlin' }
  const cases: [string, unknown][] = [
    ['', { kind: 'show', rotas: ['primary'] }],
    ['secondary', { kind: 'show', rotas: ['secondary'] }],
    ['@bob 8h', { kind: 'override', rota: 'primary', who: '@bob', fromMs: NOW, untilMs: NOW + 8 * 3_600_000 }],
    ['me until 09:00', { kind: 'override', rota: 'primary', who: 'me', fromMs: NOW, untilMs: at('2026-12-02T08:00:00Z') }], // tomorrow: 09:00 has passed today
    ['me until 18:00', { kind: 'override', rota: 'primary', who: 'me', fromMs: NOW, untilMs: at('2026-12-01T17:00:00Z') }],
    ['bob until 2026-12-03T09:00', { kind: 'override', rota: 'primary', who: 'bob', fromMs: NOW, untilMs: at('2026-12-03T08:00:00Z') }],
    [
      'secondary bob 2026-12-24T18:00..2026-12-27T09:00',
      { kind: 'override', rota: 'secondary', who: 'bob', fromMs: at('2026-12-24T17:00:00Z'), untilMs: at('2026-12-27T08:00:00Z') },
    ],
  ]
  for (const [args, expected] of cases) t.same(parseOnCallArgs(args, ctx), expected, `/oncall ${args}`)
  const invalid: [string, RegExp][] = [
    ['bob', /usage: \/oncall/],
    ['bob soon', /say for how long: 8h, until 09:00/],
    ['bob until noon', /write the end as 09:00 or 2026-12-27T09:00 \(Europe\/Berlin\)/],
    ['bob 2026-12-24..2026-12-27', /write the span as 2026-12-24T18:00\.\.2026-12-27T09:00/],
    ['bob 2026-11-24T18:00..2026-11-27T09:00', /would already be over/],
    ['bob 40d', /lasts at most 31d; put longer ones in the config \(rotas\.primary\.overrides\)/],
  ]
  for (const [args, text] of invalid) {
    const request = parseOnCallArgs(args, ctx)
    t.equal(request.kind, 'invalid', `/oncall ${args}`)
    if (request.kind === 'invalid') t.match(request.text, text)
  }
  const several = { ...ctx, chatRotas: ['primary', 'secondary'] }
  t.same(parseOnCallArgs('@bob 8h', several), { kind: 'invalid', text: 'Say which rota: primary, secondary. Like /oncall primary @bob 8h' })
  t.same(parseOnCallArgs('', several), { kind: 'show', rotas: ['primary', 'secondary'] })
  t.same(parseOnCallArgs('@bob 8h', { ...ctx, chatRotas: [], allRotas: new Set() }), { kind: 'invalid', text: 'No rota is configured (rotas: in the config).' })
})

t.test('resolvePerson finds people by key or @username (any case), and me by the sender', async (t) => {
  t.equal(resolvePerson(people, '@alice', 9), people.get('alice'))
  t.equal(resolvePerson(people, 'carol', 9), people.get('carol'))
  t.equal(resolvePerson(people, '@bobthebuilder', 9), people.get('bob'))
  t.equal(resolvePerson(people, 'Bob', 9), people.get('bob'))
  t.equal(resolvePerson(people, 'me', 3), people.get('carol'))
  t.match(resolvePerson(people, 'me', 77), /not under people:.*people: \{yourname: \{id: 77, name: "Your Name"\}\}/)
  t.equal(resolvePerson(people, '@dave', 9), 'No one called @dave under people: (people: alice, bob, carol).')
})

t.test('the answer says now, until when and next, in the chat’s zone, as Telegram HTML without mentions', async (t) => {
  t.equal(whenText(at('2026-12-02T08:00:00Z'), NOW, 'Europe/Berlin'), 'Wed 09:00')
  t.equal(whenText(at('2026-12-24T17:00:00Z'), NOW, 'Europe/Berlin'), '24 Dec 18:00')
  const override = { who: [people.get('bob')!], fromMs: NOW - 1000, untilMs: at('2026-12-01T17:00:00Z'), by: 'Alice' }
  const line = rotaLine(rota, [override], NOW)
  t.same(line, {
    rota: 'primary',
    now: [people.get('bob')],
    untilMs: at('2026-12-01T17:00:00Z'),
    next: [people.get('carol')],
    nextFromMs: at('2026-12-01T17:00:00Z'),
    overrideBy: 'Alice',
  })
  const reply = onCallReply([line], NOW, 'Europe/Berlin', '✅ done')
  t.ok(parseHtml(reply.html).ok, 'Telegram accepts it')
  t.equal(
    reply.plain,
    '✅ done\n📟 On call\nprimary: Bob <ops> (until Tue 18:00) override by Alice, next: Carol\nTimes in Europe/Berlin.',
    'names escaped, no @username',
  )
  t.equal(handoffNotice(rotaLine(rota, [], NOW), NOW, 'Europe/Berlin').plain, '📟 On call for primary now: Carol (until Wed 09:00), next: Alice')
  t.equal(onCallReply([], NOW, 'UTC').plain, '📟 No rota is configured (rotas: in the config).')
  const planned = rotaLine(rota, [], at('2026-12-01T15:30:00Z'))
  t.notOk(planned.overrideBy, 'no override now')
  const yamlOverride = { ...rota, overrides: [{ who: [people.get('bob')!], fromMs: NOW - 1, untilMs: NOW + 1, by: 'config' }] }
  t.match(onCallReply([rotaLine(yamlOverride, [], NOW)], NOW, 'UTC').plain, /primary: Bob <ops> \(until Tue 15:30\) override from the config/)
})

t.test('lastHandoffAt finds the current shift’s start; planHandoffNotice says each handoff once and only the latest after an outage', async (t) => {
  // handoffs at 09:00 Berlin = 08:00 UTC
  t.equal(lastHandoffAt(rota, [], NOW, 8 * 86_400_000), at('2026-12-01T08:00:00Z'))
  t.equal(lastHandoffAt(rota, [], at('2026-12-01T08:00:00Z'), 86_400_000), at('2026-12-01T08:00:00Z'), 'at the handoff itself')
  t.equal(lastHandoffAt(rota, [], NOW, 3_600_000), undefined, 'not within the last hour')
  const week = 8 * 86_400_000
  const cases: [string, number | undefined, number, unknown][] = [
    ['first start: the current shift', undefined, NOW, { announce: true, atMs: at('2026-12-01T08:00:00Z') }],
    ['already said', at('2026-12-01T08:00:00Z'), NOW, { announce: false }],
    ['the next handoff', at('2026-12-01T08:00:00Z'), at('2026-12-02T08:00:01Z'), { announce: true, atMs: at('2026-12-02T08:00:00Z') }],
    ['after a three-day outage: only the latest', at('2026-12-01T08:00:00Z'), at('2026-12-04T12:00:00Z'), { announce: true, atMs: at('2026-12-04T08:00:00Z') }],
    ['a clock behind the last announced one', at('2026-12-02T08:00:00Z'), at('2026-12-02T07:59:00Z'), { announce: false }],
  ]
  for (const [name, last, now, expected] of cases) t.same(planHandoffNotice(rota, [], last, now, week), expected, name)
})
