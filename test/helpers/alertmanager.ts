// A real Alertmanager (Debian's prometheus-alertmanager 0.25) for end-to-end tests: it routes
// alerts posted through its API to a webhook, exactly as in production, so tests see real
// grouping, re-sends, resolve notifications, silences and auth headers.
import { writeFile, mkdir, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { requestJson, waitForHttp } from './net.js'
import { makeTempDir, removeTempDir, runCommand, spawnTracked, startOnFreePort, waitUntilReady, type ManagedProcess } from './processes.js'

export type Labels = Record<string, string>

/** An alert as POST /api/v2/alerts takes it. Times may be Dates or RFC 3339 strings. */
export interface PostableAlert {
  labels: Labels
  annotations?: Labels
  startsAt?: string | Date
  endsAt?: string | Date
  generatorURL?: string
}

/** An alert as GET /api/v2/alerts returns it. */
export interface ApiAlert {
  labels: Labels
  annotations: Labels
  startsAt: string
  endsAt: string
  updatedAt: string
  fingerprint: string
  generatorURL?: string
  receivers: { name: string }[]
  status: { state: 'active' | 'suppressed' | 'unprocessed'; silencedBy: string[]; inhibitedBy: string[] }
}

export interface Matcher {
  name: string
  value: string
  isRegex: boolean
  isEqual?: boolean
}

/** A silence as GET /api/v2/silences returns it. */
export interface Silence {
  id: string
  matchers: Matcher[]
  startsAt: string
  endsAt: string
  updatedAt: string
  createdBy: string
  comment: string
  status: { state: 'active' | 'pending' | 'expired' }
}

export interface SilenceInput {
  /** Full matchers, or a label set meaning "each label equals this value". */
  matchers: Matcher[] | Labels
  startsAt?: string | Date
  /** Defaults to startsAt + durationMs. */
  endsAt?: string | Date
  /** Defaults to one hour. */
  durationMs?: number
  createdBy?: string
  comment?: string
  /** Id of an existing silence to update. */
  id?: string
}

/** Query parameters of GET /api/v2/alerts; `filter` takes matchers like `alertname="X"`. */
export interface AlertQuery {
  active?: boolean
  silenced?: boolean
  inhibited?: boolean
  unprocessed?: boolean
  receiver?: string
  filter?: string[]
}

// Loose shapes of the config file, enough for extraConfig to edit it under strict typing.
export interface AmRoute {
  receiver?: string
  group_by?: string[]
  group_wait?: string
  group_interval?: string
  repeat_interval?: string
  matchers?: string[]
  continue?: boolean
  routes?: AmRoute[]
  [key: string]: unknown
}
export interface AmWebhookConfig {
  url: string
  send_resolved?: boolean
  max_alerts?: number
  http_config?: Record<string, unknown>
  [key: string]: unknown
}
export interface AmReceiver {
  name: string
  webhook_configs?: AmWebhookConfig[]
  [key: string]: unknown
}
export interface AmConfig {
  global?: Record<string, unknown>
  route: AmRoute
  receivers: AmReceiver[]
  inhibit_rules?: Record<string, unknown>[]
  [key: string]: unknown
}

interface CommonOptions {
  /** Alertmanager's --log.level; 'warn' keeps logs() short but shows failed notifications. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error'
  /** How long to wait for GET /-/ready; default 15 s. */
  readyTimeoutMs?: number
}

/** Options for a config generated around one webhook receiver. */
export interface GeneratedConfigOptions extends CommonOptions {
  /** Where Alertmanager posts, e.g. http://127.0.0.1:PORT/alerts. */
  webhookUrl: string
  /** Receiver name; it reaches the webhook regex-quoted (`a.b` → `a\.b`). Default 'alertwire'. */
  receiverName?: string
  /** Written to a file and sent as `Authorization: Bearer <token>` (credentials_file). */
  bearerToken?: string
  basicAuth?: { username: string; password: string }
  groupBy?: string[]
  groupWait?: string
  groupInterval?: string
  repeatInterval?: string
  sendResolved?: boolean
  maxAlerts?: number
  /** Edits the config object before it is written (inhibit rules, extra routes...). */
  // biome-ignore lint/suspicious/noConfusingVoidType: void says the edit may return nothing and change the object in place; undefined would refuse such a function
  extraConfig?: (config: AmConfig) => AmConfig | void
}

/** Options for a complete config text used as is (e.g. a shipped deploy config). */
export interface RawConfigOptions extends CommonOptions {
  configYaml: string
}

export type AlertmanagerOptions = GeneratedConfigOptions | RawConfigOptions

export interface AlertmanagerHandle {
  /** Base URL, e.g. http://127.0.0.1:PORT (also Alertmanager's external URL). */
  readonly url: string
  readonly port: number
  /** Temp dir holding the config, secrets and storage (removed by stop()). */
  readonly dir: string
  readonly configPath: string
  /** Process id of the running Alertmanager (for memory readings in benchmarks). */
  pid(): number | undefined
  postAlerts(alerts: PostableAlert[]): Promise<void>
  /** Posts the same label sets with endsAt = now, re-sending the annotations last posted for them. */
  resolveAlerts(labelsList: Labels[]): Promise<void>
  getAlerts(query?: AlertQuery): Promise<ApiAlert[]>
  getSilences(filter?: string[]): Promise<Silence[]>
  getSilence(id: string): Promise<Silence>
  /** Creates (or, with `id`, updates) a silence and returns its id. */
  createSilence(input: SilenceInput): Promise<string>
  expireSilence(id: string): Promise<void>
  running(): boolean
  /** SIGTERM, wait for exit, remove the temp dir. The handle is finished afterwards. */
  stop(): Promise<void>
  /** SIGKILL (a crash) by default; storage is kept so restart() can follow. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Stops (gracefully, if still running) and starts again on the same port and storage. */
  restart(): Promise<void>
  /** Captured stdout/stderr of the current process. */
  logs(): string
}

/** startAlertmanager writes and checks a config, starts prometheus-alertmanager on a free port and waits until it is ready. */
export async function startAlertmanager(opts: AlertmanagerOptions): Promise<AlertmanagerHandle> {
  const dir = makeTempDir('alertmanager')
  try {
    const configPath = join(dir, 'alertmanager.yml')
    const configText = 'configYaml' in opts ? opts.configYaml : await generateConfig(opts, dir)
    await writeFile(configPath, configText)
    await checkConfig(configPath, configText)
    const storage = join(dir, 'data')
    await mkdir(storage)
    const launch = (port: number): Promise<ManagedProcess> => launchAlertmanager(port, configPath, storage, opts)
    const { port, proc } = await startOnFreePort(async (p) => ({ port: p, proc: await launch(p) }))
    return makeHandle({ port, dir, configPath, proc, launch })
  } catch (err) {
    await removeTempDir(dir)
    throw err
  }
}

/** buildAlertmanagerConfig returns the config object startAlertmanager writes for these options (before extraConfig). */
export function buildAlertmanagerConfig(opts: GeneratedConfigOptions, tokenFile?: string): AmConfig {
  if (opts.bearerToken !== undefined && opts.basicAuth) {
    // Alertmanager rejects http_config with both; say so plainly instead of via amtool.
    throw new Error('startAlertmanager: bearerToken and basicAuth are mutually exclusive')
  }
  const receiver = opts.receiverName ?? 'alertwire'
  const webhook: AmWebhookConfig = { url: opts.webhookUrl, send_resolved: opts.sendResolved ?? true }
  if (opts.maxAlerts !== undefined) webhook.max_alerts = opts.maxAlerts
  if (tokenFile) webhook.http_config = { authorization: { type: 'Bearer', credentials_file: tokenFile } }
  if (opts.basicAuth) webhook.http_config = { basic_auth: { ...opts.basicAuth } }
  return {
    route: {
      receiver,
      group_by: opts.groupBy ?? ['alertname'],
      group_wait: opts.groupWait ?? '0s',
      group_interval: opts.groupInterval ?? '1s',
      repeat_interval: opts.repeatInterval ?? '1h',
    },
    receivers: [{ name: receiver, webhook_configs: [webhook] }],
  }
}

async function generateConfig(opts: GeneratedConfigOptions, dir: string): Promise<string> {
  let tokenFile: string | undefined
  if (opts.bearerToken !== undefined) {
    tokenFile = join(dir, 'bearer_token')
    await writeFile(tokenFile, opts.bearerToken)
    await chmod(tokenFile, 0o600)
  }
  const config = buildAlertmanagerConfig(opts, tokenFile)
  const edited = opts.extraConfig?.(config) ?? config
  return stringify(edited)
}

// amtool names the exact problem; Alertmanager itself would only exit with a terser message.
async function checkConfig(configPath: string, configText: string): Promise<void> {
  const { code, output } = await runCommand('amtool', ['check-config', configPath])
  if (code !== 0) {
    throw new Error(`amtool check-config rejected the config:\n${output}\n--- config ---\n${configText}`)
  }
}

async function launchAlertmanager(port: number, configPath: string, storage: string, opts: CommonOptions): Promise<ManagedProcess> {
  const url = `http://127.0.0.1:${port}`
  const proc = spawnTracked(`alertmanager:${port}`, 'prometheus-alertmanager', [
    `--config.file=${configPath}`,
    `--storage.path=${storage}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--web.external-url=${url}`,
    '--cluster.listen-address=', // no gossip: no port 9094, no peers, no settle delay
    `--log.level=${opts.logLevel ?? 'warn'}`,
  ])
  const timeoutMs = opts.readyTimeoutMs ?? 15_000
  await waitUntilReady(proc, (signal) => waitForHttp(`${url}/-/ready`, { timeoutMs, signal }))
  return proc
}

interface HandleParts {
  port: number
  dir: string
  configPath: string
  proc: ManagedProcess
  launch: (port: number) => Promise<ManagedProcess>
}

function makeHandle(parts: HandleParts): AlertmanagerHandle {
  const { port, dir, configPath, launch } = parts
  const url = `http://127.0.0.1:${port}`
  const api = `${url}/api/v2`
  let current = parts.proc
  let finished = false
  // What was last posted per label set, so a resolve looks like Prometheus's: same annotations.
  const lastPosted = new Map<string, PostableAlert>()

  const post = (alerts: PostableAlert[]): Promise<void> => requestJson<void>('POST', `${api}/alerts`, alerts.map(toWire))

  return {
    url,
    port,
    dir,
    configPath,
    pid: () => current.child.pid,
    async postAlerts(alerts) {
      for (const alert of alerts) lastPosted.set(labelKey(alert.labels), alert)
      await post(alerts)
    },
    async resolveAlerts(labelsList) {
      const now = new Date()
      await post(labelsList.map((labels) => ({ ...lastPosted.get(labelKey(labels)), labels, endsAt: now })))
    },
    getAlerts: (query = {}) => requestJson<ApiAlert[]>('GET', `${api}/alerts${alertQueryString(query)}`),
    getSilences: (filter = []) => requestJson<Silence[]>('GET', `${api}/silences${filterString(filter)}`),
    getSilence: (id) => requestJson<Silence>('GET', `${api}/silence/${encodeURIComponent(id)}`),
    async createSilence(input) {
      const body = silenceBody(input)
      const res = await requestJson<{ silenceID: string }>('POST', `${api}/silences`, body)
      return res.silenceID
    },
    async expireSilence(id) {
      await requestJson<void>('DELETE', `${api}/silence/${encodeURIComponent(id)}`)
    },
    running: () => current.running(),
    async stop() {
      if (finished) return
      finished = true
      await current.stop()
      await removeTempDir(dir)
    },
    kill: (signal) => current.kill(signal),
    async restart() {
      if (finished) throw new Error('AlertmanagerHandle.restart: already stopped')
      await current.stop()
      current = await launch(port)
    },
    logs: () => current.output(),
  }
}

function toWire(alert: PostableAlert): Record<string, unknown> {
  const wire: Record<string, unknown> = { labels: alert.labels }
  if (alert.annotations) wire.annotations = alert.annotations
  if (alert.generatorURL) wire.generatorURL = alert.generatorURL
  if (alert.startsAt) wire.startsAt = toIso(alert.startsAt)
  if (alert.endsAt) wire.endsAt = toIso(alert.endsAt)
  return wire
}

function silenceBody(input: SilenceInput): Record<string, unknown> {
  const startsAt = input.startsAt ? new Date(input.startsAt) : new Date()
  const endsAt = input.endsAt ? new Date(input.endsAt) : new Date(startsAt.getTime() + (input.durationMs ?? 3_600_000))
  const matchers = Array.isArray(input.matchers)
    ? input.matchers
    : Object.entries(input.matchers).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true }))
  const body: Record<string, unknown> = {
    matchers,
    startsAt: startsAt.toISOString(),
    endsAt: endsAt.toISOString(),
    createdBy: input.createdBy ?? 'alertwire-tests',
    comment: input.comment ?? 'created by a test',
  }
  if (input.id) body.id = input.id
  return body
}

function alertQueryString(query: AlertQuery): string {
  const params = new URLSearchParams()
  for (const key of ['active', 'silenced', 'inhibited', 'unprocessed'] as const) {
    const value = query[key]
    if (value !== undefined) params.set(key, String(value))
  }
  if (query.receiver) params.set('receiver', query.receiver)
  for (const f of query.filter ?? []) params.append('filter', f)
  const text = params.toString()
  return text ? `?${text}` : ''
}

function filterString(filter: string[]): string {
  return filter.length ? `?${filter.map((f) => `filter=${encodeURIComponent(f)}`).join('&')}` : ''
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

function toIso(time: string | Date): string {
  return typeof time === 'string' ? time : time.toISOString()
}

/** amtool runs Debian's amtool against an Alertmanager, as an operator would (`silence add`, `silence expire`…); returns its trimmed output, or throws with it. */
export async function amtool(url: string, args: readonly string[]): Promise<string> {
  const { code, output } = await runCommand('amtool', [`--alertmanager.url=${url}`, ...args])
  if (code !== 0) throw new Error(`amtool ${args.join(' ')} failed (${code}):\n${output}`)
  return output
}
