/**
 * The YAML config as a TypeBox schema: defaults live here, and every leaf that has a textual form
 * says what it expects (`expected`), so a validation error can tell the operator what to write.
 * config/alertwire.example.yaml documents every key below.
 */
import Type from 'typebox'
import { DURATION_PATTERN, POSITIVE_DURATION_PATTERN, SIZE_PATTERN } from '../core/duration.js'
import { DEFAULT_HIDDEN_ANNOTATIONS, DEFAULT_HIDDEN_LABELS } from '../core/labels.js'
import { DEFAULT_HEARTBEATS, DEFAULT_LEVELS } from '../core/severity.js'
import { DashboardsSchema } from './dashboards.js'
import { EscalationSchema, RouteEscalationSchema } from './escalation.js'
import { GraphsSchema } from './graphs.js'
import { PeopleSchema, RotasSchema } from './oncall.js'
import { HOST_PORT_PATTERN, HTTP_URL_PATTERN } from './patterns.js'
import { SILENCE_WATCH_KEYS } from './silence-watch.js'

const Duration = (fallback: string) => Type.String({ pattern: DURATION_PATTERN, expected: 'a duration like "1m"', default: fallback })

/** PositiveDuration: a timeout, an interval or a lifetime, where 0 would make every request fail or a loop spin. */
const PositiveDuration = (fallback: string) =>
  Type.String({ pattern: POSITIVE_DURATION_PATTERN, expected: `a duration above 0, like "${fallback}"`, default: fallback })

const Size = (fallback: string) => Type.String({ pattern: SIZE_PATTERN, expected: 'a size like "10MiB"', default: fallback })

const RATE_PATTERN = `^[0-9]+/${DURATION_PATTERN.slice(1)}`
const Rate = (fallback: string) => Type.String({ pattern: RATE_PATTERN, expected: 'a rate like "20/1m" (messages per duration)', default: fallback })

const Secret = Type.Optional(Type.String())

const HostPorts = (expected: string) =>
  Type.Array(Type.String({ pattern: HOST_PORT_PATTERN, expected: 'host:port (port 1–65535), like redis-1:6379' }), { minItems: 1, expected })

// checked after *_file secrets are read (src/config/proxy.ts), so an error never repeats the credentials in it
const ProxyUrl = Type.Optional(Type.String({ minLength: 1 }))

/** ThrottleSchema: a route's own pace in a chat; what waits meanwhile is folded into digests. */
const ThrottleSchema = Type.Object(
  {
    messages: Type.Integer({ minimum: 1, expected: 'a number of messages (at least 1)' }),
    per: Type.String({ pattern: DURATION_PATTERN, expected: 'a duration like "1m"' }),
  },
  { additionalProperties: false },
)

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']

/** MuteWindowSchema: hours during which chosen severities are held or delivered silently. */
export const MuteWindowSchema = Type.Object(
  {
    severities: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, expected: 'a list of severities like [warning, info]' }),
    times: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$', expected: 'a time range like "22:00-07:00"' }),
    days: Type.Optional(Type.Array(Type.Enum(DAY_NAMES, { expected: `one of ${DAY_NAMES.join(', ')}` }), { minItems: 1 })),
    action: Type.Enum(['silent', 'hold'], { default: 'silent', expected: 'silent (deliver without sound) or hold (deliver when the window ends)' }),
    time_zone: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)

const Policies = {
  repeat_interval: Type.Optional(Type.String({ pattern: `${DURATION_PATTERN}|^0$`, expected: 'a duration like "4h" (0: never repeat)' })),
  throttle: Type.Optional(ThrottleSchema),
  mute_windows: Type.Optional(Type.Array(MuteWindowSchema)),
}

/** ChatIdSchema: a numeric chat id (negative for groups) or a public "@username". */
export const ChatIdSchema = Type.Union([Type.Integer(), Type.String({ pattern: '^(-?[0-9]+|@[A-Za-z0-9_]{4,32})$' })], {
  expected: 'a chat id like -1001234567890 or "@channel"',
})

const ThreadId = Type.Integer({ minimum: 1, expected: 'a forum topic id (a positive integer)' })

/** ChatTargetSchema: one chat, optionally a forum topic in it, optionally its pace class. */
export const ChatTargetSchema = Type.Object(
  {
    chat_id: ChatIdSchema,
    thread_id: Type.Optional(ThreadId),
    kind: Type.Optional(Type.Enum(['private', 'group'], { expected: '"private" or "group"' })),
    pace: Type.Optional(Type.String({ pattern: `^[0-9]+/${DURATION_PATTERN.slice(1)}`, expected: 'a rate like "20/1m" (messages per duration)' })),
  },
  { additionalProperties: false },
)

const Severities = Type.Array(Type.String({ minLength: 1 }), { expected: 'a list of severities like [info, warning]' })

