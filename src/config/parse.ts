/**
 * parseConfig: YAML text + environment → a compiled Config, or errors that each name the exact
 * path and what was expected (`routes[2].matchers[0]: expected a matcher like severity="critical",
 * got "sev critical"`). Pure apart from the injected secret-file reader; defaults first, then
 * types, then cross-field checks.
 */
import { compileDashboards, type Dashboard } from './dashboards.js'
import { compileGraphs, type GraphsConfig, graphsSecrets } from './graphs.js'
import { compileEscalation, type EscalationConfig } from './escalation.js'
import { compileOnCall, type OnCallConfig } from './oncall.js'
import { compileSilenceWatch, type SilenceWatchConfig } from './silence-watch.js'
import { Settings } from 'typebox/system'
import Value from 'typebox/value'
import YAML from 'yaml'
import { type Matcher, parseMatcher } from '../core/matchers.js'
import { compileMuteWindow } from '../core/mute.js'
import { compileLabelDisplay, type LabelDisplay } from '../core/labels.js'
import { compileSeverities, levelOf, type SeverityScheme } from '../core/severity.js'
import { chatKind, type Pace } from '../core/pace.js'
import type { ChatTarget, Policy, Route, Routing } from '../core/route.js'
import { type CompiledTemplates, compileTemplates, TemplateError } from '../core/templates.js'
import { parseDuration, parseSize } from '../core/duration.js'
import { pathText } from '../core/schema-errors.js'
import { type ProxyChoice, settleProxies } from './proxy.js'
import { ConfigSchema, type RawChatTarget, type RawConfig, type RawRoute } from './schema.js'

/** Config: the compiled configuration every part of alertwire reads. */
export interface Config {
  dataDir: string
  server: { host: string; port: number; bodyLimit: number; shutdownTimeoutMs: number }
  webhook: {
    bearerToken?: string
    basicAuth?: { username: string; password: string }
    allowUnauthenticated: boolean
    storeTimeoutMs: number
  }
  redis: RedisConfig
  telegram: {
    botToken?: string
    apiUrl: string
    defaultChat?: ChatTarget
    requestTimeoutMs: number
    pace: Pace
    admins: ReadonlySet<number>
    chatAdmins: ReadonlyMap<string, ReadonlySet<number>>
    chatAdministrators: boolean
    updates: 'polling' | 'webhook' | 'off'
    webhook?: { url: string; secret: string; path: string }
    /** the proxy Telegram calls go through (telegram.proxy_url or HTTPS_PROXY/ALL_PROXY) */
    proxy?: ProxyChoice
    /** where a dry run shows each message as the chat would see it, besides the JSON log line */
    dryRunView: 'auto' | 'always' | 'never'
  }
  silences: {
    durationsMs: number[]
    matchLabels: string[]
    ackMaxMs: number
    ackCheckIntervalMs: number
    comment: string
    buttons: boolean
  } & SilenceWatchConfig
  mute: { critical: 'silent' | 'loud' | 'hold' }
  alertmanager: { url: string; timeoutMs: number; basicAuth?: { username: string; password: string }; bearerToken?: string; proxy?: ProxyChoice }
  routing: Routing
  messages: {
    resolved: 'both' | 'edit' | 'reply'
    resolvedUnannounced: boolean
    labels: LabelDisplay
    timeZone: string
    severities: SeverityScheme
    templates: CompiledTemplates
  }
  storms: { maxDelayMs: number; digestMaxAlerts: number }
  flapping: { windowMs: number; threshold: number }
  delivery: { concurrency: number; retryInitialMs: number; retryMaxMs: number; giveUpAfterMs: number; catchUpAfterMs: number; stateTtlMs: number }
  log: { level: string }
  /** dashboards: by name (config/dashboards.ts) */
  dashboards: ReadonlyMap<string, Dashboard>
  /** graphs of firing alerts (config/graphs.ts) */
  graphs: GraphsConfig
  /** people and rotas: who is on call (config/oncall.ts) */
  oncall: OnCallConfig
  /** escalation policies and the one each route picked (config/escalation.ts) */
  escalation: EscalationConfig
}

/** HostPort: one Redis node or sentinel. */
export interface HostPort {
  host: string
  port: number
}

/**
 * RedisConfig: where Redis is and how much a stored webhook must be replicated. At most one of
 * url, sentinel and clusterNodes is set (none: the embedded defaults). In Cluster mode the prefix
 * is a hash tag ({alertwire}), so every key and every script stays in one slot.
 */
