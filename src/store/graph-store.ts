/**
 * GraphStore: the Redis side of graphs in the chat: each chat's list of graphs waiting for its
 * turn (core/photos.ts), the drawn pictures (kept briefly, beside the list, so a list entry stays
 * small), and the mark that a chat is in a storm (its graphs are skipped, not drawn). Keys come
 * from keys.ts; queuing a graph makes the chat due with the same script as the bot's notices.
 */
import type { Redis } from 'ioredis'
import type { PhotoJob } from '../core/photos.js'
import { keysFor, type Keys } from './keys.js'
import { PUSH_NOTICE } from './scripts.js'

type PushScript = (...args: (string | number)[]) => Promise<unknown>

/** GraphStore: see the file comment. */
export class GraphStore {
  readonly keys: Keys
  private readonly redis: Redis & { awPushPhoto: PushScript }

  constructor(redis: Redis, prefix: string) {
    this.keys = keysFor(prefix)
    this.redis = redis as Redis & { awPushPhoto: PushScript }
    if (!('awPushPhoto' in redis)) redis.defineCommand('awPushPhoto', { lua: PUSH_NOTICE, numberOfKeys: 4 })
  }

  /** queuePhoto keeps the picture (ttlMs) and puts the graph at the end of its chat's list, making the chat due; false for a chat that moved. */
  async queuePhoto(chat: string, job: PhotoJob, png: Buffer | undefined, ttlMs: number): Promise<boolean> {
    const k = this.keys
    if (png) await this.redis.set(k.graphPng(job.id), png, 'PX', ttlMs)
    const pushed = (await this.redis.awPushPhoto(k.photos(chat), k.due, k.pace, k.chatmap, chat, JSON.stringify(job))) === 1
    // the list lives as long as its pictures: graphs never outlive their use
    if (pushed) await this.redis.pexpire(k.photos(chat), ttlMs)
    return pushed
  }

  /** png reads a drawn picture while it is kept. */
  async png(id: string): Promise<Buffer | undefined> {
    return (await this.redis.getBuffer(this.keys.graphPng(id))) ?? undefined
  }

  /** storm drops a chat's waiting graphs and marks it for ttlMs (graphs asked for meanwhile are not drawn); returns how many were dropped. */
  async storm(chat: string, ttlMs: number): Promise<number> {
    const [[, dropped]] = (await this.redis
      .multi()
      .llen(this.keys.photos(chat))
      .del(this.keys.photos(chat))
      .set(this.keys.graphStorm(chat), '1', 'PX', Math.max(1, Math.ceil(ttlMs)))
      .exec()) as [[null, number], ...unknown[]]
    return Number(dropped)
  }

  /** inStorm: the chat folded alerts into digests within the storm mark's time. */
  async inStorm(chat: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.graphStorm(chat))) === 1
  }
}
