/**
 * The silence watcher: every silences.watch_interval one replica (a lease of its own) asks
 * Alertmanager which alerts are silenced, by which silences, and for each open alert message asks
 * the core (core/silence-watch.ts) what to do: mark it silenced by a silence made elsewhere, say
 * that its silence ended while its alerts still fire, or remind the chat that its silence ends
 * soon. Each change goes to the chat as a 'mark' notice, through one atomic step that refuses a
 * change when the message's state moved since it was read (store/silence-store.ts).
 * Alertmanager down: the round fails, is counted, and the loop retries with backoff, logging it
 * once (runtime/periodic.ts).
 */
import type { Logger } from 'pino'
import type { AlertmanagerClient } from '../alertmanager/client.js'
import { htmlToPlain } from '../core/html.js'
import type { MessageRecord } from '../core/delivery.js'
import { type AlertmanagerView, planSilenceWatch, reminderKeyboard, reminderText, type WatchPlan } from '../core/silence-watch.js'
import type { Metrics } from '../metrics.js'
import { type Lock, Periodic } from '../runtime/periodic.js'
import type { DeliveryStore } from '../store/delivery-store.js'
import type { OpenMessage, SilenceStore } from '../store/silence-store.js'

/** SilenceWatcherDeps: what the watcher works with; the settings are read per round so a reload applies. */
export interface SilenceWatcherDeps {
  store: SilenceStore
  delivery: DeliveryStore
  alertmanager: () => AlertmanagerClient
  settings: () => { intervalMs: number; remindBeforeMs: number; extendOptionsMs: number[]; timeZone: string }
  metrics: Metrics
  log: Logger
  lease: Lock
  retryMs: number
  /** the clock (tests may drive it) */
  now?: () => number
}

/** IDLE_MS: how often a watcher turned off (interval 0) looks whether a reload turned it on. */
const IDLE_MS = 30_000

/** SilenceWatcher: see the file comment. */
export class SilenceWatcher {
  private readonly loop: Periodic

  constructor(private readonly deps: SilenceWatcherDeps) {
    this.loop = new Periodic(() => this.round(), {
      name: 'silence watcher',
      log: deps.log,
      intervalMs: () => deps.settings().intervalMs || IDLE_MS,
      exclusive: { lock: deps.lease, retryMs: deps.retryMs },
    })
  }

  /** start watches every interval, while this replica holds the lease, until stop. */
  start(): void {
    this.loop.start()
  }

  /** stop ends the watching once the round in progress is done, and hands the lease on. */
  stop(): Promise<void> {
    return this.loop.stop()
  }

  private async round(): Promise<void> {
    if (this.deps.settings().intervalMs > 0) await this.check()
    // turned off: nobody prunes the index, so it is dropped (the sender keeps adding to it)
    else await this.deps.store.forgetAll()
  }

  /** check looks at every open alert message once; a failure to reach Alertmanager is counted and thrown for the loop to retry. */
  async check(): Promise<void> {
    const { store, delivery, metrics } = this.deps
    const open = await store.openMessages()
    if (open.length === 0) return
    const view = await this.view().catch((error: unknown) => {
      metrics.silenceWatch.inc({ outcome: 'alertmanager_down' })
      throw error
    })
    const byChat = new Map<string, OpenMessage[]>()
    for (const message of open) byChat.set(message.chat, [...(byChat.get(message.chat) ?? []), message])
    const gone: string[] = []
    for (const [chat, messages] of byChat) {
      const records = await delivery.records(
        chat,
        messages.map((m) => m.messageId),
      )
      for (const message of messages) {
        const record = records.get(message.messageId)
        if (!record || (await this.watch(chat, record, view)) === 'gone') gone.push(message.field)
      }
    }
    await store.forget(gone)
  }

  /** view reads what Alertmanager says now: its alerts with what silences them, and the silences. */
  private async view(): Promise<AlertmanagerView> {
    const am = this.deps.alertmanager()
    const [alerts, silences] = await Promise.all([am.listAlerts({ active: true, silenced: true, inhibited: true }), am.listSilences()])
    return {
      silencedBy: new Map(alerts.map((a) => [a.fingerprint, a.status.silencedBy])),
      // Alertmanager keeps expired silences for days; only the others can silence an alert
      silences: new Map(
        silences.filter((s) => s.status.state !== 'expired').map((s) => [s.id, { id: s.id, createdBy: s.createdBy, comment: s.comment, endsAt: s.endsAt }]),
      ),
    }
  }

  /** watch carries out the core's plan for one message and says what it was. */
  private async watch(chat: string, record: MessageRecord, view: AlertmanagerView): Promise<WatchPlan['kind']> {
    const { store, metrics, log } = this.deps
    const settings = this.deps.settings()
    const shown = await store.shown(chat, record.messageId, record.token, record.silence)
    const alerts = record.alerts.map((a) => ({ fingerprint: a.fingerprint, status: a.status, labels: a.labels }))
    const nowMs = this.deps.now?.() ?? Date.now()
    const plan = planSilenceWatch({ alerts, ...(shown.silence ? { shown: shown.silence } : {}) }, view, {
      nowMs,
      timeZone: settings.timeZone,
      remindBeforeMs: settings.remindBeforeMs,
    })
    const fields = { chat, message: record.messageId }
    if (plan.kind === 'mark') {
      const notice = { kind: 'mark' as const, messageId: record.messageId, silence: plan.silence, events: plan.events }
      if (await store.change(chat, shown, plan.silence, [notice])) {
        metrics.silenceWatch.inc({ outcome: plan.outcome })
        log.info(
          { ...fields, outcome: plan.outcome, silences: plan.silence?.ids ?? shown.silence?.ids, by: plan.silence?.by },
          `silence watcher: ${plan.outcome}`,
        )
      }
    } else if (plan.kind === 'remind') {
      const html = reminderText(plan.until, plan.firing, settings.timeZone)
      const keyboard = record.token ? reminderKeyboard(record.token, settings.extendOptionsMs) : undefined
      const reply = {
        kind: 'send' as const,
        html,
        plain: htmlToPlain(html),
        replyTo: record.messageId,
        ...(record.threadId ? { threadId: record.threadId } : {}),
        ...(keyboard ? { keyboard } : {}),
      }
      const mark = { kind: 'mark' as const, messageId: record.messageId, events: plan.events }
      if (await store.remindOnce(chat, plan.silenceId, plan.until, [reply, mark])) {
        metrics.silenceWatch.inc({ outcome: 'reminded' })
        log.info({ ...fields, silence: plan.silenceId, until: plan.until }, 'silence watcher: reminded the silence ends')
      }
    }
    return plan.kind
  }
}