/** RouteSchema: alerts whose labels match every matcher go to these chats. */
export const RouteSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    matchers: Type.Array(Type.String({ expected: 'a matcher like severity="critical"' }), { default: [] }),
    chats: Type.Optional(Type.Array(ChatTargetSchema, { minItems: 1 })),
    silent_severities: Type.Optional(Severities),
    ...Policies,
    /** graphs: true|false overrides graphs.severities for this route's alerts */
    graphs: Type.Optional(Type.Boolean({ expected: 'true or false' })),
    /** escalation: <policy> (or none) overrides routing.escalation for this route's alerts */
    escalation: RouteEscalationSchema,
    continue: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
)

const BasicAuthSchema = Type.Object({ username: Type.String({ minLength: 1 }), password: Secret, password_file: Secret }, { additionalProperties: false })

const SeveritySchema = Type.Object(
  {
    marker: Type.String({ minLength: 1 }),
    rank: Type.Integer({ minimum: 0 }),
    aliases: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { expected: 'a list of other ways to write this severity, like [crit, P1]' })),
  },
  { additionalProperties: false },
)

/** HideRuleSchema: a label name (or glob) to hide, or names hidden only for alerts that match `when`. */
const HideRuleSchema = Type.Union(
  [
    Type.String({ minLength: 1 }),
    Type.Object(
      { labels: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }), when: Type.Optional(Type.Array(Type.String())) },
      { additionalProperties: false },
    ),
  ],
  { expected: 'a label name like "endpoint", or {labels: [instance, job], when: [\'job="kube-state-metrics"\']}' },
)

