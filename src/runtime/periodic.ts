/**
 * Periodic work: the one loop every background worker of alertwire runs on (sender lanes, the
 * update poller, the ack watcher). It starts and stops cleanly (stop waits for the run in
 * progress), backs off with jitter while the work fails, logs a failure only when it changes (a
 * long outage is one line, not thousands) and says when the work recovers.
 */
import type { Logger } from 'pino'
import { backoffMs } from '../core/backoff.js'

/** PeriodicOptions: how one periodic worker waits, retries and reports. */
export interface PeriodicOptions {
  /** what the logs call this worker */
  name: string
  log: Logger
  /** wait between runs when the work does not say (read at each run, so a config reload applies) */
  intervalMs: () => number
  /** backoff while the work fails */
  retry?: { initialMs: number; maxMs: number }
  /** run at once on start, instead of after the first interval */
  immediate?: boolean
}

/** Work: one run; returns how long to wait before the next (undefined: the interval). The signal aborts on stop. */
export type Work = (signal: AbortSignal) => Promise<number | void>

const DEFAULT_RETRY = { initialMs: 1000, maxMs: 60_000 }

/** Periodic: see the file comment. */
export class Periodic {
  private loop: Promise<void> | undefined
  private abort = new AbortController()
  private wakeUp: (() => void) | undefined
  private failures = 0
  private lastError = ''

  constructor(private readonly work: Work, private readonly options: PeriodicOptions) {}

  /** running tells whether start was called and stop was not. */
  get running(): boolean {
    return this.loop !== undefined && !this.abort.signal.aborted
  }

  /** start runs the work until stop. */
  start(): void {
    if (this.loop) return
    this.abort = new AbortController()
    this.loop = this.run(this.abort.signal)
  }

  /** wake cuts the current wait short (new work arrived). */
  wake(): void {
    this.wakeUp?.()
  }

  /** stop aborts the wait, lets the run in progress finish, and resolves when the loop ended. */
  async stop(): Promise<void> {
    this.abort.abort()
    this.wake()
    await this.loop
    this.loop = undefined
  }

  private async run(signal: AbortSignal): Promise<void> {
    let wait = this.options.immediate ? 0 : this.options.intervalMs()
    while (!signal.aborted) {
      if (wait > 0) await this.sleep(wait, signal)
      if (signal.aborted) break
      wait = await this.once(signal)
    }
  }

  /** once runs the work one time and returns the wait before the next run. */
  private async once(signal: AbortSignal): Promise<number> {
    const { log, name } = this.options
    try {
      const next = await this.work(signal)
      if (this.failures > 0) log.info({ worker: name, failures: this.failures }, `${name}: working again`)
      this.failures = 0
      this.lastError = ''
      return next ?? this.options.intervalMs()
    } catch (error) {
      if (signal.aborted) return 0
      const message = error instanceof Error ? error.message : String(error)
      const retry = this.options.retry ?? DEFAULT_RETRY
      const wait = backoffMs(++this.failures, retry.initialMs, retry.maxMs)
      const fields = { worker: name, error: message, failures: this.failures, retryInMs: wait }
      if (message === this.lastError) log.debug(fields, `${name} failed again; retrying`)
      else log.warn(fields, `${name} failed; retrying with backoff`)
      this.lastError = message
      return wait
    }
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.wakeUp = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
      this.wakeUp = done
    })
  }
}
