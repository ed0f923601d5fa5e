/**
 * Dashboards in the chat: reading `/graph <PromQL> [range]` and the time ranges people type or
 * press, writing a panel's value with its unit, and the compact summary a dashboard answers with:
 * one aligned monospace line per panel (title, value now, lowest–highest over the range), small
 * enough to read on a phone. Pure: asking Prometheus is the bot's (bot/graphs.ts).
 */
import { formatDuration, parseDuration } from './duration.js'
import { escapeHtml } from './html.js'

/** RANGES: the time ranges a dashboard's buttons offer. */
export const RANGES = ['1h', '24h', '7d'] as const

/** DEFAULT_RANGE_MS: what /graph and a dashboard show when no range is given. */
export const DEFAULT_RANGE_MS = 3_600_000

/** MAX_RANGE_MS: the longest range anyone may ask for (a longer one is a heavy query for a chat picture). */
export const MAX_RANGE_MS = 30 * 86_400_000

/** parseRange reads a range like 1h, 24h, 7d (a duration from 1 minute to 30 days), or undefined. */
export function parseRange(word: string): number | undefined {
  const ms = parseDuration(word.trim())
  return ms !== undefined && ms >= 60_000 && ms <= MAX_RANGE_MS ? ms : undefined
}

/** GraphArgs: what /graph asks for. */
export interface GraphArgs {
  expr: string
  rangeMs: number
}

/** GRAPH_USAGE: what /graph says when it cannot read its arguments. */
export const GRAPH_USAGE = 'usage: /graph <PromQL> [range], e.g. /graph rate(http_requests_total[5m]) 6h (range 1m to 30d, default 1h)'

/** parseGraphArgs reads `<PromQL> [range]`: the last word is the range when it reads as one and something comes before it. */
export function parseGraphArgs(args: string): GraphArgs | { error: string } {
  const text = args.trim()
  const last = /\s(\S+)$/.exec(text)
  const range = last ? parseRange(last[1]!) : undefined
  const expr = (range !== undefined ? text.slice(0, last!.index) : text).trim()
  if (!expr || parseRange(expr) !== undefined) return { error: GRAPH_USAGE }
  if (expr.length > 2000) return { error: `the expression is too long (${expr.length} characters; at most 2000)` }
  if (range === undefined && last && /^[0-9]+(\.[0-9]+)?[a-z]+$/.test(last[1]!) && parseDuration(last[1]!) !== undefined) {
    return { error: `the range ${last[1]} is out of bounds: from 1m to 30d` }
  }
  return { expr, rangeMs: range ?? DEFAULT_RANGE_MS }
}

/** formatNumber: three significant digits, large values with k/M/G, never exponent notation for a person. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf'
  const abs = Math.abs(value)
  const scaled: [number, string] = abs >= 1e9 ? [value / 1e9, 'G'] : abs >= 1e6 ? [value / 1e6, 'M'] : abs >= 1e4 ? [value / 1e3, 'k'] : [value, '']
  const [n, suffix] = scaled
  const digits = Math.abs(n) >= 100 || Number.isInteger(n) ? 0 : Math.abs(n) >= 10 ? 1 : Math.abs(n) >= 1 ? 2 : 3
  return `${Number(n.toFixed(digits))}${suffix}`
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/**
 * formatValue writes a value with its unit: `ratio` (0–1) as a percentage, `percent` (0–100),
 * `seconds` as a duration (ms below a second), `bytes` in binary units; any other unit follows
 * the number (`req/s`, `stars`; one starting with / right after it: `2/s`); none: the number alone.
 */
export function formatValue(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return formatNumber(value)
  switch (unit) {
    case 'ratio':
      return `${formatNumber(value * 100)}%`
    case 'percent':
    case '%':
      return `${formatNumber(value)}%`
    case 'seconds':
    case 's':
      return Math.abs(value) < 1
        ? `${formatNumber(value * 1000)}ms`
        : Math.abs(value) < 120
          ? `${formatNumber(value)}s`
          : formatDuration(Math.round(value) * 1000)
    case 'bytes': {
      let n = value
      let i = 0
      while (Math.abs(n) >= 1024 && i < BYTE_UNITS.length - 1) {
        n /= 1024
        i++
      }
      return `${formatNumber(n)} ${BYTE_UNITS[i]}`
    }
    default:
      // a rate's unit sits on the number (12 /s reads as two things)
      return unit ? `${formatNumber(value)}${unit.startsWith('/') ? '' : ' '}${unit}` : formatNumber(value)
  }
}

/** PanelReading: what Prometheus gave for one panel over the range (a series per row; none: no data; error: why not). */
export interface PanelReading {
  title: string
  unit?: string
  rows: { label?: string; now?: number; min?: number; max?: number }[]
  error?: string
}

/** SUMMARY_ROWS_PER_PANEL: series shown per panel; the rest are counted. */
export const SUMMARY_ROWS_PER_PANEL = 5

