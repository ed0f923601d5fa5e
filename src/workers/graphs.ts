/**
 * makeGraph: a GraphQuery in, a GraphImage out: asks Prometheus (src/prometheus/), keeps the curves
 * nearest the alarm, draws them (src/charts/) and writes the caption (core/graph.ts). It never
 * throws: every failure is an outcome with a caption that says what went wrong, and it is bounded:
 * a deadline over the query and the drawing, a cap on the answer's size and on the points drawn.
 */
import type { ChartSpec } from '../charts/png.js'
import {
  type CaptionInput,
  chooseSeries,
  type GraphOutcome,
  flatValue,
  type GraphLimits,
  type GraphQuery,
  graphCaption,
  legendNames,
  thinPoints,
} from '../core/graph.js'
import { PrometheusError, type PrometheusQuerier, type Series } from '../prometheus/client.js'

/** GraphOutcome: what became of one graph (alertwire_graphs_total{outcome}). */
export type { GraphOutcome } from '../core/graph.js'

/** GraphImage: the picture (none when empty or failed), its caption (HTML, ≤1024 visible characters) and size. */
export interface GraphImage {
  png?: Buffer
  caption: string
  outcome: GraphOutcome
  width: number
  height: number
  /** series drawn, and series left out beyond graphs.max_series */
  shown: number
  omitted: number
}

export type { GraphLimits }

/** GraphDeps: what makeGraph works with; prometheus is one client, or a choice per query (prometheusPool). */
export interface GraphDeps {
  prometheus: PrometheusQuerier | ((query: GraphQuery) => PrometheusQuerier | undefined)
  render?: (spec: ChartSpec) => Promise<Buffer>
  timeZone: string
  limits: GraphLimits
  signal?: AbortSignal
}

const DEFAULT_POINTS_PER_SERIES = 600
/** renderLazily loads the renderer (ECharts and resvg: about 50 MB resident) when the first graph is drawn: a replica that draws none never carries it. */
const renderLazily = async (spec: ChartSpec): Promise<Buffer> => (await import('../charts/png.js')).renderChart(spec)

/** RENDER_TIMEOUT_MS: drawing's own bound, after the query's (a 6-series hour takes about 0.1 s) */
const RENDER_TIMEOUT_MS = 5000

/** makeGraph asks, chooses, draws and captions one graph; it never throws. */
export async function makeGraph(query: GraphQuery, deps: GraphDeps): Promise<GraphImage> {
  try {
    return await askAndDraw(query, deps)
  } catch (error) {
    // a bug or a bad option must cost one picture, never the worker
    return failed(query, deps, 'render_error', (error as Error)?.message ?? String(error))
  }
}

async function askAndDraw(query: GraphQuery, deps: GraphDeps): Promise<GraphImage> {
  const { width, height } = deps.limits
  const deadline = AbortSignal.timeout(deps.limits.timeoutMs)
  const signal = deps.signal ? AbortSignal.any([deps.signal, deadline]) : deadline
  const answer = await fetchSeries(query, deps, signal)
  if ('failed' in answer) return failed(query, deps, answer.failed, answer.detail)
  const usable = answer.series.filter((s) => s.points.some(([, v]) => Number.isFinite(v)))
  if (usable.length === 0) return failed(query, deps, 'empty')
  const { shown, omitted } = chooseSeries(usable, deps.limits.maxSeries, query.threshold)
  const flat = flatValue(shown)
  const names = legendNames(shown.map((s) => s.labels))
  const perSeries = Math.min(deps.limits.maxPointsPerSeries ?? DEFAULT_POINTS_PER_SERIES, width * 2)
  const spec: ChartSpec = {
    width,
    height,
    title: query.title,
    series: shown.map((s, i) => ({ name: names[i] ?? '', points: thinPoints(s.points, perSeries) })),
    startMs: query.startMs,
    endMs: query.endMs,
    timeZone: deps.timeZone,
    ...(query.threshold ? { threshold: { value: query.threshold.value, label: `${query.threshold.op} ${query.threshold.value}` } } : {}),
    ...(query.alertStartMs !== undefined ? { marker: { atMs: query.alertStartMs, label: 'alert start' } } : {}),
  }
  const png = await drawWithin(
    spec,
    deps.render ?? renderLazily,
    deps.signal ? AbortSignal.any([deps.signal, AbortSignal.timeout(RENDER_TIMEOUT_MS)]) : AbortSignal.timeout(RENDER_TIMEOUT_MS),
  )
  if ('error' in png) return failed(query, deps, 'render_error', png.error, { shown: shown.length, omitted })
  const outcome: GraphOutcome = flat !== undefined ? 'flat' : 'drawn'
  const caption = captionOf(query, deps, outcome, {
    shown: shown.length,
    omitted,
    ...(query.threshold ? { threshold: query.threshold } : {}),
    ...(flat !== undefined ? { flatValue: flat } : {}),
  })
  return { png, caption, outcome, width, height, shown: shown.length, omitted }
}

