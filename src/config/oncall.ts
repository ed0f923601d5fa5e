/**
 * Who is on call (config `people:` and `rotas:`): the people alertwire can mention, by Telegram
 * user id, and the rotas made of them (layers handing off at local times, optional YAML overrides,
 * an optional handoff notice). The schema is here beside its compilation, so the shared schema and
 * parse files only name it; the checks the schema cannot make (a person a rota names but `people:`
 * lacks, a time zone Intl does not know, a date that is not in the calendar) give errors naming
 * the exact path.
 */
import Type from 'typebox'
import { DURATION_PATTERN, parseDuration } from '../core/duration.js'
import type { Person } from '../core/incident.js'
import type { Rota, RotaLayer, RotaOverride } from '../core/rota.js'
import { parseClock, parseLocalDate, parseLocalDateTime, validZone } from '../core/zoned.js'

/** NAME_PATTERN: a person's or a rota's key: what /oncall and `rota:<name>` are typed with. */
export const NAME_PATTERN = '^[A-Za-z0-9_.-]{1,32}$'

const DAY_INDEX: Record<string, number> = {
  sun: 0,
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
}
const Day = Type.Enum(Object.keys(DAY_INDEX), { expected: 'a weekday like monday or mon' })
const CLOCK = '([01][0-9]|2[0-3]):[0-5][0-9]'
const LocalDateTime = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$', expected: 'a local time like "2026-12-24T18:00"' })

const PersonSchema = Type.Object(
  {
    id: Type.Integer({ minimum: 1, expected: 'a Telegram user id like 111111 (a positive integer)' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, expected: 'a name like "Alice"' })),
    username: Type.Optional(Type.String({ pattern: '^@?[A-Za-z0-9_]{1,32}$', expected: 'a Telegram username like alice' })),
  },
  { additionalProperties: false },
)

/** PeopleSchema: the `people:` key: key → {id, name, username}. */
export const PeopleSchema = Type.Record(Type.String(), PersonSchema, {
  default: {},
  expected: 'a mapping of people like {alice: {id: 111111, name: "Alice", username: alice}}',
})

const LayerSchema = Type.Object(
  {
    rotation: Type.String({ pattern: `^(daily|weekly)$|${DURATION_PATTERN}`, expected: 'daily, weekly or a duration like "12h"' }),
    // optional rather than defaulted here and below: defaults do not reach into a record's values (the compilation fills them in)
    handoff: Type.Optional(Type.String({ pattern: `^${CLOCK}$`, expected: 'a local time like "09:00" (default 09:00)' })),
    day: Type.Optional(Day),
    start: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', expected: 'a date like "2026-01-05"' }),
    people: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, expected: 'a list of people like [alice, bob]' }),
    hours: Type.Optional(Type.String({ pattern: `^${CLOCK}-(${CLOCK}|24:00)$`, expected: 'a time range like "18:00-09:00"' })),
    days: Type.Optional(Type.Array(Day, { minItems: 1, expected: 'a list of weekdays like [sat, sun]' })),
  },
  { additionalProperties: false },
)

const OverrideSchema = Type.Object(
  {
    who: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
      expected: 'a person like bob, or a list like [bob, carol]',
    }),
    from: LocalDateTime,
    until: LocalDateTime,
  },
  { additionalProperties: false },
)

