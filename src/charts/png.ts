/**
 * Drawing a graph as a PNG, without a browser: Apache ECharts renders the chart to an SVG string on
 * the server (renderer 'svg', ssr), and resvg rasterises it with the DejaVu Sans font bundled from
 * npm (dejavu-fonts-ttf), so a fresh machine or a slim container draws the same text. The time axis
 * shows the configured time zone; the alert's start and the rule's threshold are drawn as lines.
 */
import { createRequire } from 'node:module'
import { renderAsync } from '@resvg/resvg-js'
import { LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, MarkLineComponent, TitleComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { SVGRenderer } from 'echarts/renderers'
import { zoneOffsetMs } from '../core/zoned.js'

echarts.use([LineChart, GridComponent, LegendComponent, TitleComponent, MarkLineComponent, SVGRenderer])

// DejaVu Sans advance widths (em) of the characters labels are made of; others take a typical width
const NARROW: Record<string, number> = { ' ': 0.318, '.': 0.318, ',': 0.318, ':': 0.337, ';': 0.337, i: 0.278, l: 0.278, j: 0.278, I: 0.295 }
const WIDE: Record<string, number> = { f: 0.352, t: 0.392, r: 0.411, '-': 0.361, '/': 0.337, '(': 0.39, ')': 0.39, '[': 0.39, ']': 0.39, '"': 0.46, "'": 0.275 }
const BROAD: Record<string, number> = { m: 0.974, w: 0.818, W: 0.989, M: 0.863, '=': 0.838, '<': 0.838, '>': 0.838, '+': 0.838, '%': 0.95, _: 0.5 }

/** textWidth estimates a label's width in DejaVu Sans, so ECharts lays the legend out as resvg will draw it. */
export function textWidth(text: string, fontSize: number): number {
  let em = 0
  for (const c of text) em += NARROW[c] ?? WIDE[c] ?? BROAD[c] ?? (/[0-9]/.test(c) ? 0.636 : /[A-Z]/.test(c) ? 0.72 : c.charCodeAt(0) > 0x2e80 ? 1 : 0.61)
  return em * fontSize
}

// without a canvas, ECharts guesses text widths for a narrower font: labels would overlap
echarts.setPlatformAPI({
  measureText: (text: string, font?: string) => ({ width: textWidth(text, Number(/([0-9.]+)px/.exec(font ?? '')?.[1] ?? 12)) }),
})

const fontPath = (file: string) => createRequire(import.meta.url).resolve(`dejavu-fonts-ttf/ttf/${file}`)
/** FONT_FILES: the bundled font every label is drawn with (one face: resvg reads its fonts at each picture, and a bold title would double that). */
export const FONT_FILES = [fontPath('DejaVuSans.ttf')]
const FONT_FAMILY = 'DejaVu Sans'

/** ChartSeries: one curve; a NaN value is a gap. */
export interface ChartSeries {
  name: string
  points: readonly (readonly [number, number])[]
}

/** ChartSpec: everything the picture shows. */
export interface ChartSpec {
  width: number
  height: number
  title: string
  series: readonly ChartSeries[]
  startMs: number
  endMs: number
  /** the time axis is written in this IANA zone */
  timeZone: string
  threshold?: { value: number; label: string }
  /** a vertical line where the alert started */
  marker?: { atMs: number; label: string }
}

/** BACKGROUND: the picture's background colour (tests look for pixels that differ from it). */
export const BACKGROUND = '#ffffff'
/** PALETTE: one colour per series, far apart and readable on white. */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22']
const THRESHOLD_COLOR = '#e03030'
const MARKER_COLOR = '#555555'

/**
 * toWallClock shifts times so that ECharts, told to write UTC, writes the zone's wall clock: its
 * ticks then fall on the zone's round hours. One offset for the window unless it spans a DST change.
 */
function toWallClock(spec: ChartSpec): (ms: number) => number {
  const a = zoneOffsetMs(spec.timeZone, spec.startMs)
  const b = zoneOffsetMs(spec.timeZone, spec.endMs)
  return a === b ? (ms) => ms + a : (ms) => ms + zoneOffsetMs(spec.timeZone, ms)
}

/**
 * Sizes at an 800 px wide picture, scaled with the width: Telegram shows a photo at the screen's
 * width (about 400 points on a phone), so text must be about twice what a desktop chart uses.
 */
const AXIS_PX = 17
const LEGEND_PX = 16
const TITLE_PX = 22

/** px scales a size given for an 800 px picture to this width, never below min. */
function px(width: number, size: number, min = 10): number {
  return Math.max(min, Math.round(size * (width / 800) * 10) / 10)
}

/** legendRows estimates how many rows the legend takes, to leave it room under the plot. */
function legendRows(names: readonly string[], width: number): number {
  let rows = 1
  let used = 0
  const font = px(width, LEGEND_PX)
  for (const name of names) {
    const item = px(width, 18) + 5 + Math.min(textWidth(name, font), width - 60) + px(width, 12)
    if (used + item > width - 20 && used > 0) {
      rows++
      used = 0
    }
    used += item
  }
  return rows
}

function markLines(spec: ChartSpec, shift: (ms: number) => number) {
  const data: object[] = []
  const fontSize = px(spec.width, LEGEND_PX)
  if (spec.threshold) {
    data.push({
      yAxis: spec.threshold.value,
      lineStyle: { color: THRESHOLD_COLOR, type: 'dashed', width: px(spec.width, 2.5, 1) },
      label: { formatter: spec.threshold.label, position: 'insideEndTop', color: THRESHOLD_COLOR, fontSize },
    })
  }
  if (spec.marker && spec.marker.atMs >= spec.startMs && spec.marker.atMs <= spec.endMs) {
    data.push({
      xAxis: shift(spec.marker.atMs),
      lineStyle: { color: MARKER_COLOR, type: 'solid', width: px(spec.width, 2, 1) },
      label: { formatter: spec.marker.label, position: 'insideEndTop', color: MARKER_COLOR, fontSize },
    })
  }
  return data.length > 0 ? { symbol: 'none', silent: true, animation: false, data } : undefined
}

/** axisNumber writes a y-axis value short: 1.5k, 2M, 0.05, 1e-6. */
export function axisNumber(value: number): string {
  const abs = Math.abs(value)
  if (abs >= 1e9) return `${Number((value / 1e9).toPrecision(3))}G`
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`
  if (abs !== 0 && abs < 1e-3) return value.toExponential(0)
  return String(Number(value.toPrecision(4)))
}

const NICE_TICKS_MIN = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080]

/** tickInterval: the round interval (ms) that puts a time label about every 110 px of the picture. */
export function tickInterval(spec: Pick<ChartSpec, 'startMs' | 'endMs' | 'width'>): number {
  const labels = Math.max(2, Math.floor((spec.width - 100) / px(spec.width, 110)))
  const wantedMin = (spec.endMs - spec.startMs) / 60_000 / labels
  return (NICE_TICKS_MIN.find((m) => m >= wantedMin) ?? Math.ceil(wantedMin / 10080) * 10080) * 60_000
}

/** timeLabel writes a tick of the shifted (wall-clock-as-UTC) axis: the day at midnight, else the time. */
export function timeLabel(value: number): string {
  const d = new Date(value)
  const two = (n: number) => String(n).padStart(2, '0')
  if (d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0) return `${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`
  return d.getUTCSeconds() === 0
    ? `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`
    : `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
}

/** ticks: the round wall-clock times (as shifted) between min and max, every interval. */
function ticks(min: number, max: number, interval: number): number[] {
  const out: number[] = []
  for (let t = Math.ceil(min / interval) * interval; t <= max && out.length < 100; t += interval) out.push(t)
  return out
}

function xAxis(spec: ChartSpec, shift: (ms: number) => number) {
  // our own ticks, round in the zone and far enough apart for the size a phone needs
  const customValues = ticks(shift(spec.startMs), shift(spec.endMs), tickInterval(spec))
  return {
    type: 'time',
    min: shift(spec.startMs),
    max: shift(spec.endMs),
    axisTick: { customValues },
    axisLabel: {
      customValues,
      fontSize: px(spec.width, AXIS_PX),
      hideOverlap: true,
      // a function, not ECharts' per-level templates: those draw in their own (smaller) rich-text style
      formatter: timeLabel,
    },
    splitLine: { show: true, lineStyle: { color: '#eeeeee' } },
  }
}

function titles(spec: ChartSpec) {
  const zone = spec.timeZone === 'Etc/UTC' ? 'UTC' : spec.timeZone
  const small = px(spec.width, LEGEND_PX)
  const big = px(spec.width, TITLE_PX)
  const zoneWidth = textWidth(zone, small) + 20
  return [
    {
      text: spec.title,
      left: 10,
      top: 8,
      textStyle: { fontFamily: FONT_FAMILY, fontSize: big, fontWeight: 'normal', color: '#222222', width: spec.width - zoneWidth - 30, overflow: 'truncate' },
    },
    {
      text: zone,
      right: 10,
      top: 8 + Math.round((big - small) / 2),
      textStyle: { fontFamily: FONT_FAMILY, fontSize: small, fontWeight: 'normal', color: '#666666' },
    },
  ]
}

function legend(names: readonly string[], width: number) {
  return {
    show: true,
    data: [...names],
    bottom: 4,
    left: 10,
    right: 10,
    icon: 'rect',
    itemWidth: px(width, 18),
    itemHeight: px(width, 5, 3),
    itemGap: px(width, 12),
    textStyle: { fontSize: px(width, LEGEND_PX), width: width - 60, overflow: 'truncate' },
  }
}

/** chartOption builds the ECharts option: one line per series, legend under the plot, axis in the zone. */
export function chartOption(spec: ChartSpec): echarts.EChartsCoreOption {
  const shift = toWallClock(spec)
  const names = spec.series.map((s) => s.name)
  const showLegend = names.length > 1 || (names[0] ?? '') !== ''
  const legendHeight = showLegend ? legendRows(names, spec.width) * Math.round(px(spec.width, LEGEND_PX) * 1.6) + 8 : 0
  const marks = markLines(spec, shift)
  const threshold = spec.threshold?.value
  const lines = spec.series.map((s, i) => ({
    type: 'line',
    name: s.name,
    showSymbol: s.points.length < 3,
    symbolSize: px(spec.width, 6, 4),
    lineStyle: { width: px(spec.width, 3, 1.5) },
    emphasis: { disabled: true },
    data: s.points.map(([t, v]) => [shift(t), Number.isFinite(v) ? v : null]),
    ...(i === 0 && marks ? { markLine: marks } : {}),
  }))
  // an invisible point at the threshold keeps it in view (with round ticks) when the curve is far from it
  const keepInView =
    threshold !== undefined && Number.isFinite(threshold)
      ? [{ type: 'line', name: '', silent: true, showSymbol: false, lineStyle: { opacity: 0 }, data: [[shift(spec.startMs), threshold]] }]
      : []
  return {
    animation: false,
    useUTC: true,
    backgroundColor: BACKGROUND,
    color: PALETTE,
    textStyle: { fontFamily: FONT_FAMILY, fontSize: px(spec.width, AXIS_PX) },
    title: titles(spec),
    grid: {
      left: 12,
      right: px(spec.width, 28),
      top: 16 + px(spec.width, TITLE_PX) + 12,
      bottom: 12 + legendHeight,
      outerBoundsMode: 'same',
      outerBoundsContain: 'axisLabel',
    },
    legend: showLegend ? legend(names, spec.width) : { show: false },
    xAxis: xAxis(spec, shift),
    yAxis: {
      type: 'value',
      scale: true,
      axisLabel: { fontSize: px(spec.width, AXIS_PX), formatter: axisNumber },
      splitLine: { lineStyle: { color: '#e6e6e6' } },
    },
    series: [...lines, ...keepInView],
  }
}

/** renderSvg draws the chart as an SVG string (ECharts server-side rendering). */
export function renderSvg(spec: ChartSpec): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: spec.width, height: spec.height })
  try {
    chart.setOption(chartOption(spec))
    return chart.renderToSVGString()
  } finally {
    chart.dispose()
  }
}

/**
 * longhandFonts rewrites the CSS `font:` shorthand ECharts writes on some labels (the time axis's)
 * into the longhand properties: resvg reads only those, and drew such labels at its default 12 px.
 */
export function longhandFonts(svg: string): string {
  return svg.replace(
    /style="font: ?(normal|italic|oblique) (normal|bold|bolder|lighter|[1-9]00) ([0-9.]+)px ([^";]+)"/g,
    (_, style: string, weight: string, size: string, family: string) =>
      `style="font-style:${style};font-weight:${weight};font-size:${size}px;font-family:${family};"`,
  )
}

/** renderChart: ChartSpec → PNG bytes of exactly spec.width × spec.height (rasterised off the main thread by resvg). */
export async function renderChart(spec: ChartSpec): Promise<Buffer> {
  const svg = longhandFonts(renderSvg(spec))
  const image = await renderAsync(svg, {
    background: BACKGROUND,
    fitTo: { mode: 'width', value: spec.width },
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  })
  return image.asPng()
}