export interface RedisConfig {
  url?: string
  sentinel?: { sentinels: HostPort[]; name: string; password?: string }
  clusterNodes?: HostPort[]
  password?: string
  /** replicas that must confirm (WAIT) a stored webhook before it is answered 2xx; 0: the primary alone */
  minReplicasAcked: number
  prefix: string
  embeddedCommand: string
}

/** ParseContext: the world parseConfig may look at. */
export interface ParseContext {
  env: Record<string, string | undefined>
  /** reads a *_file secret; throws with a reason when it cannot */
  readSecret: (path: string) => string
}

export type ParseResult = { ok: true; config: Config; raw: RawConfig } | { ok: false; errors: string[] }

/** ENV_OVERRIDES: environment variables that override config keys (the running contract). */
export const ENV_OVERRIDES: readonly (readonly [string, readonly string[]])[] = [
  ['TELEGRAM_BOT_TOKEN', ['telegram', 'bot_token']],
  ['TELEGRAM_API_URL', ['telegram', 'api_url']],
  ['TELEGRAM_CHAT_ID', ['telegram', 'chat_id']],
  ['REDIS_URL', ['redis', 'url']],
  ['REDIS_SENTINELS', ['redis', 'sentinels']],
  ['REDIS_SENTINEL_NAME', ['redis', 'sentinel_name']],
  ['REDIS_CLUSTER_NODES', ['redis', 'cluster_nodes']],
  ['REDIS_PASSWORD', ['redis', 'password']],
  ['REDIS_SENTINEL_PASSWORD', ['redis', 'sentinel_password']],
  ['REDIS_MIN_REPLICAS_ACKED', ['redis', 'min_replicas_acked']],
  ['ALERTMANAGER_URL', ['alertmanager', 'url']],
  ['PROMETHEUS_URL', ['graphs', 'prometheus_url']],
  ['ALERTWIRE_WEBHOOK_TOKEN', ['webhook', 'bearer_token']],
  ['ALERTWIRE_ADMINS', ['telegram', 'admins']],
  ['HOST', ['server', 'host']],
  ['PORT', ['server', 'port']],
]

/** LIST_VARIABLES: environment variables holding a comma-separated list. */
const LIST_VARIABLES = new Set(['ALERTWIRE_ADMINS', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'])

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * interpolate replaces ${VAR} and ${VAR:-fallback} in every string of the parsed YAML. A value that
 * was only a reference to an unset or empty variable disappears, so `chat_id: ${TELEGRAM_CHAT_ID}`
 * means "not set" rather than "set to the empty string"; so does an empty `key:`.
 */
function interpolate(value: unknown, env: ParseContext['env']): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value)
    if (whole) return env[whole[1]!] || undefined
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => env[name] || fallback || '')
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env))
  if (isObject(value)) {
    const out: Json = {}
    for (const [key, v] of Object.entries(value)) {
      const resolved = interpolate(v, env)
      // `key:` with nothing after it (null) means "not set", as an unset ${VAR} does
      if (resolved !== undefined && resolved !== null) out[key] = resolved
    }
    return out
  }
  return value
}

function applyEnvOverrides(doc: Json, env: ParseContext['env'], fromEnv: Map<string, string>) {
  for (const [variable, path] of ENV_OVERRIDES) {
    const value = env[variable]
    if (value === undefined || value === '') continue
    let node = doc
    for (const key of path.slice(0, -1)) {
      if (!isObject(node[key])) node[key] = {}
      node = node[key] as Json
    }
    const leaf = path.at(-1)!
    // a list from the environment is comma-separated
    node[leaf] = LIST_VARIABLES.has(variable)
      ? value
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean)
      : value
    delete node[`${leaf}_file`] // the environment wins over a secret file
    fromEnv.set(path.join('.'), variable)
  }
}

/** TOPOLOGY_KEYS: the ways to reach Redis; one set from the environment replaces the file's others, as every variable wins over the file. */
const TOPOLOGY_KEYS = ['url', 'sentinels', 'cluster_nodes'] as const

function envTopologyWins(doc: Json, fromEnv: Map<string, string>): void {
  const chosen = TOPOLOGY_KEYS.filter((key) => fromEnv.has(`redis.${key}`))
  if (chosen.length === 0 || !isObject(doc.redis)) return
  for (const key of TOPOLOGY_KEYS) if (!chosen.includes(key)) delete doc.redis[key]
  if (!chosen.includes('sentinels') && !fromEnv.has('redis.sentinel_name')) delete doc.redis.sentinel_name
}

