// The PNG a chat receives: it decodes, has the configured size, and the curve, the threshold and
// the alert's start are drawn where they should be; the time axis is written in the configured zone.
import { PNG } from 'pngjs'
import t from 'tap'
import { BACKGROUND, type ChartSpec, longhandFonts, PALETTE, renderChart, renderSvg, tickInterval } from '../../src/charts/png.js'
import { zoneOffsetMs } from '../../src/core/zoned.js'

const start = Date.parse('2026-12-01T13:00:00Z')
const end = start + 3_600_000
const step = 15_000

/** ramp: a line climbing steadily from 0 to 100 over the hour, with a gap where gapFrom..gapTo. */
function ramp(gap?: [number, number]): [number, number][] {
  const points: [number, number][] = []
  for (let ms = start; ms <= end; ms += step) {
    const f = (ms - start) / (end - start)
    points.push([ms, gap && f >= gap[0] && f <= gap[1] ? Number.NaN : f * 100])
  }
  return points
}

const hex = (color: string) => [1, 3, 5].map((i) => Number.parseInt(color.slice(i, i + 2), 16)) as [number, number, number]

/** near: the pixel at (x, y) is within tolerance of the colour (antialiasing blends the edges). */
function near(png: PNG, x: number, y: number, [r, g, b]: [number, number, number], tolerance = 40): boolean {
  const i = (png.width * y + x) * 4
  return Math.abs(png.data[i]! - r) <= tolerance && Math.abs(png.data[i + 1]! - g) <= tolerance && Math.abs(png.data[i + 2]! - b) <= tolerance
}

/** rowsOf: the rows of column x whose pixel has the colour. */
function rowsOf(png: PNG, x: number, color: [number, number, number]): number[] {
  const rows: number[] = []
  for (let y = 0; y < png.height; y++) if (near(png, x, y, color)) rows.push(y)
  return rows
}

const spec = (over: Partial<ChartSpec> = {}): ChartSpec => ({
  width: 800,
  height: 450,
  title: 'QueueBackup',
  series: [{ name: '', points: ramp() }],
  startMs: start,
  endMs: end,
  timeZone: 'UTC',
  ...over,
})

