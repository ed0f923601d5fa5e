/**
 * Periodic work: the one loop every background worker of alertwire runs on (sender lanes, the
 * update poller, the ack watcher). It starts and stops cleanly (stop waits for the run in
 * progress), backs off with jitter while the work fails, logs a failure only when it changes (a
 * long outage is one line, not thousands) and says when the work recovers. Work that one replica
 * among several must do runs only while this replica holds a lease (`exclusive`).
 */
import type { Logger } from 'pino'
import { backoffMs } from '../core/backoff.js'

/** Lock: a lease in shared storage that one replica holds at a time; it expires unless renewed (src/store/lease.ts). */
export interface Lock {
  readonly ttlMs: number
  /** acquire takes the lease if nobody holds it */
  acquire(): Promise<boolean>
  /** renew extends the lease; false when another replica holds it now */
  renew(): Promise<boolean>
  /** release gives it up, so another replica takes over at once */
  release(): Promise<void>
}

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
  /** run only while this replica holds the lock; retryMs: how often a replica without it tries to take it */
  exclusive?: { lock: Lock; retryMs: number; onChange?: (held: boolean) => void }
}

/** Work: one run; returns how long to wait before the next (undefined: the interval). The signal aborts on stop, and when the lock is lost. */
// biome-ignore lint/suspicious/noConfusingVoidType: void says the work may return nothing at all; undefined would refuse an async function without a return (Promise<void>), which most work is
export type Work = (signal: AbortSignal) => Promise<number | void>

/** RetryIn: thrown by work that already reported its failure and knows the least it must wait (a peer said so); the backoff never waits less. */
export class RetryIn extends Error {
  /** RetryIn carries the wait and the failure's description. */
  constructor(
    readonly ms: number,
    message: string,
  ) {
    super(message)
  }
}

const DEFAULT_RETRY = { initialMs: 1000, maxMs: 60_000 }
/** how often a held lock is renewed, at most (and at least three times per lifetime) */
const RENEW_MS = 10_000

/** Term: this replica's hold on the lock; its signal aborts the run in progress when the hold ends. */
interface Term {
  abort: AbortController
  signal: AbortSignal
  renew: NodeJS.Timeout
}

/** Periodic: see the file comment. */
export class Periodic {
  private loop: Promise<void> | undefined
  private abort = new AbortController()
  private wakeUp: (() => void) | undefined
  /** a wake that came while the work ran: the next wait is skipped, so what woke it is not missed */
  private wokenWhileWorking = false
  private failures = 0
  private lastError = ''
  private term: Term | undefined

  constructor(
    private readonly work: Work,
    private readonly options: PeriodicOptions,
  ) {}

  /** running tells whether start was called and stop was not. */
  get running(): boolean {
    return this.loop !== undefined && !this.abort.signal.aborted
  }

  /** start runs the work until stop. */
  start(): void {
    if (this.loop) return
    this.abort = new AbortController()
    this.wokenWhileWorking = false
    this.loop = this.run(this.abort.signal)
  }

  /** wake cuts the current wait short (new work arrived). */
  wake(): void {
    if (this.wakeUp) this.wakeUp()
    else this.wokenWhileWorking = true
  }

  /** stop aborts the wait, lets the run in progress finish, gives the lock up, and resolves when the loop ended. */
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
      const runSignal = await this.hold(signal)
      wait = runSignal ? await this.once(runSignal) : this.options.exclusive!.retryMs
    }
    await this.letGo('released')
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
      const backoff = backoffMs(++this.failures, retry.initialMs, retry.maxMs)
      const wait = error instanceof RetryIn ? Math.max(error.ms, backoff) : backoff
      const fields = { worker: name, error: message, failures: this.failures, retryInMs: wait }
      // the work reported a RetryIn itself; a repeat of the same failure is noise
      if (message === this.lastError || error instanceof RetryIn) log.debug(fields, `${name} failed again; retrying`)
      else log.warn(fields, `${name} failed; retrying with backoff`)
      this.lastError = message
      return wait
    }
  }

  /** hold returns the signal the next run works under: the stop signal, or with a lock, the hold's (undefined: another replica holds it). */
  private async hold(stop: AbortSignal): Promise<AbortSignal | undefined> {
    const exclusive = this.options.exclusive
    if (!exclusive) return stop
    if (this.term) return this.term.signal
    try {
      if (!(await exclusive.lock.acquire())) return undefined
    } catch (error) {
      this.options.log.debug({ worker: this.options.name, error: (error as Error).message }, `${this.options.name}: could not reach the lock`)
      return undefined
    }
    const abort = new AbortController()
    const renew = setInterval(
      () => {
        exclusive.lock.renew().then(
          async (held) => {
            if (!held) await this.letGo('lost')
          },
          () => undefined,
        )
      },
      Math.min(RENEW_MS, exclusive.lock.ttlMs / 3),
    )
    this.term = { abort, renew, signal: AbortSignal.any([stop, abort.signal]) }
    this.options.log.info({ worker: this.options.name }, `${this.options.name}: this replica holds the lease now`)
    exclusive.onChange?.(true)
    return this.term.signal
  }

  /** letGo ends this replica's hold: lost (another replica has it now; the run in progress is aborted) or released (stopping). */
  private async letGo(why: 'lost' | 'released'): Promise<void> {
    const term = this.term
    if (!term) return
    this.term = undefined
    clearInterval(term.renew)
    term.abort.abort()
    if (why === 'released') await this.options.exclusive!.lock.release().catch(() => undefined)
    this.options.log.info(
      { worker: this.options.name },
      why === 'lost' ? `${this.options.name}: another replica took the lease over` : `${this.options.name}: lease released`,
    )
    this.options.exclusive!.onChange?.(false)
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (this.wokenWhileWorking) {
      this.wokenWhileWorking = false
      return Promise.resolve()
    }
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
