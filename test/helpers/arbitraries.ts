/**
 * fast-check generators for fuzzing the webhook receiver: hostile text, malformed requests made by
 * mutating a valid Alertmanager notification, raw byte bodies, and valid-but-hostile notifications
 * (shaped as Alertmanager, older senders or Grafana alerting send them) that alertwire must accept
 * and deliver. Pure: nothing here talks to the app.
 */
import fc from 'fast-check'
import { webhook, WEBHOOK_TOKEN } from './app.js'

/** BODY_LIMIT: the server.body_limit the fuzz app runs with (256KiB keeps oversized bodies cheap to make). */
export const BODY_LIMIT = 256 * 1024

/** AUTH: the header a well-behaved Alertmanager sends. */
export const AUTH = `Bearer ${WEBHOOK_TOKEN}`

type Json = null | boolean | number | string | Json[] | { [key: string]: Json } | RawJson

/** RawJson: JSON text spliced in verbatim, for what JSON.stringify cannot make (deep nesting, duplicate keys, lone-surrogate escapes). */
export class RawJson {
  constructor(
    readonly text: string,
    readonly note = 'raw JSON',
  ) {}
}

/** describeValue names a value for a failure report without printing 100 KB of it. */
function describeValue(value: Json): string {
  if (value instanceof RawJson) return value.note
  const text = JSON.stringify(value) ?? 'undefined'
  return printable(text.length > 40 ? `${typeof value} of ${text.length} chars` : text)
}

/** serialize writes a tree to JSON text, splicing RawJson nodes in as they are. */
export function serialize(value: unknown): string {
  const raws: string[] = []
  const text = JSON.stringify(value, (_key, v: unknown) => (v instanceof RawJson ? `\u0000raw${raws.push(v.text) - 1}\u0000` : v))
  return (text ?? 'null').replace(/"\\u0000raw(\d+)\\u0000"/g, (_, i: string) => raws[Number(i)]!)
}

/** printable escapes all but printable ASCII: a report must not carry what breaks TAP's YAML (U+2028, NEL, lone surrogates). */
export function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** abbreviate writes a value for a failure report, shortening long strings (a counterexample with 100 KB strings is unreadable). */
export function abbreviate(value: unknown, max = 2000): string {
  const text = serialize(
    JSON.parse(serialize(value), (_key, v: unknown) => (typeof v === 'string' && v.length > 120 ? `${v.slice(0, 60)}...(${v.length} chars)` : v)),
  )
  return printable(text.length > max ? `${text.slice(0, max)}...(${text.length} chars)` : text)
}

/** described gives a generated value a short description in fast-check's counterexample reports. */
export function described<T extends object>(value: T, describe: (value: T) => string): T {
  return Object.assign(value, { [fc.toStringMethod]: () => describe(value) })
}

/* ------------------------------------------------------------------------------------------ */
/* Hostile text                                                                                */
/* ------------------------------------------------------------------------------------------ */

const CONTROL = [...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)), '\u007f', '\u0085', '\u009b']
const INVISIBLE = [
  '\u2028',
  '\u2029',
  '\u200b',
  '\u200c',
  '\u200d',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\ufeff',
  '\ufffd',
  '\ufffe',
  '\uffff',
  '\u00ad',
  '\u034f',
]
const EMOJI = ['🔥', '🔴', '✅', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇺🇦', '👍🏽', '1️⃣', '𝕏', '𠜎', '😀', 'e\u0301', 'Z̤͔ͧ̑̓ä͖̭̈̇l͖͎g̞̥͈͖o', 'ﬃ', 'ß', 'İ', 'ǅ', '\u{10ffff}', '\u{e0041}']
// Lone and reversed surrogates: valid in a JS string and in JSON (as \u escapes), never valid UTF-8
const SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', '\udc00\ud800', 'x\ud83d', '\ude00y']
// Telegram HTML and MarkdownV2 metacharacters, entities Telegram refuses, tags it does not know
const MARKUP = [
  '<',
  '>',
  '&',
  '"',
  "'",
  '&amp;',
  '&lt;',
  '&quot;',
  '&nbsp;',
  '&#0;',
  '&#x110000;',
  '&#xd800;',
  '&#128512;',
  '&bogus;',
  '&&;',
  '&;',
  '<b>',
  '</b>',
  '<i>',
  '<a href="javascript:alert(1)">x</a>',
  '<a href="http://a.b/">',
  '<script>alert(1)</script>',
  '<tg-spoiler>',
  '<span class="tg-spoiler">',
  '<pre><code class="language-x">',
  '<blockquote expandable>',
  '<!--',
  '-->',
  ']]>',
  '<br/>',
  '</code>',
  '_',
  '*',
  '[',
  ']',
  '(',
  ')',
  '~',
  '`',
  '#',
  '+',
  '-',
  '=',
  '|',
  '{',
  '}',
  '.',
  '!',
  '\\',
  '```',
  '||',
  '__',
  '[x](http://a.b)',
  '{{x}}',
  '{{{x}}}',
  '{{#each x}}',
  '${x}',
  '%s',
  '%n',
  '\r\n',
  '\t',
  '/',
  '..',
  'tg://user?id=1',
  'mailto:a@b.c',
  '@channel',
  '/start',
]

/** piece: one hostile fragment (a known troublemaker, or random code points). */
const piece: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...MARKUP) },
  { weight: 2, arbitrary: fc.constantFrom(...CONTROL) },
  { weight: 2, arbitrary: fc.constantFrom(...INVISIBLE) },
  { weight: 3, arbitrary: fc.constantFrom(...EMOJI) },
  { weight: 1, arbitrary: fc.constantFrom(...SURROGATES) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 10 }) },
)