function schemaAt(pointer: string): Record<string, unknown> | undefined {
  let node: unknown = ConfigSchema
  for (const part of pointer.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (!isObject(node) && !Array.isArray(node)) return undefined
    node = (node as Json)[part]
  }
  return isObject(node) ? node : undefined
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  const text = JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function valueAt(doc: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((node, key) => (isObject(node) || Array.isArray(node) ? (node as Json)[key] : undefined), doc)
}

type SchemaIssues = ReturnType<typeof Value.Errors>

/**
 * MAX_CONFIG_ERRORS: TypeBox stops at 8 errors by default (a guard for untrusted input); a config
 * file is the operator's own, and every error in one run saves rounds of fix-and-rerun.
 */
const MAX_CONFIG_ERRORS = 10_000

/** schemaIssues lists every place the document breaks the schema, past TypeBox's usual first 8. */
function schemaIssues(doc: unknown): SchemaIssues {
  const cap = Settings.Get().maxErrors
  Settings.Set({ maxErrors: MAX_CONFIG_ERRORS })
  try {
    return Value.Errors(ConfigSchema, doc)
  } finally {
    Settings.Set({ maxErrors: cap })
  }
}

/** schemaErrors turns TypeBox errors into one line per offending path, preferring the schema's own words. */
function schemaErrors(doc: unknown, issues: SchemaIssues, fromEnv: Map<string, string>): string[] {
  const lines = new Map<string, { text: string; worded: boolean }>()
  const add = (pointer: string, message: string, worded: boolean) => {
    const path = pathText(pointer) || '(top level)'
    const variable = fromEnv.get(path)
    const existing = lines.get(pointer)
    if (!existing || (worded && !existing.worded)) lines.set(pointer, { text: `${path}${variable ? ` (from ${variable})` : ''}: ${message}`, worded })
  }
  for (const error of issues) {
    if (error.keyword === 'boolean') continue
    const params = error.params as Record<string, unknown>
    if (error.keyword === 'additionalProperties') {
      for (const key of (params.additionalProperties as string[]) ?? []) {
        add(`${error.instancePath}/${key}`, 'unknown key (misspelled? see config/alertwire.example.yaml)', true)
      }
    } else if (error.keyword === 'required') {
      const missing = (params.requiredProperties as string[] | undefined)?.[0] ?? ''
      add(`${error.instancePath}/${missing}`, 'is required', true)
    } else {
      // a union reports each branch first: the union's own "expected" says it better
      const expected = schemaAt(error.schemaPath)?.expected
      const value = describe(valueAt(doc, error.instancePath))
      add(error.instancePath, expected ? `expected ${expected}, got ${value}` : `${error.message}, got ${value}`, !!expected)
    }
  }
  return [...lines.values()].map((line) => line.text)
}

function readSecrets(doc: RawConfig, ctx: ParseContext, errors: string[]) {
  const secret = (holder: Record<string, unknown> | undefined, key: string, path: string) => {
    if (!holder) return
    const file = holder[`${key}_file`]
    if (typeof file !== 'string' || file === '') return
    if (typeof holder[key] === 'string' && holder[key] !== '') {
      errors.push(`${path}_file: set ${path.split('.').at(-1)} or ${path.split('.').at(-1)}_file, not both`)
      return
    }
    try {
      const value = ctx.readSecret(file).replace(/\r?\n$/, '')
      if (!value) errors.push(`${path}_file: ${JSON.stringify(file)} is empty`)
      holder[key] = value
    } catch (error) {
      errors.push(`${path}_file: cannot read ${JSON.stringify(file)}: ${(error as Error).message}`)
    }
  }
  secret(doc.telegram, 'bot_token', 'telegram.bot_token')
  secret(doc.webhook, 'bearer_token', 'webhook.bearer_token')
  secret(doc.webhook.basic_auth, 'password', 'webhook.basic_auth.password')
  secret(doc.telegram, 'webhook_secret', 'telegram.webhook_secret')
  secret(doc.alertmanager, 'bearer_token', 'alertmanager.bearer_token')
  secret(doc.alertmanager.basic_auth, 'password', 'alertmanager.basic_auth.password')
  secret(doc.telegram, 'proxy_url', 'telegram.proxy_url')
  secret(doc.alertmanager, 'proxy_url', 'alertmanager.proxy_url')
  secret(doc.redis, 'password', 'redis.password')
  secret(doc.redis, 'sentinel_password', 'redis.sentinel_password')
  for (const [holder, key, path] of graphsSecrets(doc.graphs)) secret(holder, key, path)
}

function compileChat(raw: RawChatTarget, headroom: number): ChatTarget {
  const chatId = typeof raw.chat_id === 'string' && /^-?[0-9]+$/.test(raw.chat_id) ? Number(raw.chat_id) : raw.chat_id
  return {
    chatId,
    ...(raw.thread_id ? { threadId: raw.thread_id } : {}),
    kind: raw.kind ?? chatKind(chatId),
    ...(raw.pace ? { paceMs: paceInterval(raw.pace, headroom) } : {}),
  }
}

type RawPolicy = Pick<RawRoute, 'silent_severities' | 'repeat_interval' | 'throttle' | 'mute_windows'>

/** compilePolicy reads a route's policy, inheriting what it leaves out from the routing defaults. */
function compilePolicy(raw: RawPolicy, defaults: Policy | undefined, display: Display): Policy {
  const throttle = raw.throttle ? Math.ceil(parseDuration(raw.throttle.per)! / raw.throttle.messages) : defaults?.throttleMs
  const levels = (values: readonly string[]) => values.map((v) => levelOf(v, display.severities))
  return {
    silentSeverities: raw.silent_severities ? new Set(levels(raw.silent_severities)) : defaults!.silentSeverities,
    repeatIntervalMs: raw.repeat_interval !== undefined ? (parseDuration(raw.repeat_interval) ?? 0) : defaults!.repeatIntervalMs,
    ...(throttle ? { throttleMs: throttle } : {}),
    muteWindows: raw.mute_windows
      ? raw.mute_windows.map((w) => compileMuteWindow({ ...w, severities: levels(w.severities) }, display.timeZone))
      : defaults!.muteWindows,
  }
}

function compileMatchers(texts: string[], path: string, errors: string[]): Matcher[] {
  const matchers: Matcher[] = []
  texts.forEach((text, i) => {
    try {
      matchers.push(parseMatcher(text))
    } catch (error) {
      errors.push(`${path}[${i}]: ${(error as Error).message}`)
    }
  })
  return matchers
}

function paceInterval(rate: string, headroom: number): number {
  const [messages, per] = rate.split('/') as [string, string]
  return Math.ceil((parseDuration(per)! / Number(messages)) * (1 + headroom))
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

/** redisErrors: one way to reach Redis (url, sentinels or cluster_nodes), and what each way needs. */
function redisErrors(redis: RawConfig['redis']): string[] {
  const errors: string[] = []
  const ways = TOPOLOGY_KEYS.filter((key) => redis[key] !== undefined)
  if (ways.length > 1)
    errors.push(`redis.${ways[1]}: set one of redis.url, redis.sentinels and redis.cluster_nodes, not ${ways.map((w) => `redis.${w}`).join(' and ')}`)
  if (redis.sentinels && !redis.sentinel_name) errors.push('redis.sentinel_name: required with redis.sentinels (the name Sentinel monitors the primary under)')
  if (redis.sentinel_name && !redis.sentinels) errors.push('redis.sentinel_name: set only together with redis.sentinels')
  if (redis.sentinel_password && !redis.sentinels) errors.push('redis.sentinel_password: set only together with redis.sentinels')
  const urlProblem = redis.url === undefined ? undefined : redisUrlProblem(redis.url)
  if (urlProblem) errors.push(`redis.url: ${urlProblem}`)
  return errors
}

/** redisUrlProblem: why a Redis URL cannot be connected to (not redis:// or rediss://, a port out of range, no host, a database that is not a number), or nothing. */
function redisUrlProblem(text: string): string | undefined {
  const shown = describe(text.replace(/\/\/[^@/]*@/, '//…@')) // the credentials never reach a log
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return `expected a URL like redis://127.0.0.1:6379/0 (a port of 1–65535), got ${shown}`
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return `expected a URL like redis://127.0.0.1:6379/0 (rediss:// for TLS), got ${shown}`
  if (!url.hostname) return `names no host, got ${shown}`
  if (url.port === '0') return `expected a port of 1–65535, got ${shown}`
  if (!/^\/?[0-9]*$/.test(url.pathname)) return `expected a database number after the host (redis://host:6379/0), got ${shown}`
  return undefined
}

/** hostPort reads a host:port the schema already checked; a bracketed IPv6 host loses its brackets. */
function hostPort(text: string): HostPort {
  const colon = text.lastIndexOf(':')
  return { host: text.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(text.slice(colon + 1)) }
}

/** clusterPrefix is the prefix as a Cluster needs it: one hash tag, so every key is in one slot; a prefix with its own tag is kept. */
export function clusterPrefix(prefix: string): string {
  return /\{[^}]+\}/.test(prefix) ? prefix : `{${prefix}}`
}

/** compileRedis is the redis: section compiled; the prefix carries a hash tag only in Cluster mode (a single Redis keeps the layout it always had). */
function compileRedis(redis: RawConfig['redis']): RedisConfig {
  return {
    ...(redis.url ? { url: redis.url } : {}),
    ...(redis.sentinels && redis.sentinel_name
      ? {
          sentinel: {
            sentinels: redis.sentinels.map(hostPort),
            name: redis.sentinel_name,
            ...(redis.sentinel_password ? { password: redis.sentinel_password } : {}),
          },
        }
      : {}),
    ...(redis.cluster_nodes ? { clusterNodes: redis.cluster_nodes.map(hostPort) } : {}),
    ...(redis.password ? { password: redis.password } : {}),
    minReplicasAcked: redis.min_replicas_acked,
    prefix: redis.cluster_nodes ? clusterPrefix(redis.prefix) : redis.prefix,
    embeddedCommand: redis.embedded_command,
  }
}

/** crossFieldErrors lists what the schema alone cannot see: keys that only make sense together, secrets Telegram refuses, time zones. */
function crossFieldErrors(raw: RawConfig): string[] {
  const errors: string[] = []
  if (raw.telegram.thread_id && raw.telegram.chat_id === undefined) errors.push('telegram.thread_id: set only together with telegram.chat_id')
  if (raw.telegram.bot_token && raw.telegram.chat_id === undefined) {
    errors.push('telegram.chat_id: required when a bot token is set: the default chat receives every alert no route claims (set TELEGRAM_CHAT_ID)')
  }
  if (raw.webhook.basic_auth && !raw.webhook.basic_auth.password) errors.push('webhook.basic_auth.password: is required (or password_file)')
  if (raw.telegram.updates === 'webhook' && (!raw.telegram.webhook_url || !raw.telegram.webhook_secret)) {
    errors.push('telegram.updates: webhook needs telegram.webhook_url and telegram.webhook_secret (or webhook_secret_file)')
  }
  if (raw.telegram.webhook_secret && !/^[A-Za-z0-9_-]{1,256}$/.test(raw.telegram.webhook_secret)) {
    errors.push('telegram.webhook_secret: expected 1-256 characters of A-Z, a-z, 0-9, _ and - (what Telegram accepts)')
  }
  errors.push(...redisErrors(raw.redis))
  const zone = (value: string, path: string) => {
    if (!validTimeZone(value)) errors.push(`${path}: expected an IANA time zone like "Europe/Berlin", got ${describe(value)}`)
  }
  zone(raw.messages.time_zone, 'messages.time_zone')
  for (const [j, w] of raw.routing.mute_windows.entries()) {
    if (w.time_zone) zone(w.time_zone, `routing.mute_windows[${j}].time_zone`)
  }
  for (const [i, r] of raw.routing.routes.entries()) {
    for (const [j, w] of (r.mute_windows ?? []).entries()) {
      if (w.time_zone) zone(w.time_zone, `routing.routes[${i}].mute_windows[${j}].time_zone`)
    }
  }
  return errors
}

/** compileRouting compiles the default chat, the routing defaults and every route (matcher errors are collected). */
function compileRouting(raw: RawConfig, display: Display, errors: string[]): Routing {
  const headroom = raw.telegram.pace.headroom
  const defaultChat =
    raw.telegram.chat_id !== undefined ? compileChat({ chat_id: raw.telegram.chat_id, thread_id: raw.telegram.thread_id }, headroom) : undefined
  const defaults = compilePolicy(raw.routing, undefined, display)
  const routes: Route[] = raw.routing.routes.map((route, i) => ({
    name: route.name ?? `routes[${i}]`,
    matchers: compileMatchers(route.matchers, `routing.routes[${i}].matchers`, errors),
    ...(route.chats ? { chats: route.chats.map((c) => compileChat(c, headroom)) } : {}),
    ...compilePolicy(route, defaults, display),
    continue: route.continue,
  }))
  return { ...(defaultChat ? { defaultChat } : {}), ...defaults, routes }
}

/** compile turns the validated YAML into the runtime Config, collecting what only now shows as wrong. */
function compile(raw: RawConfig, errors: string[]): Config | undefined {
  errors.push(...crossFieldErrors(raw))
  const display = compileDisplay(raw, errors)
  const routing = compileRouting(raw, display, errors)
  let templates: CompiledTemplates | undefined
  try {
    templates = compileTemplates(raw.messages.templates)
  } catch (error) {
    const problems = error instanceof TemplateError ? error.problems : [(error as Error).message]
    errors.push(...problems.map((problem) => `messages.templates.${problem}`))
  }
  const dashboards = compileDashboards(raw.dashboards, errors)
  const graphs = compileGraphs(raw.graphs, raw.routing.routes, display.severities, errors)
  const oncall = compileOnCall(raw.people, raw.rotas, raw.messages.time_zone, errors)
  const escalation = compileEscalation(raw.escalation, raw.routing, display.severities, oncall, errors)
  const silenceWatch = compileSilenceWatch(raw.silences, errors)
  if (errors.length > 0 || !templates) return undefined
  const assembled = assemble(raw, routing, display, templates)
  return { ...assembled, silences: { ...assembled.silences, ...silenceWatch }, dashboards, graphs, oncall, escalation }
}

/** Display: how alerts look, compiled (severity levels and what labels to hide), needed by routing too. */
interface Display {
  severities: SeverityScheme
  labels: LabelDisplay
  timeZone: string
}

function compileDisplay(raw: RawConfig, errors: string[]): Display {
  const { messages } = raw
  const severities = compileSeverities(messages.severities, messages.severity_aliases, messages.heartbeats)
  const labels = compileLabelDisplay(messages.hide_labels, messages.hide_annotations)
  errors.push(...severities.errors.map((e) => `messages.${e}`), ...labels.errors)
  return { severities: severities.scheme, labels: labels.display, timeZone: messages.time_zone }
}

/** assemble is the runtime Config, key by key, from a YAML already checked and compiled (a declarative table). */
function assemble(
  raw: RawConfig,
  routing: Routing,
  display: Display,
  templates: CompiledTemplates,
): Omit<Config, 'dashboards' | 'graphs' | 'oncall' | 'escalation' | 'silences'> & { silences: Omit<Config['silences'], keyof SilenceWatchConfig> } {
  const headroom = raw.telegram.pace.headroom
  const { defaultChat } = routing
  const bodyLimit = parseSize(raw.server.body_limit)!
  const ms = (text: string) => parseDuration(text)!
  return {
    dataDir: raw.data_dir,
    server: { host: raw.server.host, port: raw.server.port, bodyLimit, shutdownTimeoutMs: ms(raw.server.shutdown_timeout) },
    webhook: {
      ...(raw.webhook.bearer_token ? { bearerToken: raw.webhook.bearer_token } : {}),
      ...(raw.webhook.basic_auth ? { basicAuth: { username: raw.webhook.basic_auth.username, password: raw.webhook.basic_auth.password! } } : {}),
      allowUnauthenticated: raw.webhook.allow_unauthenticated,
      storeTimeoutMs: ms(raw.webhook.store_timeout),
    },
    redis: compileRedis(raw.redis),
    telegram: {
      ...(raw.telegram.bot_token ? { botToken: raw.telegram.bot_token } : {}),
      apiUrl: raw.telegram.api_url.replace(/\/+$/, ''),
      ...(defaultChat ? { defaultChat } : {}),
      requestTimeoutMs: ms(raw.telegram.request_timeout),
      dryRunView: raw.telegram.dry_run_view as Config['telegram']['dryRunView'],
      admins: new Set(raw.telegram.admins),
      chatAdmins: new Map(Object.entries(raw.telegram.chat_admins).map(([chat, ids]) => [chat, new Set(ids)])),
      chatAdministrators: raw.telegram.chat_administrators,
      // kept in a dry run too, so its messages carry the buttons the bot would show; without a token no bot starts
      updates: raw.telegram.updates as Config['telegram']['updates'],
      ...(raw.telegram.updates === 'webhook'
        ? { webhook: { url: raw.telegram.webhook_url!, secret: raw.telegram.webhook_secret!, path: raw.telegram.webhook_path } }
        : {}),
      pace: {
        privateIntervalMs: paceInterval(raw.telegram.pace.private, headroom),
        groupIntervalMs: paceInterval(raw.telegram.pace.group, headroom),
        globalIntervalMs: paceInterval(raw.telegram.pace.global, headroom),
      },
    },
    alertmanager: {
      url: raw.alertmanager.url.replace(/\/+$/, ''),
      timeoutMs: ms(raw.alertmanager.timeout),
      ...(raw.alertmanager.basic_auth?.password
        ? { basicAuth: { username: raw.alertmanager.basic_auth.username, password: raw.alertmanager.basic_auth.password } }
        : {}),
      ...(raw.alertmanager.bearer_token ? { bearerToken: raw.alertmanager.bearer_token } : {}),
    },
    routing,
    messages: {
      resolved: raw.messages.resolved as Config['messages']['resolved'],
      resolvedUnannounced: raw.messages.resolved_unannounced,
      labels: display.labels,
      timeZone: raw.messages.time_zone,
      severities: display.severities,
      templates,
    },
    silences: {
      durationsMs: raw.silences.durations.map(ms),
      matchLabels: raw.silences.match_labels,
      ackMaxMs: ms(raw.silences.ack_max),
      ackCheckIntervalMs: ms(raw.silences.ack_check_interval),
      comment: raw.silences.comment,
      buttons: raw.silences.buttons,
    },
    mute: { critical: raw.mute.critical as Config['mute']['critical'] },
    storms: { maxDelayMs: ms(raw.storms.max_delay), digestMaxAlerts: raw.storms.digest_max_alerts },
    flapping: { windowMs: ms(raw.flapping.window), threshold: raw.flapping.threshold },
    delivery: {
      concurrency: raw.delivery.concurrency,
      retryInitialMs: ms(raw.delivery.retry_initial),
      retryMaxMs: ms(raw.delivery.retry_max),
      giveUpAfterMs: ms(raw.delivery.give_up_after),
      catchUpAfterMs: ms(raw.delivery.catch_up_after),
      stateTtlMs: ms(raw.delivery.state_ttl),
    },
    log: { level: raw.log.level },
  }
}

/** DROPPED marks an array item removed by usableDocument until the arrays are swept. */
const DROPPED = Symbol('dropped')

const pointerKey = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1')
const pointerParts = (pointer: string) =>
  pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))

