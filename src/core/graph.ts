/**
 * Graphs: which alert gets a picture of its curve, what to ask Prometheus for it, and what the
 * caption says. An alert rule is usually `curve > number`: the curve is drawn and the number is
 * drawn as a line, so the picture shows how far and how fast it crossed. Pure: fetching is
 * src/prometheus/, drawing is src/charts/, and src/workers/graphs.ts puts them together.
 */
import { formatDuration } from './duration.js'
import { type Labels, matchesAll } from './matchers.js'
import { matchingClose, numericValue, type Token, tokenize, topLevel } from './promql.js'
import { DEFAULT_ROUTE_NAME, type Routing } from './route.js'
import { type SeverityScheme, severityOf } from './severity.js'

/** Threshold: the number an alert rule compares its curve with. */
export interface Threshold {
  op: '>' | '>=' | '<' | '<=' | '==' | '!='
  value: number
}

/** PrometheusAuthConfig: basic auth or a bearer token for the configured Prometheus (secrets read by the config). */
export type PrometheusAuthConfig = { username: string; password: string } | { bearerToken: string }

/** GraphQuery: one graph to make: what to ask Prometheus, over which window, and what to draw on it. */
export interface GraphQuery {
  /** the expression as written (the rule's, or what an admin typed) */
  expr: string
  /** what is asked for and drawn: the left-hand side of the rule's comparison, or expr itself */
  plotExpr: string
  threshold?: Threshold
  startMs: number
  endMs: number
  stepSeconds: number
  /** the alert name, or the expression for an ad-hoc graph */
  title: string
  /** where the alert started: a marker on the time axis */
  alertStartMs?: number
  /** the Prometheus to ask; absent: the configured one (graphs.prometheus_url) */
  prometheusUrl?: string
  /** true when prometheusUrl is the generator's own host, not a configured one: if it does not answer, the chat hears nothing */
  fromGenerator?: boolean
}

/** GraphOptions: the graphs: section, compiled (config/parse.ts), plus what graphForAlert needs of routing. */
export interface GraphOptions {
  /** graphs.enabled: false turns every graph off */
  enabled: boolean
  /** graphs.prometheus_url (or PROMETHEUS_URL); absent: ask the generator's host, through hostMap */
  prometheusUrl?: string
  /** generator host (host or host:port, lower case) → a URL alertwire can reach */
  hostMap: ReadonlyMap<string, string>
  /** severity levels that get a graph (empty: every level) */
  severities: ReadonlySet<string>
  severityScheme: SeverityScheme
  /** routes that say graphs: true|false, by route name; it overrides the severity list for that route */
  routeGraphs: ReadonlyMap<string, boolean>
  routing?: Routing
  /** how far before the alert's start the window opens */
  windowMs: number
  /** graphs.on_resolve: a final graph of the whole incident when the alert resolves */
  onResolve: boolean
  /** points per series to aim for (the step is chosen from it) */
  targetPoints: number
}

/** GraphLimits: the graphs: section's size and bounds, for makeGraph. */
export interface GraphLimits {
  width: number
  height: number
  maxSeries: number
  /** the query's deadline (graphs.timeout); drawing has its own few seconds after it */
  timeoutMs: number
  /** points drawn per series at most (more are thinned, keeping each bucket's lowest and highest) */
  maxPointsPerSeries?: number
}

/** AlertForGraph: what graphForAlert reads of an alert. */
export interface AlertForGraph {
  labels: Labels
  startsAt: string
  endsAt?: string
  generatorURL?: string
  status: string
  /** the route the alert's message went through (else every route its labels match is asked) */
  route?: string
}

const COMPARISONS = new Set(['>', '>=', '<', '<=', '==', '!='])
const FLIPPED: Record<Threshold['op'], Threshold['op']> = { '>': '<', '>=': '<=', '<': '>', '<=': '>=', '==': '==', '!=': '!=' }
const MODIFIERS = new Set(['on', 'ignoring', 'group_left', 'group_right'])