/** hostileText: a short string made of hostile fragments (at most a few hundred UTF-16 units). */
export const hostileText = (maxPieces = 24): fc.Arbitrary<string> => fc.array(piece, { maxLength: maxPieces }).map((parts) => parts.join(''))

/** HUGE_UNITS: characters huge strings are made of, each cheap to JSON-encode (so 100 KB+ fits the body limit). */
const HUGE_UNITS = ['x', '<', '&', '"', '🔥', 'é', '\u202e', '&amp;', '<b>', '1', ' ']

/** hugeText: one string of 100 KB+ (in UTF-8 JSON) made of one repeated hostile unit. */
export const hugeText: fc.Arbitrary<string> = fc.tuple(fc.constantFrom(...HUGE_UNITS), fc.integer({ min: 100_000, max: 120_000 })).map(([unit, bytes]) => {
  const size = Buffer.byteLength(JSON.stringify(unit), 'utf8') - 2
  return unit.repeat(Math.ceil(bytes / size))
})

/** HOSTS: URL hosts Telegram may refuse to link (no dot, odd characters, IDN, IP literals, bad ports). */
const HOSTS = [
  'example.com',
  'a.b',
  'prometheus:9090',
  'localhost',
  '127.0.0.1',
  '[::1]',
  '[::1]:9090',
  'xn--80ak6aa92e.com',
  'пример.рф',
  'a!b.com',
  'a_b.com',
  'a..b',
  '.a.com',
  'a.com.',
  'user:p@ss@a.com',
  'a.com:0',
  'a.com:65535',
  'a$b.com',
  "a'b.com",
  'a*b.com',
  'a(b).com',
  'a~b.com',
  'a+b.com',
  'a,b.com',
  'a;b.com',
  'a=b.com',
  'a&b.com',
  'A.COM',
  '1.2.3',
  '0x7f.1',
  '%41.com',
]
const SCHEMES = ['http://', 'https://', 'HTTP://', 'javascript:', 'tg://', 'mailto:', 'ftp://', 'data:text/html,', '//', '', 'http:/', 'http:///']

/** hostileUrl: something in a URL field: maybe a URL, with hostile hosts, paths, and sometimes 30 KB+ of path. */
export const hostileUrl: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(...SCHEMES), fc.constantFrom(...HOSTS), fc.constantFrom('/', '/graph?g0.expr=', '?', '#', ''), hostileText(8))
      .map((p) => p.join('')),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('http://a.example.com/', 'https://b.example.org/?q='),
        fc.integer({ min: 30_000, max: 45_000 }),
        fc.constantFrom('x', '&', '"', '%22', '<'),
      )
      .map(([prefix, n, c]) => prefix + c.repeat(n / c.length)),
  },
  { weight: 2, arbitrary: hostileText(8) },
)

/** oddName: a label or annotation name Prometheus would never produce (prototype names included, but not __proto__, which the JSON parser refuses by design). */
export const oddName: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 3, arbitrary: hostileText(6) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        ' ',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        'valueOf',
        '__defineGetter__',
        'alertname ',
        'ALERTNAME',
        'severity\u0000',
        '0',
        '-1',
        '1e3',
        'a.b',
        'a/b',
        'a:b',
        'runbook_url',
        'dashboard',
        'grafana_url',
      ),
    },
  )
  .filter((name) => name !== '__proto__')

/* ------------------------------------------------------------------------------------------ */
/* Valid-but-hostile notifications                                                             */
/* ------------------------------------------------------------------------------------------ */

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** dateTime: an RFC 3339 date-time the schema accepts, in the forms it allows (t/z in any case, space, offsets, leap second, long fractions). */
export const dateTime: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record({
        y: fc.integer({ min: 0, max: 9999 }),
        mo: fc.integer({ min: 1, max: 12 }),
        d: fc.integer({ min: 1, max: 28 }),
        h: fc.integer({ min: 0, max: 23 }),
        mi: fc.integer({ min: 0, max: 59 }),
        s: fc.integer({ min: 0, max: 59 }),
        frac: fc.option(fc.stringMatching(/^[0-9]{1,20}$/), { nil: undefined }),
        sep: fc.constantFrom('T', 't', ' '),
        zone: fc.constantFrom('Z', 'z', '+00:00', '-00:00', '+14:00', '-12:00', '+05:30', '-23:59', '+0100'),
      })
      .map((p) => `${pad(p.y, 4)}-${pad(p.mo)}-${pad(p.d)}${p.sep}${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}${p.frac ? `.${p.frac}` : ''}${p.zone}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '2016-12-31T23:59:60Z',
      '2024-02-29T00:00:00Z',
      '0000-01-01T00:00:00Z',
      '0001-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999999999Z',
    ),
  },
)

/** labels: a label set; `lots` makes thousands of them. */
const labelSet = (lots: boolean): fc.Arbitrary<Record<string, string>> =>
  lots
    ? fc.integer({ min: 1000, max: 2000 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}${'\u202e🔥'.repeat(i % 3)}`, `<${i}&>`])))
    : fc.array(fc.tuple(oddName, hostileText()), { maxLength: 8 }).map((entries) => Object.fromEntries(entries))