t.test('the PNG decodes with the configured size, on the background colour', async (t) => {
  for (const [width, height] of [
    [800, 450],
    [1280, 720],
    [400, 300],
  ] as const) {
    const bytes = await renderChart(spec({ width, height }))
    t.same([...bytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'the PNG signature')
    t.equal(bytes.toString('ascii', 12, 16), 'IHDR')
    t.same([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [width, height], `IHDR says ${width}×${height}`)
    const png = PNG.sync.read(bytes)
    t.same([png.width, png.height], [width, height], 'decoded')
    t.ok(near(png, 2, 2, hex(BACKGROUND), 0), 'the corner is background')
  }
})

t.test('the curve is drawn along its course: a climbing line rises from left to right, with its gap left blank', async (t) => {
  const png = PNG.sync.read(await renderChart(spec({ series: [{ name: '', points: ramp([0.45, 0.55]) }] })))
  const blue = hex(PALETTE[0]!)
  const columns = [0.15, 0.25, 0.35, 0.65, 0.75, 0.85].map((f) => Math.round(png.width * f))
  const heights = columns.map((x) => {
    const rows = rowsOf(png, x, blue)
    t.ok(rows.length > 0, `the line crosses column ${x}`)
    return rows.reduce((a, b) => a + b, 0) / Math.max(1, rows.length)
  })
  t.ok(
    heights.every((y, i) => i === 0 || y < heights[i - 1]!),
    `it climbs: rows ${heights.map(Math.round).join(' > ')}`,
  )
  t.equal(rowsOf(png, Math.round(png.width * 0.5), blue).length, 0, 'nothing is drawn where there was no data')
})

/** pixel reads (x, y) as [r, g, b]. */
function pixel(png: PNG, x: number, y: number): [number, number, number] {
  const i = (png.width * y + x) * 4
  return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!]
}

// antialiasing blends a thin line into the background: look for the hue, not the exact colour
const reddish = ([r, g, b]: [number, number, number]) => r - g > 50 && r - b > 50
const darkGrey = ([r, g, b]: [number, number, number]) => Math.max(r, g, b) < 190 && Math.max(r, g, b) - Math.min(r, g, b) < 20

t.test('the threshold is a line across the plot, and the alert start a line down it', async (t) => {
  const png = PNG.sync.read(
    await renderChart(
      spec({ threshold: { value: 50, label: '> 50' }, marker: { atMs: start + 2_700_000, label: 'alert start' }, series: [{ name: '', points: ramp() }] }),
    ),
  )
  // the threshold is dashed: look a few pixels either side of each column
  const redRows = [0.2, 0.4, 0.6].map((f) => {
    const rows = new Set<number>()
    for (let x = Math.round(png.width * f) - 8; x <= Math.round(png.width * f) + 8; x++)
      for (let y = 0; y < png.height; y++) if (reddish(pixel(png, x, y))) rows.add(y)
    return [...rows]
  })
  t.ok(
    redRows.every((rows) => rows.length > 0 && rows.length < 6),
    `red across the plot, a thin line: rows ${redRows.map((r) => r.join('/')).join(', ')}`,
  )
  const common = redRows[0]!.filter((y) => redRows.slice(1).every((rows) => rows.includes(y)))
  t.ok(common.length > 0, 'at one height: a horizontal line')
  const blue = hex(PALETTE[0]!)
  const crossing = rowsOf(png, Math.round(png.width * 0.45), blue)
  t.ok(crossing.length > 0 && Math.abs(crossing[0]! - common[0]!) < 30, 'the ramp crosses 50 near halfway, where the threshold is')
  // the marker: dark grey, vertical, three quarters along the plot
  const columns: number[] = []
  for (let x = Math.round(png.width * 0.5); x < png.width; x++) {
    const rows = [0.3, 0.5, 0.7].map((f) => Math.round(png.height * f))
    if (rows.every((y) => darkGrey(pixel(png, x, y)))) columns.push(x)
  }
  t.ok(columns.length > 0 && columns.length <= 3, `one vertical grey line, at x=${columns.join(',')}`)
  t.ok(columns[0]! > png.width * 0.65 && columns[0]! < png.width * 0.8, 'three quarters along the time axis')
})

t.test('several series: each its own colour, the legend names them', async (t) => {
  const series = [0, 1, 2].map((i) => ({ name: `instance=web-${i}:9100`, points: ramp().map(([ms, v]) => [ms, v + i * 30] as [number, number]) }))
  const png = PNG.sync.read(await renderChart(spec({ series })))
  for (const [i, color] of PALETTE.slice(0, 3).entries()) {
    t.ok(rowsOf(png, Math.round(png.width * 0.5), hex(color)).length > 0, `series ${i} is drawn in ${color}`)
  }
  const svg = renderSvg(spec({ series }))
  for (const s of series) t.match(svg, s.name, `the legend names ${s.name}`)
})

t.test('the time axis is written in the configured zone', async (t) => {
  const utc = renderSvg(spec())
  t.match(utc, />13:30</, 'UTC: 13:30')
  const kolkata = renderSvg(spec({ timeZone: 'Asia/Kolkata' }))
  t.match(kolkata, />19:00</, 'Asia/Kolkata is UTC+5:30: 19:00 is on the axis')
  t.notMatch(kolkata, />13:30</, 'and no UTC time')
  t.match(kolkata, /Asia\/Kolkata/, 'the zone is named')
})

t.test('across a change of daylight saving time, each moment is written at its own offset', async (t) => {
  const before = Date.parse('2026-10-25T00:30:00Z') // 02:30 CEST
  const after = Date.parse('2026-10-25T01:30:00Z') // 02:30 CET
  t.equal(zoneOffsetMs('Europe/Berlin', before), 2 * 3_600_000)
  t.equal(zoneOffsetMs('Europe/Berlin', after), 3_600_000)
  t.equal(zoneOffsetMs('UTC', before), 0)
  t.equal(zoneOffsetMs('Asia/Kolkata', before), 5.5 * 3_600_000)
  const svg = renderSvg(
    spec({
      startMs: before - 3_600_000,
      endMs: after + 3_600_000,
      timeZone: 'Europe/Berlin',
      series: [
        {
          name: '',
          points: [
            [before - 3_600_000, 1],
            [after + 3_600_000, 2],
          ],
        },
      ],
    }),
  )
  t.match(svg, />01:30</, 'the window starts at 01:30 CEST')
  t.match(svg, /Europe\/Berlin/)
})

t.test('labels are sized for a phone, and every one in a form resvg reads', async (t) => {
  const svg = longhandFonts(renderSvg(spec()))
  t.notMatch(svg, /style="font:/, 'no CSS font shorthand left (resvg would draw it at 12 px)')
  const sizes = [...svg.matchAll(/font-size:([0-9.]+)px/g)].map((m) => Number(m[1]))
  t.ok(sizes.length > 10 && sizes.every((size) => size >= 16), `every label at least 16 px at 800 px wide: ${[...new Set(sizes)].join(', ')}`)
  t.equal(
    longhandFonts('<text style="font: normal bold 17px DejaVu Sans">x</text>'),
    '<text style="font-style:normal;font-weight:bold;font-size:17px;font-family:DejaVu Sans;">x</text>',
  )
  t.equal(tickInterval({ startMs: 0, endMs: 3_600_000, width: 800 }), 600_000, 'an hour at 800 px: a label every 10 minutes')
  t.equal(tickInterval({ startMs: 0, endMs: 86_400_000, width: 800 }), 6 * 3_600_000, 'a day: every 6 hours')
})
