/**
 * The graph part of `npm run bench -- graph`: how long drawing one alert graph takes (6 series over
 * one hour at the default config's step (15 s), a threshold and the alert's start, 800×450 as configured by default) and
 * the memory drawing adds. It runs in a child process of its own, so the figures are the renderer's
 * alone: resident memory after loading the libraries, after the first picture, and after all of them.
 *
 *   tsx bench/graph.ts            prints the figures as JSON (what run.ts reads)
 *   tsx bench/graph.ts --example docs/images/graph-example.png   also saves the picture it draws (the README's)
 */
import { spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

/** GRAPH_GOAL: issue 11's goal for one picture on the 2-core machine. */
export const GRAPH_GOAL = { p99Ms: 300 }

/** GraphFigures: what one run measures. */
export interface GraphFigures {
  renders: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  firstMs: number
  /** CPU time per picture, all threads (resvg draws on libuv's): what the picture costs whatever else runs */
  cpuMsPerRender: number
  pngBytes: number
  rssLoadedMb: number
  rssAfterFirstMb: number
  rssAfterAllMb: number
  heapAfterAllMb: number
}

const ROOT = new URL('..', import.meta.url).pathname
const RENDERS = Number(process.env.GRAPH_BENCH_RENDERS ?? 200)
const WARMUP = 5

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10

/** measure draws RENDERS pictures through makeGraph (a Prometheus answer held in memory) and times each. */
async function measure(example?: string): Promise<GraphFigures> {
  const rssBefore = process.memoryUsage().rss
  // the compiled code, as the service runs it (npm run bench builds it first); the sources otherwise
  const built = existsSync(join(ROOT, 'dist/workers/graphs.js'))
  const load = <T>(module: string): Promise<T> => import(pathToFileURL(join(ROOT, built ? `dist/${module}.js` : `src/${module}.ts`)).href) as Promise<T>
  const { makeGraph } = await load<typeof import('../src/workers/graphs.js')>('workers/graphs')
  const { graphQueryForExpr } = await load<typeof import('../src/core/graph.js')>('core/graph')
  const { graphTargetPoints } = await load<typeof import('../src/config/graphs.js')>('config/graphs')
  // the renderer may be loaded only at the first picture: load it here, so "libraries" counts it
  await load('charts/png')
  const rssLoaded = process.memoryUsage().rss
  const end = Date.parse('2026-12-01T14:00:00Z')
  const query = {
    ...graphQueryForExpr('sum by (instance) (rate(http_errors_total[5m])) > 0.5', 3_600_000, { targetPoints: graphTargetPoints(800) }, end),
    title: 'HighErrorRate',
    alertStartMs: end - 900_000,
  }
  // six instances, a point per step (as the default config asks: 15 s for an hour), climbing past the threshold in the last quarter
  const steps = Math.round((query.endMs - query.startMs) / 1000 / query.stepSeconds)
  const series = Array.from({ length: 6 }, (_, i) => ({
    labels: { instance: `web-${i}.example.com:9100`, job: 'api' },
    points: Array.from({ length: steps + 1 }, (_, k) => {
      const f = k / steps
      return [query.startMs + k * query.stepSeconds * 1000, 0.2 + i * 0.03 + (f > 0.75 ? (f - 0.75) * 3.6 * (1 + i / 3) : 0) + 0.05 * Math.sin(f * 50 + i)] as [
        number,
        number,
      ]
    }),
  }))
  const deps = {
    prometheus: { queryRange: async () => series },
    timeZone: 'Europe/Berlin',
    limits: { width: 800, height: 450, maxSeries: 6, timeoutMs: 10_000 },
  }
  const times: number[] = []
  let pngBytes = 0
  let rssAfterFirst = 0
  let cpuStart = process.cpuUsage()
  for (let i = 0; i < RENDERS + WARMUP; i++) {
    const began = performance.now()
    const image = await makeGraph(query, deps)
    const took = performance.now() - began
    if (image.outcome !== 'drawn') throw new Error(`expected a picture, got ${image.outcome}: ${image.caption}`)
    pngBytes = image.png!.length
    if (i === 0 && example) writeFileSync(example, image.png!)
    if (i === 0) rssAfterFirst = process.memoryUsage().rss
    if (i === WARMUP - 1) cpuStart = process.cpuUsage()
    times.push(took)
  }
  const steady = times.slice(WARMUP)
  const cpu = process.cpuUsage(cpuStart)
  return {
    renders: steady.length,
    p50Ms: Math.round(percentile(steady, 50)),
    p99Ms: Math.round(percentile(steady, 99)),
    maxMs: Math.round(Math.max(...steady)),
    firstMs: Math.round(times[0]!),
    cpuMsPerRender: Math.round((cpu.user + cpu.system) / 1000 / steady.length),
    pngBytes,
    rssLoadedMb: mb(rssLoaded - rssBefore),
    rssAfterFirstMb: mb(rssAfterFirst - rssBefore),
    rssAfterAllMb: mb(process.memoryUsage().rss - rssBefore),
    heapAfterAllMb: heapAfterGc(),
  }
}

/** heapAfterGc: the heap still held once garbage is collected (a leak shows here, not in RSS). */
function heapAfterGc(): number {
  globalThis.gc?.()
  return mb(process.memoryUsage().heapUsed)
}

/** graphBench runs the measurement in a child process and returns its figures. */
export function graphBench(root: string): Promise<GraphFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(root, 'bench/graph.ts')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output) as GraphFigures) : reject(new Error(`graph bench exited ${code}`))))
  })
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--example')
  process.stdout.write(`${JSON.stringify(await measure(at > 0 ? process.argv[at + 1] : undefined))}\n`)
  process.exit(0)
}
