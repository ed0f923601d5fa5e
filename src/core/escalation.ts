/**
 * Escalation: what an untaken alert message's policy does next. Pure: given the policy, the
 * message's record, its escalation state, who is on call, and now, it returns a plan the
 * escalation worker carries out through one compare-and-set in Redis.
 *
 * Timing. Step 0 is due `after` from the message's first send; each later step is due its gap
 * (its `after` minus the previous step's) after the previous step actually fired; the last step,
 * when it repeats, every `repeat` after it last fired. So a late check, a restart or a park never
 * skips a step and never fires two at once: the overdue step fires at once, the later ones keep
 * their gaps from it.
 *
 * Parking. A message that is taken or silenced does not escalate; its escalation is parked and
 * looked at again every check. Released or unsilenced, it resumes where it stopped: the step that
 * came due meanwhile fires at once, later ones keep their gaps. A message whose alerts all
 * resolved stops for good, as does one whose firing alerts are of no severity the policy covers
 * any more, and a policy that ran out of steps without repeat.
 */
import type { ChatTarget, Routing } from './route.js'
import type { MessageRecord, Notice } from './delivery.js'
import type { Person, TimelineEvent } from './incident.js'
import { formatDuration } from './duration.js'
import { escapeHtml } from './html.js'
import { type AlertSnapshot, TELEGRAM_TEXT_LIMIT } from './render.js'
import { routeAlert } from './route.js'
import { mostSevere, type SeverityScheme, severityOf } from './severity.js'

/** MentionTarget: whom a step mentions: a person, or whoever is on call in a rota when the step fires. */
export type MentionTarget = { kind: 'person'; person: Person } | { kind: 'rota'; rota: string }

/** EscalationStep: a compiled step. */
export interface EscalationStep {
  /** ms after the message was first sent */
  afterMs: number
  mention: MentionTarget[]
  /** another chat (and topic) that gets the alert with a link to the original */
  notify?: ChatTarget
  /** the reply has sound even when the route is silent */
  loud: boolean
  /** the last step only: fire again every repeatMs until the message is taken, silenced or resolved */
  repeatMs?: number
}

/** EscalationPolicy: a compiled policy. */
export interface EscalationPolicy {
  name: string
  /** severity levels it applies to */
  severities: ReadonlySet<string>
  steps: EscalationStep[]
}

/** EscalationState: what Redis keeps of a message's escalation (store/escalation-store.ts). */
export interface EscalationState {
  policy: string
  /** how many times a step fired so far (a repeat counts): the compare-and-set value */
  fired: number
  /** ms: when the message was first sent */
  firstSentAt: number
  /** ms: when a step last fired */
  lastFiredAt?: number
  /** taken or silenced at the last check */
  parked?: boolean
}

/** PlannedNotice: a notice to push to a chat (its address as the sender knows it). */
export interface PlannedNotice {
  chat: string
  notice: Notice
}

/** EscalationPlan: what to do with one message's escalation now. */
export type EscalationPlan =
  | { kind: 'wait'; dueAt: number }
  | { kind: 'park'; recheckAt: number; why: 'taken' | 'silenced' }
  /** calmer: what still fires is of no severity the policy covers (its critical resolved, its warnings fire on) */
  | { kind: 'stop'; why: 'resolved' | 'calmer' | 'done' | 'gone' }
  | {
      kind: 'fire'
      /** the step's index in the policy */
      step: number
      /** when the next step (or repeat) is due; undefined: the policy is done after this one */
      nextDueAt: number | undefined
      notices: PlannedNotice[]
      /** the timeline's detail: "step 2: @alice, Bob" */
      detail: string
      /** the state once this step fired */
      state: EscalationState
    }

/** EscalationInput: everything one decision looks at. */
export interface EscalationInput {
  /** the chat the message is in (its address) */
  chat: string
  policy: EscalationPolicy | undefined
  record: MessageRecord | undefined
  state: EscalationState
  /** who is on call now in each rota the policy names (empty list: nobody) */
  onCall: ReadonlyMap<string, readonly Person[]>
  /** how soon a parked escalation is looked at again */
  recheckMs: number
  /** how severities are written (messages.severities) */
  severities: SeverityScheme
  now: number
}

/** dueAt: when the state's next step (or repeat) is due; undefined when the policy has nothing left. */
export function dueAt(policy: EscalationPolicy, state: EscalationState): number | undefined {
  const { steps } = policy
  const last = steps.length - 1
  if (state.fired === 0 || state.lastFiredAt === undefined) return state.firstSentAt + steps[0]!.afterMs
  if (state.fired <= last) return state.lastFiredAt + steps[state.fired]!.afterMs - steps[state.fired - 1]!.afterMs
  const repeatMs = steps[last]!.repeatMs
  return repeatMs === undefined ? undefined : state.lastFiredAt + repeatMs
}

/** stepIndex: the policy step the state's next firing is (the last one again once it repeats). */
export function stepIndex(policy: EscalationPolicy, fired: number): number {
  return Math.min(fired, policy.steps.length - 1)
}