const SEVERITIES = ['critical', 'error', 'warning', 'info', 'none', '', 'CRITICAL', 'constructor', 'toString', '__proto__', 'hasOwnProperty']

/** GrafanaBits: what Grafana alerting adds to each alert (webhook version "1"). */
export interface GrafanaBits {
  silenceURL?: string
  dashboardURL?: string
  panelURL?: string
  imageURL?: string
  values?: Record<string, number | null>
  valueString?: string
}

/** HostileAlert: an alert before alertwire-visible identity (fingerprint, alertname marker, startsAt) is filled in at send time. */
export interface HostileAlert {
  alertname: string
  severity?: string
  labels: Record<string, string>
  annotations?: Record<string, string>
  generatorURL?: string
  endsAt?: string
  /** sent only when the case is shaped as Grafana's */
  grafana?: GrafanaBits
}

/** grafanaBits: Grafana's per-alert links (hostile URLs, or the empty strings Grafana sends) and values by refId. */
const grafanaBits: fc.Arbitrary<GrafanaBits> = fc.record(
  {
    silenceURL: fc.oneof(hostileUrl, fc.constant('')),
    dashboardURL: fc.oneof(hostileUrl, fc.constant('')),
    panelURL: fc.oneof(hostileUrl, fc.constant('')),
    imageURL: hostileUrl,
    values: fc.dictionary(oddName, fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null)), { maxKeys: 4 }),
    valueString: hostileText(12),
  },
  { requiredKeys: [] },
)

const hostileAlert = (lots: boolean): fc.Arbitrary<HostileAlert> =>
  fc.record(
    {
      alertname: hostileText(8),
      severity: fc.option(fc.oneof(fc.constantFrom(...SEVERITIES), hostileText(8)), { nil: undefined }),
      labels: labelSet(lots),
      annotations: fc.option(
        fc
          .record(
            {
              summary: hostileText(),
              description: hostileText(40),
              runbook_url: hostileUrl,
              extra: fc.array(
                fc.tuple(
                  fc.oneof(
                    oddName,
                    oddName.map((n) => `${n}_url`),
                  ),
                  fc.oneof(hostileText(), hostileUrl),
                ),
                { maxLength: 6 },
              ),
            },
            { requiredKeys: [] },
          )
          .map(({ extra, ...known }) => ({ ...Object.fromEntries(extra ?? []), ...known })),
        { nil: undefined },
      ),
      generatorURL: fc.option(hostileUrl, { nil: undefined }),
      endsAt: fc.option(fc.oneof(fc.constant('0001-01-01T00:00:00Z'), dateTime, hostileText(6)), { nil: undefined }),
      grafana: grafanaBits,
    },
    { requiredKeys: ['alertname', 'labels'] },
  )

/** tinyAlert: a small hostile alert, for notifications with thousands of alerts. */
const tinyAlert: fc.Arbitrary<HostileAlert> = fc.record({ alertname: fc.constantFrom('', '<b>', '🔥', '\u202e', '&'), labels: fc.constant({ i: '<&>' }) })

/** HUGE_TARGETS: where a hostile notification may carry its one 100 KB+ value. */
const HUGE_TARGETS = [
  'label',
  'labelName',
  'alertname',
  'description',
  'summary',
  'severity',
  'receiver',
  'groupKey',
  'externalURL',
  'generatorURL',
  'endsAt',
  'commonLabel',
  'extra',
] as const

/**
 * Shape: who sends a case. 'alertmanager': as Alertmanager does; 'older': what older Alertmanagers,
 * relays and hand-made bodies send (no fingerprint, no status, the version a number or missing,
 * label values that are numbers); 'grafana': Grafana alerting (version "1", orgId, links and values).
 */
export type Shape = 'alertmanager' | 'older' | 'grafana'

/** HostileCase: one valid notification's content plus what happens to it later (flapping, resolving). */
export interface HostileCase {
  shape: Shape
  alerts: HostileAlert[]
  receiver: string
  version: string
  groupKey: string
  externalURL?: string
  truncatedAlerts?: number
  groupLabels?: Record<string, string>
  commonLabels?: Record<string, string>
  commonAnnotations?: Record<string, string>
  /** unknown properties newer Alertmanagers might add (kept shallow: deep nesting is fuzzed separately) */
  extra: Record<string, unknown>
  huge?: { target: (typeof HUGE_TARGETS)[number]; value: string }
  /** distinct startsAt values: [0] for the first firing, then one per flap */
  startsAt: string[]
  /** how many times the same alerts fire again with a new startsAt (3 firings make an alert flap) */
  flaps: number
  /** whether the alerts resolve at the end */
  resolve: boolean
}

/** safeJson: any shallow JSON the parser accepts (keys that look like prototype pollution are refused by design, so not here). */
const safeJson = fc.jsonValue({ maxDepth: 4 }).filter((v) => !/"(__proto__|constructor)"/.test(JSON.stringify(v)))

const TRUNCATED = fc.oneof(fc.constant(0), fc.nat(1000), fc.constantFrom(Number.MAX_SAFE_INTEGER, 1e21, 1e300))

