/**
 * Structured, quiet logs (pino). Secrets never appear: known secret fields are redacted by path,
 * and as a last line of defence every configured secret is masked in the final text of each line,
 * wherever it hides (an error message, a URL).
 */
import { pino, type Logger } from 'pino'

const REDACT_PATHS = [
  'token',
  'botToken',
  'bot_token',
  'password',
  'authorization',
  '*.token',
  '*.botToken',
  '*.bot_token',
  '*.password',
  '*.authorization',
  '*.bearerToken',
  'req.headers.authorization',
  'headers.authorization',
]

/** createLogger builds the service logger; secrets lists values that must never be written. */
export function createLogger(options: { level: string; secrets?: () => readonly string[]; destination?: pino.DestinationStream }): Logger {
  const mask = (line: string) => {
    let out = line
    for (const secret of options.secrets?.() ?? []) {
      if (secret.length >= 6) out = out.split(secret).join('[REDACTED]')
    }
    return out
  }
  return pino(
    {
      level: options.level,
      base: { service: 'alertwire' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      hooks: { streamWrite: mask },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination(1),
  )
}
