/** The route Telegram posts updates to: only with the secret token, only a Telegram update, handled once accepted. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify from 'fastify'
import { pino } from 'pino'
import t from 'tap'
import type { BotUpdate } from '../../src/bot/update-schema.js'
import { registerTelegramUpdates } from '../../src/receiver/telegram-updates.js'

t.test('the secret header is required; a wrong body is refused; an update is handed to the bot', async (t) => {
  const server = Fastify().withTypeProvider<TypeBoxTypeProvider>()
  t.teardown(() => server.close())
  const handled: BotUpdate[] = []
  let secret = 'first-secret'
  registerTelegramUpdates(server, {
    path: '/telegram/updates',
    secret: () => secret,
    handle: async (update) => void handled.push(update),
    log: pino({ level: 'silent' }),
  })
  const update = { update_id: 7, message: { message_id: 1, chat: { id: -100, type: 'supergroup' }, text: '/help' } }
  const post = (headers: Record<string, string>, body: unknown = update) =>
    server.inject({ method: 'POST', url: '/telegram/updates', headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) })
  const rows: [string, Record<string, string>, unknown, number][] = [
    ['no secret', {}, update, 401],
    ['a wrong secret', { 'x-telegram-bot-api-secret-token': 'second-secret' }, update, 401],
    ['the secret, not an update', { 'x-telegram-bot-api-secret-token': 'first-secret' }, { hello: 1 }, 400],
    ['the secret and an update', { 'x-telegram-bot-api-secret-token': 'first-secret' }, update, 200],
  ]
  for (const [name, headers, body, status] of rows) t.equal((await post(headers, body)).statusCode, status, name)
  t.same(
    handled.map((u) => u.update_id),
    [7],
    'only the accepted update was handled',
  )
  secret = 'second-secret'
  t.equal((await post({ 'x-telegram-bot-api-secret-token': 'second-secret' })).statusCode, 200, 'a reloaded secret applies at once')
  t.equal((await post({ 'x-telegram-bot-api-secret-token': 'first-secret' })).statusCode, 401, 'and the old one no longer works')
})