/** graphQueryFromUrl reads the PromQL of a Prometheus graph link (…/graph?g0.expr=…, also /classic/graph, /query?…) */
export function graphQueryFromUrl(url: string): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    return undefined
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined
  // the new UI and vmui keep the query in the fragment: #/?g0.expr=…
  const hash = parsed.hash.includes('?') ? new URLSearchParams(parsed.hash.slice(parsed.hash.indexOf('?') + 1)) : undefined
  for (const params of [parsed.searchParams, hash]) {
    if (!params) continue
    const key = [...params.keys()].filter((k) => /^g[0-9]+\.expr$/.test(k)).sort()[0] ?? (params.has('expr') ? 'expr' : undefined)
    const expr = key ? params.get(key)?.trim() : undefined
    if (expr) return expr
  }
  return undefined
}

interface Split {
  plotExpr: string
  threshold?: Threshold
  compared: boolean
}

/** splitThreshold: `lhs > 0.1` → {plotExpr: lhs, threshold}; handles `bool`, parentheses, on()/ignoring, unless/and… */
export function splitThreshold(expr: string): { plotExpr: string; threshold?: Threshold } {
  const tokens = tokenize(expr)
  if (tokens.length === 0) return { plotExpr: expr.trim() }
  const { plotExpr, threshold } = splitRange(expr, tokens, 0, tokens.length)
  return threshold ? { plotExpr, threshold } : { plotExpr }
}

function text(src: string, tokens: readonly Token[], from: number, to: number): string {
  return src.slice(tokens[from]!.start, tokens[to - 1]!.end)
}

/** splitAt cuts [from, to) at the top-level tokens `is` accepts, each cut skipping the operator and its on()/ignoring() modifiers. */
function splitAt(tokens: readonly Token[], from: number, to: number, is: (t: Token) => boolean): [number, number][] {
  const parts: [number, number][] = []
  let start = from
  for (const k of topLevel(tokens, from, to)) {
    if (k < start || !is(tokens[k]!)) continue
    parts.push([start, k])
    start = skipModifiers(tokens, k + 1, to)
  }
  parts.push([start, to])
  return parts
}

/** skipModifiers steps over `bool`, `on(…)`, `ignoring(…)`, `group_left(…)`, `group_right` after a binary operator. */
function skipModifiers(tokens: readonly Token[], k: number, to: number): number {
  while (k < to && tokens[k]!.kind === 'ident' && (tokens[k]!.text === 'bool' || MODIFIERS.has(tokens[k]!.text))) {
    k++
    if (k < to && tokens[k]!.kind === 'open') k = matchingClose(tokens, k, to) + 1 || to
  }
  return k
}

/** splitRange: `or` draws every side that compares, `and`/`unless` keep their first operand, then the last top-level comparison splits. */
function splitRange(src: string, tokens: readonly Token[], from: number, to: number): Split {
  while (tokens[from]?.kind === 'open' && matchingClose(tokens, from, to) === to - 1 && to - from > 2) {
    from++
    to--
  }
  const keyword =
    (...words: string[]) =>
    (t: Token) =>
      t.kind === 'ident' && words.includes(t.text)
  const alternatives = splitAt(tokens, from, to, keyword('or')).filter(([a, b]) => a < b)
  if (alternatives.length > 1) return splitOr(alternatives.map(([a, b]) => splitRange(src, tokens, a, b)))
  const [first] = splitAt(tokens, from, to, keyword('and', 'unless'))
  if (first && first[1] < to && first[0] < first[1]) return splitRange(src, tokens, first[0], first[1])
  const comparisons = topLevel(tokens, from, to).filter((k) => tokens[k]!.kind === 'op' && COMPARISONS.has(tokens[k]!.text))
  const at = comparisons.at(-1)
  if (at === undefined || at === from) return { plotExpr: text(src, tokens, from, to), compared: false }
  const op = tokens[at]!.text as Threshold['op']
  const rightFrom = skipModifiers(tokens, at + 1, to)
  const right = rightFrom < to ? numericValue(tokens, rightFrom, to) : undefined
  if (right !== undefined) return { plotExpr: text(src, tokens, from, at), threshold: { op, value: right }, compared: true }
  const left = numericValue(tokens, from, at)
  if (left !== undefined && rightFrom < to) return { plotExpr: text(src, tokens, rightFrom, to), threshold: { op: FLIPPED[op], value: left }, compared: true }
  // two curves compared: draw the left one whole (the filtered result would show only where it holds)
  return { plotExpr: text(src, tokens, from, at), compared: true }
}

