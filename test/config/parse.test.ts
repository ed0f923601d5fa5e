import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseConfig } from '../../src/config/parse.js'
import { ConfigSchema } from '../../src/config/schema.js'

const here = new URL('.', import.meta.url).pathname
const noSecrets = () => {
  throw new Error('ENOENT')
}

t.test('each bad config is refused with an error naming the path and what was expected', async (t) => {
  const dir = join(here, 'fixtures/bad')
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'))
  t.ok(files.length >= 15, `${files.length} fixtures`)
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8')
    const expected = /^# error: (.*)$/m.exec(text)![1]!
    const result = parseConfig(text, { env: {}, readSecret: noSecrets })
    t.notOk(result.ok, `${file} is refused`)
    if (!result.ok)
      t.ok(
        result.errors.some((e) => e.includes(expected)),
        `${file}: ${result.errors.join(' | ')}`,
      )
  }
})

t.test('the shipped configs are valid', async (t) => {
  for (const file of ['alertwire.yaml', 'alertwire.example.yaml']) {
    const text = readFileSync(join(here, '../../config', file), 'utf8')
    const result = parseConfig(text, { env: { TELEGRAM_BOT_TOKEN: '1:x', TELEGRAM_CHAT_ID: '-1001' }, readSecret: () => 'secret' })
    t.ok(result.ok, `${file}: ${result.ok ? 'ok' : result.errors.join(' | ')}`)
  }
})

t.test('defaults: an empty config runs on Telegram limits with a dry run', async (t) => {
  const result = parseConfig('', { env: {}, readSecret: noSecrets })
  if (!result.ok) return t.fail(result.errors.join())
  const { config } = result
  t.equal(config.server.port, 8080)
  t.equal(config.server.bodyLimit, 10 * 1024 * 1024)
  t.equal(config.telegram.botToken, undefined, 'no token: dry run')
  t.equal(config.telegram.apiUrl, 'https://api.telegram.org')
  t.equal(config.telegram.pace.groupIntervalMs, 3150, '20 per minute plus 5% headroom')
  t.equal(config.telegram.pace.privateIntervalMs, 1050)
  t.equal(config.messages.resolved, 'both')
  t.equal(config.webhook.allowUnauthenticated, false, 'auth is required by default')
})

t.test('environment variables override the file, and ${VAR} fills values', async (t) => {
  const yaml = `
server: {port: 9000, host: 127.0.0.1}
telegram:
  chat_id: \${MY_CHAT}
  api_url: \${API:-http://fallback:1}
routing:
  routes:
    - name: db
      matchers: ['team="\${TEAM}"']
      chats: [{chat_id: "\${DB_CHAT}", thread_id: 7}]
`
  const env = {
    PORT: '9100',
    TELEGRAM_BOT_TOKEN: '42:token',
    MY_CHAT: '-1009',
    TEAM: 'database',
    DB_CHAT: '-1002',
    ALERTWIRE_WEBHOOK_TOKEN: 'hook',
    REDIS_URL: 'redis://r:6379/2',
    ALERTMANAGER_URL: 'http://am:9093/',
  }
  const result = parseConfig(yaml, { env, readSecret: noSecrets })
  if (!result.ok) return t.fail(result.errors.join())
  const { config } = result
  t.equal(config.server.port, 9100, 'PORT wins over the file')
  t.equal(config.server.host, '127.0.0.1')
  t.equal(config.telegram.botToken, '42:token')
  t.equal(config.telegram.apiUrl, 'http://fallback:1')
  t.same(config.routing.defaultChat, { chatId: -1009, kind: 'group' })
  t.same(config.routing.routes[0]!.chats, [{ chatId: -1002, threadId: 7, kind: 'group' }])
  t.equal(config.routing.routes[0]!.matchers[0]!.value, 'database')
  t.equal(config.webhook.bearerToken, 'hook')
  t.equal(config.redis.url, 'redis://r:6379/2')
  t.equal(config.alertmanager.url, 'http://am:9093')
  t.equal(
    parseConfig('', { env: { TELEGRAM_CHAT_ID: '-1001', TELEGRAM_BOT_TOKEN: '1:x' }, readSecret: noSecrets }).ok,
    true,
    'TELEGRAM_CHAT_ID is the default chat',
  )
})

t.test('an unset ${VAR} leaves the key unset instead of empty', async (t) => {
  const result = parseConfig('telegram:\n  chat_id: ${NOT_SET}\n', { env: {}, readSecret: noSecrets })
  t.ok(result.ok && result.config.routing.defaultChat === undefined)
})

t.test('secrets come from *_file keys, and errors name the file', async (t) => {
  const yaml = 'telegram: {chat_id: 5, bot_token_file: tok}\nwebhook: {bearer_token_file: hook, basic_auth: {username: am, password_file: pw}}'
  const files: Record<string, string> = { tok: '99:secret\n', hook: 'h00k\n', pw: 'p4ss' }
  const result = parseConfig(yaml, {
    env: {},
    readSecret: (f) => {
      if (!(f in files)) throw new Error('ENOENT')
      return files[f]!
    },
  })
  if (!result.ok) return t.fail(result.errors.join())
  t.equal(result.config.telegram.botToken, '99:secret', 'trailing newline removed')
  t.equal(result.config.webhook.bearerToken, 'h00k')
  t.same(result.config.webhook.basicAuth, { username: 'am', password: 'p4ss' })
  const missing = parseConfig('telegram: {chat_id: 5, bot_token_file: /nope}', { env: {}, readSecret: noSecrets })
  t.same(!missing.ok && missing.errors, ['telegram.bot_token_file: cannot read "/nope": ENOENT'])
  const fromEnv = parseConfig('telegram: {chat_id: 5, bot_token_file: /nope}', { env: { TELEGRAM_BOT_TOKEN: '1:env' }, readSecret: noSecrets })
  t.ok(fromEnv.ok && fromEnv.config.telegram.botToken === '1:env', 'the environment wins over a secret file')
})

t.test('an error from an environment variable says which variable', async (t) => {
  const result = parseConfig('', { env: { PORT: 'eighty' }, readSecret: noSecrets })
  t.same(!result.ok && result.errors, ['server.port (from PORT): expected a TCP port (0-65535), got "eighty"'])
})

t.test('config/alertwire.example.yaml documents every key the schema knows', async (t) => {
  const example = readFileSync(join(here, '../../config/alertwire.example.yaml'), 'utf8')
  const keys = new Set<string>()
  const walk = (schema: Record<string, unknown>, path: string) => {
    const properties = schema.properties as Record<string, Record<string, unknown>> | undefined
    if (properties)
      for (const [key, child] of Object.entries(properties)) {
        keys.add(`${path}${key}`)
        walk(child, `${path}${key}.`)
      }
    for (const branch of [schema.items, ...((schema.anyOf as unknown[]) ?? [])])
      if (branch && typeof branch === 'object') walk(branch as Record<string, unknown>, path)
  }
  walk(ConfigSchema as unknown as Record<string, unknown>, '')
  t.ok(keys.size > 60, `${keys.size} keys`)
  for (const key of keys) {
    const leaf = key.split('.').at(-1)!
    t.match(example, new RegExp(`(^|[\\s{,#])${leaf}:`, 'm'), `${key} is in the example`)
  }
})