/** hostileCase: a well-formed notification whose values are hostile; alertwire must accept it and deliver it. */
export const hostileCase: fc.Arbitrary<HostileCase> = fc
  .oneof(
    // one case in thirty has thousands of labels, one in thirty thousands of alerts: enough to cover them, few enough to drain fast
    { weight: 28, arbitrary: fc.tuple(fc.array(hostileAlert(false), { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 3 })) },
    { weight: 1, arbitrary: fc.tuple(fc.array(hostileAlert(true), { minLength: 1, maxLength: 2 }), fc.constant(0)) },
    { weight: 1, arbitrary: fc.tuple(fc.array(tinyAlert, { minLength: 1000, maxLength: 1200 }), fc.constant(0)) },
  )
  .chain(([alerts, flaps]) =>
    fc.record(
      {
        shape: fc.constantFrom<Shape>('alertmanager', 'alertmanager', 'alertmanager', 'older', 'grafana'),
        alerts: fc.constant(alerts),
        receiver: hostileText(8),
        version: fc.oneof(fc.constant('4'), hostileText(4)),
        groupKey: hostileText(12),
        externalURL: fc.option(hostileUrl, { nil: undefined }),
        truncatedAlerts: fc.option(TRUNCATED, { nil: undefined }),
        groupLabels: fc.option(labelSet(false), { nil: undefined }),
        commonLabels: fc.option(labelSet(false), { nil: undefined }),
        commonAnnotations: fc.option(labelSet(false), { nil: undefined }),
        extra: fc.dictionary(oddName, safeJson, { maxKeys: 3 }),
        // one case in nine carries a 100 KB+ value: enough to hit every target, few enough to stay fast
        huge: fc.oneof(
          { weight: 8, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.record({ target: fc.constantFrom(...HUGE_TARGETS), value: hugeText }) },
        ),
        startsAt: fc.uniqueArray(dateTime, { minLength: flaps + 1, maxLength: flaps + 1 }),
        flaps: fc.constant(flaps),
        resolve: fc.boolean(),
      },
      { requiredKeys: ['shape', 'alerts', 'receiver', 'version', 'groupKey', 'extra', 'startsAt', 'flaps', 'resolve'] },
    ),
  )
  .map((c) => described(c, (value) => abbreviate(value)))
  // a valid notification must fit the body limit (the 413 path is fuzzed with malformed requests)
  .filter(
    (c) =>
      Math.max(
        ...(['firing', 'resolved'] as const).map((kind) =>
          Buffer.byteLength(serialize(buildHostile(c, 999_999, '⟦fz999999.9⟧', { kind, index: c.flaps })), 'utf8'),
        ),
      ) <
      BODY_LIMIT - 1024,
  )

/** Phase: which notification of a case to build: its first firing (index 0), its k-th flap (index k), or its resolve. */
export type Phase = { kind: 'firing'; index: number } | { kind: 'resolved'; index: number }

/**
 * buildHostile makes the notification a case sends in a phase. `marker` leads every alertname so the
 * test can find the message in the fake Telegram; fingerprints are unique per case so nothing is a
 * duplicate of another case.
 */
