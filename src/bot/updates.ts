/**
 * How updates reach the bot. Polling: exactly one replica holds a lease in Redis (with expiry and
 * takeover) and long-polls Telegram, going on from the offset stored in Redis, so a replica that
 * dies is replaced within the lease and nothing is handled twice that was confirmed. A 409 from
 * Telegram (another poller, or a webhook still set) is handled with backoff, never looped on.
 * Webhook: Telegram posts updates to alertwire, which checks the secret header on each one.
 * The lease also runs the ack watcher (in webhook mode it is held for that alone): one replica checks, not all.
 */
import { randomUUID } from 'node:crypto'
import { TelegramApiError } from 'node-telegram-bot-api'
import Value from 'typebox/value'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'
import type { BotStore } from '../store/bot-store.js'
import type { TelegramBotApi } from '../telegram/client.js'
import type { AckWatcher } from './ack-watcher.js'
import type { BotHandlers } from './handlers.js'
import { type BotUpdate, BotUpdateSchema } from './update-schema.js'

const LEASE_MS = 30_000
const RENEW_MS = 10_000
const LONG_POLL_SECONDS = 25
const MAX_BACKOFF_MS = 300_000

/** PollerOptions: how often a replica without the lease tries to take it (sooner in tests). */
export interface PollerOptions {
  leaseMs?: number
  retryMs?: number
}

/** UpdatePoller: see the file comment. */
export class UpdatePoller {
  private running = false
  private loop: Promise<void> | undefined
  private abort = new AbortController()
  private readonly leaseMs: number
  private readonly retryMs: number

  constructor(
    private readonly deps: { api: TelegramBotApi; buttons: BotStore; handlers: BotHandlers; acks: AckWatcher; metrics: Metrics; log: Logger; poll: boolean },
    options: PollerOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? LEASE_MS
    this.retryMs = options.retryMs ?? 5000
  }

  /** start runs the lease loop in the background. */
  start(): void {
    this.running = true
    this.loop = this.run()
  }

  /** stop ends polling (the long poll in progress is aborted) and hands the lease on. */
  async stop(): Promise<void> {
    this.running = false
    this.abort.abort()
    await this.loop
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.abort.signal.addEventListener('abort', () => {
        clearTimeout(timer)
        resolve()
      }, { once: true })
    })
  }

  private async run(): Promise<void> {
    const { buttons, log } = this.deps
    while (this.running) {
      const token = randomUUID()
      let held = false
      let wait = this.retryMs
      try {
        held = await buttons.acquirePoller(token, this.leaseMs)
      } catch (error) {
        log.debug({ error: (error as Error).message }, 'could not reach Redis for the polling lease')
        wait = Math.min(wait, 1000)
      }
      if (held) await this.lead(token)
      else await this.sleep(wait)
    }
  }

  /** lead polls while this replica holds the lease. */
  private async lead(token: string): Promise<void> {
    const { buttons, log, metrics, acks, poll } = this.deps
    log.info(poll ? 'this replica now polls Telegram for updates' : 'this replica now watches acknowledgements')
    metrics.botPolling.set(poll ? 1 : 0)
    let lost = false
    const renew = setInterval(() => {
      buttons.renewPoller(token, this.leaseMs).then((ok) => {
        if (!ok) lost = true
      }, () => undefined)
    }, Math.min(RENEW_MS, this.leaseMs / 3))
    acks.start()
    try {
      let backoff = 0
      while (this.running && !lost) {
        // with a webhook, the lease only decides who watches acknowledgements
        const failure = poll ? await this.pollOnce() : (await this.sleep(this.retryMs), 0)
        backoff = failure ? Math.min(MAX_BACKOFF_MS, Math.max(failure, backoff * 2)) : 0
        if (backoff > 0) await this.sleep(backoff)
      }
    } finally {
      clearInterval(renew)
      await acks.stop()
      metrics.botPolling.set(0)
      await buttons.releasePoller(token).catch(() => undefined)
      log.info(lost ? 'another replica took over polling' : 'stopped polling Telegram')
    }
  }

  private lastProblem = ''

  /** pollOnce fetches and handles one batch of updates; returns how long to back off (0: go on). */
  private async pollOnce(): Promise<number> {
    const { api, buttons, handlers, log } = this.deps
    let raw: unknown[]
    try {
      raw = await api.getUpdates(await buttons.updateOffset(), LONG_POLL_SECONDS, this.abort.signal)
    } catch (error) {
      if (this.abort.signal.aborted) return 0
      return this.onPollError(error)
    }
    this.lastProblem = ''
    for (const update of raw) {
      const id = (update as { update_id?: unknown }).update_id
      if (Value.Check(BotUpdateSchema, update)) await handlers.handle(update as BotUpdate, 'polling')
      else log.warn({ update: id }, 'ignored an update of unexpected shape')
      if (typeof id === 'number') await buttons.setUpdateOffset(id + 1)
    }
    return 0
  }

  private async onPollError(error: unknown): Promise<number> {
    const { api, log } = this.deps
    const description = error instanceof Error ? error.message : String(error)
    const problem = (message: string, wait: number) => {
      if (this.lastProblem !== description) log.warn({ error: description, retryInMs: wait }, message)
      this.lastProblem = description
      return wait
    }
    if (error instanceof TelegramApiError && error.errorCode === 409) {
      if (/webhook/i.test(error.description)) {
        // a webhook left from an earlier webhook-mode run: polling is what the config asks for now
        await api.deleteWebhook().catch(() => undefined)
        return problem('a Telegram webhook was still set; deleted it to poll instead', 1000)
      }
      return problem('another process polls this bot (Telegram answered 409); backing off', 30_000)
    }
    if (error instanceof TelegramApiError && error.errorCode === 429) return problem('Telegram asked to slow down polling', (error.retryAfter ?? 5) * 1000)
    if (error instanceof TelegramApiError && (error.errorCode === 401 || error.errorCode === 404)) return problem('Telegram refuses the bot token; commands and buttons wait until it is fixed', 60_000)
    return problem('polling Telegram failed; retrying', 2000)
  }
}
