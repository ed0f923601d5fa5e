/**
 * Graphs of firing alerts (config `graphs:`): which Prometheus to ask and how, which alerts get a
 * picture, its window, size and bounds. The schema is here beside its compilation, so the shared
 * schema and parse files only name it. Routes say `graphs: true|false` in routing.routes[].
 */
import Type from 'typebox'
import { DURATION_PATTERN, parseDuration, POSITIVE_DURATION_PATTERN } from '../core/duration.js'
import { HTTP_URL_PATTERN } from './patterns.js'
import type { GraphLimits, GraphOptions, PrometheusAuthConfig } from '../core/graph.js'
import type { Routing } from '../core/route.js'
import { levelOf, type SeverityScheme } from '../core/severity.js'

const Secret = Type.Optional(Type.String())
const HttpUrl = (what: string) => Type.String({ pattern: HTTP_URL_PATTERN, expected: `${what}, an http(s) URL like http://prometheus:9090` })

/** GraphsSchema: the `graphs:` key. */
export const GraphsSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    prometheus_url: Type.Optional(HttpUrl('the Prometheus to ask')),
    basic_auth: Type.Optional(
      Type.Object({ username: Type.String({ minLength: 1 }), password: Secret, password_file: Secret }, { additionalProperties: false }),
    ),
    bearer_token: Secret,
    bearer_token_file: Secret,
    host_map: Type.Record(Type.String({ pattern: '^[A-Za-z0-9._\\[\\]:-]+$' }), HttpUrl('where this generator host is reached'), {
      default: {},
      expected: 'a mapping of generator hosts (host or host:port) to URLs, like {"prometheus:9090": "http://10.0.0.5:9090"}',
    }),
    severities: Type.Array(Type.String({ minLength: 1 }), {
      default: ['critical', 'warning'],
      expected: 'a list of severities like [critical, warning] ([]: all)',
    }),
    window: Type.String({ pattern: DURATION_PATTERN, default: '1h', expected: 'a duration like "1h"' }),
    width: Type.Integer({ minimum: 320, maximum: 2560, default: 800, expected: 'a width in pixels (320-2560)' }),
    height: Type.Integer({ minimum: 200, maximum: 2560, default: 450, expected: 'a height in pixels (200-2560)' }),
    max_series: Type.Integer({ minimum: 1, maximum: 20, default: 6, expected: 'a number of series (1-20)' }),
    timeout: Type.String({ pattern: POSITIVE_DURATION_PATTERN, default: '10s', expected: 'a duration above 0, like "10s"' }),
    on_resolve: Type.Boolean({ default: false }),
  },
  { additionalProperties: false, default: {} },
)

type RawGraphs = Type.Static<typeof GraphsSchema>

/** GraphsConfig: the graphs: section, compiled. */
export interface GraphsConfig {
  enabled: boolean
  prometheusUrl?: string
  auth?: PrometheusAuthConfig
  /** generator host (lower case, host or host:port) → base URL */
  hostMap: ReadonlyMap<string, string>
  /** severity levels that get a graph (empty: all) */
  severities: ReadonlySet<string>
  windowMs: number
  width: number
  height: number
  maxSeries: number
  timeoutMs: number
  onResolve: boolean
  /** routing.routes[].graphs, by route name: it overrides the severity list for that route */
  routeGraphs: ReadonlyMap<string, boolean>
}

/** graphsSecrets: the graphs: secrets read from *_file keys, as [holder, key, path] for parse.ts's reader. */
export function graphsSecrets(raw: RawGraphs): [Record<string, unknown> | undefined, string, string][] {
  return [
    [raw, 'bearer_token', 'graphs.bearer_token'],
    [raw.basic_auth, 'password', 'graphs.basic_auth.password'],
  ]
}

/** compileGraphs turns `graphs:` into GraphsConfig, adding an error for what only shows together. */
export function compileGraphs(
  raw: RawGraphs,
  routes: readonly { name?: string; graphs?: boolean }[],
  severities: SeverityScheme,
  errors: string[],
): GraphsConfig {
  if (raw.basic_auth && !raw.basic_auth.password) errors.push('graphs.basic_auth.password: is required (or password_file)')
  if (raw.basic_auth && raw.bearer_token) errors.push('graphs.bearer_token: set basic_auth or bearer_token, not both')
  const auth: PrometheusAuthConfig | undefined = raw.bearer_token
    ? { bearerToken: raw.bearer_token }
    : raw.basic_auth?.password
      ? { username: raw.basic_auth.username, password: raw.basic_auth.password }
      : undefined
  return {
    enabled: raw.enabled,
    ...(raw.prometheus_url ? { prometheusUrl: raw.prometheus_url.replace(/\/+$/, '') } : {}),
    ...(auth ? { auth } : {}),
    hostMap: new Map(Object.entries(raw.host_map).map(([host, url]) => [host.toLowerCase(), url.replace(/\/+$/, '')])),
    severities: new Set(raw.severities.map((s) => levelOf(s, severities))),
    windowMs: parseDuration(raw.window)!,
    width: raw.width,
    height: raw.height,
    maxSeries: raw.max_series,
    timeoutMs: parseDuration(raw.timeout)!,
    onResolve: raw.on_resolve,
    // named as compileRouting names them, so an alert's route finds its choice
    routeGraphs: new Map(routes.flatMap((r, i) => (r.graphs === undefined ? [] : [[r.name ?? `routes[${i}]`, r.graphs] as const]))),
  }
}

/** graphTargetPoints: points per series a picture of this width asks for (the query step follows from it). */
export function graphTargetPoints(width: number): number {
  return Math.round(width / 3)
}

/** graphOptions: what graphForAlert reads (core/graph.ts): the graphs: section with the severities and routing it filters by. */
export function graphOptions(graphs: GraphsConfig, severityScheme: SeverityScheme, routing: Routing): GraphOptions {
  return {
    enabled: graphs.enabled,
    ...(graphs.prometheusUrl ? { prometheusUrl: graphs.prometheusUrl } : {}),
    hostMap: graphs.hostMap,
    severities: graphs.severities,
    severityScheme,
    routeGraphs: graphs.routeGraphs,
    routing,
    windowMs: graphs.windowMs,
    onResolve: graphs.onResolve,
    // about a point per three pixels: finer than a phone shows, and drawing cost grows with points (bench graph)
    targetPoints: graphTargetPoints(graphs.width),
  }
}

/** graphLimits: makeGraph's bounds: size, series, the whole graph's deadline. */
export function graphLimits(graphs: GraphsConfig): GraphLimits {
  return { width: graphs.width, height: graphs.height, maxSeries: graphs.maxSeries, timeoutMs: graphs.timeoutMs }
}
