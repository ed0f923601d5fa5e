#!/usr/bin/env node
/**
 * alertwire's entry point: parse the command line, load the config, build the app, start it and
 * shut it down gracefully. Also the operator commands (check-config, route-test).
 */
import { readFileSync, realpathSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import closeWithGrace from 'close-with-grace'
import type { Logger } from 'pino'
import { buildApp } from './app.js'
import { DEFAULT_CONFIG_PATH, ensureWebhookToken, loadConfigFile } from './config/load.js'
import { watchConfigFile } from './config/reload.js'
import type { Config } from './config/parse.js'
import { createLogger } from './log.js'
import { formatMatcher } from './core/matchers.js'
import { chatPaceMs } from './core/pace.js'
import { DEFAULT_ROUTE_NAME, routeAlert, type Target } from './core/route.js'
import { formatDuration } from './core/duration.js'
import { policyOfRoute } from './config/escalation.js'
import { describePolicy } from './core/escalation.js'
import type { Person } from './core/incident.js'
import { onCallAt } from './core/rota.js'
import { severityOf } from './core/severity.js'
import { RedisStartupError, type ResolvedRedis, resolveRedis } from './store/embedded-redis.js'
import { describeTopology, topologyOf } from './store/redis.js'

const HELP = `alertwire: Prometheus Alertmanager → Telegram, durable, deduplicated and paced.

Usage:
  alertwire [run] [--config PATH]                 start the service
  alertwire check-config [PATH]                   validate a config file (exit 1 with the errors)
  alertwire route-test [--config PATH] label=value ...
                                                  show the routes and chats an alert would get
  alertwire dead-letters list|retry|drop ...      what could not be delivered: list, send again, forget
                                                  (alertwire dead-letters --help)
  alertwire --help | --version

Config file: --config PATH, else $ALERTWIRE_CONFIG, else ${DEFAULT_CONFIG_PATH}.
Environment overrides: TELEGRAM_BOT_TOKEN, TELEGRAM_API_URL, TELEGRAM_CHAT_ID, REDIS_URL,
ALERTMANAGER_URL, ALERTWIRE_WEBHOOK_TOKEN, ALERTWIRE_ADMINS (comma-separated user ids), HOST, PORT,
REDIS_SENTINELS (host:port,...) with REDIS_SENTINEL_NAME, REDIS_CLUSTER_NODES (host:port,...),
REDIS_PASSWORD, REDIS_SENTINEL_PASSWORD, REDIS_MIN_REPLICAS_ACKED, PROMETHEUS_URL (graphs and dashboards).
Without TELEGRAM_BOT_TOKEN alertwire runs in dry-run mode: every message is logged, not sent.
Without REDIS_URL (or sentinels, or cluster nodes) it uses Redis on 127.0.0.1:6379 if one answers,
else starts redis-server itself.
`

interface Args {
  command: 'run' | 'check-config' | 'route-test' | 'help' | 'version'
  configPath: string
  rest: string[]
}

/** parseArgs reads the command line; unknown flags are errors, not ignored. */
export function parseArgs(argv: readonly string[], env: Record<string, string | undefined>): Args {
  let configPath = env.ALERTWIRE_CONFIG || DEFAULT_CONFIG_PATH
  let command: Args['command'] | undefined
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--help' || arg === '-h') return { command: 'help', configPath, rest }
    if (arg === '--version') return { command: 'version', configPath, rest }
    if (arg === '--config' || arg === '-c') {
      const value = argv[++i]
      if (!value) throw new Error('--config needs a path')
      configPath = value
    } else if (arg.startsWith('--config=')) configPath = arg.slice('--config='.length)
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg} (see --help)`)
    else if (!command && ['run', 'check-config', 'route-test'].includes(arg)) command = arg as Args['command']
    else rest.push(arg)
  }
  command ??= 'run'
  if (command === 'check-config' && rest[0]) configPath = rest.shift()!
  if (command === 'run' && rest.length > 0) throw new Error(`unexpected argument ${rest[0]} (see --help)`)
  return { command, configPath, rest }
}

function loadOrExit(path: string): Config {
  const result = loadConfigFile(path, process.env)
  if (!result.ok) {
    const count = `${result.errors.length} error${result.errors.length === 1 ? '' : 's'}`
    // an error may span lines (a template's line and a caret under the column): keep them under it
    const lines = result.errors.map((e) => `  ${e.replace(/\n/g, '\n    ')}`)
    process.stderr.write(`alertwire: invalid config ${path} (${count}):\n${lines.join('\n')}\n`)
    process.exit(1)
  }
  return result.config
}

function checkConfig(path: string): void {
  const config = loadOrExit(path)
  const routes = config.routing.routes.length
  process.stdout.write(`${path}: OK (${routes} route${routes === 1 ? '' : 's'}, ${config.telegram.botToken ? 'bot token set' : 'dry run: no bot token'})\n`)
  const onCall = onCallNow(config)
  for (const policy of config.escalation.policies.values()) process.stdout.write(`${describePolicy(policy, onCall, formatDuration)}\n`)
}

/** onCallNow: who each rota has on call now by the config alone (overrides made from the chat live in Redis and are not read here). */
function onCallNow(config: Config): Map<string, Person[]> {
  return new Map([...config.oncall.rotas].map(([name, rota]) => [name, onCallAt(rota, [], Date.now()).people]))
}

/** describeEscalation says which escalation an alert of this severity gets on this route, step by step (nothing: the route has no policy). */
function describeEscalation(config: Config, route: string, severity: string): string | undefined {
  const policy = policyOfRoute(config.escalation, route)
  if (!policy) return undefined
  if (!policy.severities.has(severity)) return `no escalation (${policy.name} covers ${[...policy.severities].join(', ')})`
  return describePolicy(policy, onCallNow(config), formatDuration)
}

function routeTest(path: string, pairs: string[]): void {
  // the chats the running service would use: a dry run without a chat writes for chat 0
  const loaded = loadOrExit(path)
  const config = withDryRunChat(loaded)
  const labels: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) {
      process.stderr.write(`alertwire: expected label=value, got ${JSON.stringify(pair)}\n`)
      process.exit(2)
    }
    labels[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  const targets = routeAlert(config.routing, labels)
  if (targets.length === 0) {
    process.stdout.write('no route and no default chat: this alert would not be delivered\n')
    process.exit(1)
  }
  for (const target of targets) {
    const route = config.routing.routes.find((r) => r.name === target.route)
    const matchers = route ? ` [${route.matchers.map(formatMatcher).join(', ')}]` : target.route === DEFAULT_ROUTE_NAME ? ' [no route matched]' : ''
    const thread = target.chat.threadId ? ` topic ${target.chat.threadId}` : ''
    const placeholder = config.routing.defaultChat !== loaded.routing.defaultChat && target.chat === config.routing.defaultChat ? ' (no TELEGRAM_CHAT_ID)' : ''
    process.stdout.write(
      `${target.route}${matchers} → chat ${target.chat.chatId}${placeholder}${thread} (${describeTargetPolicy(target, severityOf(labels, config.messages.severities).level, config)})\n`,
    )
    const escalation = describeEscalation(config, target.route, severityOf(labels, config.messages.severities).level)
    if (escalation) process.stdout.write(`  ${escalation}\n`)
  }
  if (!config.telegram.botToken) process.stdout.write('dry run (no TELEGRAM_BOT_TOKEN): alertwire writes these messages to its log instead of sending them\n')
}

/** describeTargetPolicy says how a target treats an alert of this severity: pace, silence, repeats, throttle, mute windows. */
function describeTargetPolicy(target: Target, severity: string, config: Config): string {
  const { policy, chat } = target
  const pace = chatPaceMs(chat, config.telegram.pace)
  const parts = [chat.kind, `one message per ${formatDuration(pace)}`]
  if (policy.silentSeverities.has(severity)) parts.push('silent')
  parts.push(policy.repeatIntervalMs > 0 ? `repeat every ${formatDuration(policy.repeatIntervalMs)}` : 'no repeats')
  if (policy.throttleMs) parts.push(`throttled to one message per ${formatDuration(policy.throttleMs)}`)
  for (const window of policy.muteWindows.filter((w) => w.severities.has(severity))) parts.push(`mute window: ${window.text}`)
  return parts.join(', ')
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

async function run(path: string): Promise<void> {
  const loaded = loadOrExit(path)
  const { config, tokenFile } = ensureWebhookToken(loaded)
  const secrets = [
    config.telegram.botToken,
    config.webhook.bearerToken,
    config.webhook.basicAuth?.password,
    config.telegram.webhook?.secret,
    urlPassword(config.redis.url),
    config.redis.password,
    config.redis.sentinel?.password,
    urlPassword(config.telegram.proxy?.url),
    urlPassword(config.alertmanager.proxy?.url),
  ].filter((s): s is string => !!s)
  const log = createLogger({ level: config.log.level, secrets: () => secrets })
  let redis: ResolvedRedis
  try {
    // Sentinel and Cluster are always configured, never found or started
    redis =
      config.redis.sentinel || config.redis.clusterNodes
        ? { url: '', source: 'configured' }
        : await resolveRedis({ ...(config.redis.url ? { url: config.redis.url } : {}), dataDir: config.dataDir, command: config.redis.embeddedCommand, log })
  } catch (error) {
    if (error instanceof RedisStartupError) {
      process.stderr.write(`alertwire: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
  const runConfig = withDryRunChat(config)
  const app = await buildApp(runConfig, { log, redis: topologyOf(config.redis, redis.url) })
  // watch before starting: a config saved while alertwire starts is not missed
  const stopWatching = watchConfigFile(path, () => {
    const result = loadConfigFile(path, process.env)
    app.applyConfig(result.ok ? { ...result, config: withDryRunChat(result.config) } : result)
  })
  closeOnSignals(log, config.server.shutdownTimeoutMs, async () => {
    stopWatching()
    await app.close()
    await redis.stop?.()
  })
  await app.start()
  logStarted(log, { path, config, runConfig, redis, tokenFile, bound: app.server.server.address() as AddressInfo })
}