/** ConfigSchema: the whole alertwire.yaml. */
export const ConfigSchema = Type.Object(
  {
    data_dir: Type.String({ minLength: 1, default: 'data' }),
    server: Type.Object(
      {
        host: Type.String({ minLength: 1, default: '0.0.0.0' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, expected: 'a TCP port (0-65535)' }),
        body_limit: Size('10MiB'),
        shutdown_timeout: Duration('10s'),
      },
      { additionalProperties: false, default: {} },
    ),
    webhook: Type.Object(
      {
        bearer_token: Secret,
        bearer_token_file: Secret,
        basic_auth: Type.Optional(BasicAuthSchema),
        allow_unauthenticated: Type.Boolean({ default: false }),
        store_timeout: PositiveDuration('1500ms'),
      },
      { additionalProperties: false, default: {} },
    ),
    redis: Type.Object(
      {
        // checked in parse.ts (redisErrors), so an error never repeats the password a URL carries
        url: Type.Optional(Type.String({ minLength: 1, expected: 'a URL like redis://127.0.0.1:6379/0' })),
        sentinels: Type.Optional(HostPorts('a list of sentinels like [sentinel-1:26379, sentinel-2:26379]')),
        sentinel_name: Type.Optional(Type.String({ minLength: 1, expected: 'the name Sentinel monitors the primary under, like mymaster' })),
        cluster_nodes: Type.Optional(HostPorts('a list of cluster nodes like [redis-1:6379, redis-2:6379]')),
        password: Secret,
        password_file: Secret,
        sentinel_password: Secret,
        sentinel_password_file: Secret,
        min_replicas_acked: Type.Integer({ minimum: 0, maximum: 100, default: 0, expected: 'a number of replicas (0: the primary alone)' }),
        // braces are allowed: a Cluster hash tag the operator chose, like {alertwire}
        prefix: Type.String({ pattern: '^[A-Za-z0-9_.:{}-]+$', default: 'alertwire', expected: 'letters, digits and _.:-{}' }),
        embedded_command: Type.String({ minLength: 1, default: 'redis-server' }),
      },
      { additionalProperties: false, default: {} },
    ),
    telegram: Type.Object(
      {
        bot_token: Secret,
        bot_token_file: Secret,
        api_url: Type.String({
          pattern: HTTP_URL_PATTERN,
          default: 'https://api.telegram.org',
          expected: 'an http(s) URL like https://api.telegram.org (port 1–65535)',
        }),
        chat_id: Type.Optional(ChatIdSchema),
        thread_id: Type.Optional(ThreadId),
        request_timeout: PositiveDuration('10s'),
        proxy_url: ProxyUrl,
        proxy_url_file: Secret,
        dry_run_view: Type.Enum(['auto', 'always', 'never'], {
          default: 'auto',
          expected: 'auto (on stderr when it is a terminal), always or never',
        }),
        admins: Type.Array(Type.Integer({ expected: 'a Telegram user id (a number)' }), { default: [] }),
        chat_admins: Type.Record(Type.String({ pattern: '^-?[0-9]+$' }), Type.Array(Type.Integer({ expected: 'a Telegram user id (a number)' })), {
          default: {},
        }),
        chat_administrators: Type.Boolean({ default: false }),
        updates: Type.Enum(['polling', 'webhook', 'off'], { default: 'polling', expected: 'polling, webhook or off' }),
        webhook_url: Type.Optional(Type.String({ pattern: HTTP_URL_PATTERN, expected: 'an https URL Telegram can reach' })),
        webhook_secret: Secret,
        webhook_secret_file: Secret,
        webhook_path: Type.String({ pattern: '^/[A-Za-z0-9/_-]*$', default: '/telegram/updates', expected: 'a URL path like /telegram/updates' }),
        pace: Type.Object(
          {
            private: Rate('1/1s'),
            group: Rate('20/1m'),
            global: Rate('30/1s'),
            headroom: Type.Number({ minimum: 0, maximum: 1, default: 0.05, expected: 'a fraction like 0.05' }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    alertmanager: Type.Object(
      {
        url: Type.String({
          pattern: HTTP_URL_PATTERN,
          default: 'http://127.0.0.1:9093',
          expected: 'an http(s) URL like http://alertmanager:9093 (port 1–65535)',
        }),
        basic_auth: Type.Optional(BasicAuthSchema),
        bearer_token: Secret,
        bearer_token_file: Secret,
        timeout: PositiveDuration('5s'),
        proxy_url: ProxyUrl,
        proxy_url_file: Secret,
      },
      { additionalProperties: false, default: {} },
    ),
    routing: Type.Object(
      {
        silent_severities: Type.Array(Type.String({ minLength: 1 }), { default: ['info'] }),
        repeat_interval: Type.String({ pattern: `${DURATION_PATTERN}|^0$`, default: '4h', expected: 'a duration like "4h" (0: never repeat)' }),
        throttle: Type.Optional(ThrottleSchema),
        mute_windows: Type.Array(MuteWindowSchema, { default: [] }),
        routes: Type.Array(RouteSchema, { default: [] }),
        escalation: RouteEscalationSchema,
      },
      { additionalProperties: false, default: {} },
    ),
    messages: Type.Object(
      {
        resolved: Type.Enum(['both', 'edit', 'reply'], { default: 'both', expected: 'one of both, edit, reply' }),
        resolved_unannounced: Type.Boolean({ default: false }),
        hide_labels: Type.Array(HideRuleSchema, { default: structuredClone(DEFAULT_HIDDEN_LABELS) }),
        hide_annotations: Type.Array(Type.String({ minLength: 1 }), { default: [...DEFAULT_HIDDEN_ANNOTATIONS] }),
        time_zone: Type.String({ default: 'UTC' }),
        severities: Type.Record(Type.String({ minLength: 1 }), SeveritySchema, { default: structuredClone(DEFAULT_LEVELS) }),
        severity_aliases: Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
          default: {},
          expected: 'a mapping of values to severity levels, like {sev-a: critical}',
        }),
        heartbeats: Type.Array(Type.String({ minLength: 1 }), { default: [...DEFAULT_HEARTBEATS] }),
        templates: Type.Object(
          {
            header: Type.Optional(Type.String()),
            alert: Type.Optional(Type.String()),
            footer: Type.Optional(Type.String()),
            resolved_reply: Type.Optional(Type.String()),
            repeat_reply: Type.Optional(Type.String()),
            digest_header: Type.Optional(Type.String()),
            digest_alert: Type.Optional(Type.String()),
            digest_footer: Type.Optional(Type.String()),
            silence_note: Type.Optional(Type.String()),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    silences: Type.Object(
      {
        durations: Type.Array(Type.String({ pattern: DURATION_PATTERN, expected: 'a duration like "1h"' }), {
          default: ['1h', '4h', '24h'],
          minItems: 1,
          maxItems: 5,
        }),
        match_labels: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
        ack_max: PositiveDuration('7d'),
        ack_check_interval: PositiveDuration('15s'),
        comment: Type.String({ default: 'from Telegram' }),
        buttons: Type.Boolean({ default: true }),
        ...SILENCE_WATCH_KEYS,
      },
      { additionalProperties: false, default: {} },
    ),
    mute: Type.Object(
      {
        critical: Type.Enum(['silent', 'loud', 'hold'], { default: 'silent', expected: 'silent, loud or hold' }),
      },
      { additionalProperties: false, default: {} },
    ),
    storms: Type.Object(
      {
        max_delay: Duration('30s'),
        digest_max_alerts: Type.Integer({ minimum: 10, maximum: 10_000, default: 1000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    flapping: Type.Object(
      {
        window: Duration('10m'),
        threshold: Type.Integer({ minimum: 0, default: 3, expected: 'a number of firings (0: never fold)' }),
      },
      { additionalProperties: false, default: {} },
    ),
    delivery: Type.Object(
      {
        concurrency: Type.Integer({ minimum: 1, maximum: 256, default: 8 }),
        retry_initial: PositiveDuration('1s'),
        retry_max: PositiveDuration('5m'),
        give_up_after: PositiveDuration('24h'),
        catch_up_after: Duration('15m'),
        state_ttl: PositiveDuration('30d'),
      },
      { additionalProperties: false, default: {} },
    ),
    dashboards: DashboardsSchema,
    graphs: GraphsSchema,
    escalation: EscalationSchema,
    people: PeopleSchema,
    rotas: RotasSchema,
    log: Type.Object(
      {
        level: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
          default: 'info',
          expected: 'one of fatal, error, warn, info, debug, trace, silent',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
)

/** RawConfig is the YAML after defaults and validation, before compilation. */
export type RawConfig = Type.Static<typeof ConfigSchema>
export type RawRoute = Type.Static<typeof RouteSchema>
export type RawChatTarget = Type.Static<typeof ChatTargetSchema>
