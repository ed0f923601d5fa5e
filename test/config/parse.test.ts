import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { Settings } from 'typebox/system'
import { loadConfigFile } from '../../src/config/load.js'
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
    const expected = [...text.matchAll(/^# error: (.*)$/gm)].map((match) => match[1]!)
    const result = parseConfig(text, { env: {}, readSecret: noSecrets })
    t.notOk(result.ok, `${file} is refused`)
    if (!result.ok)
      t.ok(expected.length > 0 && expected.every((error) => result.errors.some((e) => e.includes(error))), `${file}: ${result.errors.join(' | ')}`)
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

t.test('a whole number is never made of a fraction or a yes: 1.5 replicas is refused, not read as 1', async (t) => {
  const cases: [string, Record<string, string>, string][] = [
    ['redis: {min_replicas_acked: 1.5}', {}, 'redis.min_replicas_acked: expected a number of replicas (0: the primary alone), got 1.5'],
    ['redis: {min_replicas_acked: true}', {}, 'redis.min_replicas_acked: expected a number of replicas (0: the primary alone), got true'],
    [
      '',
      { REDIS_MIN_REPLICAS_ACKED: '1.5' },
      'redis.min_replicas_acked (from REDIS_MIN_REPLICAS_ACKED): expected a number of replicas (0: the primary alone), got "1.5"',
    ],
    ['', { PORT: '8080.5' }, 'server.port (from PORT): expected a TCP port (0-65535), got "8080.5"'],
  ]
  for (const [yaml, env, error] of cases) {
    const result = parseConfig(yaml, { env, readSecret: noSecrets })
    t.same(!result.ok && result.errors, [error], yaml || JSON.stringify(env))
  }
  const written = parseConfig('redis: {min_replicas_acked: "2"}', { env: { PORT: ' 8080 ' }, readSecret: noSecrets })
  t.same(written.ok && [written.config.redis.minReplicasAcked, written.config.server.port], [2, 8080], 'a whole number written as text is still read')
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

t.test('one run lists every error: schema, secrets, cross-field, matchers, regexes, severities, hide_labels, templates', async (t) => {
  const file = join(here, 'fixtures/every-error/alertwire.yaml')
  const result = loadConfigFile(file, {})
  if (result.ok) return t.fail('the file is refused')
  const expected = [
    'server.colour: unknown key',
    'server.port: expected a TCP port (0-65535), got "fast"',
    'server.body_limit: expected a size like "10MiB", got "big"',
    'routing.routes[0].chats[0].chat_id: expected a chat id',
    'routing.routes[0].throttle.per: is required',
    'messages.resolved: expected one of both, edit, reply, got "sometimes"',
    'storms.max_delay: expected a duration like "1m", got "soon"',
    'delivery.concurrency: must be >= 1, got 0',
    'telegram.bot_token_file: cannot read "no-such-file": ENOENT',
    'webhook.bearer_token_file: set bearer_token or bearer_token_file, not both',
    'telegram.thread_id: set only together with telegram.chat_id',
    'telegram.webhook_secret: expected 1-256 characters',
    'messages.time_zone: expected an IANA time zone like "Europe/Berlin", got "Mars/Olympus"',
    'routing.mute_windows[0].time_zone: expected an IANA time zone like "Europe/Berlin", got "Nowhere/Else"',
    'messages.severity_aliases.sev-x: no severity level "nonexistent"',
    'messages.hide_labels[0].when[0]: in matcher "job=~\\"[\\"": invalid regex',
    'routing.routes[0].matchers[0]: expected a matcher like severity="critical", got "sev critical"',
    'routing.routes[0].matchers[1]: in matcher "job=~\\"((\\"": invalid regex',
    "messages.templates.header: Parse error on line 1, column 29: Expecting 'OPEN_INVERSE_CHAIN', 'INVERSE', 'OPEN_ENDBLOCK', got 'EOF'\n{{#if resolved}}unterminated\n                            ^",
    'messages.templates.alert: renders HTML Telegram would refuse: tag "b" is never closed',
    'messages.templates.footer: The partial nope could not be found',
  ]
  for (const start of expected) t.ok(result.errors.filter((e) => e.startsWith(start)).length === 1, `reported once: ${start.split('\n')[0]}`)
  t.equal(result.errors.length, expected.length, `nothing else:\n${result.errors.join('\n')}`)
})

t.test('more than 8 schema errors are all reported (TypeBox stops at 8 unless told), and its limit is left as it was', async (t) => {
  const yaml = [
    'server: {port: fast, host: "", body_limit: x, shutdown_timeout: x}',
    'telegram: {admins: [x], api_url: ftp://x, request_timeout: x}',
    'storms: {max_delay: x}',
    'flapping: {window: x}',
    'delivery: {retry_initial: x, retry_max: x, give_up_after: x, state_ttl: x}',
    'silences: {ack_max: x}',
  ].join('\n')
  const result = parseConfig(yaml, { env: {}, readSecret: noSecrets })
  t.equal(!result.ok && result.errors.length, 14, 'fourteen wrong values, fourteen errors')
  t.match(!result.ok && result.errors.at(-1), /^delivery\.state_ttl: expected a duration/, 'the last one too')
  t.equal(Settings.Get().maxErrors, 8, "TypeBox's own limit is restored for everything else")
})

t.test('a value the schema refuses is reported once: the later checks skip it, and only it', async (t) => {
  const yaml = [
    'telegram: {chat_id: "not a chat", thread_id: 4}',
    'routing:',
    '  routes:',
    '    - matchers: [5, "bad matcher"]',
    '    - "not a route"',
    '    - matchers: ["also bad"]',
  ].join('\n')
  const result = parseConfig(yaml, { env: { TELEGRAM_BOT_TOKEN: '1:x' }, readSecret: noSecrets })
  // no "telegram.chat_id: required when a bot token is set" nor "thread_id: set only together with
  // telegram.chat_id": the chat id was set, and is already reported; the third route keeps its index
  t.same(!result.ok && result.errors, [
    'telegram.chat_id: expected a chat id like -1001234567890 or "@channel", got "not a chat"',
    'routing.routes[1]: must be object, got "not a route"',
    'routing.routes[0].matchers[0]: expected a matcher like severity="critical", got "5"',
    'routing.routes[0].matchers[1]: expected a matcher like severity="critical", got "bad matcher"',
    'routing.routes[2].matchers[0]: expected a matcher like severity="critical", got "also bad"',
  ])
})

t.test('redis: Sentinel and Cluster from the file or the environment, passwords from files, a hash tag only in Cluster mode', async (t) => {
  const files: Record<string, string> = { pw: 'redis-pw\n', spw: 'sentinel-pw\n' }
  const readSecret = (f: string) => {
    if (!(f in files)) throw new Error('ENOENT')
    return files[f]!
  }
  const sentinel = parseConfig(
    'redis: {sentinels: ["s1:26379", "[::1]:26380"], sentinel_name: mymaster, password_file: pw, sentinel_password_file: spw, min_replicas_acked: 1}',
    { env: {}, readSecret },
  )
  if (!sentinel.ok) return t.fail(sentinel.errors.join())
  t.same(sentinel.config.redis.sentinel, {
    sentinels: [
      { host: 's1', port: 26379 },
      { host: '::1', port: 26380 },
    ],
    name: 'mymaster',
    password: 'sentinel-pw',
  })
  t.equal(sentinel.config.redis.password, 'redis-pw')
  t.equal(sentinel.config.redis.minReplicasAcked, 1)
  t.equal(sentinel.config.redis.prefix, 'alertwire', 'no hash tag outside a Cluster: the key layout of a single Redis is kept')
  const empty = parseConfig('', { env: {}, readSecret })
  t.equal(empty.ok && empty.config.redis.minReplicasAcked, 0, 'default 0: the primary alone')

  const env = { REDIS_SENTINELS: 's1:26379, s2:26379', REDIS_SENTINEL_NAME: 'prod', REDIS_PASSWORD: 'p', REDIS_SENTINEL_PASSWORD: 'sp' }
  const fromEnv = parseConfig('', { env, readSecret })
  if (!fromEnv.ok) return t.fail(fromEnv.errors.join())
  t.same(
    fromEnv.config.redis.sentinel?.sentinels.map((s) => s.host),
    ['s1', 's2'],
  )
  t.equal(fromEnv.config.redis.sentinel?.name, 'prod')
  t.equal(fromEnv.config.redis.sentinel?.password, 'sp')
  t.equal(fromEnv.config.redis.password, 'p')

  const cluster = parseConfig('', { env: { REDIS_CLUSTER_NODES: 'r1:7000,r2:7001' }, readSecret })
  if (!cluster.ok) return t.fail(cluster.errors.join())
  t.same(cluster.config.redis.clusterNodes, [
    { host: 'r1', port: 7000 },
    { host: 'r2', port: 7001 },
  ])
  t.equal(cluster.config.redis.prefix, '{alertwire}', 'Cluster: every key in one slot')
  const ownTag = parseConfig('redis: {cluster_nodes: ["r1:7000"], prefix: "aw:{prod}"}', { env: {}, readSecret })
  t.equal(ownTag.ok && ownTag.config.redis.prefix, 'aw:{prod}', 'a prefix with its own hash tag is kept')

  const urlWins = parseConfig('redis: {sentinels: ["s1:26379"], sentinel_name: m}', { env: { REDIS_URL: 'redis://r:6379' }, readSecret })
  t.ok(urlWins.ok && urlWins.config.redis.url === 'redis://r:6379' && !urlWins.config.redis.sentinel, 'REDIS_URL replaces the sentinels of the file')
  const sentinelsWin = parseConfig('redis: {url: "redis://redis:6379"}', { env: { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm' }, readSecret })
  t.ok(sentinelsWin.ok && !sentinelsWin.config.redis.url && sentinelsWin.config.redis.sentinel?.name === 'm', "REDIS_SENTINELS replaces the file's url")
  const both = parseConfig('', { env: { REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'r1:7000' }, readSecret })
  t.same(!both.ok && both.errors, ['redis.cluster_nodes: set one of redis.url, redis.sentinels and redis.cluster_nodes, not redis.url and redis.cluster_nodes'])
  const acked = parseConfig('', { env: { REDIS_MIN_REPLICAS_ACKED: '2' }, readSecret })
  t.equal(acked.ok && acked.config.redis.minReplicasAcked, 2, 'REDIS_MIN_REPLICAS_ACKED')
  const missing = parseConfig('redis: {sentinels: ["s1:26379"], sentinel_name: m, password_file: nope}', { env: {}, readSecret })
  t.same(!missing.ok && missing.errors, ['redis.password_file: cannot read "nope": ENOENT'])
})

t.test('dashboards: names become commands, defaults filled in, names of the bot refused', async (t) => {
  const yaml = `
dashboards:
  performance:
    panels:
      - {title: Success rate, query: 'sum(ok) / sum(all)', unit: ratio, graph: true}
      - {title: Queue, query: sum(queue_depth)}
  revenue_daily:
    title: Revenue today
    who: members
    panels: [{title: Stars, query: 'sum(increase(stars_total[24h]))', unit: stars}]
`
  const result = parseConfig(yaml, { env: {}, readSecret: noSecrets })
  t.ok(result.ok, result.ok ? 'valid' : result.errors.join(' | '))
  if (!result.ok) return
  t.same(result.config.dashboards.get('performance'), {
    name: 'performance',
    title: 'Performance',
    who: 'admins',
    panels: [
      { title: 'Success rate', query: 'sum(ok) / sum(all)', unit: 'ratio', graph: true },
      { title: 'Queue', query: 'sum(queue_depth)', unit: '', graph: false },
    ],
  })
  t.match(result.config.dashboards.get('revenue_daily'), { title: 'Revenue today', who: 'members' })
  const empty = parseConfig('', { env: {}, readSecret: noSecrets })
  t.equal(empty.ok ? empty.config.dashboards.size : -1, 0, 'none by default')
})

t.test('graphs: defaults, PROMETHEUS_URL, credentials from files, host_map, per-route choice', async (t) => {
  const empty = parseConfig('', { env: {}, readSecret: noSecrets })
  if (!empty.ok) return t.fail(empty.errors.join())
  t.match(empty.config.graphs, { enabled: true, windowMs: 3_600_000, width: 800, height: 450, maxSeries: 6, timeoutMs: 10_000, onResolve: false })
  t.same([...empty.config.graphs.severities], ['critical', 'warning'])
  t.equal(empty.config.graphs.prometheusUrl, undefined, 'no Prometheus configured: the generator host is asked')
  const yaml = `
messages:
  severity_aliases: {P1: critical}
graphs:
  prometheus_url: http://prom.internal:9090/prometheus/
  basic_auth: {username: aw, password_file: pw}
  host_map: {"Prometheus-0:9090": "http://10.1.2.3:9090/"}
  severities: [P1]
  window: 30m
  on_resolve: true
routing:
  routes:
    - {name: db, matchers: [team="db"], graphs: false}
    - {matchers: [team="web"], graphs: true}
    - {matchers: [team="ops"]}
`
  const result = parseConfig(yaml, { env: {}, readSecret: (f) => (f === 'pw' ? 's3cret\n' : noSecrets()) })
  if (!result.ok) return t.fail(result.errors.join())
  const { graphs } = result.config
  t.equal(graphs.prometheusUrl, 'http://prom.internal:9090/prometheus', 'trailing slash dropped, prefix kept')
  t.same(graphs.auth, { username: 'aw', password: 's3cret' })
  t.same([...graphs.hostMap], [['prometheus-0:9090', 'http://10.1.2.3:9090']], 'hosts lower case')
  t.same([...graphs.severities], ['critical'], 'an alias names its level')
  t.equal(graphs.windowMs, 1_800_000)
  t.equal(graphs.onResolve, true)
  t.same(
    [...graphs.routeGraphs],
    [
      ['db', false],
      ['routes[1]', true],
    ],
    'routes named as routing names them; unset stays out',
  )
  const fromEnv = parseConfig('graphs: {prometheus_url: "http://file:9090"}', { env: { PROMETHEUS_URL: 'http://env:9090' }, readSecret: noSecrets })
  t.equal(fromEnv.ok && fromEnv.config.graphs.prometheusUrl, 'http://env:9090', 'PROMETHEUS_URL wins')
  const badEnv = parseConfig('', { env: { PROMETHEUS_URL: 'prom:9090' }, readSecret: noSecrets })
  t.match(!badEnv.ok && badEnv.errors[0], /^graphs\.prometheus_url \(from PROMETHEUS_URL\): expected/)
  const token = parseConfig('graphs: {bearer_token_file: tok}', { env: {}, readSecret: () => 'abc\n' })
  t.same(token.ok && token.config.graphs.auth, { bearerToken: 'abc' })
  const both = parseConfig('graphs: {bearer_token: x, basic_auth: {username: a, password: b}}', { env: {}, readSecret: noSecrets })
  t.match(!both.ok && both.errors, ['graphs.bearer_token: set basic_auth or bearer_token, not both'])
})