export function buildHostile(c: HostileCase, caseId: number, marker: string, phase: Phase): Record<string, unknown> {
  const huge = (target: (typeof HUGE_TARGETS)[number], fallback: string | undefined) => (c.huge?.target === target ? c.huge.value : fallback)
  const status = phase.kind
  // an older sender leaves status and fingerprint out: alertwire derives the status from endsAt (passed: resolved)
  const older = c.shape === 'older'
  const alerts = c.alerts.map((a, i) => {
    const labels: Record<string, unknown> = { ...a.labels, alertname: `${marker}${huge('alertname', a.alertname)}` }
    const severity = huge('severity', a.severity)
    if (severity !== undefined) labels.severity = severity
    if (i === 0 && c.huge?.target === 'label') labels.huge = c.huge.value
    if (i === 0 && c.huge?.target === 'labelName') labels[c.huge.value] = 'v'
    if (older) Object.assign(labels, { port: 9100, up: true })
    const annotations = a.annotations && {
      ...a.annotations,
      ...(i === 0 && c.huge?.target === 'description' ? { description: c.huge.value } : {}),
      ...(i === 0 && c.huge?.target === 'summary' ? { summary: c.huge.value } : {}),
    }
    const endsAt =
      status === 'resolved' ? (older ? '2001-01-01T00:00:00Z' : (huge('endsAt', a.endsAt) ?? '2030-01-01T00:00:00Z')) : older ? undefined : a.endsAt
    return {
      ...(older ? {} : { status }),
      labels,
      ...(annotations ? { annotations } : {}),
      startsAt: c.startsAt[phase.index]!,
      ...(endsAt !== undefined ? { endsAt } : {}),
      ...(huge('generatorURL', a.generatorURL) !== undefined ? { generatorURL: huge('generatorURL', a.generatorURL) } : {}),
      ...(older ? {} : { fingerprint: `fz${caseId}_${i}` }),
      ...(c.shape === 'grafana' ? a.grafana : {}),
    }
  })
  return {
    ...c.extra,
    ...(c.huge?.target === 'extra' ? { extraHuge: c.huge.value } : {}),
    receiver: huge('receiver', c.receiver),
    ...(older ? {} : { status }),
    alerts,
    ...(c.groupLabels ? { groupLabels: c.groupLabels } : {}),
    ...(c.commonLabels || c.huge?.target === 'commonLabel'
      ? { commonLabels: { ...c.commonLabels, ...(c.huge?.target === 'commonLabel' ? { big: c.huge.value } : {}) } }
      : {}),
    ...(c.commonAnnotations ? { commonAnnotations: c.commonAnnotations } : {}),
    ...(huge('externalURL', c.externalURL) !== undefined ? { externalURL: huge('externalURL', c.externalURL) } : {}),
    // older senders: the version as a number, or none at all
    version: c.shape === 'grafana' ? '1' : older ? (c.version === '4' ? 4 : undefined) : c.version,
    ...(c.shape === 'grafana' ? { orgId: 1, title: `[${status.toUpperCase()}] ${c.receiver}`, state: 'alerting', message: c.receiver } : {}),
    // unique per case and phase: alerts of different cases never share a message, nor do two firings of
    // one case still waiting together (a message with several alertnames names only the first three)
    groupKey: `${huge('groupKey', c.groupKey)}#${caseId}.${phase.kind}${phase.index}`,
    ...(c.truncatedAlerts !== undefined ? { truncatedAlerts: c.truncatedAlerts } : {}),
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Malformed requests                                                                          */
/* ------------------------------------------------------------------------------------------ */

/** FuzzRequest: one POST /alerts as the fuzzer sends it. */
export interface FuzzRequest {
  /** what was done to it, for failure messages */
  kind: string
  payload: string
  contentType?: string
  authorization?: string
}

const request = (kind: string, payload: string, over: Partial<FuzzRequest> = {}): FuzzRequest =>
  described({ kind, payload, contentType: 'application/json', authorization: AUTH, ...over }, (r) =>
    printable(
      `${r.kind} [content-type ${JSON.stringify(r.contentType)}, ${r.payload.length} chars] ${JSON.stringify(r.payload.length > 300 ? `${r.payload.slice(0, 150)}...${r.payload.slice(-150)}` : r.payload)}`,
    ),
  )

const validText = () => JSON.stringify(webhook())

/** wrongType: a value of some other JSON type than the field expects (or an awkward one of the same type). */
const wrongType: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, '', [], {}, [[]], { a: 1 }, ['firing'], {
    status: 'firing',
  }),
  fc.double().map((n) => (Number.isFinite(n) ? n : null)),
  fc.array(hostileText(4), { maxLength: 3 }),
  hostileText(8),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
)