/** WILDCARD_HOSTS: bind addresses meaning "every interface", with the address that reaches them from this machine. */
const WILDCARD_HOSTS: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '::1' }

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)

/** urlPassword: the password a URL carries (Redis, proxies), to keep it out of every log line. */
function urlPassword(url: string | undefined): string | undefined {
  try {
    return url ? decodeURIComponent(new URL(url).password) || undefined : undefined
  } catch {
    return undefined
  }
}

/** redisWithoutPassword is the Redis URL fit for a log: the password, if any, replaced by ***. */
export function redisWithoutPassword(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@')
  }
}

function redisChoice(redis: ResolvedRedis, config: Config): string {
  const acked = config.redis.minReplicasAcked
  const promise = acked > 0 ? `; webhooks answered 2xx once ${acked === 1 ? 'a replica confirms' : `${acked} replicas confirm`} them` : ''
  if (config.redis.sentinel) return `the primary the sentinels know as ${config.redis.sentinel.name}, followed across failovers${promise}`
  if (config.redis.clusterNodes) return `a Redis Cluster, every key under the hash tag ${config.redis.prefix}${promise}`
  if (redis.source === 'configured') return `${process.env.REDIS_URL ? 'from REDIS_URL' : 'from redis.url'}${promise}`
  if (redis.source === 'local') return 'none configured; the one answering on 127.0.0.1:6379 (set REDIS_URL to choose another)'
  return `none configured or answering on 127.0.0.1:6379: alertwire's own redis-server, data in ${config.dataDir}/redis`
}

