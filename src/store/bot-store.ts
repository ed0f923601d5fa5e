/**
 * The bot's state in Redis: what each button acts on (behind an unguessable token, with a TTL),
 * acknowledgements waiting for their alerts to resolve, Telegram membership answers (cached),
 * and how far polling got. (The polling lease: store/lease.ts.)
 */
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { SilenceMark } from '../core/render.js'
import type { MessageTarget } from './delivery-store.js'
import { keysFor, type Keys } from './keys.js'

/** AlertRef: an alert a button acts on. */
export interface AlertRef {
  fingerprint: string
  startsAt: string
  labels: Record<string, string>
}

/** ButtonTarget: what a token stands for. */
export type ButtonTarget =
  | (MessageTarget & { silence?: SilenceMark })
  /** a page of /alerts: its buttons silence one alert each */
  | { kind: 'alerts'; chat: string; alerts: AlertRef[]; page: number }
  /** a page of /silences: its buttons expire one silence each */
  | { kind: 'silences'; chat: string; silences: { id: string; text: string }[]; page: number }

/** Ack: a silence that lasts until the alerts it covers resolve. */
export interface Ack {
  silenceId: string
  chat: string
  messageId: number
  token: string
  fingerprints: string[]
}

const MEMBER_CACHE_MS = 300_000

/** BotStore: see the file comment. */
export class BotStore {
  readonly keys: Keys

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly ttlMs: number,
  ) {
    this.keys = keysFor(prefix)
  }

  /** newToken makes an unguessable token. */
  static newToken(): string {
    return randomBytes(16).toString('base64url')
  }

  /** target reads what a token stands for (undefined: unknown or expired). */
  async target(token: string): Promise<ButtonTarget | undefined> {
    const raw = await this.redis.get(this.keys.button(token))
    return raw ? (JSON.parse(raw) as ButtonTarget) : undefined
  }

  /** saveTarget stores what a token stands for, for ttlMs (default: the state TTL). */
  async saveTarget(token: string, target: ButtonTarget, ttlMs = this.ttlMs): Promise<void> {
    await this.redis.set(this.keys.button(token), JSON.stringify(target), 'PX', ttlMs)
  }

  /** addAck remembers an acknowledgement until its alerts resolve. */
  async addAck(ack: Ack): Promise<void> {
    await this.redis.hset(this.keys.acks, ack.silenceId, JSON.stringify(ack))
  }

  /** acks lists the acknowledgements waiting for their alerts to resolve. */
  async acks(): Promise<Ack[]> {
    return Object.values(await this.redis.hgetall(this.keys.acks)).map((raw) => JSON.parse(raw) as Ack)
  }

  /** removeAcks forgets acknowledgements (their silences ended). */
  async removeAcks(silenceIds: readonly string[]): Promise<void> {
    if (silenceIds.length > 0) await this.redis.hdel(this.keys.acks, ...silenceIds)
  }

  /** memberStatus returns Telegram's answer for (chat, user), asking at most every 5 minutes. */
  async memberStatus(chat: string, user: number, ask: () => Promise<string>): Promise<string> {
    const key = this.keys.member(chat, user)
    const cached = await this.redis.get(key)
    if (cached) return cached
    const status = await ask()
    await this.redis.set(key, status, 'PX', MEMBER_CACHE_MS)
    return status
  }

  /** updateOffset is where polling goes on from (the last handled update_id + 1). */
  async updateOffset(): Promise<number | undefined> {
    const raw = await this.redis.get(this.keys.updateOffset)
    return raw ? Number(raw) : undefined
  }

  /** setUpdateOffset records that every update before offset was handled. */
  async setUpdateOffset(offset: number): Promise<void> {
    await this.redis.set(this.keys.updateOffset, String(offset))
  }
}
