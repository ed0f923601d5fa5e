/**
 * The Prometheus HTTP API client for graphs: one range query, bounded in time and in the size of
 * the answer. Every failure becomes a PrometheusError whose kind says what the caption should tell
 * (down, a refused query, too slow, another HTTP answer). Credentials never appear in a message.
 */
import Type from 'typebox'
import Value from 'typebox/value'
import type { PrometheusAuthConfig } from '../core/graph.js'

/** Series: one labelled curve of a range query, its points as [ms, value]. */
export interface Series {
  labels: Record<string, string>
  points: [number, number][]
}

/** PrometheusErrorKind: what went wrong, in the terms the caption and the outcome counter use. */
export type PrometheusErrorKind =
  | 'down' // connection refused, DNS, TLS, reset, or a 5xx/503 that says Prometheus cannot serve
  | 'bad_query' // Prometheus refused the expression (400/422 bad_data, execution errors)
  | 'timeout' // no complete answer within timeoutMs
  | 'http' // any other answer: 401/403, 404 (a wrong URL), a body that is not the API's JSON
  | 'too_big' // an answer past maxBytes: too many series or points for a picture

/** PrometheusError: a failed query, with a message for people and a kind for code. */
export class PrometheusError extends Error {
  override readonly name = 'PrometheusError'
  readonly kind: PrometheusErrorKind
  readonly status?: number

  /** PrometheusError builds an error from a sentence a person can act on. */
  constructor(kind: PrometheusErrorKind, message: string, details: { status?: number; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.kind = kind
    if (details.status !== undefined) this.status = details.status
  }
}

/** PrometheusAuth: basic auth or a bearer token, read from files by the config. */
export type PrometheusAuth = PrometheusAuthConfig

/** PrometheusClientOptions: where Prometheus is and how to reach it. */
export interface PrometheusClientOptions {
  /** base URL with any path prefix (--web.external-url), e.g. http://127.0.0.1:9090 */
  url: string
  auth?: PrometheusAuth
  /** per query, including reading the answer */
  timeoutMs: number
  /** the most bytes an answer may have (memory bound); default 16 MiB */
  maxBytes?: number
  /** injectable for tests; default the global fetch */
  fetch?: typeof fetch
}

/** PrometheusQuerier: what makeGraph needs of a client. */
export interface PrometheusQuerier {
  queryRange(expr: string, startMs: number, endMs: number, stepSeconds: number, signal?: AbortSignal): Promise<Series[]>
}

const MatrixSchema = Type.Object({
  status: Type.Literal('success'),
  data: Type.Object({
    resultType: Type.String(),
    result: Type.Array(Type.Object({ metric: Type.Record(Type.String(), Type.String()), values: Type.Array(Type.Tuple([Type.Number(), Type.String()])) })),
  }),
})
const ErrorSchema = Type.Object({ status: Type.Literal('error'), errorType: Type.String(), error: Type.String() })

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024
const MAX_REASON_CHARS = 300

/** createPrometheusClient builds a client of one Prometheus. */
export function createPrometheusClient(options: PrometheusClientOptions): PrometheusQuerier {
  const base = options.url.replace(/\/+$/, '')
  const doFetch = options.fetch ?? globalThis.fetch
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
  if (options.auth && 'bearerToken' in options.auth) headers.authorization = `Bearer ${options.auth.bearerToken}`
  else if (options.auth) headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
  const host = safeHost(base)
  return {
    async queryRange(expr, startMs, endMs, stepSeconds, signal) {
      const body = new URLSearchParams({ query: expr, start: String(startMs / 1000), end: String(endMs / 1000), step: String(stepSeconds) })
      const timeout = AbortSignal.timeout(options.timeoutMs)
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout
      let text: string
      let status: number
      try {
        const res = await doFetch(`${base}/api/v1/query_range`, { method: 'POST', headers, body, signal: combined })
        status = res.status
        text = await readLimited(res, options.maxBytes ?? DEFAULT_MAX_BYTES)
      } catch (error) {
        throw asPrometheusError(error, host, options.timeoutMs, timeout.aborted)
      }
      return readAnswer(text, status, host)
    },
  }
}

/** safeHost names a Prometheus in messages without its credentials or path. */
function safeHost(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return 'Prometheus'
  }
}

