/**
 * "Ack until resolved": a silence alertwire expires itself as soon as the alerts it covers
 * resolve. Alertmanager mutes the resolve of a silenced alert, so the webhook never says; the
 * watcher asks Alertmanager which alerts are still there, and for an acknowledgement whose
 * alerts are all gone it expires the silence and marks the message resolved. One replica watches
 * at a time (a lease of its own, so it runs however updates arrive: polling or webhook).
 */
import type { Logger } from 'pino'
import { type AlertmanagerClient, isNotFound } from '../alertmanager/client.js'
import type { Metrics } from '../metrics.js'
import { type Lock, Periodic } from '../runtime/periodic.js'
import type { BotStore } from '../store/bot-store.js'
import type { DeliveryStore } from '../store/delivery-store.js'

/** AckWatcherDeps: what the watcher works with; the interval is read per check so a reload applies. */
export interface AckWatcherDeps {
  buttons: BotStore
  delivery: DeliveryStore
  alertmanager: () => AlertmanagerClient
  intervalMs: () => number
  metrics: Metrics
  log: Logger
  /** the watcher's own lease, and how often a replica without it tries to take it */
  lease: Lock
  retryMs: number
}

/** AckWatcher: see the file comment. */
export class AckWatcher {
  private readonly loop: Periodic

  constructor(private readonly deps: AckWatcherDeps) {
    this.loop = new Periodic(() => this.check(), {
      name: 'ack watcher',
      log: deps.log,
      intervalMs: deps.intervalMs,
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

  /** check expires the acknowledgements whose alerts all resolved; a failure is thrown for the loop to retry. */
  async check(): Promise<void> {
    const { buttons, delivery, log, metrics } = this.deps
    const acks = await buttons.acks()
    if (acks.length === 0) return
    const present = new Set((await this.deps.alertmanager().listAlerts({ active: true, silenced: true, inhibited: true })).map((a) => a.fingerprint))
    for (const ack of acks.filter((a) => !a.fingerprints.some((fp) => present.has(fp)))) {
      // a silence someone else expired (or Alertmanager forgot) is ended all the same
      await this.deps
        .alertmanager()
        .expireSilence(ack.silenceId)
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error
        })
      await buttons.removeAcks([ack.silenceId])
      const target = await buttons.target(ack.token)
      if (target?.kind === 'message') {
        const { silence: _ended, ...rest } = target
        await buttons.saveTarget(ack.token, rest)
      }
      const endsAt = new Date().toISOString()
      await delivery.pushNotice(ack.chat, {
        kind: 'mark',
        messageId: ack.messageId,
        silence: null,
        resolutions: (target?.kind === 'message' ? target.alerts : []).map((a) => ({ fingerprint: a.fingerprint, startsAt: a.startsAt, endsAt })),
      })
      metrics.adminActions.inc({ action: 'ack_ended', outcome: 'ok' })
      log.info({ chat: ack.chat, silence: ack.silenceId, fingerprints: ack.fingerprints }, 'acknowledged alerts resolved: silence expired')
    }
  }
}