/** RotasSchema: the `rotas:` key: name → {time_zone, layers, overrides, handoff_notice}. */
export const RotasSchema = Type.Record(
  Type.String(),
  Type.Object(
    {
      time_zone: Type.Optional(Type.String({ minLength: 1, expected: 'an IANA time zone like "Europe/Berlin"' })),
      layers: Type.Optional(Type.Array(LayerSchema)),
      overrides: Type.Optional(Type.Array(OverrideSchema)),
      handoff_notice: Type.Optional(
        Type.Object(
          {
            chat: Type.Union([Type.Integer(), Type.String({ pattern: '^(-?[0-9]+|@[A-Za-z0-9_]{4,32})$' })], {
              expected: 'a chat id like -1001234567890 or "@channel"',
            }),
            topic: Type.Optional(Type.Integer({ minimum: 1, expected: 'a forum topic id (a positive integer)' })),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  ),
  { default: {}, expected: 'a mapping of rotas like {primary: {layers: [...]}}' },
)

type RawPeople = Type.Static<typeof PeopleSchema>
type RawRotas = Type.Static<typeof RotasSchema>
type RawLayer = Type.Static<typeof LayerSchema>
type RawOverride = Type.Static<typeof OverrideSchema>

/** RotaConfig: a compiled rota (the type core/rota.ts computes with). */
export type RotaConfig = Rota

/** OnCallConfig: `people:` and `rotas:`, compiled, by key. */
export interface OnCallConfig {
  people: Map<string, Person>
  rotas: Map<string, RotaConfig>
}

/** OnCallSlice: what /oncall and the handoff notices read of the config (config/slices.ts cuts it). */
export interface OnCallSlice {
  people: ReadonlyMap<string, Person>
  rotas: ReadonlyMap<string, RotaConfig>
  /** the rotas a chat is about: those its routes' escalation policies name (none: all) */
  rotasOf: (chat: string) => string[]
  /** messages.time_zone: how the chat reads times */
  timeZone: string
}

/** compilePeople turns `people:` into Persons by key, adding an error for a bad key or an id or username two people share. */
function compilePeople(raw: RawPeople, errors: string[]): Map<string, Person> {
  const people = new Map<string, Person>()
  const ids = new Map<number, string>()
  const usernames = new Map<string, string>()
  for (const [key, p] of Object.entries(raw)) {
    if (!new RegExp(NAME_PATTERN).test(key)) errors.push(`people.${key}: expected a key of letters, digits, _ . or - (at most 32), like alice`)
    const username = p.username?.replace(/^@/, '')
    const sameId = ids.get(p.id)
    if (sameId !== undefined) errors.push(`people.${key}.id: ${p.id} is people.${sameId}'s id too (one person, one key)`)
    const sameName = username === undefined ? undefined : usernames.get(username.toLowerCase())
    if (sameName !== undefined) errors.push(`people.${key}.username: ${username} is people.${sameName}'s username too`)
    ids.set(p.id, key)
    if (username) usernames.set(username.toLowerCase(), key)
    people.set(key, { id: p.id, name: p.name ?? key, ...(username ? { username } : {}) })
  }
  return people
}

/** Names: resolves people keys for one rota, adding an error naming the exact place of an unknown one. */
type Resolve = (key: string, path: string) => Person | undefined

function compileLayer(raw: RawLayer, path: string, resolve: Resolve, errors: string[]): RotaLayer | undefined {
  const start = parseLocalDate(raw.start)
  if (start === undefined) errors.push(`${path}.start: expected a date like "2026-01-05", got ${JSON.stringify(raw.start)} (no such day)`)
  const every = raw.rotation === 'daily' || raw.rotation === 'weekly' ? raw.rotation : parseDuration(raw.rotation)
  if (every === 0) errors.push(`${path}.rotation: expected daily, weekly or a duration like "12h", got "${raw.rotation}" (it must be longer than 0)`)
  if (raw.rotation === 'weekly' && raw.day === undefined)
    errors.push(`${path}.day: is required with rotation: weekly (the weekday of the handoff, like monday)`)
  if (raw.rotation !== 'weekly' && raw.day !== undefined) errors.push(`${path}.day: set only with rotation: weekly`)
  const people = raw.people.map((key, i) => resolve(key, `${path}.people[${i}]`))
  const [from, to] = (raw.hours ?? '').split('-')
  if (start === undefined || !every || people.some((p) => !p)) return undefined
  return {
    rotation: every,
    handoff: parseClock(raw.handoff ?? '09:00')!,
    ...(raw.day !== undefined ? { day: DAY_INDEX[raw.day]! } : {}),
    start,
    people: people as Person[],
    ...(raw.hours ? { hours: { from: parseClock(from!)!, to: parseClock(to!, true)! } } : {}),
    ...(raw.days ? { days: new Set(raw.days.map((d) => DAY_INDEX[d]!)) } : {}),
  }
}

function compileOverride(raw: RawOverride, path: string, zone: string, resolve: Resolve, errors: string[]): RotaOverride | undefined {
  const who = (typeof raw.who === 'string' ? [raw.who] : raw.who).map((key, i) =>
    resolve(key, typeof raw.who === 'string' ? `${path}.who` : `${path}.who[${i}]`),
  )
  const fromMs = parseLocalDateTime(zone, raw.from)
  const untilMs = parseLocalDateTime(zone, raw.until)
  if (fromMs === undefined) errors.push(`${path}.from: expected a local time like "2026-12-24T18:00", got ${JSON.stringify(raw.from)} (no such time)`)
  if (untilMs === undefined) errors.push(`${path}.until: expected a local time like "2026-12-27T09:00", got ${JSON.stringify(raw.until)} (no such time)`)
  if (fromMs !== undefined && untilMs !== undefined && untilMs <= fromMs) errors.push(`${path}.until: must be after from (${raw.from})`)
  if (fromMs === undefined || untilMs === undefined || untilMs <= fromMs || who.some((p) => !p)) return undefined
  return { who: who as Person[], fromMs, untilMs, by: 'config' }
}

/** compileOnCall turns `people:` and `rotas:` into OnCallConfig; rotas without a time zone use messages.time_zone. */
export function compileOnCall(rawPeople: RawPeople, rawRotas: RawRotas, defaultZone: string, errors: string[]): OnCallConfig {
  const people = compilePeople(rawPeople, errors)
  const known = [...people.keys()].join(', ') || 'none yet'
  const resolve: Resolve = (key, path) => {
    const person = people.get(key)
    if (!person) errors.push(`${path}: unknown person ${JSON.stringify(key)} (people: ${known})`)
    return person
  }
  const rotas = new Map<string, RotaConfig>()
  for (const [name, raw] of Object.entries(rawRotas)) {
    const path = `rotas.${name}`
    if (!new RegExp(NAME_PATTERN).test(name)) errors.push(`${path}: expected a name of letters, digits, _ . or - (at most 32), like primary`)
    const zone = raw.time_zone ?? defaultZone
    if (raw.time_zone !== undefined && !validZone(raw.time_zone)) {
      errors.push(`${path}.time_zone: expected an IANA time zone like "Europe/Berlin", got ${JSON.stringify(raw.time_zone)}`)
      continue
    }
    // an unknown messages.time_zone is reported there; nothing local can be read without a zone
    if (!validZone(zone)) continue
    const layers = (raw.layers ?? []).map((layer, i) => compileLayer(layer, `${path}.layers[${i}]`, resolve, errors))
    const overrides = (raw.overrides ?? []).map((o, i) => compileOverride(o, `${path}.overrides[${i}]`, zone, resolve, errors))
    const notice = raw.handoff_notice
    rotas.set(name, {
      name,
      timeZone: zone,
      layers: layers.filter((l): l is RotaLayer => l !== undefined),
      overrides: overrides.filter((o): o is RotaOverride => o !== undefined),
      ...(notice ? { handoffNotice: { chat: String(notice.chat), ...(notice.topic ? { topic: notice.topic } : {}) } } : {}),
    })
  }
  return { people, rotas }
}
