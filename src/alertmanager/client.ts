/**
 * The Alertmanager API v2 client: silences (create, read, list, expire), alerts and status.
 * Every answer is checked against a TypeBox schema (unknown properties accepted: newer
 * Alertmanagers add fields), and every failure becomes an AlertmanagerError whose message an
 * on-call admin can act on. Credentials never appear in a message. Nothing is retried here: a
 * silence posted twice is two silences, so the caller decides.
 */
import Type from 'typebox'
import Value from 'typebox/value'
import { issueFields } from '../core/schema-errors.js'
import { formatSilenceMatcher, SilenceMatcherSchema, type SilenceMatcher } from './matchers.js'

const Labels = Type.Record(Type.String(), Type.String())
const Time = Type.String({ format: 'date-time' })

/** SilenceSchema: a silence as GET /api/v2/silence/{id} and /api/v2/silences return it. */
export const SilenceSchema = Type.Object({
  id: Type.String(),
  status: Type.Object({ state: Type.Enum(['active', 'pending', 'expired']) }),
  updatedAt: Time,
  matchers: Type.Array(SilenceMatcherSchema),
  startsAt: Time,
  endsAt: Time,
  createdBy: Type.String(),
  comment: Type.String(),
})

/** GettableAlertSchema: an alert as GET /api/v2/alerts returns it. */
export const GettableAlertSchema = Type.Object({
  labels: Labels,
  annotations: Labels,
  receivers: Type.Array(Type.Object({ name: Type.String() })),
  fingerprint: Type.String(),
  startsAt: Time,
  updatedAt: Time,
  endsAt: Time,
  generatorURL: Type.Optional(Type.String()),
  status: Type.Object({
    state: Type.Enum(['unprocessed', 'active', 'suppressed']),
    silencedBy: Type.Array(Type.String()),
    inhibitedBy: Type.Array(Type.String()),
  }),
})

const SilenceListSchema = Type.Array(SilenceSchema)
const AlertListSchema = Type.Array(GettableAlertSchema)
const CreatedSchema = Type.Object({ silenceID: Type.String({ minLength: 1 }) })
const StatusSchema = Type.Object({
  versionInfo: Type.Object({ version: Type.String() }),
  uptime: Time,
  cluster: Type.Optional(Type.Object({ status: Type.String() })),
})

/** Silence: a silence as Alertmanager returns it; `status.state` is active, pending or expired. */
export type Silence = Type.Static<typeof SilenceSchema>
/** GettableAlert: an alert as Alertmanager returns it. */
export type GettableAlert = Type.Static<typeof GettableAlertSchema>

/** AlertmanagerErrorKind: what went wrong, in the terms a caller acts on. */
export type AlertmanagerErrorKind =
  | 'unreachable' // connection refused, DNS, TLS, reset: Alertmanager is down or the URL is wrong
  | 'timeout' // no complete answer within timeoutMs
  | 'bad_request' // Alertmanager refused the request (400, 422, other 4xx); `reason` says why
  | 'not_found' // no such silence (Alertmanager 0.25 says so with a 500, newer ones with a 404)
  | 'wrong_url' // no such path: the URL (or its path prefix) does not lead to Alertmanager's API
  | 'unauthorized' // 401/403: credentials missing or wrong
  | 'server' // 5xx
  | 'bad_response' // an answer that is not JSON or not the expected shape

/** AlertmanagerError: a failed call, with a message for people and a kind for code. */
export class AlertmanagerError extends Error {
  override readonly name = 'AlertmanagerError'
  readonly kind: AlertmanagerErrorKind
  /** HTTP status, when Alertmanager answered. */
  readonly status?: number
  /** Alertmanager's own words, when it gave any. */
  readonly reason?: string

