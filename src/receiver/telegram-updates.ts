/**
 * Updates by webhook: Telegram posts each update to alertwire with the secret token set by
 * setWebhook in a header; anything without it is refused and does nothing. (Updates by polling:
 * bot/updates.ts.)
 */
import type { Logger } from 'pino'
import Value from 'typebox/value'
import { type BotUpdate, BotUpdateSchema } from '../bot/update-schema.js'
import { safeEqual } from './auth.js'
import type { AppServer } from './routes.js'

/** TelegramUpdatesDeps: where the route listens, the secret it expects (read per request, so a reload applies), and who handles an update. */
export interface TelegramUpdatesDeps {
  path: string
  secret: () => string
  handle: (update: BotUpdate) => Promise<void>
  log: Logger
}

/** registerTelegramUpdates adds the route Telegram posts updates to. */
export function registerTelegramUpdates(server: AppServer, deps: TelegramUpdatesDeps): void {
  server.post(deps.path, async (request, reply) => {
    const secret = request.headers['x-telegram-bot-api-secret-token']
    if (typeof secret !== 'string' || !safeEqual(secret, deps.secret())) {
      deps.log.warn({ remote: request.ip }, 'Telegram webhook refused: missing or wrong secret token')
      return reply.code(401).send({ error: 'unauthorized', message: 'missing or wrong X-Telegram-Bot-Api-Secret-Token' })
    }
    if (!Value.Check(BotUpdateSchema, request.body)) return reply.code(400).send({ error: 'invalid update', message: 'not a Telegram update' })
    await deps.handle(request.body as BotUpdate)
    return { ok: true }
  })
}