/** unusablePointers names the values a schema issue makes unusable: an unknown key, a wrong value, an object missing a required key. */
function unusablePointers(issues: SchemaIssues): string[] {
  const pointers = new Set<string>()
  for (const issue of issues) {
    if (issue.keyword === 'boolean') continue
    const params = issue.params as Record<string, unknown>
    if (issue.keyword === 'additionalProperties') {
      for (const key of (params.additionalProperties as string[]) ?? []) pointers.add(`${issue.instancePath}/${pointerKey(key)}`)
    } else if (issue.instancePath !== '') pointers.add(issue.instancePath)
  }
  return [...pointers]
}

/** itemSchemaAt walks the schema along a document pointer (objects, arrays, records); undefined where a union makes it ambiguous. */
function itemSchemaAt(pointer: string): Record<string, unknown> | undefined {
  let node: Record<string, unknown> | undefined = ConfigSchema as unknown as Record<string, unknown>
  for (const part of pointerParts(pointer)) {
    if (!node) return undefined
    const properties = node.properties as Json | undefined
    const patterns = node.patternProperties as Json | undefined
    const next: unknown = properties?.[part] ?? node.items ?? (patterns ? Object.values(patterns)[0] : undefined)
    node = isObject(next) ? next : undefined
  }
  return node
}

