/**
 * Telegram failures sorted by what to do next (DESIGN: "errors sorted by what to do next").
 * Pure: takes whatever the client threw and returns a decision the sender acts on.
 */
import { NetworkError, ParseError, TelegramApiError, TimeoutError } from 'node-telegram-bot-api'

/** Failure: what went wrong, in the terms the sender acts on. */
export type Failure =
  /** 429: wait exactly retryAfterMs, without spending an attempt */
  | { kind: 'rate_limited'; retryAfterMs: number; description: string }
  /** 5xx, network, timeout, garbled answer: retry with backoff */
  | { kind: 'transient'; description: string }
  /** Telegram refused our HTML or its length: resend as plain text */
  | { kind: 'bad_format'; description: string }
  /** an edit that changes nothing: it already shows this */
  | { kind: 'not_modified'; description: string }
  /** the message to edit is gone: send a new one */
  | { kind: 'edit_target_missing'; description: string }
  /** the forum topic is gone: send to the chat itself rather than lose the alert */
  | { kind: 'thread_missing'; description: string }
  /** the group became a supergroup: move there and resend */
  | { kind: 'migrated'; migrateTo: number; description: string }
  /** blocked, kicked, chat not found: terminal for this message, counted and visible */
  | { kind: 'chat_unreachable'; description: string }
  /** the bot token or API URL is wrong: nothing will work until an operator fixes it; keep retrying */
  | { kind: 'misconfigured'; description: string }
  /** any other refusal of this request: terminal, counted and visible */
  | { kind: 'rejected'; description: string }

const RULES: readonly [RegExp, Failure['kind']][] = [
  [/can't parse entities|message is too long|text is too long|entities too long|can't find end tag/i, 'bad_format'],
  [/message is not modified/i, 'not_modified'],
  [/message to edit not found|message_id_invalid|message can't be edited/i, 'edit_target_missing'],
  [/message thread not found|topic_deleted|topic_closed|thread not found/i, 'thread_missing'],
  [/chat not found|bot was blocked|bot was kicked|not a member|user is deactivated|have no rights to send|chat_write_forbidden|need administrator rights|peer_id_invalid/i, 'chat_unreachable'],
]

/** classifyTelegramError decides what an error from the Telegram client means for delivery. */
export function classifyTelegramError(error: unknown): Failure {
  if (error instanceof TelegramApiError) {
    const description = `${error.errorCode}: ${error.description}`
    if (error.errorCode === 429) return { kind: 'rate_limited', retryAfterMs: Math.max(1, error.retryAfter ?? 1) * 1000, description }
    if (error.migrateToChatId) return { kind: 'migrated', migrateTo: error.migrateToChatId, description }
    if (error.errorCode >= 500) return { kind: 'transient', description }
    if (error.errorCode === 401 || error.errorCode === 404) return { kind: 'misconfigured', description }
    const rule = RULES.find(([pattern]) => pattern.test(error.description))
    if (rule) return { kind: rule[1], description } as Failure
    if (error.errorCode === 403) return { kind: 'chat_unreachable', description }
    return { kind: 'rejected', description }
  }
  if (error instanceof NetworkError || error instanceof TimeoutError || error instanceof ParseError) {
    return { kind: 'transient', description: error.message }
  }
  return { kind: 'transient', description: error instanceof Error ? error.message : String(error) }
}
