/**
 * A stand-in for doradura, the Telegram media-download bot this stack watches: it serves the bot's
 * doradura_* metrics at /metrics and its /health, from a small simulation whose knobs can push any
 * alert past its threshold, so the whole stack (Prometheus → Alertmanager → alertwire → Telegram)
 * can be seen working without the bot.
 *
 * Only node built-ins: run it with `node --import tsx deploy/demo-exporter/exporter.ts` (or the
 * demo-exporter image). Knobs: GET /knobs, POST /knobs {"queue_depth": 150} (or ?queue_depth=150),
 * POST /scenario/QueueBackup (one per alert), POST /scenario/healthy.
 */
import { realpathSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'

/** Knobs: the rates and levels the simulated bot runs at. */
export interface Knobs {
  /** the bot does not answer: /metrics and /health say 503, so Prometheus sees up == 0 */
  down: boolean
  downloads_per_second: number
  /** share of download attempts that fail */
  failure_ratio: number
  /** typical download time; a tenth of downloads take three times as long */
  download_seconds: number
  queue_depth: number
  queue_wait_seconds: number
  ytdlp_errors_per_second: number
  retries_per_second: number
  payment_failures_per_hour: number
  daily_active_users: number
  monthly_active_users: number
  starts_per_hour: number
  subscriptions_per_hour: number
  cancellations_per_hour: number
  active_subscriptions: number
  stars_per_subscription: number
}

/** HEALTHY: a bot every alert is quiet about. */
export const HEALTHY: Readonly<Knobs> = Object.freeze({
  down: false,
  downloads_per_second: 2,
  failure_ratio: 0.02,
  download_seconds: 8,
  queue_depth: 4,
  queue_wait_seconds: 3,
  ytdlp_errors_per_second: 0.01,
  retries_per_second: 0.1,
  payment_failures_per_hour: 0,
  daily_active_users: 120,
  monthly_active_users: 1500,
  starts_per_hour: 60,
  subscriptions_per_hour: 3,
  cancellations_per_hour: 1,
  active_subscriptions: 42,
  stars_per_subscription: 100,
})

/** SCENARIOS: for each alert of deploy/prometheus/rules/doradura_alerts.yml, knobs past its threshold. */
export const SCENARIOS: Readonly<Record<string, Partial<Knobs>>> = Object.freeze({
  HighErrorRate: { failure_ratio: 0.3 },
  QueueBackup: { queue_depth: 150 },
  BotDown: { down: true },
  YtdlpFailures: { ytdlp_errors_per_second: 1 },
  // one every 3 minutes: always one in the rule's 5-minute window, so the alert stays firing
  PaymentFailures: { payment_failures_per_hour: 20 },
  SlowDownloads: { download_seconds: 40 },
  // above the critical HighErrorRate's 10% too: both fire, and Alertmanager inhibits this one
  LowSuccessRate: { failure_ratio: 0.15 },
  HighRetryRate: { retries_per_second: 2 },
  LowDailyActiveUsers: { daily_active_users: 5 },
  LowConversionRate: { subscriptions_per_hour: 0.3 },
  HighCancellationRate: { cancellations_per_hour: 12 },
})

const DURATION_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600]
const QUEUE_WAIT_BUCKETS = [5, 30, 60, 300, 600, 1800, 3600]
// how observations spread around the typical value: [multiple of it, share of observations]
const SPREAD: readonly [number, number][] = [
  [0.5, 0.25],
  [1, 0.5],
  [1.5, 0.15],
  [3, 0.1],
]
const FORMATS: readonly [string, number][] = [
  ['mp3', 0.6],
  ['mp4', 0.35],
  ['srt', 0.05],
]
const PLANS: readonly [string, number][] = [
  ['free', 0.7],
  ['premium', 0.25],
  ['vip', 0.05],
]
const PAID_PLANS: readonly [string, number][] = [
  ['premium', 0.8],
  ['vip', 0.2],
]
const PRIORITIES: readonly [string, number][] = [
  ['high', 0.2],
  ['medium', 0.3],
  ['low', 0.5],
]
// other commands, per /start
const COMMANDS: readonly [string, number][] = [
  ['start', 1],
  ['help', 0.3],
  ['settings', 0.2],
  ['history', 0.2],
  ['info', 0.1],
]
// errors that are not yt-dlp's or payments', per second
const BACKGROUND_ERRORS: readonly [string, number][] = [
  ['telegram', 0.005],
  ['database', 0.001],
]

