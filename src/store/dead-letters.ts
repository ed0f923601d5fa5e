/**
 * Dead letters: what alertwire could not deliver, kept in Redis under <prefix>:dead (newest first,
 * at most DEAD_LETTER_CAP) for operators to list, retry and drop while replicas run. A letter is
 * named by a short hash of what is stored, so no write path has to change to give it an id. What
 * a retried letter becomes is decided in the core (core/turn.ts retryLetter); RETRY_LETTERS puts
 * it back only if it is still there, so a letter goes back exactly once, however many operators
 * retry at the same time.
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { type LetterRetry, retryLetter } from '../core/turn.js'
import { keysFor, type Keys } from './keys.js'
import { RETRY_LETTERS } from './scripts.js'

/** DeadLetter: one letter as an operator sees it. */
export interface DeadLetter {
  id: string
  /** the chat it was for (its id at the time) */
  chat: string
  reason: string
  error: string
  /** when it became a dead letter (ISO time), when known */
  at?: string
  /** what it was: the call and the start of its text, or the alert that could not be rendered */
  what: string
  /** what a retry would do with it */
  retry: LetterRetry
  /** the letter as stored (how the store finds it again) */
  raw: string
}

/** Selection: which letters a command acts on: all, these ids (or id prefixes), or those of one chat (any id it has had). */
export interface Selection {
  all?: boolean
  ids?: readonly string[]
  chat?: string
}

/** DeadLetterCounts: how many letters wait, by reason and by chat. */
export interface DeadLetterCounts {
  total: number
  byReason: Record<string, number>
  byChat: Record<string, number>
}

/** letterId names a stored letter: the first 12 hex digits of its SHA-1. */
export function letterId(raw: string): string {
  return createHash('sha1').update(raw).digest('hex').slice(0, 12)
}

const RETRY_CHUNK = 100

type RetryScript = (...args: (string | number)[]) => Promise<number[]>

/** describe reads a stored letter; one alertwire cannot read is still listed, so it can be dropped. */
function describe(raw: string): DeadLetter {
  let letter: Record<string, unknown> = {}
  try {
    const parsed = JSON.parse(raw) as unknown
    if (typeof parsed === 'object' && parsed !== null) letter = parsed as Record<string, unknown>
  } catch {}
  const text = (value: unknown) => (typeof value === 'string' ? value : '')
  const firstLine = (value: string) => {
    const line = value.split('\n').find((l) => l.trim() !== '') ?? ''
    return line.length > 80 ? `${line.slice(0, 79)}…` : line
  }
  const item = letter.item as { alert?: { labels?: Record<string, string>; fingerprint?: string } } | null | undefined
  const what = letter.op
    ? `${text(letter.op)}: ${firstLine(text(letter.text))}`
    : item?.alert
      ? `alert ${item.alert.labels?.alertname ?? '?'} (${item.alert.fingerprint ?? '?'})`
      : letter.delivery
        ? 'a delivery left over when the chat moved to a supergroup'
        : firstLine(raw)
  return {
    id: letterId(raw),
    chat: String(letter.chat ?? '?'),
    reason: text(letter.reason) || 'unknown',
    error: text(letter.error),
    ...(typeof letter.at === 'string' ? { at: letter.at } : {}),
    what,
    retry: retryLetter(letter),
    raw,
  }
}

/** DeadLetterStore: see the file comment. */
export class DeadLetterStore {
  readonly keys: Keys
  private readonly redis: Redis & { awRetryLetters: RetryScript }

  constructor(redis: Redis, prefix: string) {
    this.keys = keysFor(prefix)
    if (!('awRetryLetters' in redis)) redis.defineCommand('awRetryLetters', { lua: RETRY_LETTERS, numberOfKeys: 4 })
    this.redis = redis as Redis & { awRetryLetters: RetryScript }
  }

  /** list reads every letter, oldest first. */
  async list(): Promise<DeadLetter[]> {
    const raws = await this.redis.lrange(this.keys.dead, 0, -1)
    return raws.reverse().map(describe)
  }

  /** select picks the letters a selection names, oldest first; ids that match nothing are returned apart. */
  async select(selection: Selection): Promise<{ letters: DeadLetter[]; unknownIds: string[] }> {
    const letters = await this.list()
    if (selection.all) return { letters, unknownIds: [] }
    if (selection.chat !== undefined) {
      const moves = await this.redis.hgetall(this.keys.chatmap)
      const wanted = selection.chat
      return { letters: letters.filter((l) => l.chat === wanted || moves[l.chat] === wanted), unknownIds: [] }
    }
    const ids = selection.ids ?? []
    const matches = (letter: DeadLetter, id: string) => id.length >= 4 && letter.id.startsWith(id.toLowerCase())
    return { letters: letters.filter((l) => ids.some((id) => matches(l, id))), unknownIds: ids.filter((id) => !letters.some((l) => matches(l, id))) }
  }

  /**
   * retry puts the letters back to work in the order given, and returns those it retried; a
   * letter that cannot be retried stays, one already retried or dropped by someone else is skipped.
   */
  async retry(letters: readonly DeadLetter[]): Promise<{ retried: DeadLetter[]; gone: DeadLetter[]; kept: DeadLetter[] }> {
    const retryable = letters.filter((l) => l.retry.kind !== 'none')
    const result = { retried: [] as DeadLetter[], gone: [] as DeadLetter[], kept: letters.filter((l) => l.retry.kind === 'none') }
    const { dead, due, pace, chatmap, templates } = this.keys
    for (let start = 0; start < retryable.length; start += RETRY_CHUNK) {
      const chunk = retryable.slice(start, start + RETRY_CHUNK)
      const payload = chunk.map(({ raw, chat, retry }) => ({
        raw,
        chat,
        notices: retry.kind === 'notices' ? retry.notices.map((n) => JSON.stringify(n)) : [],
        items: retry.kind === 'items' ? retry.items.map((i) => JSON.stringify(i)) : [],
      }))
      const done = await this.redis.awRetryLetters(dead, due, pace, chatmap, templates.notices, templates.outbox, JSON.stringify(payload))
      for (const [i, letter] of chunk.entries()) (Number(done[i]) === 1 ? result.retried : result.gone).push(letter)
    }
    return result
  }

  /** drop deletes the letters; returns how many were still there. */
  async drop(letters: readonly DeadLetter[]): Promise<number> {
    if (letters.length === 0) return 0
    const multi = this.redis.multi()
    for (const letter of letters) multi.lrem(this.keys.dead, 1, letter.raw)
    const results = (await multi.exec()) ?? []
    return results.reduce((sum, [, removed]) => sum + Number(removed ?? 0), 0)
  }

  /** counts tells how many letters wait, by reason and by chat (for /status). */
  async counts(): Promise<DeadLetterCounts> {
    const letters = await this.list()
    const byReason: Record<string, number> = {}
    const byChat: Record<string, number> = {}
    for (const { reason, chat } of letters) {
      byReason[reason] = (byReason[reason] ?? 0) + 1
      byChat[chat] = (byChat[chat] ?? 0) + 1
    }
    return { total: letters.length, byReason, byChat }
  }
}