/** deepJson: arrays or objects nested 1,000 to 60,000 deep (JSON.parse must not blow the stack, nor anything after it). */
const deepJson: fc.Arbitrary<RawJson> = fc.tuple(fc.integer({ min: 1_000, max: 60_000 }), fc.constantFrom('array', 'object', 'mixed')).map(([depth, shape]) => {
  const note = `${shape} nested ${depth} deep`
  if (shape === 'array') return new RawJson('['.repeat(depth) + ']'.repeat(depth), note)
  if (shape === 'object') return new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`, note)
  return new RawJson(`${'[{"a":'.repeat(depth / 2)}null${'}]'.repeat(depth / 2)}`, note)
})

/** RAW_LITERALS: JSON text JSON.stringify never writes. */
const RAW_LITERALS = [
  '1e400',
  '-1e400',
  '-0',
  '123456789012345678901234567890',
  '0.0000000000000000000000000001',
  '"\\ud800"',
  '"\\udfff\\ud800"',
  '"\\u0000"',
  '"a\\u0000b"',
  '"\\uFFFF"',
  '"\\/"',
  '"\\u2028\\u2029"',
  '"firing\\u0000"',
  '"\\u0066iring"',
  '[]',
  '{}',
  'null',
  'true',
  '""',
]

const NOT_DATES = [
  '',
  'yesterday',
  'now',
  'NaN',
  'Infinity',
  '0',
  '1700000000',
  '2026-13-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '2023-02-29T00:00:00Z',
  '2026-11-24',
  '2026-11-24T25:00:00Z',
  '2026-11-24T23:01:00',
  '2026-11-24T23:01:00.Z',
  '2026-11-24T23:01:00+25:00',
  '2026-11-24T23:61:00Z',
  '+002026-11-24T23:01:00Z',
  '２０２６-11-24T23:01:00Z',
  '2026-11-24T23:01:00Z\n',
  ' 2026-11-24T23:01:00Z',
  '2026-11-24T23:01:00Z\u0000',
  '2026/11/24 23:01',
  'Tue, 24 Nov 2026 23:01:00 GMT',
  '2026-11-24T23:59:61Z',
  '-2026-11-24T23:01:00Z',
  '2026-W48-2T23:01:00Z',
  '20261124T230100Z',
]
const NOT_STATUSES = [
  'FIRING',
  'Firing',
  ' firing',
  'firing\n',
  'firing\u0000',
  'pending',
  'inactive',
  'suppressed',
  'active',
  '',
  'resolved ',
  'ﬁring',
  'firing,resolved',
  'null',
  'true',
]
const NOT_FINGERPRINTS = [
  '',
  'a:b',
  'a/b',
  'a b',
  'a\nb',
  'ab\u0000',
  '*',
  'a{b}',
  '{',
  '٣',
  'a.b',
  'a|b',
  '../..',
  'x'.repeat(65),
  'é',
  '🔥',
  'a\u202eb',
  ':',
  'a\\b',
  '\ud800',
]

type Path = (string | number)[]

/** Mutation: one change at a path picked among the tree's nodes (pick is scaled to however many there are). */
type Mutation = { pick: number; op: Op }
type Op =
  | { kind: 'delete' }
  | { kind: 'set'; what: string; value: Json }
  | { kind: 'addKey'; name: string; value: Json }
  | { kind: 'duplicateKey'; value: Json; before: boolean }
  | { kind: 'pollute'; how: 'proto' | 'constructor' }

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'delete' as const }) },
  { weight: 6, arbitrary: wrongType.map((value) => ({ kind: 'set' as const, what: 'wrong type', value })) },
  { weight: 2, arbitrary: hugeText.map((value) => ({ kind: 'set' as const, what: 'huge string', value })) },
  { weight: 2, arbitrary: deepJson.map((value) => ({ kind: 'set' as const, what: 'deep nesting', value: value as Json })) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...RAW_LITERALS).map((text) => ({ kind: 'set' as const, what: 'raw literal', value: new RawJson(text, text) as Json })),
  },
  { weight: 2, arbitrary: fc.constantFrom(...NOT_DATES).map((value) => ({ kind: 'set' as const, what: 'not a date', value })) },
  { weight: 2, arbitrary: fc.constantFrom(...NOT_STATUSES).map((value) => ({ kind: 'set' as const, what: 'not a status', value })) },
  { weight: 2, arbitrary: fc.constantFrom(...NOT_FINGERPRINTS).map((value) => ({ kind: 'set' as const, what: 'bad fingerprint', value })) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(oddName, fc.oneof(wrongType, hostileText() as fc.Arbitrary<Json>, deepJson as fc.Arbitrary<Json>))
      .map(([name, value]) => ({ kind: 'addKey' as const, name, value })),
  },
  { weight: 2, arbitrary: fc.tuple(wrongType, fc.boolean()).map(([value, before]) => ({ kind: 'duplicateKey' as const, value, before })) },
  { weight: 2, arbitrary: fc.constantFrom('proto' as const, 'constructor' as const).map((how) => ({ kind: 'pollute' as const, how })) },
)

const mutation: fc.Arbitrary<Mutation> = fc.record({ pick: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), op })

/** nodes lists every path in a tree (RawJson is a leaf), the root first. */
function nodes(value: Json, path: Path = []): Path[] {
  const out: Path[] = [path]
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...nodes(v, [...path, i]))
  } else if (value && typeof value === 'object' && !(value instanceof RawJson)) for (const [k, v] of Object.entries(value)) out.push(...nodes(v, [...path, k]))
  return out
}

function get(value: Json, path: Path): Json {
  return path.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k]!, value)
}

/** set returns the tree with the node at path replaced (or removed when next is undefined); the root cannot be removed. */
function set(value: Json, path: Path, next: Json | undefined): Json {
  if (path.length === 0) return next ?? value
  const [head, ...rest] = path as [string | number, ...Path]
  if (Array.isArray(value)) {
    const copy = [...value]
    if (rest.length === 0 && next === undefined) copy.splice(head as number, 1)
    else copy[head as number] = set(copy[head as number]!, rest, next)
    return copy
  }
  const copy = { ...(value as Record<string, Json>) }
  if (rest.length === 0 && next === undefined) delete copy[head]
  else copy[head] = set(copy[head]!, rest, next)
  return copy
}

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RawJson)

/** objectText writes an object with an extra member spliced in as raw text (duplicate or __proto__ keys survive that way). */
function objectText(obj: Record<string, Json>, member: string, before: boolean): RawJson {
  const members = Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}:${serialize(v)}`)
  return new RawJson(`{${(before ? [member, ...members] : [...members, member]).join(',')}}`)
}

/** apply performs one mutation; ops that need an object use the nearest enclosing object. */
function apply(tree: Json, m: Mutation): { tree: Json; note: string } {
  const all = nodes(tree)
  const path = all[Math.floor(m.pick * all.length)]!
  const where = path.join('.') || 'body'
  const objectPath = isObject(get(tree, path)) ? path : path.slice(0, -1)
  const target = get(tree, objectPath)
  switch (m.op.kind) {
    case 'delete':
      return { tree: set(tree, path, undefined), note: `delete ${where}` }
    case 'set':
      return { tree: set(tree, path, m.op.value), note: `${m.op.what} ${describeValue(m.op.value)} at ${where}` }
    case 'addKey':
      if (!isObject(target)) return { tree, note: 'noop' }
      return {
        tree: set(tree, objectPath, { ...target, [m.op.name]: m.op.value }),
        note: `add key ${printable(JSON.stringify(m.op.name.slice(0, 20)))} = ${describeValue(m.op.value)} at ${objectPath.join('.') || 'body'}`,
      }
    case 'duplicateKey': {
      const key = isObject(target) ? Object.keys(target)[0] : undefined
      if (!isObject(target) || key === undefined) return { tree, note: 'noop' }
      return {
        tree: set(tree, objectPath, objectText(target, `${JSON.stringify(key)}:${serialize(m.op.value)}`, m.op.before) as Json),
        note: `duplicate key ${key} at ${objectPath.join('.') || 'body'}`,
      }
    }
    case 'pollute': {
      if (!isObject(target)) return { tree, note: 'noop' }
      const member = m.op.how === 'proto' ? '"__proto__":{"polluted":"yes","status":"firing"}' : '"constructor":{"prototype":{"polluted":"yes"}}'
      return { tree: set(tree, objectPath, objectText(target, member, false) as Json), note: `${m.op.how} pollution at ${objectPath.join('.') || 'body'}` }
    }
  }
}