function firingAlerts(record: MessageRecord): AlertSnapshot[] {
  return [...record.alerts, ...(record.digest?.unnamed ?? [])].filter((a) => a.status === 'firing')
}

/** planEscalation decides what a message's escalation does now (see the file comment). */
export function planEscalation(input: EscalationInput): EscalationPlan {
  const { policy, record, state, now } = input
  if (!policy || !record) return { kind: 'stop', why: 'gone' }
  const firing = firingAlerts(record)
  if (firing.length === 0) return { kind: 'stop', why: 'resolved' }
  if (!firing.some((a) => policy.severities.has(severityOf(a.labels, input.severities).level))) return { kind: 'stop', why: 'calmer' }
  if (record.taken) return { kind: 'park', recheckAt: now + input.recheckMs, why: 'taken' }
  if (record.silence) return { kind: 'park', recheckAt: now + input.recheckMs, why: 'silenced' }
  const due = dueAt(policy, state)
  if (due === undefined) return { kind: 'stop', why: 'done' }
  if (due > now) return { kind: 'wait', dueAt: due }
  const step = stepIndex(policy, state.fired)
  const { parked: _resumed, ...rest } = state
  const fired: EscalationState = { ...rest, fired: state.fired + 1, lastFiredAt: now }
  const told = stepNotices(input, policy.steps[step]!, step, policy.steps.length)
  const timeline: TimelineEvent = { at: new Date(now).toISOString(), kind: 'escalated', detail: `step ${step + 1}: ${told.detail}` }
  const mark: PlannedNotice = { chat: input.chat, notice: { kind: 'mark', messageId: record.messageId, events: [timeline] } }
  return { kind: 'fire', step, nextDueAt: dueAt(policy, fired), notices: [...told.notices, mark], detail: timeline.detail!, state: fired }
}

/** Mentioned: the people a step reaches, as HTML mentions by id and as the timeline writes them, and the rotas nobody covers. */
interface Mentioned {
  people: Person[]
  uncovered: string[]
}

function mentioned(targets: readonly MentionTarget[], onCall: ReadonlyMap<string, readonly Person[]>): Mentioned {
  const people: Person[] = []
  const uncovered: string[] = []
  const add = (p: Person) => {
    if (!people.some((q) => q.id === p.id)) people.push(p)
  }
  for (const target of targets) {
    if (target.kind === 'person') add(target.person)
    else {
      const now = onCall.get(target.rota) ?? []
      if (now.length === 0) uncovered.push(target.rota)
      now.forEach(add)
    }
  }
  return { people, uncovered }
}

/** mentionHtml mentions a person by id: it notifies them even without a username (they must be in the chat). */
export function mentionHtml(person: Person): string {
  return `<a href="tg://user?id=${person.id}">${escapeHtml(person.name)}</a>`
}

/** personText: how the timeline names a person: @username when known, else the name. */
export function personText(person: Person): string {
  return person.username ? `@${person.username}` : person.name
}

/** alertTitle: what a step's text calls the message's alerts: the most severe one's name, and how many more. */
function alertTitle(record: MessageRecord): string {
  const alerts: AlertSnapshot[] = [...record.alerts, ...(record.digest?.unnamed ?? [])].filter((a) => a.status === 'firing')
  const first = alerts[0]
  const name = first?.labels.alertname ?? 'alert'
  return alerts.length > 1 ? `${name} and ${alerts.length - 1} more` : name
}

/** messageLink: a link to a message in a supergroup or channel (t.me/c/<id>/<message>); none for other chats, which have no links. */
export function messageLink(chat: string, messageId: number, threadId?: number): string | undefined {
  if (chat.startsWith('@')) return `https://t.me/${chat.slice(1)}/${messageId}`
  const internal = /^-100([0-9]+)$/.exec(chat)?.[1]
  if (!internal) return undefined
  return threadId ? `https://t.me/c/${internal}/${threadId}/${messageId}` : `https://t.me/c/${internal}/${messageId}`
}

function limit(html: string, plain: string): { html: string; plain: string } {
  // names come from the config and alertnames are short; a huge list is cut to what Telegram takes
  return html.length <= TELEGRAM_TEXT_LIMIT
    ? { html, plain }
    : { html: escapeHtml(plain.slice(0, TELEGRAM_TEXT_LIMIT - 1)), plain: plain.slice(0, TELEGRAM_TEXT_LIMIT - 1) }
}