type Labels = Record<string, string>

interface Family {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram'
  series: Map<string, { labels: Labels; value: number }>
}

interface HistogramState {
  buckets: number[]
  counts: Map<string, { labels: Labels; buckets: number[]; count: number; sum: number }>
}

const key = (labels: Labels) => JSON.stringify(labels)

/** Simulation: the bot's metrics, advanced along a clock by the knobs' rates. */
export class Simulation {
  knobs: Knobs
  private readonly families = new Map<string, Family>()
  private readonly histograms = new Map<string, HistogramState>()
  private readonly startedAt: number
  private last: number
  /** failed payments due at the knob's rate (a fraction), and those counted (whole ones) */
  private paymentFailuresDue = 0
  private paymentFailuresCounted = 0

  constructor(knobs: Partial<Knobs> = {}, now = Date.now()) {
    this.knobs = { ...HEALTHY, ...knobs }
    this.startedAt = now
    this.last = now
    this.declare()
    this.setGauges()
  }

  /** set changes knobs; counters keep their values and grow at the new rates from now on. */
  set(knobs: Partial<Knobs>, now = Date.now()) {
    this.advance(now)
    this.knobs = { ...this.knobs, ...knobs }
    this.setGauges()
  }

  /** advance moves the simulation to `now`: counters grow by rate × elapsed time. */
  advance(now = Date.now()) {
    const dt = (now - this.last) / 1000
    if (dt <= 0) return
    this.last = now
    const k = this.knobs
    const attempts = k.downloads_per_second * dt
    const failures = attempts * k.failure_ratio
    const successes = attempts - failures
    for (const [format, share] of FORMATS) {
      this.add('doradura_download_success_total', { format }, successes * share)
      this.add('doradura_download_failure_total', { format, error_type: 'network' }, failures * share * 0.6)
      this.add('doradura_download_failure_total', { format, error_type: 'timeout' }, failures * share * 0.4)
      for (const [plan, planShare] of PLANS) this.add('doradura_format_requests_total', { format, plan }, attempts * share * planShare)
      this.observe('doradura_download_duration_seconds', { format }, k.download_seconds, successes * share)
    }
    this.observe('doradura_queue_wait_time_seconds', { priority: 'medium' }, k.queue_wait_seconds, attempts)
    this.add('doradura_errors_total', { category: 'network' }, failures * 0.6)
    this.add('doradura_errors_total', { category: 'timeout' }, failures * 0.4)
    this.add('doradura_errors_total', { category: 'ytdlp' }, k.ytdlp_errors_per_second * dt)
    for (const [category, perSecond] of BACKGROUND_ERRORS) this.add('doradura_errors_total', { category }, perSecond * dt)
    // a failed payment is a whole event, counted as soon as one is due: the first fires
    // PaymentFailures at once, and its message counts payments, not fractions of one
    this.paymentFailuresDue += (k.payment_failures_per_hour / 3600) * dt
    const paymentFailures = Math.ceil(this.paymentFailuresDue - 1e-9) - this.paymentFailuresCounted
    this.paymentFailuresCounted += paymentFailures
    this.add('doradura_errors_total', { category: 'payment' }, paymentFailures)
    this.add('doradura_payment_failure_total', { plan: 'premium', reason: 'provider_error' }, paymentFailures)
    this.add('doradura_task_retries_total', {}, k.retries_per_second * dt)
    const starts = (k.starts_per_hour / 3600) * dt
    for (const [command, perStart] of COMMANDS) this.add('doradura_command_usage_total', { command }, starts * perStart)
    const subscriptions = (k.subscriptions_per_hour / 3600) * dt
    for (const [plan, share] of PAID_PLANS) {
      this.add('doradura_new_subscriptions_total', { plan }, subscriptions * share)
      this.add('doradura_payment_success_total', { plan }, subscriptions * share)
      this.add('doradura_subscription_cancellations_total', { plan }, (k.cancellations_per_hour / 3600) * dt * share)
    }
    this.add('doradura_revenue_total_stars', {}, subscriptions * k.stars_per_subscription)
    this.add('doradura_bot_uptime_seconds', {}, dt)
  }