/** mutated: a valid notification after one to four mutations anywhere in it. */
const mutated: fc.Arbitrary<FuzzRequest> = fc.array(mutation, { minLength: 1, maxLength: 4 }).map((mutations) => {
  let tree = webhook() as unknown as Json
  const notes: string[] = []
  for (const m of mutations) {
    const next = apply(tree, m)
    tree = next.tree
    notes.push(next.note)
  }
  return request(`mutated: ${notes.join('; ')}`, serialize(tree))
})

/** manyOf: notifications with thousands of alerts or labels, some of them broken. */
const manyOf: fc.Arbitrary<FuzzRequest> = fc
  .tuple(fc.integer({ min: 1000, max: 2000 }), fc.constantFrom('alerts', 'labels'), fc.option(fc.nat(), { nil: undefined }))
  .map(([n, what, broken]) => {
    const good = webhook()
    const alert = good.alerts[0] as Record<string, unknown>
    if (what === 'alerts') {
      // minimal alerts, so that thousands fit the body limit
      const small = { status: 'firing', labels: { alertname: 'Many' }, startsAt: '2026-11-24T23:01:00Z' }
      const alerts = Array.from({ length: n }, (_, i) =>
        i === broken ? { ...small, status: 'burning', fingerprint: 'x' } : { ...small, fingerprint: `m${i}` },
      )
      return request(`${n} alerts${broken !== undefined && broken < n ? `, #${broken} broken` : ''}`, JSON.stringify({ ...good, alerts }))
    }
    const labels = Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, i === broken ? 1 : `v${i}`]))
    return request(`${n} labels`, JSON.stringify({ ...good, alerts: [{ ...alert, labels }] }))
  })

/** notJson: bodies that are not JSON at all, or almost JSON. */
const notJson: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => request('random text', s)),
  fc.nat().map((n) => {
    const text = validText()
    return request('truncated JSON', text.slice(0, n % text.length))
  }),
  fc
    .constantFrom(
      'NaN',
      'undefined',
      "{'receiver': 'x'}",
      '{"a":1,}',
      '// comment\n{}',
      '/* c */{}',
      '{"receiver": "\\x41"}',
      '[1,2',
      '"',
      '\\',
      '{"a" 1}',
      '{a:1}',
      '\u0000',
      '{}{}',
      '{"a":"\u0001"}',
      '{"a":"line\nbreak"}',
      ")]}'\n{}",
      '<?xml version="1.0"?><alerts/>',
      'receiver=telegram&status=firing',
    )
    .map((s) => request('not JSON', s)),
  fc.tuple(fc.constantFrom('garbage after', 'raw control char', 'single quotes', 'BOM'), hostileText(4)).map(([how, junk]) => {
    const text = validText()
    if (how === 'garbage after') return request(how, `${text}${junk || 'x'}`)
    if (how === 'raw control char') return request(how, text.replace('web-1:9100', `web-1\u0001${junk}`))
    if (how === 'BOM') return request(how, `\ufeff${text}`)
    return request(how, text.replace(/"/g, "'"))
  }),
)

/** notObject: JSON that is not an object. */
const notObject: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc
    .jsonValue({ maxDepth: 3 })
    .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
    .map((v) => request('JSON, not an object', JSON.stringify(v))),
  fc.constantFrom(`[${validText()}]`, JSON.stringify(validText()), '[]', 'null', '0', 'true', '""', '[{}]').map((s) => request('JSON, not an object', s)),
)

/** oversized: bodies over the limit, in the ways one gets there. */
const oversized: fc.Arbitrary<FuzzRequest> = fc
  .tuple(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom('label', 'whitespace', 'alerts', 'nesting'))
  .map(([extra, how]) => {
    const good = webhook()
    const alert = good.alerts[0] as Record<string, unknown>
    const over = BODY_LIMIT + extra
    if (how === 'label') return request('oversized label', JSON.stringify({ ...good, alerts: [{ ...alert, labels: { big: 'x'.repeat(over) } }] }))
    if (how === 'whitespace') return request('oversized whitespace', validText() + ' '.repeat(over))
    if (how === 'alerts') return request('oversized alerts', JSON.stringify({ ...good, alerts: Array.from({ length: Math.ceil(over / 300) }, () => alert) }))
    return request('oversized nesting', '['.repeat(over / 2 + 1) + ']'.repeat(over / 2 + 1))
  })

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/vnd.api+json',
  'APPLICATION/JSON',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json;;;',
  'json',
  'application/jsonx',
  'application/json, text/plain',
  '*/*',
  'application/*',
]

/** contentTypes: a valid notification under the wrong (or an odd) content type, or none. */
const contentTypes: fc.Arbitrary<FuzzRequest> = fc
  .option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined })
  .map((contentType) => request(`content-type ${contentType ?? 'missing'}`, validText(), { contentType }))