/** stepNotices: the reply on the alert message (mentions) and the copy to another chat (notify) of one step. */
function stepNotices(input: EscalationInput, step: EscalationStep, index: number, count: number): { notices: PlannedNotice[]; detail: string } {
  const record = input.record!
  const { people, uncovered } = mentioned(step.mention, input.onCall)
  const nobody = uncovered.map((rota) => `nobody is on call in ${rota}`)
  const title = alertTitle(record)
  const what = `🚨 Escalation, step ${index + 1} of ${count}: ${title} is not taken yet.`
  const whoHtml = [...people.map(mentionHtml), ...nobody.map(escapeHtml)].join(', ')
  const whoPlain = [...people.map((p) => p.name), ...nobody].join(', ')
  const notices: PlannedNotice[] = []
  // loud: this reply has sound even when the route is silent; otherwise it is as loud as the alert was
  const silent = step.loud ? false : record.silent
  if (step.mention.length > 0) {
    const text = limit(`${escapeHtml(what)}\n${whoHtml}`, `${what}\n${whoPlain}`)
    notices.push({
      chat: input.chat,
      notice: { kind: 'send', ...text, replyTo: record.messageId, ...(record.threadId ? { threadId: record.threadId } : {}), silent },
    })
  }
  if (step.notify) notices.push(copyNotice(input, step.notify, title, whoHtml, whoPlain, silent))
  const detail = [...people.map(personText), ...nobody, ...(step.notify ? [`copy to ${step.notify.chatId}`] : [])].join(', ')
  return { notices, detail }
}

/** copyNotice: the alert told in another chat, with a link to the original message, saying nobody took it. */
function copyNotice(input: EscalationInput, to: ChatTarget, title: string, whoHtml: string, whoPlain: string, silent: boolean): PlannedNotice {
  const record = input.record!
  const head = `🚨 ${title} has fired for ${formatDuration(Math.round((input.now - input.state.firstSentAt) / 1000) * 1000)} in chat ${input.chat} and nobody took it.`
  const link = messageLink(input.chat, record.messageId, record.threadId)
  const html = `${escapeHtml(head)}${link ? `\n<a href="${escapeHtml(link)}">Open the alert</a>` : ''}${whoHtml ? `\n${whoHtml}` : ''}`
  const plain = `${head}${link ? `\nOpen the alert: ${link}` : ''}${whoPlain ? `\n${whoPlain}` : ''}`
  return { chat: String(to.chatId), notice: { kind: 'send', ...limit(html, plain), ...(to.threadId ? { threadId: to.threadId } : {}), silent } }
}

/** PolicyChoice: the policy a message escalates under, and why none when none. */
export type PolicyChoice = { policy: EscalationPolicy } | { none: string }

/** PolicyLookup: the escalation config as the choice reads it (config/escalation.ts policyOfRoute). */
export type PolicyLookup = (route: string | undefined) => EscalationPolicy | undefined

/**
 * choosePolicy picks the policy a newly sent message escalates under. A message escalates under
 * its route's policy when its most severe firing alert is of a severity the policy covers. A storm
 * digest holds alerts of several routes: it escalates under the policy of its most severe alert's
 * route in this chat (routed again by its labels), so a critical folded into a digest still pages.
 * A digest in several parts escalates once, from its first part: digests name the most severe
 * alerts first, so that part holds them.
 */
export function choosePolicy(record: MessageRecord, chat: string, lookup: PolicyLookup, routing: Routing, scheme: SeverityScheme): PolicyChoice {
  if (record.digest && record.part > 1) return { none: 'a later part of a digest: its first part escalates for the round' }
  const firing = [...record.alerts, ...(record.digest?.unnamed ?? [])].filter((a) => a.status === 'firing')
  if (firing.length === 0) return { none: 'nothing fires' }
  const worst = mostSevere(
    firing.map((a) => a.labels),
    scheme,
  )
  const alert = firing.find((a) => mostSevere([a.labels], scheme).rank === worst.rank)!
  const route = record.digest ? routeIn(routing, alert, chat, record.threadId) : record.route
  const policy = lookup(route)
  if (!policy) return { none: `route ${route ?? 'default'} has no escalation policy` }
  if (!policy.severities.has(worst.level)) return { none: `${worst.level || 'no severity'} is not among ${policy.name}'s severities` }
  return { policy }
}

function routeIn(routing: Routing, alert: AlertSnapshot, chat: string, threadId: number | undefined): string | undefined {
  const targets = routeAlert(routing, alert.labels)
  const here = targets.find((t) => String(t.chat.chatId) === chat && (t.chat.threadId ?? 0) === (threadId ?? 0))
  return (here ?? targets[0])?.route
}

/** describePolicy writes a policy step by step for check-config and route-test ("0m mention rota primary (now: Alice); 5m …"). */
export function describePolicy(policy: EscalationPolicy, onCall: ReadonlyMap<string, readonly Person[]>, duration: (ms: number) => string): string {
  const steps = policy.steps.map((step) => {
    const parts = step.mention.map((m) =>
      m.kind === 'person'
        ? `mention ${personText(m.person)}`
        : `mention rota ${m.rota} (now: ${(onCall.get(m.rota) ?? []).map((p) => p.name).join(', ') || 'nobody'})`,
    )
    if (step.notify) parts.push(`notify chat ${step.notify.chatId}${step.notify.threadId ? ` topic ${step.notify.threadId}` : ''}`)
    if (step.loud) parts.push('loud')
    if (step.repeatMs !== undefined) parts.push(`repeat every ${duration(step.repeatMs)}`)
    return `${step.afterMs === 0 ? '0m' : duration(step.afterMs)} ${parts.join(', ')}`
  })
  return `escalation ${policy.name} (${[...policy.severities].join(', ')}): ${steps.join('; ')}`
}