/** splitOr draws the sides that compare (an `absent()` guard draws nothing), with one threshold only if they share it. */
function splitOr(sides: Split[]): Split {
  const compared = sides.filter((s) => s.compared)
  const drawn = compared.length > 0 ? compared : sides
  const [first] = drawn
  const shared = drawn.every((s) => s.threshold && first?.threshold && s.threshold.op === first.threshold.op && s.threshold.value === first.threshold.value)
  const plotExpr = drawn.length === 1 ? first!.plotExpr : drawn.map((s) => (/\bor\b/.test(s.plotExpr) ? `(${s.plotExpr})` : s.plotExpr)).join(' or ')
  return { plotExpr, ...(shared && first?.threshold ? { threshold: first.threshold } : {}), compared: compared.length > 0 }
}

const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]

/** stepFor picks a round query step that gives about targetPoints points over the window. */
export function stepFor(startMs: number, endMs: number, targetPoints: number): number {
  const wanted = Math.max(1, (endMs - startMs) / 1000 / Math.max(1, targetPoints))
  return NICE_STEPS.find((s) => s >= wanted) ?? Math.ceil(wanted / 86400) * 86400
}

/** prometheusFor: the configured Prometheus, else the generator's host (mapped through host_map), with whether it is the generator's. */
export function prometheusFor(
  generatorURL: string,
  options: Pick<GraphOptions, 'prometheusUrl' | 'hostMap'>,
): { url: string; fromGenerator: boolean } | undefined {
  if (options.prometheusUrl) return { url: options.prometheusUrl, fromGenerator: false }
  let url: URL
  try {
    url = new URL(generatorURL)
  } catch {
    return undefined
  }
  const mapped = options.hostMap.get(url.host.toLowerCase()) ?? options.hostMap.get(url.hostname.toLowerCase())
  if (mapped) return { url: mapped, fromGenerator: false }
  // the UI's path (…/graph, …/classic/graph, …/query) sits under the server's prefix (--web.external-url)
  const prefix = url.pathname.replace(/\/(classic\/|new\/)?(graph|query)\/?$/, '').replace(/\/+$/, '')
  return { url: `${url.origin}${prefix}`, fromGenerator: true }
}

/** routesOf names the routes an alert's labels take (as routeAlert walks them, whatever chats they have). */
function routesOf(routing: Routing, labels: Labels): string[] {
  const names: string[] = []
  for (const route of routing.routes) {
    if (!matchesAll(route.matchers, labels)) continue
    names.push(route.name)
    if (!route.continue) break
  }
  return names.length > 0 ? names : [DEFAULT_ROUTE_NAME]
}

/** wantsGraph: the alert's route says so, else its severity is one of graphs.severities. */
function wantsGraph(alert: AlertForGraph, options: GraphOptions): boolean {
  const routes = alert.route !== undefined ? [alert.route] : options.routing ? routesOf(options.routing, alert.labels) : []
  const said = routes.map((r) => options.routeGraphs.get(r)).filter((v) => v !== undefined)
  if (said.length > 0) return said.includes(true)
  return options.severities.size === 0 || options.severities.has(severityOf(alert.labels, options.severityScheme).level)
}

/** graphForAlert decides whether a firing alert gets a graph (severity/route from config, generator link) and what to ask */
export function graphForAlert(alert: AlertForGraph, options: GraphOptions, now: number): GraphQuery | undefined {
  if (!options.enabled || !alert.generatorURL) return undefined
  const resolved = alert.status === 'resolved'
  if ((resolved && !options.onResolve) || (!resolved && alert.status !== 'firing')) return undefined
  if (!wantsGraph(alert, options)) return undefined
  const expr = graphQueryFromUrl(alert.generatorURL)
  const where = prometheusFor(alert.generatorURL, options)
  const startedAt = Date.parse(alert.startsAt)
  if (!expr || !where || !Number.isFinite(startedAt) || startedAt <= 0) return undefined
  const endedAt = resolved && alert.endsAt ? Date.parse(alert.endsAt) : Number.NaN
  // a resolved incident is shown to its end and a little after, so the way back down is visible
  const endMs = Number.isFinite(endedAt) && endedAt > startedAt ? Math.min(now, endedAt + Math.max(60_000, (endedAt - startedAt) / 10)) : now
  const startMs = Math.min(startedAt, endMs) - options.windowMs
  const { plotExpr, threshold } = splitThreshold(expr)
  return {
    expr,
    plotExpr,
    ...(threshold ? { threshold } : {}),
    startMs,
    endMs,
    stepSeconds: stepFor(startMs, endMs, options.targetPoints),
    title: alert.labels.alertname || 'alert',
    alertStartMs: startedAt,
    prometheusUrl: where.url,
    ...(where.fromGenerator ? { fromGenerator: true } : {}),
  }
}