const AUTHS = [
  undefined,
  '',
  'Bearer',
  'Bearer ',
  'Bearer wrong',
  `Bearer ${WEBHOOK_TOKEN}x`,
  `Bearer  ${WEBHOOK_TOKEN}`,
  `bearer${WEBHOOK_TOKEN}`,
  WEBHOOK_TOKEN,
  `Token ${WEBHOOK_TOKEN}`,
  `Basic ${Buffer.from(`x:${WEBHOOK_TOKEN}`).toString('base64')}`,
  'Basic !!!',
  'Basic ',
  `Bearer ${WEBHOOK_TOKEN.slice(0, -1)}`,
  `Bearer ${'x'.repeat(8000)}`,
  `Bearer ${WEBHOOK_TOKEN.toUpperCase()}`,
  `Bearer ${Buffer.from(WEBHOOK_TOKEN).toString('base64')}`,
]

/** badAuth: a valid notification without the right credentials (answer 401 before the body is parsed). */
const badAuth: fc.Arbitrary<FuzzRequest> = fc
  .tuple(fc.constantFrom(...AUTHS), fc.boolean())
  .map(([authorization, broken]) =>
    request(`authorization ${JSON.stringify(authorization)?.slice(0, 40) ?? 'missing'}`, broken ? '{"receiver":' : validText(), { authorization }),
  )

/** malformedRequest: everything a broken or hostile client might POST to /alerts. */
export const malformedRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  { weight: 50, arbitrary: mutated },
  // each accepted one plans thousands of events: rare, so that the flood stays fast
  { weight: 1, arbitrary: manyOf },
  { weight: 10, arbitrary: notJson },
  { weight: 6, arbitrary: notObject },
  { weight: 3, arbitrary: oversized },
  { weight: 5, arbitrary: contentTypes },
  { weight: 5, arbitrary: badAuth },
)

/* ------------------------------------------------------------------------------------------ */
/* Raw bodies (sent over real HTTP: inject cannot send invalid UTF-8 in a string)               */
/* ------------------------------------------------------------------------------------------ */

/** INVALID_UTF8: byte sequences no UTF-8 decoder should accept as is. */
const INVALID_UTF8 = [
  [0xff],
  [0xfe],
  [0x80],
  [0xbf],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80],
  [0xc3],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0xc3, 0x28],
  [0xe2, 0x28, 0xa1],
]

/** RawRequest: bytes and a content type. */
export interface RawRequest {
  kind: string
  body: Buffer
  contentType?: string
}

const SPLICE = 'QQSPLICEQQ'

/** spliceBytes puts raw bytes where the placeholder is (inside a string value), or at a byte offset. */
function spliceBytes(text: string, bytes: Buffer, at?: number): Buffer {
  const buffer = Buffer.from(text, 'utf8')
  const index = at === undefined ? buffer.indexOf(SPLICE) : at % (buffer.length + 1)
  const end = at === undefined ? index + SPLICE.length : index
  return Buffer.concat([buffer.subarray(0, index), bytes, buffer.subarray(end)])
}

const invalidBytes: fc.Arbitrary<Buffer> = fc.array(fc.constantFrom(...INVALID_UTF8), { minLength: 1, maxLength: 4 }).map((seqs) => Buffer.from(seqs.flat()))

const placeholderText = (where: string) => {
  const good = webhook()
  const alert = good.alerts[0] as Record<string, unknown>
  if (where === 'label') return JSON.stringify({ ...good, alerts: [{ ...alert, labels: { alertname: 'Utf8', instance: SPLICE } }] })
  if (where === 'status') return JSON.stringify({ ...good, alerts: [{ ...alert, status: SPLICE }] })
  if (where === 'label name') return JSON.stringify({ ...good, alerts: [{ ...alert, labels: { alertname: 'Utf8', [SPLICE]: 'x' } }] })
  return JSON.stringify({ ...good, receiver: SPLICE })
}

/** rawRequest: invalid UTF-8 in values and anywhere, random bytes, other encodings. */
export const rawRequest: fc.Arbitrary<RawRequest> = fc
  .oneof<fc.WeightedArbitrary<RawRequest>[]>(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom('label', 'label name', 'receiver', 'status'), invalidBytes)
        .map(([where, bytes]) => ({ kind: `invalid UTF-8 in ${where}`, body: spliceBytes(placeholderText(where), bytes), contentType: 'application/json' })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(invalidBytes, fc.nat())
        .map(([bytes, at]) => ({ kind: 'invalid UTF-8 anywhere', body: spliceBytes(validText(), bytes, at), contentType: 'application/json' })),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 4000 }).map((bytes) => ({ kind: 'random bytes', body: Buffer.from(bytes), contentType: 'application/json' })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('utf16le', 'latin1').map((encoding) => ({
        kind: `body in ${encoding}`,
        body: Buffer.from(validText().replace('web-1', 'wéb-1 ☃'), encoding as BufferEncoding),
        contentType: `application/json; charset=${encoding === 'utf16le' ? 'utf-16' : 'iso-8859-1'}`,
      })),
    },
  )
  .map((r) => described(r, (value) => `${value.kind} [${value.contentType}] ${value.body.toString('hex').slice(0, 400)}`))