interface Started {
  path: string
  config: Config
  runConfig: Config
  redis: ResolvedRedis
  tokenFile: { path: string; generated: boolean } | undefined
  bound: AddressInfo
}

/** logStarted says what alertwire started with: the address it really binds (the real port when PORT=0), the Redis it chose, the chat and the webhook token. */
function logStarted(log: Logger, { path, config, runConfig, redis, tokenFile, bound }: Started): void {
  const address = hostPort(bound.address, bound.port)
  const local = WILDCARD_HOSTS[bound.address]
  const url = `http://${hostPort(local ?? bound.address, bound.port)}`
  const redisUrl = redisWithoutPassword(describeTopology(topologyOf(config.redis, redis.url)))
  log.info(
    { address, url, config: path, redis: redisUrl, chat: runConfig.routing.defaultChat?.chatId, routes: runConfig.routing.routes.length },
    `alertwire ${version()} listening on ${address}${local ? ` (every interface; ${url} from this machine)` : ''}`,
  )
  log.info({ redis: redisUrl, source: redis.source }, `Redis ${redisUrl}: ${redisChoice(redis, config)}`)
  if (!config.telegram.botToken) log.warn('DRY RUN: no TELEGRAM_BOT_TOKEN; every message is written to this log instead of Telegram')
  if (!config.telegram.botToken && !config.routing.defaultChat) log.warn('no default chat (TELEGRAM_CHAT_ID): dry-run messages are logged for chat 0')
  if (config.webhook.allowUnauthenticated) log.warn('the webhook accepts unauthenticated requests (webhook.allow_unauthenticated: true)')
  if (!tokenFile) return
  const how = tokenFile.generated
    ? 'none was configured, so one was generated into this file'
    : 'none is configured: reused the one generated earlier in this file'
  log.info(
    { file: tokenFile.path, webhookToken: tokenFile.generated ? 'generated' : 'reused' },
    `the webhook requires a bearer token: ${how} (use it as credentials_file in Alertmanager's http_config)`,
  )
}