  /** render writes every series in Prometheus's text exposition format (0.0.4). */
  render(): string {
    const lines: string[] = []
    for (const family of this.families.values()) {
      lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`)
      if (family.type === 'histogram') lines.push(...this.renderHistogram(family.name))
      else for (const { labels, value } of family.series.values()) lines.push(`${family.name}${labelText(labels)} ${value}`)
    }
    return `${lines.join('\n')}\n`
  }

  /** uptimeSeconds: how long the simulated bot has run. */
  uptimeSeconds(now = Date.now()) {
    return Math.floor((now - this.startedAt) / 1000)
  }

  private declare() {
    const counter = (name: string, help: string, ...labelSets: Labels[]) => this.family(name, help, 'counter', labelSets)
    const gauge = (name: string, help: string, ...labelSets: Labels[]) => this.family(name, help, 'gauge', labelSets)
    // every series exists from the start at 0, as the bot initialises them: rate() and increase()
    // then see the first event, which they would miss on a series that appears with it
    counter('doradura_download_success_total', 'Total number of successful downloads', ...FORMATS.map(([format]) => ({ format })))
    counter(
      'doradura_download_failure_total',
      'Total number of failed downloads',
      ...FORMATS.flatMap(([format]) => [
        { format, error_type: 'network' },
        { format, error_type: 'timeout' },
      ]),
    )
    this.histogram('doradura_download_duration_seconds', 'Time spent downloading files', DURATION_BUCKETS, ...FORMATS.map(([format]) => ({ format })))
    gauge('doradura_queue_depth', 'Current number of tasks in queue by priority', ...PRIORITIES.map(([priority]) => ({ priority })))
    this.histogram('doradura_queue_wait_time_seconds', 'Time tasks spend waiting in queue before processing', QUEUE_WAIT_BUCKETS, { priority: 'medium' })
    counter('doradura_task_retries_total', 'Total number of download task retries', {})
    counter(
      'doradura_errors_total',
      'Total number of errors by category',
      ...['ytdlp', 'network', 'timeout', 'payment', ...BACKGROUND_ERRORS.map(([c]) => c)].map((category) => ({ category })),
    )
    counter('doradura_revenue_total_stars', 'Total revenue in Telegram Stars', {})
    counter('doradura_new_subscriptions_total', 'Total number of new subscriptions', ...PAID_PLANS.map(([plan]) => ({ plan })))
    counter('doradura_subscription_cancellations_total', 'Total number of subscription cancellations', ...PAID_PLANS.map(([plan]) => ({ plan })))
    gauge('doradura_active_subscriptions', 'Number of active subscriptions', {})
    counter('doradura_payment_success_total', 'Total number of successful payments', ...PAID_PLANS.map(([plan]) => ({ plan })))
    counter('doradura_payment_failure_total', 'Total number of failed payments', { plan: 'premium', reason: 'provider_error' })
    counter('doradura_bot_uptime_seconds', 'Bot uptime in seconds', {})
    gauge('doradura_daily_active_users', 'Number of daily active users (last 24h)', {})
    gauge('doradura_monthly_active_users', 'Number of monthly active users (last 30d)', {})
    counter('doradura_command_usage_total', 'Total number of command executions', ...COMMANDS.map(([command]) => ({ command })))
    counter(
      'doradura_format_requests_total',
      'Total number of format requests by plan',
      ...FORMATS.flatMap(([format]) => PLANS.map(([plan]) => ({ format, plan }))),
    )
  }

  private setGauges() {
    const k = this.knobs
    let left = Math.round(k.queue_depth)
    PRIORITIES.forEach(([priority, share], i) => {
      const n = i === PRIORITIES.length - 1 ? left : Math.floor(k.queue_depth * share)
      left -= n
      this.setValue('doradura_queue_depth', { priority }, n)
    })
    this.setValue('doradura_active_subscriptions', {}, k.active_subscriptions)
    this.setValue('doradura_daily_active_users', {}, k.daily_active_users)
    this.setValue('doradura_monthly_active_users', {}, k.monthly_active_users)
  }

  private family(name: string, help: string, type: Family['type'], labelSets: Labels[]) {
    const series = new Map(labelSets.map((labels) => [key(labels), { labels, value: 0 }]))
    this.families.set(name, { name, help, type, series })
  }

  private histogram(name: string, help: string, buckets: number[], ...labelSets: Labels[]) {
    this.family(name, help, 'histogram', [])
    const counts = new Map(labelSets.map((labels) => [key(labels), { labels, buckets: buckets.map(() => 0), count: 0, sum: 0 }]))
    this.histograms.set(name, { buckets, counts })
  }

  private add(name: string, labels: Labels, amount: number) {
    const series = this.families.get(name)!.series.get(key(labels))!
    series.value += amount
  }

  private setValue(name: string, labels: Labels, value: number) {
    this.families.get(name)!.series.get(key(labels))!.value = value
  }

  /** observe records `count` observations spread around `typical` (see SPREAD). */
  private observe(name: string, labels: Labels, typical: number, count: number) {
    const histogram = this.histograms.get(name)!
    const state = histogram.counts.get(key(labels))!
    for (const [multiple, share] of SPREAD) {
      const value = typical * multiple
      const n = count * share
      histogram.buckets.forEach((le, i) => {
        if (value <= le) state.buckets[i]! += n
      })
      state.count += n
      state.sum += value * n
    }
  }

  private renderHistogram(name: string): string[] {
    const { buckets, counts } = this.histograms.get(name)!
    const lines: string[] = []
    for (const state of counts.values()) {
      for (const [i, le] of buckets.entries()) lines.push(`${name}_bucket${labelText({ ...state.labels, le: String(le) })} ${state.buckets[i]}`)
      lines.push(`${name}_bucket${labelText({ ...state.labels, le: '+Inf' })} ${state.count}`)
      lines.push(`${name}_sum${labelText(state.labels)} ${state.sum}`, `${name}_count${labelText(state.labels)} ${state.count}`)
    }
    return lines
  }
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
  return pairs.length ? `{${pairs.join(',')}}` : ''
}

/** parseKnobs checks a partial knob set from JSON or a query string; throws naming the bad knob. */
export function parseKnobs(input: Record<string, unknown>): Partial<Knobs> {
  const out: Record<string, number | boolean> = {}
  for (const [name, raw] of Object.entries(input)) {
    if (!(name in HEALTHY)) throw new Error(`unknown knob ${JSON.stringify(name)}; knobs: ${Object.keys(HEALTHY).join(', ')}`)
    if (name === 'down') {
      if (raw !== true && raw !== false && raw !== 'true' && raw !== 'false') throw new Error('down: expected true or false')
      out[name] = raw === true || raw === 'true'
      continue
    }
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${name}: expected a number ≥ 0, got ${JSON.stringify(raw)}`)
    if (name === 'failure_ratio' && value > 1) throw new Error('failure_ratio: expected a number between 0 and 1')
    out[name] = value
  }
  return out as Partial<Knobs>
}

