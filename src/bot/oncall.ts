/**
 * /oncall in the chat: who is on call now and next for the chat's rotas (anyone in a served chat
 * may ask), and overrides by admins (`/oncall @bob 8h`), kept in Redis for every replica. The
 * reading and the wording are core/oncall.ts's; this file asks the store and says the outcome for
 * the bot to record.
 */
import type { OnCallSlice } from '../config/oncall.js'
import type { Person } from '../core/incident.js'
import { type OnCallRequest, onCallReply, parseOnCallArgs, resolvePerson, rotaLine, whenText } from '../core/oncall.js'
import { plainReply } from './replies.js'
import type { Rendered } from '../core/render.js'
import type { RotaStore } from '../store/rota-store.js'
import type { BotUser } from './update-schema.js'

/** OnCallDeps: the slice (read per command, so a reload applies), the store, the clock. */
export interface OnCallDeps {
  oncall: OnCallSlice
  store: RotaStore
  now: () => number
}

/** OnCallDone: the answer, and for a change (or a refused or mistyped one) what the bot records. */
export interface OnCallDone {
  answer: Rendered
  outcome?: 'ok' | 'refused' | 'invalid' | 'failed'
  details?: Record<string, unknown>
}

/** showRotas answers who is on call for these rotas, now and next. */
async function showRotas(deps: OnCallDeps, rotas: readonly string[], nowMs: number, note?: string): Promise<Rendered> {
  const lines = []
  for (const name of rotas) {
    const rota = deps.oncall.rotas.get(name)
    if (rota) lines.push(rotaLine(rota, await deps.store.overrides(name), nowMs))
  }
  return onCallReply(lines, nowMs, deps.oncall.timeZone, note)
}

/** byName: how an override's maker is shown: a name, never an @username (that would notify them). */
function byName(people: ReadonlyMap<string, Person>, user: BotUser): string {
  return [...people.values()].find((p) => p.id === user.id)?.name ?? user.first_name ?? user.username ?? String(user.id)
}

/** override keeps an admin's override and answers with the rota as it is now. */
async function override(deps: OnCallDeps, request: Extract<OnCallRequest, { kind: 'override' }>, user: BotUser, nowMs: number): Promise<OnCallDone> {
  const person = resolvePerson(deps.oncall.people, request.who, user.id)
  if (typeof person === 'string') return { answer: plainReply(person), outcome: 'invalid', details: { who: request.who } }
  const { rota, fromMs, untilMs } = request
  const details = { rota, person: person.name, from: new Date(fromMs).toISOString(), until: new Date(untilMs).toISOString() }
  try {
    await deps.store.addOverride(rota, { who: [person], fromMs, untilMs, by: byName(deps.oncall.people, user) })
  } catch (error) {
    return { answer: plainReply(`Not changed: alertwire could not record it (${(error as Error).message}).`), outcome: 'failed', details }
  }
  const zone = deps.oncall.timeZone
  const from = fromMs <= nowMs ? 'now' : whenText(fromMs, nowMs, zone)
  const note = `✅ ${person.name} is on call for ${rota} from ${from} until ${whenText(untilMs, nowMs, zone)}.`
  return { answer: await showRotas(deps, [rota], nowMs, note), outcome: 'ok', details }
}

/** onCallCommand answers /oncall: without a change anyone may ask; a change needs an admin (isAdmin asks only then). */
export async function onCallCommand(deps: OnCallDeps, args: string, chat: string, user: BotUser, isAdmin: () => Promise<boolean>): Promise<OnCallDone> {
  const nowMs = deps.now()
  const all = new Set(deps.oncall.rotas.keys())
  const own = deps.oncall.rotasOf(chat).filter((name) => all.has(name))
  const request = parseOnCallArgs(args, { chatRotas: own.length > 0 ? own : [...all], allRotas: all, nowMs, timeZone: deps.oncall.timeZone })
  if (request.kind === 'show') return { answer: await showRotas(deps, request.rotas, nowMs) }
  if (!(await isAdmin()))
    return { answer: plainReply('Sorry, only alertwire admins can change who is on call here; /oncall alone shows who is.'), outcome: 'refused' }
  if (request.kind === 'invalid') return { answer: plainReply(request.text), outcome: 'invalid', details: { args: args.slice(0, 200) } }
  return override(deps, request, user, nowMs)
}
