/**
 * Graphs and dashboards from the chat: `/graph <PromQL> [range]` (admins), the "📈 Graph" button
 * under an alert message, `/dashboards`, and a dashboard by its name (`/performance`,
 * `/dashboard performance`, `/metrics performance`) with buttons that switch its range. Answers go
 * through the chat's pace like every bot answer (notices); graphs are drawn by the graphs worker
 * and said after everything else the chat waits for. What to ask and how to write the answer are
 * pure (core/dashboard.ts, core/graph.ts); this is the executor.
 */
import type { Logger } from 'pino'
import type { Dashboard } from '../config/dashboards.js'
import {
  type DashboardText,
  dashboardKeyboard,
  dashboardSummary,
  DEFAULT_RANGE_MS,
  type PanelReading,
  parseGraphArgs,
  parseRange,
  readingOf,
} from '../core/dashboard.js'
import { type GraphOptions, graphForAlert, graphQueryForExpr, stepFor } from '../core/graph.js'
import { escapeHtml } from '../core/html.js'
import type { GraphRequest } from '../core/photos.js'
import type { MessageRecord } from '../core/delivery.js'

/** SeriesReading: what a range query gives (the Prometheus client's Series). */
export interface SeriesReading {
  labels: Record<string, string>
  points: [number, number][]
}

/** GraphsSetup: graphs as configured now: the options of core/graph.ts, or why there are none. */
export type GraphsSetup = { options: GraphOptions; targetPoints: number } | { off: string }

/** ChatGraphsDeps: what the graph commands work with; config is read per update so a reload takes effect. */
export interface ChatGraphsDeps {
  dashboards: () => ReadonlyMap<string, Dashboard>
  setup: () => GraphsSetup
  /** a range query against the configured Prometheus (throws with a sentence a person can read) */
  queryRange(expr: string, startMs: number, endMs: number, stepSeconds: number): Promise<SeriesReading[]>
  /** queue a graph for the graphs worker */
  request(request: GraphRequest): Promise<void>
  log: Logger
}

/** Where: where an answer goes: the chat, the message it answers, the topic. */
export interface Where {
  chat: string
  replyTo?: number
  threadId?: number
}

/** Answer: a bot answer (HTML and plain) with its buttons. */
export interface Answer {
  html: string
  plain: string
  keyboard?: { text: string; callback_data: string }[][]
}

const plain = (text: string): Answer => ({ html: escapeHtml(text), plain: text })

/** DASHBOARD_POINTS: points per series a dashboard reads over its range (enough for low–high, cheap to ask). */
const DASHBOARD_POINTS = 60

/** ChatGraphs: see the file comment. */
export class ChatGraphs {
  constructor(private readonly deps: ChatGraphsDeps) {}

  /** graphCommand answers /graph <PromQL> [range]: the graph replies to the command; only a problem is answered in text. */
  async graphCommand(args: string, where: Where): Promise<{ answer?: Answer; outcome: 'ok' | 'invalid' | 'failed' }> {
    const parsed = parseGraphArgs(args)
    if ('error' in parsed) return { answer: plain(parsed.error), outcome: 'invalid' }
    const setup = this.deps.setup()
    if ('off' in setup) return { answer: plain(`No graph: ${setup.off}.`), outcome: 'failed' }
    const now = Date.now()
    const query = graphQueryForExpr(parsed.expr, parsed.rangeMs, { targetPoints: setup.targetPoints, ...prometheusOf(setup.options) }, now)
    await this.deps.request({ ...where, silent: true, query, kind: 'command', requestedAt: now })
    return { outcome: 'ok' }
  }

  /** graphButton asks for the graph of an alert message's first alert that has one (pressed: no severity or route filter). */
  async graphButton(record: MessageRecord | undefined, where: Where): Promise<string> {
    const setup = this.deps.setup()
    if ('off' in setup) return `No graph: ${setup.off}.`
    const now = Date.now()
    const asked: GraphOptions = { ...setup.options, severities: new Set(), routeGraphs: new Map(), onResolve: true }
    for (const alert of record?.alerts ?? []) {
      const query = graphForAlert(alert, asked, now)
      if (!query) continue
      await this.deps.request({ ...where, silent: true, query, kind: 'alert', requestedAt: now })
      return '📈 Drawing the graph: it follows in the chat.'
    }
    return 'This alert has no Prometheus graph link to draw (its generator URL is not a Prometheus graph).'
  }

