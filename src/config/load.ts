/**
 * The thin file side of config: read the YAML file and *_file secrets, and provide the webhook
 * token when none is configured (secure by default, still working out of the box).
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { type Config, parseConfig, type ParseResult } from './parse.js'

/** DEFAULT_CONFIG_PATH: used when neither --config nor ALERTWIRE_CONFIG says otherwise. */
export const DEFAULT_CONFIG_PATH = 'config/alertwire.yaml'

/** loadConfigFile reads and parses a config file; relative *_file paths are read from the config's folder. */
export function loadConfigFile(path: string, env: Record<string, string | undefined>): ParseResult {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    return { ok: false, errors: [`cannot read config file ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`] }
  }
  const base = dirname(resolve(path))
  return parseConfig(text, {
    env,
    readSecret: (file) => {
      try {
        return readFileSync(resolve(base, file), 'utf8')
      } catch (error) {
        throw new Error((error as NodeJS.ErrnoException).code ?? (error as Error).message)
      }
    },
  })
}

/**
 * ensureWebhookToken gives the webhook a bearer token when the config sets no credentials and does
 * not explicitly allow unauthenticated requests: it is generated once into <data_dir>/webhook_token,
 * a file Alertmanager can read directly (http_config.authorization.credentials_file). tokenFile
 * says which file and whether this start generated it or reused the one an earlier start made.
 */
export function ensureWebhookToken(config: Config): { config: Config; tokenFile?: { path: string; generated: boolean } } {
  const { webhook } = config
  if (webhook.allowUnauthenticated || webhook.bearerToken || webhook.basicAuth) return { config }
  const file = resolve(config.dataDir, 'webhook_token')
  const generated = !existsSync(file) || readFileSync(file, 'utf8').trim() === ''
  if (generated) {
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 })
  }
  chmodSync(file, 0o600)
  const bearerToken = readFileSync(file, 'utf8').trim()
  return { config: { ...config, webhook: { ...webhook, bearerToken } }, tokenFile: { path: file, generated } }
}
