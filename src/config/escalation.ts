/**
 * Escalation policies (config `escalation:`): who is told, and how loudly, while a critical alert
 * message stays untaken. A policy is a list of steps, each `after` a duration from the message's
 * first send; the last may `repeat`. Routes pick a policy with `escalation: <name>` (routing:
 * level: the default every route inherits; `escalation: none` turns it off for one route). The
 * schema is here beside its compilation, so the shared schema and parse files only name it.
 */
import Type from 'typebox'
import { DURATION_PATTERN, parseDuration } from '../core/duration.js'
import type { EscalationPolicy, EscalationStep, MentionTarget } from '../core/escalation.js'
import type { Person } from '../core/incident.js'
import { levelOf, type SeverityScheme } from '../core/severity.js'

const Duration = (example: string) => Type.String({ pattern: DURATION_PATTERN, expected: `a duration like "${example}"` })

/** DEFAULT_SEVERITIES: what a policy applies to when it does not say. */
export const DEFAULT_SEVERITIES = ['critical']

/** NO_ESCALATION: what a route writes to turn off the policy it would inherit. */
export const NO_ESCALATION = 'none'

/** EscalationStepSchema: one step of a policy. */
export const EscalationStepSchema = Type.Object(
  {
    after: Duration('5m'),
    mention: Type.Optional(
      Type.Array(Type.String({ minLength: 1, expected: 'a person (a key of people:) or "rota:<name>"' }), {
        minItems: 1,
        expected: 'a list of people (keys of people:) and rotas like ["rota:primary", alice]',
      }),
    ),
    notify: Type.Optional(
      Type.Object(
        {
          chat: Type.Union([Type.Integer(), Type.String({ pattern: '^-?[0-9]+$' })], { expected: 'a chat id like "-1009876543210"' }),
          topic: Type.Optional(Type.Integer({ minimum: 1, expected: 'a forum topic id (a positive integer)' })),
        },
        { additionalProperties: false },
      ),
    ),
    // optional rather than defaulted: defaults are not filled in inside a Record's values
    loud: Type.Optional(Type.Boolean({ expected: 'true or false' })),
    repeat: Type.Optional(Duration('10m')),
  },
  { additionalProperties: false },
)

/** EscalationPolicySchema: the severities a policy applies to and its steps. */
export const EscalationPolicySchema = Type.Object(
  {
    /** absent: [critical] */
    severities: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, expected: 'a list of severities like [critical]' })),
    steps: Type.Array(EscalationStepSchema, { minItems: 1, expected: 'a list of at least one step' }),
  },
  { additionalProperties: false },
)

/** EscalationSchema: the `escalation:` key. */
export const EscalationSchema = Type.Object(
  {
    check_interval: Type.String({ pattern: DURATION_PATTERN, default: '5s', expected: 'a duration like "5s"' }),
    policies: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), EscalationPolicySchema, {
      default: {},
      expected: 'a mapping of policy names (letters, digits, _ . -) to policies',
    }),
  },
  { additionalProperties: false, default: {} },
)

/** RouteEscalationSchema: `escalation: <policy>` on routing: or a route (none: no escalation). */
export const RouteEscalationSchema = Type.Optional(Type.String({ minLength: 1, expected: 'the name of a policy under escalation.policies, or none' }))

type RawEscalation = Type.Static<typeof EscalationSchema>

/** EscalationConfig: the escalation: section, with the policy each route picked. */
export interface EscalationConfig {
  checkIntervalMs: number
  policies: ReadonlyMap<string, EscalationPolicy>
  /** routing.escalation: the policy of routes that say nothing (and of alerts no route takes) */
  defaultPolicy?: string
  /** routing.routes[].escalation by route name (compileRouting's names); none is kept as none */
  routePolicies: ReadonlyMap<string, string>
}

/** OnCallNames: the people and rotas a mention may name (config/oncall.ts). */
export interface OnCallNames {
  people: ReadonlyMap<string, Person>
  rotas: { has(name: string): boolean }
}

const ROTA_PREFIX = 'rota:'

function compileMention(text: string, path: string, names: OnCallNames, errors: string[]): MentionTarget | undefined {
  if (text.startsWith(ROTA_PREFIX)) {
    const rota = text.slice(ROTA_PREFIX.length)
    if (names.rotas.has(rota)) return { kind: 'rota', rota }
    errors.push(`${path}: no rota "${rota}" under rotas:`)
    return undefined
  }
  const person = names.people.get(text)
  if (person) return { kind: 'person', person }
  errors.push(`${path}: no person "${text}" under people: (a rota is written "rota:<name>")`)
  return undefined
}