  /** AlertmanagerError builds an error from a sentence a person can act on. */
  constructor(kind: AlertmanagerErrorKind, message: string, details: { status?: number; reason?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.kind = kind
    if (details.status !== undefined) this.status = details.status
    if (details.reason !== undefined) this.reason = details.reason
  }
}

/** isNotFound tells whether a call failed because Alertmanager has no such silence, whatever its version answered. */
export function isNotFound(error: unknown): error is AlertmanagerError {
  return error instanceof AlertmanagerError && error.kind === 'not_found'
}

/** AlertmanagerClientOptions: where Alertmanager is and how to reach it. */
export interface AlertmanagerClientOptions {
  /** Base URL, e.g. http://127.0.0.1:9093, possibly with a path prefix such as /alertmanager. */
  url: string
  /** Per request, including reading the answer; default 5000. */
  timeoutMs?: number
  basicAuth?: { username: string; password: string }
  bearerToken?: string
  /** Injectable for tests; default the global fetch. */
  fetch?: typeof fetch
}

/** CreateSilenceInput: a new silence; createdBy and comment are passed through as given. */
export interface CreateSilenceInput {
  matchers: SilenceMatcher[]
  /** Default: now. */
  startsAt?: Date
  endsAt: Date
  createdBy: string
  comment: string
  /** an existing silence to change: Alertmanager updates it in place when it can (same matchers and start, still active), else expires it and answers a new id */
  id?: string
}

/** AlertQuery: GET /api/v2/alerts parameters; an omitted flag is Alertmanager's default (true). */
export interface AlertQuery {
  active?: boolean
  silenced?: boolean
  inhibited?: boolean
  filter?: SilenceMatcher[]
}

/** AlertmanagerStatus: the parts of GET /api/v2/status alertwire shows; uptime is the start time (RFC 3339). */
export interface AlertmanagerStatus {
  version: string
  uptime: string
  clusterStatus?: string
}

type Method = 'GET' | 'POST' | 'DELETE'

interface Call {
  method: Method
  /** Below the base URL, e.g. /api/v2/silences. */
  path: string
  query?: URLSearchParams
  body?: unknown
  /** Completes "failed to …": 'list silences'. */
  action: string
  /** Completes "Alertmanager refused …"; default "to <action>". */
  refused?: string
  /** The sentence for a 404 on an existing route, e.g. "Alertmanager has no silence X". */
  notFound?: string
}

const DEFAULT_TIMEOUT_MS = 5000
const MAX_REASON_CHARS = 300

/** AlertmanagerClient talks to one Alertmanager through its API v2. */
export class AlertmanagerClient {
  /** The base URL without credentials, so it can go into messages. */
  readonly #base: string
  readonly #timeoutMs: number
  readonly #authorization: string | undefined
  readonly #fetch: typeof fetch

  /** AlertmanagerClient checks its options; it throws an Error for a URL or auth that can never work. */
  constructor(options: AlertmanagerClientOptions) {
    const url = parseBaseUrl(options.url)
    const fromUrl = url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined
    url.username = ''
    url.password = ''
    this.#base = url.href.replace(/\/+$/, '')
    this.#timeoutMs = checkTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    this.#authorization = authorizationHeader(options.basicAuth ?? fromUrl, options.bearerToken)
    this.#fetch = options.fetch ?? globalThis.fetch
  }

  /** createSilence creates a silence in Alertmanager (or with `id`, changes one) and returns its id. */
  async createSilence(input: CreateSilenceInput): Promise<string> {
    const body = {
      matchers: input.matchers.map(({ name, value, isRegex, isEqual }) => ({ name, value, isRegex, isEqual })),
      startsAt: isoTime(input.startsAt ?? new Date(), 'startsAt'),
      endsAt: isoTime(input.endsAt, 'endsAt'),
      createdBy: input.createdBy,
      comment: input.comment,
      ...(input.id ? { id: input.id } : {}),
    }
    const call: Call = { method: 'POST', path: '/api/v2/silences', body, action: 'create the silence', refused: 'the silence' }
    const created = await this.#request(call, CreatedSchema)
    return created.silenceID
  }

  /** expireSilence ends a silence now; an already expired one stays as it is, an unknown one is 'not_found'. */
  async expireSilence(id: string): Promise<void> {
    const notFound = `Alertmanager has no silence ${id}`
    const call: Call = { method: 'DELETE', path: silencePath(id), action: `expire silence ${id}`, notFound }
    try {
      await this.#request(call, undefined)
    } catch (error) {
      if (!(error instanceof AlertmanagerError) || error.kind !== 'server') throw error
      // Before 0.26 an unknown id is a 500 "silence not found" (404 since), and before 0.24
      // expiring an expired silence is a 500 "silence <id> already expired": it is done either way.
      if (/already expired/i.test(error.reason ?? '')) return
      if (/silence not found/i.test(error.reason ?? '')) {
        throw new AlertmanagerError('not_found', notFound, { status: error.status!, reason: error.reason! })
      }
      throw error
    }
  }

  /** getSilence reads one silence, expired ones included. */
  getSilence(id: string): Promise<Silence> {
    const notFound = `Alertmanager has no silence ${id}`
    return this.#request({ method: 'GET', path: silencePath(id), action: `read silence ${id}`, notFound }, SilenceSchema)
  }

