/** Backoff: how long to wait before retrying something that failed. Pure (randomness injected). */

/** backoffMs: exponential from the initial delay, capped, with jitter so replicas do not retry in step. */
export function backoffMs(attempts: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempts - 1))
  return Math.round(base * (0.8 + 0.4 * random()))
}