function compileStep(raw: RawEscalation['policies'][string]['steps'][number], path: string, names: OnCallNames, errors: string[]): EscalationStep {
  const mention = (raw.mention ?? []).flatMap((m, i) => compileMention(m, `${path}.mention[${i}]`, names, errors) ?? [])
  if (!raw.mention && !raw.notify) errors.push(`${path}: a step needs an action: mention, notify or both`)
  const chatId = raw.notify ? Number(raw.notify.chat) : 0
  return {
    afterMs: parseDuration(raw.after)!,
    mention,
    ...(raw.notify ? { notify: { chatId, kind: chatId < 0 ? 'group' : 'private', ...(raw.notify.topic ? { threadId: raw.notify.topic } : {}) } } : {}),
    loud: raw.loud ?? false,
    ...(raw.repeat ? { repeatMs: parseDuration(raw.repeat)! } : {}),
  }
}

function compilePolicy(
  name: string,
  raw: RawEscalation['policies'][string],
  severities: SeverityScheme,
  names: OnCallNames,
  errors: string[],
): EscalationPolicy {
  const path = `escalation.policies.${name}`
  if (name === NO_ESCALATION) errors.push(`${path}: "${NO_ESCALATION}" is reserved: a route writes escalation: none to turn escalation off`)
  const steps = raw.steps.map((step, i) => compileStep(step, `${path}.steps[${i}]`, names, errors))
  steps.forEach((step, i) => {
    if (i > 0 && step.afterMs < steps[i - 1]!.afterMs)
      errors.push(`${path}.steps[${i}].after: steps are in order of after; this one comes before steps[${i - 1}] (${raw.steps[i - 1]!.after})`)
    if (step.repeatMs !== undefined && i < steps.length - 1) errors.push(`${path}.steps[${i}].repeat: only the last step may repeat`)
    if (step.repeatMs === 0) errors.push(`${path}.steps[${i}].repeat: expected a duration above 0 like "10m"`)
  })
  return { name, severities: new Set((raw.severities ?? DEFAULT_SEVERITIES).map((s) => levelOf(s, severities))), steps }
}

/**
 * compileEscalation turns `escalation:` and the routes' `escalation:` keys into EscalationConfig,
 * adding an error for every name that does not exist (people, rotas, policies).
 */
export function compileEscalation(
  raw: RawEscalation,
  routing: { escalation?: string; routes: readonly { name?: string; escalation?: string }[] },
  severities: SeverityScheme,
  names: OnCallNames,
  errors: string[],
): EscalationConfig {
  const policies = new Map(Object.entries(raw.policies).map(([name, policy]) => [name, compilePolicy(name, policy, severities, names, errors)]))
  const known = (name: string | undefined, path: string) => {
    if (name !== undefined && name !== NO_ESCALATION && !policies.has(name))
      errors.push(`${path}: no policy "${name}" under escalation.policies${policies.size ? ` (policies: ${[...policies.keys()].join(', ')})` : ''}`)
  }
  known(routing.escalation, 'routing.escalation')
  for (const [i, r] of routing.routes.entries()) known(r.escalation, `routing.routes[${i}].escalation`)
  return {
    checkIntervalMs: parseDuration(raw.check_interval)!,
    policies,
    ...(routing.escalation && routing.escalation !== NO_ESCALATION ? { defaultPolicy: routing.escalation } : {}),
    // named as compileRouting names them, so a record's route finds its policy
    routePolicies: new Map(routing.routes.flatMap((r, i) => (r.escalation === undefined ? [] : [[r.name ?? `routes[${i}]`, r.escalation] as const]))),
  }
}

/** policyOfRoute names the policy a route's alerts escalate under, if any: its own choice, else the routing default. */
export function policyOfRoute(escalation: EscalationConfig, route: string | undefined): EscalationPolicy | undefined {
  const own = route === undefined ? undefined : escalation.routePolicies.get(route)
  const name = own ?? escalation.defaultPolicy
  return name === undefined || name === NO_ESCALATION ? undefined : escalation.policies.get(name)
}