/** graphQueryForExpr: an ad-hoc graph of an expression over the last rangeMs (for /graph and dashboards). */
export function graphQueryForExpr(
  expr: string,
  rangeMs: number,
  options: Pick<GraphOptions, 'targetPoints'> & { prometheusUrl?: string },
  now: number,
): GraphQuery {
  const { plotExpr, threshold } = splitThreshold(expr)
  const startMs = now - rangeMs
  return {
    expr,
    plotExpr,
    ...(threshold ? { threshold } : {}),
    startMs,
    endMs: now,
    stepSeconds: stepFor(startMs, now, options.targetPoints),
    title: expr.length > 80 ? `${expr.slice(0, 79)}…` : expr,
    ...(options.prometheusUrl ? { prometheusUrl: options.prometheusUrl } : {}),
  }
}

/** CaptionInput: what a caption tells: the outcome, the window, how many series were shown and left out. */
/** GraphOutcome: what became of a graph: drawn (or flat), or why there is no picture. */
export type GraphOutcome = 'drawn' | 'flat' | 'empty' | 'bad_query' | 'prometheus_down' | 'timeout' | 'render_error'

export interface CaptionInput {
  title: string
  outcome: GraphOutcome
  startMs: number
  endMs: number
  timeZone: string
  shown?: number
  omitted?: number
  threshold?: Threshold
  /** the flat value, for outcome flat */
  flatValue?: number
  /** Prometheus's or the renderer's own words, for the failures */
  detail?: string
}

/** CAPTION_LIMIT: Telegram's caption limit, counted after entity parsing. */
export const CAPTION_LIMIT = 1024

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** clock writes a moment in the time zone as "YYYY-MM-DD HH:MM" parts. */
function clock(ms: number, timeZone: string): { day: string; time: string } {
  const parts = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
    .format(new Date(ms))
    .split(' ')
  return { day: parts[0] ?? '', time: parts[1] ?? '' }
}

/** windowText: "2026-12-01 13:05–14:05 UTC (1h)", the day written once when both ends share it. */
export function windowText(startMs: number, endMs: number, timeZone: string): string {
  const a = clock(startMs, timeZone)
  const b = clock(endMs, timeZone)
  const zone = timeZone === 'UTC' || timeZone === 'Etc/UTC' ? 'UTC' : timeZone
  const span = a.day === b.day ? `${a.day} ${a.time}–${b.time}` : `${a.day} ${a.time} – ${b.day} ${b.time}`
  return `${span} ${zone} (${formatDuration(Math.max(0, endMs - startMs))})`
}

function numberText(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  return Math.abs(value) >= 1e6 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(2) : String(Number(value.toPrecision(4)))
}

const WHY: Record<Exclude<CaptionInput['outcome'], 'drawn' | 'flat'>, string> = {
  empty: 'no data: the query returned no series in this window',
  bad_query: 'Prometheus refused the query',
  prometheus_down: 'Prometheus could not be asked',
  timeout: 'Prometheus did not answer in time',
  render_error: 'the picture could not be drawn',
}

/** graphCaption: ≤1024 chars after parsing: alert name, window (in the configured time zone), series shown/omitted, or why there is no picture */
export function graphCaption(input: CaptionInput): string {
  const head = `📈 <b>${escapeHtml(cut(input.title, 200))}</b>`
  const window = escapeHtml(windowText(input.startMs, input.endMs, input.timeZone))
  const parts: string[] = []
  if (input.outcome === 'drawn' || input.outcome === 'flat') {
    const shown = input.shown ?? 0
    parts.push(`${shown} series${input.omitted ? `, ${input.omitted} more not shown` : ''}`)
    if (input.threshold) parts.push(`threshold ${escapeHtml(input.threshold.op)} ${numberText(input.threshold.value)}`)
    if (input.outcome === 'flat') parts.push(`flat${input.flatValue !== undefined ? ` at ${numberText(input.flatValue)}` : ''} all along`)
    return `${head}\n${window}\n${parts.join(' · ')}`
  }
  const why = `no graph: ${WHY[input.outcome]}`
  // the detail is the only open-ended part: it gets what the rest leaves of the limit
  const fixed = `${head}\n${window}\n⚠️ ${why}`
  const room = CAPTION_LIMIT - visibleLength(fixed) - 3
  return input.detail && room > 20 ? `${fixed}: ${escapeHtml(cut(input.detail.replace(/\s+/g, ' ').trim(), room))}` : fixed
}