/** readingOf turns a panel's range-query series into rows: the last value, the lowest and the highest (label: what tells the series apart). */
export function readingOf(
  title: string,
  unit: string | undefined,
  series: readonly { labels: Record<string, string>; points: readonly [number, number][] }[],
): PanelReading {
  const differing = differingLabels(series.map((s) => s.labels))
  const rows = series.map((s) => {
    const values = s.points.map(([, v]) => v).filter((v) => !Number.isNaN(v))
    const label = differing.map((name) => s.labels[name] ?? '').join(',')
    return {
      ...(label ? { label } : {}),
      ...(values.length > 0 ? { now: values.at(-1)!, min: Math.min(...values), max: Math.max(...values) } : {}),
    }
  })
  return { title, ...(unit ? { unit } : {}), rows }
}

/** differingLabels: the label names whose values are not the same in every series (what a row needs to be told apart). */
function differingLabels(sets: readonly Record<string, string>[]): string[] {
  const names = new Set(sets.flatMap((labels) => Object.keys(labels)))
  return [...names].filter((name) => name !== '__name__' && new Set(sets.map((labels) => labels[name] ?? '')).size > 1).sort()
}

/** DashboardText: the summary as HTML (a <pre> block) and as plain text. */
export interface DashboardText {
  html: string
  plain: string
}

/** TITLE_WIDTH: the widest a panel's name may be (a phone shows about 35 monospace characters in a row). */
const TITLE_WIDTH = 18

/**
 * dashboardSummary writes the compact summary: a heading (title, range) and one aligned line per
 * panel row: the title, the value now, and the lowest–highest over the range. No data and errors
 * say so on their line; nothing is left blank.
 */
export function dashboardSummary(title: string, rangeMs: number, panels: readonly PanelReading[]): DashboardText {
  const lines: [string, string, string][] = []
  for (const panel of panels) {
    const unit = panel.unit
    const title = cut(panel.title, TITLE_WIDTH)
    if (panel.error) lines.push([title, '⚠️', panel.error])
    else if (panel.rows.length === 0) lines.push([title, '—', 'no data'])
    for (const row of panel.rows.slice(0, SUMMARY_ROWS_PER_PANEL)) {
      // the title is cut, never the label: the label tells the rows apart
      const name = row.label ? `${cut(panel.title, Math.max(6, TITLE_WIDTH - [...row.label].length - 1))} ${row.label}` : cut(panel.title, TITLE_WIDTH)
      const now = row.now === undefined ? '—' : formatValue(row.now, unit)
      const span =
        row.min === undefined || row.max === undefined
          ? 'no data'
          : row.min === row.max
            ? 'steady'
            : `${formatValue(row.min, unit)}–${formatValue(row.max, unit)}`
      lines.push([name, now, span])
    }
    if (panel.rows.length > SUMMARY_ROWS_PER_PANEL) lines.push([title, '', `and ${panel.rows.length - SUMMARY_ROWS_PER_PANEL} more series`])
  }
  const names = lines.map(([name]) => name)
  const nameWidth = Math.max(0, ...names.map((n) => [...n].length))
  const nowWidth = Math.max(0, ...lines.map(([, now]) => [...now].length))
  const body = lines.map(([, now, span], i) => `${pad(names[i]!, nameWidth)}  ${pad(now, nowWidth, true)}  ${span}`.trimEnd())
  // as the buttons say it: 24h, not 1d
  const heading = `${title} · last ${rangeMs === 86_400_000 ? '24h' : formatDuration(rangeMs)}`
  const columns = `${pad('', nameWidth)}  ${pad('now', nowWidth, true)}  low–high`
  const plain = [heading, columns.trimEnd(), ...body].join('\n')
  return { html: `📊 <b>${escapeHtml(heading)}</b>\n<pre>${escapeHtml([columns.trimEnd(), ...body].join('\n'))}</pre>`, plain: `📊 ${plain}` }
}

function cut(text: string, width: number): string {
  const chars = [...text]
  return chars.length > width ? `${chars.slice(0, width - 1).join('')}…` : text
}

function pad(text: string, width: number, right = false): string {
  const fill = ' '.repeat(Math.max(0, width - [...text].length))
  return right ? fill + text : text + fill
}

/** DASHBOARD_DATA: callback data of a range button: `dash.<range>.<name>` (a name is at most 32 characters, so at most 45 bytes). */
const DASHBOARD_DATA = /^dash\.([0-9]+[hd])\.([a-z][a-z0-9_]{0,31})$/

/** dashboardButtonData packs a dashboard's name and a range into callback data. */
export function dashboardButtonData(name: string, range: string): string {
  return `dash.${range}.${name}`
}

/** parseDashboardButton reads a range button's data back, or undefined. */
export function parseDashboardButton(data: string | undefined): { name: string; rangeMs: number; range: string } | undefined {
  const match = data ? DASHBOARD_DATA.exec(data) : null
  const rangeMs = match ? parseRange(match[1]!) : undefined
  return match && rangeMs ? { name: match[2]!, range: match[1]!, rangeMs } : undefined
}

/** dashboardKeyboard: one row of range buttons, the shown one marked. */
export function dashboardKeyboard(name: string, rangeMs: number): { text: string; callback_data: string }[][] {
  return [RANGES.map((range) => ({ text: parseRange(range) === rangeMs ? `• ${range} •` : range, callback_data: dashboardButtonData(name, range) }))]
}
