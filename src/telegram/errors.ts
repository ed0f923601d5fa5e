/**
 * The one place that reads what node-telegram-bot-api throws. A refusal from the Bot API
 * (TelegramApiError: error_code, description, retry_after, migrate_to_chat_id) is kept apart from a
 * failure to reach it (NetworkError, TimeoutError, ParseError), and both are sorted into the core's
 * Failure kinds (src/core/answers.ts), which say what to do next. Used by the sender, the client's
 * metrics and the update poller.
 */
import { NetworkError, ParseError, TelegramApiError, TimeoutError } from 'node-telegram-bot-api'
import type { Failure } from '../core/answers.js'

/** Telegram's descriptions that tell refusals with the same error code apart. */
const RULES: readonly [RegExp, Failure['kind']][] = [
  [/can't parse entities|message is too long|text is too long|entities too long|can't find end tag/i, 'bad_format'],
  [/message is not modified/i, 'not_modified'],
  [/message to edit not found|message_id_invalid|message can't be edited/i, 'edit_target_missing'],
  [/message thread not found|topic_deleted|topic_closed|thread not found/i, 'thread_missing'],
  [
    /chat not found|bot was blocked|bot was kicked|not a member|user is deactivated|have no rights to send|chat_write_forbidden|need administrator rights|peer_id_invalid/i,
    'chat_unreachable',
  ],
]

/** classifyTelegramError sorts whatever the Telegram client threw into a Failure (anything it does not know is transient). */
export function classifyTelegramError(error: unknown): Failure {
  if (error instanceof TelegramApiError) return classifyRefusal(error)
  if (error instanceof NetworkError || error instanceof TimeoutError || error instanceof ParseError) {
    return { kind: 'transient', description: error.message }
  }
  return { kind: 'transient', description: error instanceof Error ? error.message : String(error) }
}

function classifyRefusal(error: TelegramApiError): Failure {
  const description = `${error.errorCode}: ${error.description}`
  if (error.errorCode === 429) return { kind: 'rate_limited', retryAfterMs: Math.max(1, error.retryAfter ?? 1) * 1000, description }
  if (error.migrateToChatId) return { kind: 'migrated', migrateTo: error.migrateToChatId, description }
  if (error.errorCode >= 500) return { kind: 'transient', description }
  if (error.errorCode === 401 || error.errorCode === 404) return { kind: 'misconfigured', description }
  if (error.errorCode === 409) return { kind: 'conflict', webhookSet: /webhook/i.test(error.description), description }
  const rule = RULES.find(([pattern]) => pattern.test(error.description))
  if (rule) return { kind: rule[1], description } as Failure
  if (error.errorCode === 403) return { kind: 'chat_unreachable', description }
  return { kind: 'rejected', description }
}