  /** listSilences lists silences (expired ones included) whose matchers satisfy every filter matcher. */
  listSilences(filter: SilenceMatcher[] = []): Promise<Silence[]> {
    const query = filterQuery(filter)
    return this.#request({ method: 'GET', path: '/api/v2/silences', query, action: 'list silences' }, SilenceListSchema)
  }

  /** listAlerts lists alerts; Alertmanager includes active, silenced and inhibited ones unless told otherwise. */
  listAlerts(query: AlertQuery = {}): Promise<GettableAlert[]> {
    const params = filterQuery(query.filter ?? [])
    for (const key of ['active', 'silenced', 'inhibited'] as const) {
      const value = query[key]
      if (value !== undefined) params.set(key, String(value))
    }
    return this.#request({ method: 'GET', path: '/api/v2/alerts', query: params, action: 'list alerts' }, AlertListSchema)
  }

  /** status reads Alertmanager's version, start time and cluster state. */
  async status(): Promise<AlertmanagerStatus> {
    const answer = await this.#request({ method: 'GET', path: '/api/v2/status', action: 'report its status' }, StatusSchema)
    const status: AlertmanagerStatus = { version: answer.versionInfo.version, uptime: answer.uptime }
    if (answer.cluster) status.clusterStatus = answer.cluster.status
    return status
  }

  /** healthy tells whether GET /-/healthy answers 2xx in time; it never throws. */
  async healthy(): Promise<boolean> {
    try {
      const res = await this.#fetch(`${this.#base}/-/healthy`, { headers: this.#headers(false), signal: AbortSignal.timeout(this.#timeoutMs) })
      await res.arrayBuffer() // drain, so the connection is released
      return res.ok
    } catch {
      return false
    }
  }

  async #request<S extends Type.TSchema>(call: Call, schema: S): Promise<Type.Static<S>>
  async #request(call: Call, schema: undefined): Promise<void>
  async #request(call: Call, schema: Type.TSchema | undefined): Promise<unknown> {
    const query = call.query?.toString()
    const url = `${this.#base}${call.path}${query ? `?${query}` : ''}`
    const init: RequestInit = {
      method: call.method,
      headers: this.#headers(call.body !== undefined),
      signal: AbortSignal.timeout(this.#timeoutMs),
    }
    if (call.body !== undefined) init.body = JSON.stringify(call.body)
    let status: number
    let text: string
    try {
      const res = await this.#fetch(url, init)
      status = res.status
      text = await res.text()
    } catch (error) {
      throw this.#transportError(error)
    }
    if (status < 200 || status > 299) throw this.#statusError(call, status, text)
    return schema === undefined ? undefined : this.#parse(call, schema, text)
  }

  #headers(json: boolean): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'alertwire' }
    if (json) headers['content-type'] = 'application/json'
    if (this.#authorization) headers.authorization = this.#authorization
    return headers
  }

  #transportError(error: unknown): AlertmanagerError {
    const name = (error as Error | undefined)?.name
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new AlertmanagerError('timeout', `Alertmanager at ${this.#base} did not answer within ${formatMs(this.#timeoutMs)}`, { cause: error })
    }
    return new AlertmanagerError('unreachable', `Alertmanager at ${this.#base} is unreachable (${describeNetworkError(error)})`, { cause: error })
  }

  #statusError(call: Call, status: number, text: string): AlertmanagerError {
    const reason = readReason(text)
    const details = reason ? { status, reason } : { status }
    const said = reason ? `: ${reason}` : ''
    if (status === 401 || status === 403) {
      const advice = this.#authorization
        ? `refused alertwire's credentials (HTTP ${status}${said}): check the basic auth or bearer token configured for it`
        : `requires credentials (HTTP ${status}${said}): configure basic auth or a bearer token for it`
      return new AlertmanagerError('unauthorized', `Alertmanager at ${this.#base} ${advice}`, details)
    }
    if (status === 404) {
      // Alertmanager names an unknown route "path … was not found"; a proxy may answer an HTML page.
      const wrongPath = !call.notFound || /path .* was not found/i.test(reason) || looksLikeHtml(text)
      if (wrongPath)
        return new AlertmanagerError(
          'wrong_url',
          `Alertmanager at ${this.#base} has no ${call.path} (HTTP 404): check the URL, including any path prefix such as /alertmanager`,
          details,
        )
      return new AlertmanagerError('not_found', call.notFound!, details)
    }
    if (status >= 500) {
      return new AlertmanagerError('server', `Alertmanager at ${this.#base} failed to ${call.action} (HTTP ${status}${said})`, details)
    }
    if (status >= 400) {
      return new AlertmanagerError('bad_request', `Alertmanager refused ${call.refused ?? `to ${call.action}`}: ${reason || `HTTP ${status}`}`, details)
    }
    return new AlertmanagerError(
      'bad_response',
      `Alertmanager at ${this.#base} answered ${call.method} ${call.path} with HTTP ${status}, not a success`,
      details,
    )
  }

  #parse(call: Call, schema: Type.TSchema, text: string): unknown {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      const got = text.trim() === '' ? 'an empty body' : `a body that is not JSON (${JSON.stringify(clip(text.trim(), 60))})`
      throw new AlertmanagerError('bad_response', `Alertmanager at ${this.#base} answered ${call.method} ${call.path} with ${got}`)
    }
    Value.Default(schema, value)
    if (Value.Check(schema, value)) return value
    throw new AlertmanagerError(
      'bad_response',
      `Alertmanager at ${this.#base} answered ${call.method} ${call.path} with an unexpected body: ${describeMismatch(schema, value)}`,
    )
  }
}