/** placeholder is the emptiest valid item for an array slot, so the items after it keep their index in later errors. */
function placeholder(pointer: string): unknown {
  const schema = itemSchemaAt(pointer)
  if (!schema) return DROPPED
  try {
    const value = Value.Create(schema as never)
    return Value.Check(schema as never, value) ? value : DROPPED
  } catch {
    return DROPPED // a pattern without a default cannot be created
  }
}

function dropAt(doc: Json, pointer: string): void {
  const parts = pointerParts(pointer)
  const key = parts.pop()!
  let parent: unknown = doc
  for (const part of parts) parent = isObject(parent) || Array.isArray(parent) ? (parent as Json)[part] : undefined
  if (Array.isArray(parent) && /^[0-9]+$/.test(key)) parent[Number(key)] = placeholder(pointer)
  else if (isObject(parent)) delete parent[key]
}

function sweep(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((item) => item !== DROPPED).map(sweep)
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sweep(v)]))
  return value
}

/**
 * convertExactly converts values to the schema's types where nothing is lost: "2" from the
 * environment becomes 2. Value.Convert also truncates 1.5 (or "1.5") to 1 and turns true into 1;
 * those are put back as written, so the schema refuses them with the value the operator wrote.
 */
function convertExactly(doc: unknown): unknown {
  // Convert changes what it is given in place: it gets a copy, so the values as written stay to compare
  return undoLossy(doc, Value.Convert(ConfigSchema, structuredClone(doc)))
}