/** scenarioKnobs returns the full knob set of a scenario ("healthy" or an alert name), or undefined. */
export function scenarioKnobs(name: string): Knobs | undefined {
  if (name === 'healthy') return { ...HEALTHY }
  const scenario = SCENARIOS[name]
  return scenario && { ...HEALTHY, ...scenario }
}

/** ExporterOptions: where to listen, the starting knobs, and the clock (tests drive time). */
export interface ExporterOptions {
  port?: number
  host?: string
  knobs?: Partial<Knobs>
  now?: () => number
}

/** Exporter: a listening demo exporter. */
export interface Exporter {
  url: string
  simulation: Simulation
  close(): Promise<void>
}

/** startExporter serves the simulation over HTTP; resolves once it listens. */
export async function startExporter(options: ExporterOptions = {}): Promise<Exporter> {
  const now = options.now ?? Date.now
  const simulation = new Simulation(options.knobs, now())
  const server = http.createServer((req, res) => {
    handle(simulation, now, req)
      .then(({ status, type, body }) => {
        res.writeHead(status, { 'content-type': type })
        res.end(body)
      })
      .catch((error: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(error.message)
      })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 9090, options.host ?? '127.0.0.1', resolve)
  })
  const { address, port } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  return {
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`,
    simulation,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

interface Reply {
  status: number
  type: string
  body: string
}

const json = (status: number, value: unknown): Reply => ({ status, type: 'application/json', body: `${JSON.stringify(value, null, 2)}\n` })
const text = (status: number, body: string): Reply => ({ status, type: 'text/plain; charset=utf-8', body })

async function handle(simulation: Simulation, now: () => number, req: http.IncomingMessage): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://exporter')
  const route = `${req.method} ${url.pathname}`
  if (route === 'GET /metrics' || route === 'GET /health') {
    if (simulation.knobs.down) return text(503, 'down (knob "down" is set)\n')
    simulation.advance(now())
    if (url.pathname === '/health') return json(200, { status: 'healthy', uptime_seconds: simulation.uptimeSeconds(now()) })
    return { status: 200, type: 'text/plain; version=0.0.4; charset=utf-8', body: simulation.render() }
  }
  if (route === 'GET /knobs') return json(200, { knobs: simulation.knobs, scenarios: ['healthy', ...Object.keys(SCENARIOS)] })
  if (route === 'POST /knobs') {
    try {
      const body = await readBody(req)
      const input = body.trim() ? (JSON.parse(body) as Record<string, unknown>) : Object.fromEntries(url.searchParams)
      simulation.set(parseKnobs(input), now())
    } catch (error) {
      return json(400, { error: (error as Error).message })
    }
    return json(200, { knobs: simulation.knobs })
  }
  const scenario = /^POST \/scenario\/([A-Za-z]+)$/.exec(route)
  if (scenario) {
    const knobs = scenarioKnobs(scenario[1]!)
    if (!knobs) return json(404, { error: `no scenario ${scenario[1]}; scenarios: healthy, ${Object.keys(SCENARIOS).join(', ')}` })
    simulation.set(knobs, now())
    return json(200, { scenario: scenario[1], knobs: simulation.knobs })
  }
  if (route === 'GET /') return text(200, 'doradura demo exporter: GET /metrics, GET /health, GET|POST /knobs, POST /scenario/<name>\n')
  return text(404, 'not found\n')
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
      if (body.length > 65536) reject(new Error('body too large'))
    })
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

const USAGE = `doradura demo exporter: the bot's metrics, with knobs to push any alert past its threshold.

Usage: exporter.ts [--port 9090] [--host 127.0.0.1] [--scenario NAME] [--set knob=value ...]

Scenarios: healthy, ${Object.keys(SCENARIOS).join(', ')}
Knobs: ${Object.keys(HEALTHY).join(', ')}
At run time: curl -X POST http://HOST:PORT/scenario/QueueBackup
             curl -X POST 'http://HOST:PORT/knobs?queue_depth=150'
`

/** parseCommandLine reads the exporter's flags (and DEMO_EXPORTER_PORT/HOST from the environment). */
export function parseCommandLine(argv: readonly string[], env: Record<string, string | undefined>): ExporterOptions & { help?: boolean } {
  let port = Number(env.DEMO_EXPORTER_PORT || 9090)
  let host = env.DEMO_EXPORTER_HOST || '127.0.0.1'
  let knobs: Partial<Knobs> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const value = () => {
      const next = argv[++i]
      if (next === undefined) throw new Error(`${arg} needs a value`)
      return next
    }
    if (arg === '--help' || arg === '-h') return { help: true }
    else if (arg === '--port') port = Number(value())
    else if (arg === '--host') host = value()
    else if (arg === '--scenario') {
      const name = value()
      const scenario = scenarioKnobs(name)
      if (!scenario) throw new Error(`no scenario ${name}; scenarios: healthy, ${Object.keys(SCENARIOS).join(', ')}`)
      knobs = { ...knobs, ...scenario }
    } else if (arg === '--set') {
      const [name, ...rest] = value().split('=')
      knobs = { ...knobs, ...parseKnobs({ [name!]: rest.join('=') }) }
    } else throw new Error(`unknown option ${arg}`)
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected a TCP port, got ${port}`)
  return { port, host, knobs }
}

async function main() {
  let options: ReturnType<typeof parseCommandLine>
  try {
    options = parseCommandLine(process.argv.slice(2), process.env)
  } catch (error) {
    process.stderr.write(`demo exporter: ${(error as Error).message}\n${USAGE}`)
    process.exit(2)
  }
  if (options.help) {
    process.stdout.write(USAGE)
    return
  }
  const exporter = await startExporter(options)
  process.stdout.write(`doradura demo exporter listening on ${exporter.url} (metrics at ${exporter.url}/metrics)\n`)
  const stop = () => void exporter.close().then(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

// run only as the entry point, not when a test imports it
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
