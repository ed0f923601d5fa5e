/**
 * Handoff notices: at each handoff of a rota that has `handoff_notice`, its chat (and topic) gets
 * "📟 On call for primary now: Alice (until Mon 09:00), next: Bob". One replica looks at a time
 * (a lease), and each handoff is claimed in Redis before it is posted (compare-and-set on the last
 * announced one), so two replicas never both post it and a restart neither repeats nor skips the
 * latest; after a long outage only the current one is said. The loop sleeps until the next
 * handoff, at most a minute (a chat override can bring one nearer).
 */
import type { Logger } from 'pino'
import type { OnCallSlice, RotaConfig } from '../config/oncall.js'
import { handoffNotice, planHandoffNotice, rotaLine } from '../core/oncall.js'
import { onCallAt } from '../core/rota.js'
import { type Lock, Periodic } from '../runtime/periodic.js'
import type { DeliveryStore } from '../store/delivery-store.js'
import type { RotaStore } from '../store/rota-store.js'

/** LOOKBACK_MS: how far back a handoff is still announced when none was yet (a week covers a weekly rota). */
const LOOKBACK_MS = 8 * 86_400_000
/** longest and shortest sleep between looks */
const MAX_WAIT_MS = 60_000
const MIN_WAIT_MS = 200

/** RotaNoticesDeps: what the notifier works with; the slice is read per look, so a reload applies. */
export interface RotaNoticesDeps {
  oncall: () => OnCallSlice
  rotas: RotaStore
  delivery: DeliveryStore
  log: Logger
  now: () => number
  lease: Lock
  retryMs: number
}

/** RotaNotices: see the file comment. */
export class RotaNotices {
  private readonly loop: Periodic

  constructor(private readonly deps: RotaNoticesDeps) {
    this.loop = new Periodic(() => this.check(), {
      name: 'handoff notices',
      log: deps.log,
      intervalMs: () => MAX_WAIT_MS,
      immediate: true,
      exclusive: { lock: deps.lease, retryMs: deps.retryMs },
    })
  }

  /** start looks at the rotas while this replica holds the lease, until stop. */
  start(): void {
    this.loop.start()
  }

  /** stop ends the looks once the one in progress is done, and hands the lease on. */
  stop(): Promise<void> {
    return this.loop.stop()
  }

  /** check announces each rota's latest handoff not yet announced; returns how long to sleep (until the nearest next handoff). */
  async check(): Promise<number> {
    const slice = this.deps.oncall()
    let wait = MAX_WAIT_MS
    for (const rota of slice.rotas.values()) {
      if (!rota.handoffNotice) continue
      const overrides = await this.deps.rotas.overrides(rota.name)
      await this.announce(rota, overrides, slice.timeZone)
      const until = onCallAt(rota, overrides, this.deps.now()).untilMs
      if (until !== undefined) wait = Math.min(wait, until - this.deps.now())
    }
    return Math.max(MIN_WAIT_MS, wait)
  }

  private async announce(rota: RotaConfig, overrides: Parameters<typeof rotaLine>[1], timeZone: string): Promise<void> {
    const { rotas, delivery, log } = this.deps
    const now = this.deps.now()
    const plan = planHandoffNotice(rota, overrides, await rotas.lastAnnounced(rota.name), now, LOOKBACK_MS)
    if (!plan.announce) return
    // claimed first: a replica that loses the race, or a restart, finds it taken and posts nothing
    if (!(await rotas.claimHandoff(rota.name, plan.atMs))) return
    const line = rotaLine(rota, overrides, now)
    const notice = handoffNotice(line, now, timeZone)
    const target = rota.handoffNotice!
    await delivery.pushNotice(target.chat, { kind: 'send', html: notice.html, plain: notice.plain, ...(target.topic ? { threadId: target.topic } : {}) })
    log.info({ rota: rota.name, chat: target.chat, handoff: new Date(plan.atMs).toISOString(), people: line.now.map((p) => p.name) }, 'handoff announced')
  }
}