function parseBaseUrl(text: string): URL {
  let url: URL | undefined
  try {
    url = new URL(text)
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    const shown = JSON.stringify(text.replace(/\/\/[^/@]*@/, '//'))
    throw new Error(`the Alertmanager URL ${shown} is not an http:// or https:// URL`)
  }
  url.search = ''
  url.hash = ''
  return url
}

function checkTimeout(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`the Alertmanager timeout must be a positive number of milliseconds, got ${ms}`)
  return ms
}

function authorizationHeader(basic: { username: string; password: string } | undefined, bearer: string | undefined): string | undefined {
  if (basic && bearer !== undefined) throw new Error('give Alertmanager either basic auth or a bearer token, not both')
  if (basic) return `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`
  if (bearer !== undefined) return `Bearer ${bearer}`
  return undefined
}

function silencePath(id: string): string {
  return `/api/v2/silence/${encodeURIComponent(id)}`
}

// One `filter=` parameter per matcher, as Alertmanager's parseFilter reads them.
function filterQuery(filter: readonly SilenceMatcher[]): URLSearchParams {
  const params = new URLSearchParams()
  for (const matcher of filter) params.append('filter', formatSilenceMatcher(matcher))
  return params
}

function isoTime(time: Date, field: string): string {
  if (!(time instanceof Date) || Number.isNaN(time.getTime())) {
    throw new AlertmanagerError('bad_request', `Alertmanager refused the silence: ${field} is not a valid time`)
  }
  return time.toISOString()
}

// Alertmanager answers a refusal as a JSON string ("silence invalid: …"), as go-swagger's
// {"code":602,"message":"…"}, or as plain text from a proxy in front of it.
function readReason(text: string): string {
  const trimmed = text.trim()
  if (!trimmed || looksLikeHtml(trimmed)) return ''
  let parsed: unknown
  try {
    parsed = JSON.parse(trimmed)
  } catch {
    return clip(trimmed, MAX_REASON_CHARS)
  }
  if (typeof parsed === 'string') return clip(parsed.trim(), MAX_REASON_CHARS)
  const message = (parsed as { message?: unknown } | null)?.message
  return clip(typeof message === 'string' ? message : trimmed, MAX_REASON_CHARS)
}

function looksLikeHtml(text: string): boolean {
  return /^\s*</.test(text)
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS lookup failed)',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed before it answered',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
}

// fetch says only "fetch failed"; the cause holds the system error (or an AggregateError of them).
function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error
  const nested = cause instanceof AggregateError ? cause.errors[0] : cause
  const code = (nested as { code?: unknown } | undefined)?.code
  if (typeof code === 'string' && NETWORK_CODES[code]) return NETWORK_CODES[code]
  if (typeof code === 'string' && /CERT|TLS|SSL/.test(code)) return `TLS: ${(nested as Error).message}`
  return nested instanceof Error ? nested.message : String(nested)
}

// The first mismatch, named by its field, e.g. `[0].status.state must be one of … (got "zombie")`.
function describeMismatch(schema: Type.TSchema, value: unknown): string {
  const [first] = Value.Errors(schema, value)
  if (!first) return 'it does not match the expected shape'
  const fields = issueFields(first)
  if (first.keyword === 'required') return `${fields.join(', ')} ${fields.length > 1 ? 'are' : 'is'} missing`
  const got = Value.Pointer.Get(value as object, first.instancePath)
  return `${fields[0] || 'the body'} ${first.message} (got ${clip(JSON.stringify(got) ?? String(got), 60)})`
}