/** undoLossy: `after` (converted) with each number that does not equal the value written in `before` put back as written. */
function undoLossy(before: unknown, after: unknown): unknown {
  if (typeof after === 'number') {
    const exact = typeof before === 'number' || (typeof before === 'string' && before.trim() !== '') ? Number(before) === after : before === after
    return exact ? after : before
  }
  if (Array.isArray(after) && Array.isArray(before)) return after.map((item, i) => undoLossy(before[i], item))
  if (isObject(after) && isObject(before)) return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, k in before ? undoLossy(before[k], v) : v]))
  return after
}

/**
 * usableDocument removes what the schema refused, so the later checks (secrets, cross-field,
 * matchers, severities, templates) still run on everything else: a removed key takes its default,
 * a removed list item its emptiest valid form. It also names what was removed, so the errors the
 * later checks find in those pieces (already reported) can be left out. No raw config when the
 * document cannot be made valid in a few rounds.
 */
function usableDocument(doc: unknown, issues: SchemaIssues): { raw?: RawConfig; unusable: string[] } {
  const unusable: string[] = []
  let current = doc
  let pending = issues
  for (let round = 0; round < 5 && pending.length > 0 && isObject(current); round++) {
    const pointers = unusablePointers(pending)
    unusable.push(...pointers)
    // the deepest first, so a parent removed after its child leaves nothing half-removed
    for (const pointer of pointers.sort((a, b) => b.split('/').length - a.split('/').length)) dropAt(current as Json, pointer)
    current = convertExactly(Value.Default(ConfigSchema, sweep(current)))
    pending = schemaIssues(current)
  }
  return pending.length === 0 ? { raw: current as RawConfig, unusable } : { unusable }
}

