/**
 * RotaStore: the Redis side of rotas: the overrides made from the chat (/oncall @bob 8h), per
 * rota, shared by every replica, and the last handoff each rota's notice announced. Overrides live
 * in a sorted set scored by their end, so the ones that ended are pruned with one range removal on
 * every read and write; each carries when it was made, because the latest made wins where
 * overrides overlap. Keys come from keys.ts.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { RotaOverride } from '../core/rota.js'
import { keysFor, type Keys } from './keys.js'

/** StoredOverride: an override as kept: when it was made orders it, the id keeps two alike apart. */
interface StoredOverride extends RotaOverride {
  madeMs: number
  id: string
}

// compare-and-set: a handoff is announced once, and never one older than the last announced
const CLAIM_HANDOFF = `
local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
if tonumber(ARGV[2]) > last then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1 end
return 0`

type ClaimScript = (key: string, rota: string, atMs: number) => Promise<number>

/** RotaStore: see the file comment. */
export class RotaStore {
  readonly keys: Keys
  private readonly redis: Redis & { awClaimHandoff: ClaimScript }

  constructor(
    redis: Redis,
    prefix: string,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = keysFor(prefix)
    this.redis = redis as Redis & { awClaimHandoff: ClaimScript }
    if (!('awClaimHandoff' in redis)) redis.defineCommand('awClaimHandoff', { lua: CLAIM_HANDOFF, numberOfKeys: 1 })
  }

  /** overrides: the rota's overrides from the chat that have not ended, in the order they were made (the last made wins). */
  async overrides(rota: string): Promise<RotaOverride[]> {
    const key = this.keys.rotaOverrides(rota)
    const [, [, members]] = (await this.redis.multi().zremrangebyscore(key, '-inf', String(this.now())).zrange(key, '0', '-1').exec()) as [
      unknown,
      [unknown, string[]],
    ]
    return members
      .map((member) => JSON.parse(member) as StoredOverride)
      .sort((a, b) => a.madeMs - b.madeMs)
      .map(({ madeMs: _made, id: _id, ...override }) => override)
  }

  /** addOverride keeps an override made now (it wins over those made before it), pruning the ended ones. */
  async addOverride(rota: string, override: RotaOverride): Promise<void> {
    const key = this.keys.rotaOverrides(rota)
    const now = this.now()
    const stored: StoredOverride = { ...override, madeMs: now, id: randomUUID() }
    await this.redis.multi().zremrangebyscore(key, '-inf', String(now)).zadd(key, String(override.untilMs), JSON.stringify(stored)).exec()
  }

  /** claimHandoff records a rota's handoff as announced; false when it (or a later one) was announced already. */
  async claimHandoff(rota: string, atMs: number): Promise<boolean> {
    return (await this.redis.awClaimHandoff(this.keys.rotaAnnounced, rota, atMs)) === 1
  }

  /** lastAnnounced: the instant of the last handoff announced for a rota, if any. */
  async lastAnnounced(rota: string): Promise<number | undefined> {
    const value = await this.redis.hget(this.keys.rotaAnnounced, rota)
    return value === null ? undefined : Number(value)
  }
}