/** SIGNAL_ECHO_MS: the same signal again this soon is its echo, not a second signal (npm passes on what the process group already got). */
const SIGNAL_ECHO_MS = 500

/**
 * closeOnSignals shuts alertwire down gracefully on the first SIGTERM or SIGINT (or an uncaught
 * exception): in-flight work finishes within server.shutdown_timeout, else it exits anyway; a
 * second signal exits at once. A supervisor that signals the whole group reaches alertwire twice
 * (directly, and through `npm start`): that echo is not a second signal. SIGHUP is not one of
 * them: it reloads the config.
 */
function closeOnSignals(log: Logger, delayMs: number, close: () => Promise<void>): void {
  let first: { signal: NodeJS.Signals; at: number } | undefined
  const graceful = closeWithGrace(
    {
      delay: delayMs,
      // SIGTERM and SIGINT are handled below, to tell an echo from a second signal
      skip: ['SIGHUP', 'SIGTERM', 'SIGINT', 'unhandledRejection'],
      logger: { error: (error: unknown) => log.error({ error: String(error) }, 'shutting down failed') },
      onSecondSignal: (signal) => log.warn({ signal }, 'second signal: exiting now'),
      onSecondError: (error) => log.error({ error: String(error) }, 'another error while shutting down: exiting now'),
      onTimeout: () => log.error('shutdown took longer than server.shutdown_timeout; exiting'),
    },
    async ({ signal, err }) => {
      if (err) log.error({ error: err.message, stack: err.stack }, 'uncaught exception: shutting down')
      log.info({ signal: signal ?? first?.signal }, 'shutting down: finishing in-flight work')
      await close()
      log.info('stopped')
    },
  )
  const onSignal = (signal: NodeJS.Signals) => {
    if (!first) {
      first = { signal, at: Date.now() }
      graceful.close()
    } else if (signal !== first.signal || Date.now() - first.at > SIGNAL_ECHO_MS) {
      log.warn({ signal }, 'second signal: exiting now')
      process.exit(1)
    }
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, onSignal)
  process.on('unhandledRejection', (error) => log.error({ error: String(error) }, 'unhandled rejection'))
}

/** withDryRunChat gives dry runs without a chat a placeholder, so they still show what would be sent. */
function withDryRunChat(config: Config): Config {
  if (config.telegram.botToken || config.routing.defaultChat) return config
  return { ...config, routing: { ...config.routing, defaultChat: { chatId: 0, kind: 'private' } } }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'dead-letters') return (await import('./cli/dead-letters.js')).deadLettersMain(process.argv.slice(3))
  let args: Args
  try {
    args = parseArgs(process.argv.slice(2), process.env)
  } catch (error) {
    process.stderr.write(`alertwire: ${(error as Error).message}\n`)
    process.exit(2)
  }
  if (args.command === 'help') process.stdout.write(HELP)
  else if (args.command === 'version') process.stdout.write(`${version()}\n`)
  else if (args.command === 'check-config') checkConfig(args.configPath)
  else if (args.command === 'route-test') routeTest(args.configPath, args.rest)
  else await run(args.configPath)
}

// run only as the entry point (also through the npm bin symlink), not when imported by tests
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