/** readLimited reads a body, refusing past maxBytes so a huge answer cannot take the memory. */
async function readLimited(res: Response, maxBytes: number): Promise<string> {
  const tooBig = () =>
    new PrometheusError(
      'too_big',
      `the answer is over ${Math.round(maxBytes / 1024 / 1024)} MiB: too many series or points for a picture (narrow it: sum by, topk)`,
    )
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) throw tooBig()
  if (!res.body) return ''
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res.body) {
    size += chunk.byteLength
    if (size > maxBytes) throw tooBig()
    chunks.push(Buffer.from(chunk))
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** asPrometheusError sorts a failed request: our timeout, someone's abort, or an unreachable Prometheus. */
function asPrometheusError(error: unknown, host: string, timeoutMs: number, timedOut: boolean): PrometheusError {
  if (error instanceof PrometheusError) return error
  if (timedOut) return new PrometheusError('timeout', `Prometheus at ${host} did not answer within ${timeoutMs} ms`, { cause: error })
  if ((error as Error)?.name === 'AbortError') return new PrometheusError('timeout', `the query to ${host} was cancelled`, { cause: error })
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause
  const why = cause?.code ?? cause?.message ?? (error as Error)?.message ?? 'unreachable'
  return new PrometheusError('down', `Prometheus at ${host} is unreachable (${why})`, { cause: error })
}

/** readAnswer turns the API's JSON into series, or the error it describes. */
function readAnswer(text: string, status: number, host: string): Series[] {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    if (status === 502 || status === 503 || status === 504) throw new PrometheusError('down', `Prometheus at ${host} answered ${status}`, { status })
    throw new PrometheusError('http', `${host} answered ${status} without the Prometheus API's JSON (is the URL Prometheus's?)`, { status })
  }
  if (Value.Check(ErrorSchema, json)) {
    const reason = json.error.slice(0, MAX_REASON_CHARS)
    if (json.errorType === 'bad_data' || json.errorType === 'execution' || status === 400 || status === 422) {
      throw new PrometheusError('bad_query', reason, { status })
    }
    if (json.errorType === 'timeout' || json.errorType === 'canceled') throw new PrometheusError('timeout', `Prometheus gave up: ${reason}`, { status })
    throw new PrometheusError(status >= 500 ? 'down' : 'http', `Prometheus at ${host}: ${reason}`, { status })
  }
  if (status !== 200 || !Value.Check(MatrixSchema, json)) {
    throw new PrometheusError(status === 502 || status === 503 || status === 504 ? 'down' : 'http', `${host} answered ${status} with an unexpected body`, {
      status,
    })
  }
  if (json.data.resultType !== 'matrix') throw new PrometheusError('bad_query', `expected a range vector, got a ${json.data.resultType}`, { status })
  return json.data.result.map((r) => ({ labels: r.metric, points: r.values.map(([t, v]) => [Math.round(t * 1000), sampleValue(v)] as [number, number]) }))
}

/** sampleValue reads a sample as Prometheus writes it: a number, NaN, +Inf or -Inf (Number() reads the infinities as NaN). */
export function sampleValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  return Number(text)
}

/** prometheusPool: the client for a query: the configured Prometheus, or one per other URL (credentials only to configured ones). */
export function prometheusPool(
  options: Omit<PrometheusClientOptions, 'url'> & { url?: string },
): (target: { prometheusUrl?: string; fromGenerator?: boolean }) => PrometheusQuerier | undefined {
  const clients = new Map<string, PrometheusQuerier>()
  const MAX_CLIENTS = 32
  return (target) => {
    const url = target.prometheusUrl ?? options.url
    if (!url) return undefined
    const key = `${target.fromGenerator ? 'g' : 'c'} ${url}`
    let client = clients.get(key)
    if (!client) {
      // a generator's host is whatever the alert says: it never gets the configured credentials
      const { auth, ...rest } = options
      client = createPrometheusClient({ ...rest, url, ...(auth && !target.fromGenerator ? { auth } : {}) })
      if (clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value!)
      clients.set(key, client)
    }
    return client
  }
}