function cut(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max - 1)}…` : value
}

/** visibleLength: the caption's length as Telegram counts it, after the tags and entities are parsed. */
export function visibleLength(html: string): number {
  return html.replace(/<[^>]+>/g, '').replace(/&(lt|gt|amp|quot);/g, '_').length
}

/** SeriesLike: a labelled curve, as the graph sees it. */
export interface SeriesLike {
  labels: Labels
  points: readonly (readonly [number, number])[]
}

/** peak is a series' most alarming value for the comparison (highest, or lowest for < and <=); NaN when it has none. */
function peak(series: SeriesLike, low: boolean): number {
  let best = Number.NaN
  for (const [, v] of series.points) {
    if (!Number.isFinite(v)) continue
    if (Number.isNaN(best) || (low ? v < best : v > best)) best = v
  }
  return best
}

/** chooseSeries keeps the maxSeries curves nearest the alarm (highest peaks, lowest for `<`), in a stable order; the rest are counted. */
export function chooseSeries<S extends SeriesLike>(series: readonly S[], maxSeries: number, threshold?: Threshold): { shown: S[]; omitted: number } {
  const low = threshold?.op === '<' || threshold?.op === '<='
  const ranked = series
    .map((s, i) => ({ s, i, p: peak(s, low) }))
    .sort((a, b) => (Number.isNaN(a.p) ? 1 : Number.isNaN(b.p) ? -1 : low ? a.p - b.p : b.p - a.p) || a.i - b.i)
  const shown = ranked.slice(0, Math.max(0, maxSeries))
  return { shown: shown.sort((a, b) => a.i - b.i).map((r) => r.s), omitted: series.length - shown.length }
}

/** legendNames names each series by the labels that differ between them (`instance=web-1, job=api`); one series: its name or nothing. */
export function legendNames(labelSets: readonly Labels[]): string[] {
  if (labelSets.length <= 1) return labelSets.map(() => '')
  const keys = [...new Set(labelSets.flatMap((l) => Object.keys(l)))].sort()
  const differing = keys.filter((k) => labelSets.some((l) => l[k] !== labelSets[0]![k]))
  return labelSets.map((l) =>
    differing
      .filter((k) => l[k] !== undefined)
      .map((k) => (k === '__name__' ? l[k]! : `${k}=${l[k]}`))
      .join(', '),
  )
}

/** flatValue: the one value every finite point has (a flat picture), or undefined when the curves move or hold nothing. */
export function flatValue(series: readonly SeriesLike[]): number | undefined {
  let value: number | undefined
  for (const s of series) {
    for (const [, v] of s.points) {
      if (!Number.isFinite(v)) continue
      if (value === undefined) value = v
      else if (v !== value) return undefined
    }
  }
  return value
}

/** thinPoints keeps at most about maxPoints points of a series: per bucket its lowest and highest, so no spike is lost. */
export function thinPoints(points: readonly (readonly [number, number])[], maxPoints: number): [number, number][] {
  if (points.length <= maxPoints) return points.map(([t, v]) => [t, v])
  const buckets = Math.max(1, Math.floor(maxPoints / 2))
  const size = points.length / buckets
  const out: [number, number][] = []
  for (let b = 0; b < buckets; b++) {
    const slice = points.slice(Math.floor(b * size), Math.floor((b + 1) * size))
    const finite = slice.filter(([, v]) => Number.isFinite(v))
    if (finite.length === 0) {
      if (slice[0]) out.push([slice[0][0], Number.NaN])
      continue
    }
    const lo = finite.reduce((a, p) => (p[1] < a[1] ? p : a))
    const hi = finite.reduce((a, p) => (p[1] > a[1] ? p : a))
    for (const p of lo[0] <= hi[0] ? [lo, hi] : [hi, lo]) if (out.at(-1)?.[0] !== p[0]) out.push([p[0], p[1]])
  }
  return out
}