/** aboutUnusable: an error at, below or naming a value the schema already refused (its check could not run on it). */
function aboutUnusable(error: string, unusable: readonly string[]): boolean {
  const own = /^[^\s:]+/.exec(error)?.[0] ?? ''
  return unusable
    .map((pointer) => pathText(pointer))
    .some((path) => {
      if (own === path || own.startsWith(`${path}.`) || own.startsWith(`${path}[`)) return true
      const named = new RegExp(`(^|[\\s(])${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\w.[])`)
      return named.test(error.slice(own.length))
    })
}

/** parseConfig parses and validates config text; see the file comment. */
export function parseConfig(text: string, ctx: ParseContext): ParseResult {
  const document = YAML.parseDocument(text, { prettyErrors: true })
  if (document.errors.length > 0) {
    return { ok: false, errors: document.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`) }
  }
  const parsed: unknown = document.toJS() ?? {}
  if (!isObject(parsed)) return { ok: false, errors: ['(top level): expected a mapping of keys like server:, telegram:, routing:'] }
  const doc = interpolate(parsed, ctx.env) as Json
  const fromEnv = new Map<string, string>()
  applyEnvOverrides(doc, ctx.env, fromEnv)
  envTopologyWins(doc, fromEnv)
  const withDefaults = convertExactly(Value.Default(ConfigSchema, doc))
  const issues = schemaIssues(withDefaults)
  const errors = schemaErrors(withDefaults, issues, fromEnv)
  // the later checks still run, on the values the schema accepted: every error in one run
  const { raw, unusable } = issues.length > 0 ? usableDocument(withDefaults, issues) : { raw: withDefaults as RawConfig, unusable: [] }
  if (!raw) return { ok: false, errors }
  const later: string[] = []
  readSecrets(raw, ctx, later)
  const proxies = settleProxies(
    { telegram: { target: raw.telegram.api_url, ...raw.telegram }, alertmanager: { target: raw.alertmanager.url, ...raw.alertmanager } },
    ctx.env,
    later,
  )
  const config = compile(raw, later)
  if (config?.telegram && proxies.telegram) config.telegram.proxy = proxies.telegram
  if (config?.alertmanager && proxies.alertmanager) config.alertmanager.proxy = proxies.alertmanager
  errors.push(...later.filter((error) => !aboutUnusable(error, unusable)))
  return config && errors.length === 0 ? { ok: true, config, raw } : { ok: false, errors }
}