  /** dashboardsList answers /dashboards: every dashboard with its command. */
  dashboardsList(): Answer {
    const dashboards = [...this.deps.dashboards().values()]
    if (dashboards.length === 0) return plain('No dashboards are configured (dashboards: in the YAML).')
    const lines = dashboards.map((d) => `/${d.name} — ${escapeHtml(d.title)} (${d.panels.length} panel${d.panels.length === 1 ? '' : 's'})`)
    return { html: ['📊 <b>Dashboards</b>', ...lines].join('\n'), plain: ['📊 Dashboards', ...lines].join('\n') }
  }

  /** findDashboard reads `<name> [range]` (the args of /dashboard or /metrics) into a dashboard and a range, or what to answer instead. */
  findDashboard(args: string): { dashboard: Dashboard; rangeMs: number } | { answer: Answer } {
    const [name = '', range] = args.trim().toLowerCase().split(/\s+/)
    if (!name) return { answer: this.dashboardsList() }
    const dashboard = this.deps.dashboards().get(name)
    if (!dashboard) return { answer: plain(`No dashboard "${name}". /dashboards lists them.`) }
    const rangeMs = range ? parseRange(range) : DEFAULT_RANGE_MS
    if (!rangeMs) return { answer: plain(`The range ${range} is not one I can show: from 1m to 30d, like 1h, 24h or 7d.`) }
    return { dashboard, rangeMs }
  }

  /** dashboardAnswer reads every panel over the range and writes the summary, with the range buttons. */
  async dashboardAnswer(dashboard: Dashboard, rangeMs: number): Promise<Answer> {
    const setup = this.deps.setup()
    const text: DashboardText =
      'off' in setup
        ? dashboardSummary(
            dashboard.title,
            rangeMs,
            dashboard.panels.map((p) => ({ title: p.title, rows: [], error: setup.off })),
          )
        : dashboardSummary(dashboard.title, rangeMs, await this.readPanels(dashboard, rangeMs))
    return { ...text, keyboard: dashboardKeyboard(dashboard.name, rangeMs) }
  }

  /** dashboardGraphs queues the graphs of the panels that ask for one, replying to the command. */
  async dashboardGraphs(dashboard: Dashboard, rangeMs: number, where: Where): Promise<number> {
    const setup = this.deps.setup()
    if ('off' in setup) return 0
    const now = Date.now()
    const panels = dashboard.panels.filter((p) => p.graph)
    for (const panel of panels) {
      const query = {
        ...graphQueryForExpr(panel.query, rangeMs, { targetPoints: setup.targetPoints, ...prometheusOf(setup.options) }, now),
        title: panel.title,
      }
      await this.deps.request({ ...where, silent: true, query, kind: 'dashboard', requestedAt: now })
    }
    return panels.length
  }

  private async readPanels(dashboard: Dashboard, rangeMs: number): Promise<PanelReading[]> {
    const end = Date.now()
    const start = end - rangeMs
    const step = stepFor(start, end, DASHBOARD_POINTS)
    const settled = await Promise.allSettled(dashboard.panels.map((p) => this.deps.queryRange(p.query, start, end, step)))
    return settled.map((result, i) => {
      const panel = dashboard.panels[i]!
      if (result.status === 'fulfilled') return readingOf(panel.title, panel.unit, result.value)
      const error = (result.reason as Error).message ?? String(result.reason)
      this.deps.log.warn({ dashboard: dashboard.name, panel: panel.title, error }, 'a dashboard panel could not be read')
      return { title: panel.title, rows: [], error: shortError(error) }
    })
  }
}

/** prometheusOf: the configured Prometheus for ad-hoc graphs (none: core/graph.ts leaves it to the pool's default). */
function prometheusOf(options: GraphOptions): { prometheusUrl?: string } {
  return options.prometheusUrl ? { prometheusUrl: options.prometheusUrl } : {}
}

/** shortError: a panel's error on its one line (the full text is in the log). */
function shortError(message: string): string {
  const flat = message.replace(/\s+/g, ' ').trim()
  return flat.length > 60 ? `${flat.slice(0, 59)}…` : flat
}