type Fetched = { series: Series[] } | { failed: Exclude<GraphOutcome, 'drawn' | 'flat' | 'empty' | 'render_error'>; detail: string }

/** fetchSeries runs the range query; a failure is sorted into the outcome the caption explains. */
async function fetchSeries(query: GraphQuery, deps: GraphDeps, signal: AbortSignal): Promise<Fetched> {
  const client = typeof deps.prometheus === 'function' ? deps.prometheus(query) : deps.prometheus
  if (!client) return { failed: 'prometheus_down', detail: 'no Prometheus is configured (graphs.prometheus_url or PROMETHEUS_URL)' }
  try {
    return { series: await client.queryRange(query.plotExpr, query.startMs, query.endMs, query.stepSeconds, signal) }
  } catch (error) {
    if (signal.aborted) return { failed: 'timeout', detail: `no answer within ${Math.round(deps.limits.timeoutMs / 100) / 10} s` }
    if (error instanceof PrometheusError) {
      // an answer too big to draw is the query's doing, like a refused one
      const failed = error.kind === 'bad_query' || error.kind === 'too_big' ? 'bad_query' : error.kind === 'timeout' ? 'timeout' : 'prometheus_down'
      return { failed, detail: error.message }
    }
    return { failed: 'prometheus_down', detail: (error as Error)?.message ?? String(error) }
  }
}

/** drawWithin renders, giving up when the deadline passes (the picture then is not waited for). */
async function drawWithin(spec: ChartSpec, render: (spec: ChartSpec) => Promise<Buffer>, signal: AbortSignal): Promise<Buffer | { error: string }> {
  if (signal.aborted) return { error: 'no time was left to draw' }
  let onAbort: (() => void) | undefined
  const aborted = new Promise<{ error: string }>((resolve) => {
    onAbort = () => resolve({ error: 'drawing took too long' })
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([render(spec), aborted])
  } catch (error) {
    return { error: (error as Error)?.message ?? String(error) }
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort)
  }
}

function failed(
  query: GraphQuery,
  deps: GraphDeps,
  outcome: Exclude<GraphOutcome, 'drawn' | 'flat'>,
  detail?: string,
  counts: { shown: number; omitted: number } = { shown: 0, omitted: 0 },
): GraphImage {
  const caption = captionOf(query, deps, outcome, detail ? { detail } : {})
  return { caption, outcome, width: deps.limits.width, height: deps.limits.height, ...counts }
}

/** captionOf is the caption of a query's picture (or of why there is none), its window in the configured time zone. */
function captionOf(
  query: GraphQuery,
  deps: GraphDeps,
  outcome: GraphOutcome,
  more: Pick<CaptionInput, 'shown' | 'omitted' | 'threshold' | 'flatValue' | 'detail'>,
): string {
  return graphCaption({ title: query.title, outcome, startMs: query.startMs, endMs: query.endMs, timeZone: deps.timeZone, ...more })
}
