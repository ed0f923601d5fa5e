import { NetworkError, ParseError, TelegramApiError, TimeoutError } from 'node-telegram-bot-api'
import t from 'tap'
import { classifyTelegramError } from '../../src/telegram/errors.js'

t.test('Telegram failures are sorted by what to do next', async (t) => {
  const api = (code: number, description: string, parameters?: object) => new TelegramApiError(code, description, parameters)
  const cases: [unknown, string][] = [
    [api(429, 'Too Many Requests: retry after 7', { retry_after: 7 }), 'rate_limited'],
    [api(500, 'Internal Server Error'), 'transient'],
    [api(502, 'Bad Gateway'), 'transient'],
    [new NetworkError('Network request failed: sendMessage'), 'transient'],
    [new TimeoutError('Request timed out: sendMessage'), 'transient'],
    [new ParseError('Invalid JSON in response to sendMessage'), 'transient'],
    [api(400, 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 3'), 'bad_format'],
    [api(400, 'Bad Request: message is too long'), 'bad_format'],
    [api(400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same'), 'not_modified'],
    [api(400, 'Bad Request: message to edit not found'), 'edit_target_missing'],
    [api(400, 'Bad Request: message thread not found'), 'thread_missing'],
    [api(400, 'Bad Request: group chat was upgraded to a supergroup chat', { migrate_to_chat_id: -1001234 }), 'migrated'],
    [api(403, 'Forbidden: bot was blocked by the user'), 'chat_unreachable'],
    [api(403, 'Forbidden: bot was kicked from the group chat'), 'chat_unreachable'],
    [api(400, 'Bad Request: chat not found'), 'chat_unreachable'],
    [api(401, 'Unauthorized'), 'misconfigured'],
    [api(404, 'Not Found'), 'misconfigured'],
    [api(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'), 'conflict'],
    [api(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"), 'conflict'],
    [api(400, 'Bad Request: BUTTON_DATA_INVALID'), 'rejected'],
  ]
  for (const [error, kind] of cases) t.equal(classifyTelegramError(error).kind, kind, (error as Error).message)
})

t.test('a 429 carries exactly the wait Telegram asked for, and a migration the new chat', async (t) => {
  t.same(classifyTelegramError(new TelegramApiError(429, 'Too Many Requests: retry after 7', { retry_after: 7 })), {
    kind: 'rate_limited',
    retryAfterMs: 7000,
    description: '429: Too Many Requests: retry after 7',
  })
  const migrated = classifyTelegramError(
    new TelegramApiError(400, 'Bad Request: group chat was upgraded to a supergroup chat', { migrate_to_chat_id: -100777 }),
  )
  t.equal(migrated.kind === 'migrated' && migrated.migrateTo, -100777)
})

t.test('a 409 says whether a webhook is in the way of polling, or another poller', async (t) => {
  const webhookSet = (description: string) => {
    const failure = classifyTelegramError(new TelegramApiError(409, description))
    return failure.kind === 'conflict' && failure.webhookSet
  }
  t.equal(webhookSet("Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"), true)
  t.equal(webhookSet('Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'), false)
})

t.test('a failure to reach Telegram is told apart from a refusal, and keeps its message', async (t) => {
  t.same(classifyTelegramError(new NetworkError('Network request failed: sendMessage')), {
    kind: 'transient',
    description: 'Network request failed: sendMessage',
  })
  t.same(classifyTelegramError(new TelegramApiError(502, 'Bad Gateway')), { kind: 'transient', description: '502: Bad Gateway' })
  t.same(classifyTelegramError('something odd'), { kind: 'transient', description: 'something odd' })
})
