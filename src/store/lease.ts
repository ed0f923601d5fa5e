/**
 * A lease in Redis: at most one replica holds it, and it expires unless renewed, so the work it
 * guards (polling Telegram, watching acknowledgements) goes on when a replica dies. Renewing and
 * releasing compare the holder's token atomically: a replica never extends or ends a lease that
 * expired and went to another.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/** Lease: see the file comment; key comes from store/keys.ts. */
export class Lease {
  private token = ''

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    readonly ttlMs: number,
  ) {}

  /** acquire takes the lease if nobody holds it. */
  async acquire(): Promise<boolean> {
    const token = randomUUID()
    const taken = (await this.redis.set(this.key, token, 'PX', this.ttlMs, 'NX')) === 'OK'
    if (taken) this.token = token
    return taken
  }

  /** renew extends the lease; false when another replica holds it now. */
  async renew(): Promise<boolean> {
    return Number(await this.redis.eval(RENEW, 1, this.key, this.token, this.ttlMs)) === 1
  }

  /** release gives the lease up so another replica takes over at once. */
  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.token)
    this.token = ''
  }
}
