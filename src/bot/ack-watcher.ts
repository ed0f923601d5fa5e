/**
 * "Ack until resolved": a silence alertwire expires itself as soon as the alerts it covers
 * resolve. Alertmanager mutes the resolve of a silenced alert, so the webhook never says; the
 * watcher asks Alertmanager which alerts are still there, and for an acknowledgement whose
 * alerts are all gone it expires the silence and marks the message resolved.
 */
import type { Logger } from 'pino'
import type { AlertmanagerClient } from '../alertmanager/client.js'
import type { Metrics } from '../metrics.js'
import type { BotStore } from '../store/bot-store.js'
import type { DeliveryStore } from '../store/delivery-store.js'

/** AckWatcher: see the file comment. Started and stopped by whoever holds the polling lease. */
export class AckWatcher {
  private timer: NodeJS.Timeout | undefined
  private checking: Promise<void> | undefined
  private lastError = ''

  constructor(private readonly deps: {
    buttons: BotStore
    delivery: DeliveryStore
    alertmanager: () => AlertmanagerClient
    intervalMs: () => number
    metrics: Metrics
    log: Logger
  }) {}

  /** start checks every interval until stop. */
  start(): void {
    if (this.timer) return
    const tick = () => {
      this.checking = this.check().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.deps.intervalMs())
      })
    }
    this.timer = setTimeout(tick, this.deps.intervalMs())
  }

  /** stop ends the checks once the one in progress is done. */
  async stop(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    await this.checking
  }

  /** check expires the acknowledgements whose alerts all resolved. */
  async check(): Promise<void> {
    const { buttons, delivery, log, metrics } = this.deps
    try {
      const acks = await buttons.acks()
      if (acks.length === 0) return
      const present = new Set((await this.deps.alertmanager().listAlerts({ active: true, silenced: true, inhibited: true })).map((a) => a.fingerprint))
      for (const ack of acks.filter((a) => !a.fingerprints.some((fp) => present.has(fp)))) {
        await this.deps.alertmanager().expireSilence(ack.silenceId).catch((error: Error) => {
          if (!/not found|expired/i.test(error.message)) throw error
        })
        await buttons.removeAcks([ack.silenceId])
        const target = await buttons.target(ack.token)
        if (target?.kind === 'message') {
          const { silence: _ended, ...rest } = target
          await buttons.saveTarget(ack.token, rest)
        }
        const endsAt = new Date().toISOString()
        await delivery.pushNotice(ack.chat, { kind: 'mark', messageId: ack.messageId, silence: null, resolutions: (target?.kind === 'message' ? target.alerts : []).map((a) => ({ fingerprint: a.fingerprint, startsAt: a.startsAt, endsAt })) })
        metrics.adminActions.inc({ action: 'ack_ended', outcome: 'ok' })
        log.info({ chat: ack.chat, silence: ack.silenceId, fingerprints: ack.fingerprints }, 'acknowledged alerts resolved: silence expired')
      }
      this.lastError = ''
    } catch (error) {
      const message = (error as Error).message
      if (message !== this.lastError) log.warn({ error: message }, 'checking acknowledged alerts failed; retrying')
      this.lastError = message
    }
  }
}
