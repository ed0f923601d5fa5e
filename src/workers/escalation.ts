/**
 * The escalation watcher, a thin executor. One replica at a time (a lease of its own), every
 * escalation.check_interval, it takes the escalations that are due, reads their messages' records
 * and who is on call, asks the core what each does now (core/escalation.ts) and carries that out
 * with one compare-and-set per message (store/escalation-store.ts): the step's notices go to the
 * chats' notice lists, so each chat's own sender says them at its pace, and the message's timeline
 * learns the step through a 'mark' notice.
 */
import type { Logger } from 'pino'
import type { EscalationConfig } from '../config/escalation.js'
import type { OnCallConfig } from '../config/oncall.js'
import { type EscalationPlan, type EscalationPolicy, type EscalationState, planEscalation } from '../core/escalation.js'
import type { Person } from '../core/incident.js'
import { markedAhead, type MessageRecord } from '../core/delivery.js'
import { onCallAt } from '../core/rota.js'
import type { SeverityScheme } from '../core/severity.js'
import type { Metrics } from '../metrics.js'
import { type Lock, Periodic } from '../runtime/periodic.js'
import type { DeliveryStore } from '../store/delivery-store.js'
import type { DueEscalation, EscalationStore } from '../store/escalation-store.js'
import type { RotaStore } from '../store/rota-store.js'

/** MAX_PER_CHECK: escalations one check takes (the rest are due still and wait for the next). */
const MAX_PER_CHECK = 200

/** EscalationSlice: what the watcher reads of the config (read per check, so a reload applies). */
export interface EscalationSlice {
  escalation: EscalationConfig
  oncall: OnCallConfig
  severities: SeverityScheme
}

/** EscalationWatcherDeps: what the watcher works with. */
export interface EscalationWatcherDeps {
  store: EscalationStore
  delivery: DeliveryStore
  rotas: RotaStore
  config: () => EscalationSlice
  metrics: Metrics
  log: Logger
  /** the watcher's own lease, and how often a replica without it tries to take it */
  lease: Lock
  retryMs: number
  now?: () => number
}

/** EscalationWatcher: see the file comment. */
export class EscalationWatcher {
  private readonly loop: Periodic
  private readonly now: () => number

  constructor(private readonly deps: EscalationWatcherDeps) {
    this.now = deps.now ?? Date.now
    this.loop = new Periodic(() => this.check(), {
      name: 'escalation watcher',
      log: deps.log,
      intervalMs: () => deps.config().escalation.checkIntervalMs,
      exclusive: { lock: deps.lease, retryMs: deps.retryMs },
    })
  }

  /** start checks every interval, while this replica holds the lease, until stop. */
  start(): void {
    this.loop.start()
  }

  /** stop ends the checks once the one in progress is done, and hands the lease on. */
  stop(): Promise<void> {
    return this.loop.stop()
  }

  /** check carries out every escalation that is due; a failure is thrown for the loop to retry (nothing is half done: each message is one script). */
  async check(): Promise<void> {
    const { store, delivery } = this.deps
    const now = this.now()
    const due = await store.due(now, MAX_PER_CHECK)
    if (due.length === 0) return
    const records = new Map<string, Map<number, MessageRecord>>()
    for (const chat of new Set(due.map((d) => d.chat))) {
      const found = await delivery.records(
        chat,
        due.filter((d) => d.chat === chat).map((d) => d.messageId),
      )
      // a take (or silence) pressed but not yet said in the chat, which is paced, already stops the next step
      const waiting = await delivery.waitingNotices(chat)
      records.set(chat, new Map([...found].map(([id, record]) => [id, markedAhead(record, waiting)])))
    }
    const config = this.deps.config()
    // who is on call is read once per rota per check, however many messages name it
    const seen = new Map<string, Person[]>()
    for (const entry of due) {
      if (!entry.state) {
        await store.drop(entry.member)
        continue
      }
      const policy = config.escalation.policies.get(entry.state.policy)
      const onCall = await this.onCall(policy, config.oncall, now, seen)
      const record = records.get(entry.chat)?.get(entry.messageId)
      const { checkIntervalMs } = config.escalation
      const input = { chat: entry.chat, policy, record, state: entry.state, onCall, recheckMs: checkIntervalMs, severities: config.severities, now }
      await this.carryOut(entry, entry.state, planEscalation(input))
    }
  }

  /** onCall: who is on call now in each rota the policy names (overrides from the chat included). */
  private async onCall(policy: EscalationPolicy | undefined, oncall: OnCallConfig, now: number, seen: Map<string, Person[]>): Promise<Map<string, Person[]>> {
    const names = new Set((policy?.steps ?? []).flatMap((s) => s.mention.flatMap((m) => (m.kind === 'rota' ? [m.rota] : []))))
    const found = new Map<string, Person[]>()
    for (const name of names) {
      const rota = oncall.rotas.get(name)
      if (!seen.has(name)) seen.set(name, rota ? onCallAt(rota, await this.deps.rotas.overrides(name), now).people : [])
      found.set(name, seen.get(name)!)
    }
    return found
  }

  /** carryOut applies one plan with one compare-and-set; a plan another run already applied changes nothing. */
  private async carryOut(entry: DueEscalation, state: EscalationState, plan: EscalationPlan): Promise<void> {
    const { store, metrics, log } = this.deps
    const where = { chat: entry.chat, messageId: entry.messageId, policy: state.policy }
    if (plan.kind === 'wait') {
      await store.advance(entry.chat, entry.messageId, { expected: state.fired, next: { state, dueAt: plan.dueAt }, notices: [] })
    } else if (plan.kind === 'park') {
      const parked = { ...state, parked: true }
      await store.advance(entry.chat, entry.messageId, { expected: state.fired, next: { state: parked, dueAt: plan.recheckAt }, notices: [] })
      if (!state.parked) log.info({ ...where, why: plan.why }, 'escalation parked: the message is taken or silenced')
    } else if (plan.kind === 'stop') {
      await store.advance(entry.chat, entry.messageId, { expected: state.fired, next: undefined, notices: [] })
      log.info({ ...where, why: plan.why }, 'escalation ended')
    } else {
      const next = plan.nextDueAt === undefined ? undefined : { state: plan.state, dueAt: plan.nextDueAt }
      if (!(await store.advance(entry.chat, entry.messageId, { expected: state.fired, next, notices: plan.notices }))) return
      metrics.escalations.inc({ policy: state.policy, step: String(plan.step + 1) })
      log.info({ ...where, step: plan.step + 1, detail: plan.detail }, 'escalated: nobody took the alert yet')
    }
  }
}
