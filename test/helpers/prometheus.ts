// A real Prometheus (Debian's 2.42) for end-to-end tests of alert and recording rules and of
// dashboard queries: rules are evaluated by the real engine, not by our reading of them.
import { writeFile, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { requestJson, waitForHttp } from './net.js'
import { makeTempDir, removeTempDir, runCommand, spawnTracked, startOnFreePort, waitUntilReady, type ManagedProcess } from './processes.js'

export interface PrometheusOptions {
  /** prometheus.yml text. Relative rule_files paths resolve against the temp dir holding ruleFiles. */
  configYaml: string
  /** Files written next to the config, by relative name (e.g. {'rules/alerts.yml': text}). */
  ruleFiles?: Record<string, string>
  /** Extra command-line flags, e.g. ['--query.lookback-delta=1m']. */
  extraArgs?: string[]
  /** How long to wait for GET /-/ready; default 20 s. */
  readyTimeoutMs?: number
  /** listen here (a port chosen earlier, so another process could be told where Prometheus will be); default: a free one */
  port?: number
}

/** One series of an instant-query answer. */
export interface PromSample {
  metric: Record<string, string>
  value: [number, string]
}

/** The `data` of a /api/v1/query answer, by result type. */
export type PromQueryData =
  | { resultType: 'vector'; result: PromSample[] }
  | { resultType: 'matrix'; result: { metric: Record<string, string>; values: [number, string][] }[] }
  | { resultType: 'scalar' | 'string'; result: [number, string] }

/** An alert from /api/v1/alerts. */
export interface PromAlert {
  labels: Record<string, string>
  annotations: Record<string, string>
  state: 'pending' | 'firing'
  activeAt: string
  value: string
}

export interface PrometheusHandle {
  readonly url: string
  readonly port: number
  readonly dir: string
  /** Instant query; throws with Prometheus's error text when the query fails. */
  query(promql: string, time?: Date): Promise<PromQueryData>
  /** Instant query that must return an instant vector; returns its samples. */
  queryVector(promql: string, time?: Date): Promise<PromSample[]>
  /** Active (pending and firing) alerts. */
  alerts(): Promise<PromAlert[]>
  /** Loaded rule groups as /api/v1/rules returns them. */
  rules(): Promise<{ name: string; file: string; rules: Record<string, unknown>[] }[]>
  /** POST /-/reload (after rewriting files in `dir`). */
  reload(): Promise<void>
  running(): boolean
  /** SIGTERM, wait for exit, remove the temp dir. */
  stop(): Promise<void>
  logs(): string
}

interface ApiAnswer<T> {
  status: 'success' | 'error'
  data: T
  errorType?: string
  error?: string
}

/** startPrometheus writes and checks the config and rule files, starts prometheus on a free port and waits until it is ready. */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusHandle> {
  const dir = makeTempDir('prometheus')
  try {
    const configPath = join(dir, 'prometheus.yml')
    await writeFile(configPath, opts.configYaml)
    for (const [name, text] of Object.entries(opts.ruleFiles ?? {})) {
      await mkdir(dirname(join(dir, name)), { recursive: true })
      await writeFile(join(dir, name), text)
    }
    await checkConfig(configPath)
    const launch = async (p: number) => ({ port: p, proc: await launchPrometheus(p, dir, configPath, opts) })
    const { port, proc } = opts.port ? await launch(opts.port) : await startOnFreePort(launch)
    return makeHandle(port, dir, proc)
  } catch (err) {
    await removeTempDir(dir)
    throw err
  }
}

// promtool also checks every rule file the config names, with line numbers.
async function checkConfig(configPath: string): Promise<void> {
  const { code, output } = await runCommand('promtool', ['check', 'config', configPath])
  if (code !== 0) throw new Error(`promtool check config failed:\n${output}`)
}

async function launchPrometheus(port: number, dir: string, configPath: string, opts: PrometheusOptions): Promise<ManagedProcess> {
  const url = `http://127.0.0.1:${port}`
  const proc = spawnTracked(
    `prometheus:${port}`,
    'prometheus',
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
      ...(opts.extraArgs ?? []),
    ],
    { cwd: dir },
  )
  const timeoutMs = opts.readyTimeoutMs ?? 20_000
  await waitUntilReady(proc, (signal) => waitForHttp(`${url}/-/ready`, { timeoutMs, signal }))
  return proc
}

function makeHandle(port: number, dir: string, proc: ManagedProcess): PrometheusHandle {
  const url = `http://127.0.0.1:${port}`
  let finished = false
  const api = <T>(path: string): Promise<T> => apiGet<T>(`${url}/api/v1/${path}`)
  const query = (promql: string, time?: Date): Promise<PromQueryData> => {
    const params = new URLSearchParams({ query: promql })
    if (time) params.set('time', String(time.getTime() / 1000))
    return api<PromQueryData>(`query?${params}`)
  }
  return {
    url,
    port,
    dir,
    query,
    async queryVector(promql, time) {
      const data = await query(promql, time)
      if (data.resultType !== 'vector') throw new Error(`${promql}: expected a vector, got a ${data.resultType}`)
      return data.result
    },
    alerts: async () => (await api<{ alerts: PromAlert[] }>('alerts')).alerts,
    rules: async () => (await api<{ groups: Awaited<ReturnType<PrometheusHandle['rules']>> }>('rules')).groups,
    async reload() {
      await requestJson<void>('POST', `${url}/-/reload`)
    },
    running: () => proc.running(),
    async stop() {
      if (finished) return
      finished = true
      await proc.stop()
      await removeTempDir(dir)
    },
    logs: () => proc.output(),
  }
}

// Prometheus answers errors with 400/422/503 and a JSON body naming the problem; keep that text.
async function apiGet<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  const text = await res.text()
  let answer: ApiAnswer<T>
  try {
    answer = JSON.parse(text) as ApiAnswer<T>
  } catch {
    throw new Error(`GET ${url} → ${res.status}: ${text.trim()}`)
  }
  if (answer.status !== 'success') {
    throw new Error(`GET ${url} → ${res.status} ${answer.errorType ?? 'error'}: ${answer.error ?? text}`)
  }
  return answer.data
}
