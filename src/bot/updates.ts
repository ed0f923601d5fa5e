/**
 * Updates by polling: exactly one replica holds a lease in Redis (with expiry and takeover) and
 * long-polls Telegram, going on from the offset stored in Redis, so a replica that dies is replaced
 * within the lease and nothing is handled twice that was confirmed. A 409 from Telegram (another
 * poller, or a webhook still set) is handled with backoff, never looped on. (Updates by webhook:
 * receiver/telegram-updates.ts.)
 */
import Value from 'typebox/value'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'
import { type Lock, Periodic, RetryIn } from '../runtime/periodic.js'
import type { BotStore } from '../store/bot-store.js'
import type { TelegramBotApi } from '../telegram/client.js'
import { classifyTelegramError } from '../telegram/errors.js'
import type { BotHandlers } from './handlers.js'
import { type BotUpdate, BotUpdateSchema } from './update-schema.js'

const LONG_POLL_SECONDS = 25
const MAX_BACKOFF_MS = 300_000

/** PollerDeps: what the poller works with. */
export interface PollerDeps {
  api: TelegramBotApi
  /** where polling goes on from */
  offsets: Pick<BotStore, 'updateOffset' | 'setUpdateOffset'>
  handlers: BotHandlers
  metrics: Metrics
  log: Logger
  /** the polling lease, and how often a replica without it tries to take it */
  lease: Lock
  retryMs: number
}

/** UpdatePoller: see the file comment. */
export class UpdatePoller {
  private readonly loop: Periodic
  private lastProblem = ''

  constructor(private readonly deps: PollerDeps) {
    this.loop = new Periodic((signal) => this.pollOnce(signal), {
      name: 'update poller',
      log: deps.log,
      // the next long poll starts as soon as a batch is handled
      intervalMs: () => 0,
      immediate: true,
      retry: { initialMs: 1000, maxMs: MAX_BACKOFF_MS },
      exclusive: { lock: deps.lease, retryMs: deps.retryMs, onChange: (held) => deps.metrics.botPolling.set(held ? 1 : 0) },
    })
  }

  /** start polls, while this replica holds the lease, until stop. */
  start(): void {
    this.loop.start()
  }

  /** stop ends polling (the long poll in progress is aborted) and hands the lease on. */
  stop(): Promise<void> {
    return this.loop.stop()
  }

  /** pollOnce fetches and handles one batch of updates; a failure is reported and thrown with the wait it needs. */
  private async pollOnce(signal: AbortSignal): Promise<number> {
    const { api, offsets, handlers, log } = this.deps
    let raw: unknown[]
    try {
      raw = await api.getUpdates(await offsets.updateOffset(), LONG_POLL_SECONDS, signal)
    } catch (error) {
      if (signal.aborted) return 0
      throw new RetryIn(await this.onPollError(error), error instanceof Error ? error.message : String(error))
    }
    this.lastProblem = ''
    for (const update of raw) {
      const id = (update as { update_id?: unknown }).update_id
      if (Value.Check(BotUpdateSchema, update)) await handlers.handle(update as BotUpdate, 'polling')
      else log.warn({ update: id }, 'ignored an update of unexpected shape')
      if (typeof id === 'number') await offsets.setUpdateOffset(id + 1)
    }
    return 0
  }

  private async onPollError(error: unknown): Promise<number> {
    const { api, log } = this.deps
    const failure = classifyTelegramError(error)
    const problem = (message: string, wait: number) => {
      if (this.lastProblem !== failure.description) log.warn({ error: failure.description, retryInMs: wait }, message)
      this.lastProblem = failure.description
      return wait
    }
    if (failure.kind === 'conflict' && failure.webhookSet) {
      // a webhook left from an earlier webhook-mode run: polling is what the config asks for now
      await api.deleteWebhook().catch(() => undefined)
      return problem('a Telegram webhook was still set; deleted it to poll instead', 1000)
    }
    if (failure.kind === 'conflict') return problem('another process polls this bot (Telegram answered 409); backing off', 30_000)
    if (failure.kind === 'rate_limited') return problem('Telegram asked to slow down polling', failure.retryAfterMs)
    if (failure.kind === 'misconfigured') return problem('Telegram refuses the bot token; commands and buttons wait until it is fixed', 60_000)
    return problem('polling Telegram failed; retrying', 2000)
  }
}
