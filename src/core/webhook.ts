/**
 * The webhook alertwire reads (Alertmanager's payload version 4, Grafana alerting's version 1, and
 * what older Alertmanagers, relays and hand-made tests send) and the notification it stores.
 *
 * Accept what can be read, refuse only what cannot: Alertmanager treats a 4xx as final, so a
 * refusal loses the alerts. What has a fallback gets it (a missing fingerprint is computed as
 * Alertmanager computes it, a missing status comes from endsAt, a missing groupKey from the group's
 * labels, numbers become text); what carries an alert's content must be readable: each alert is an
 * object whose `labels` (and `annotations`, if any) map names to strings, numbers, booleans or null.
 * An object or an array where a single value belongs cannot be read. An alert that cannot be read is
 * skipped and reported; a body with no alert that can be read is refused, naming the field. Pure.
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { isZeroTime, ZERO_TIME } from './duration.js'
import { labelsFingerprint } from './fingerprint.js'
import type { AlertSource, GrafanaExtras } from './render.js'
import { issueFields, type SchemaIssue } from './schema-errors.js'

/** Scalar: a single JSON value; numbers and booleans are read as text, null as absent. */
const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])

/** ScalarMap: labels, annotations and the like; null means none. */
const ScalarMap = Type.Union([Type.Record(Type.String(), Scalar), Type.Null()])

/**
 * WebhookAlertSchema: what makes one alert readable. Checked per alert by readWebhook, so one alert
 * that cannot be read does not sink the others. Unknown properties are accepted and not stored.
 */
export const WebhookAlertSchema = Type.Object({
  labels: Type.Record(Type.String(), Scalar),
  annotations: Type.Optional(ScalarMap),
  status: Type.Optional(Scalar),
  startsAt: Type.Optional(Scalar),
  endsAt: Type.Optional(Scalar),
  generatorURL: Type.Optional(Scalar),
  fingerprint: Type.Optional(Scalar),
  // Grafana alerting (webhook version 1)
  silenceURL: Type.Optional(Scalar),
  dashboardURL: Type.Optional(Scalar),
  panelURL: Type.Optional(Scalar),
  imageURL: Type.Optional(Scalar),
  values: Type.Optional(ScalarMap),
  valueString: Type.Optional(Scalar),
})

/**
 * WebhookBodySchema: the body POST /alerts takes (the route's schema). Each alert is read on its own
 * (WebhookAlertSchema); everything here is optional but a non-empty `alerts` array. Unknown
 * properties are accepted (newer senders add fields) and not stored.
 */
export const WebhookBodySchema = Type.Object({
  version: Type.Optional(Scalar),
  groupKey: Type.Optional(Scalar),
  truncatedAlerts: Type.Optional(Scalar),
  status: Type.Optional(Scalar),
  receiver: Type.Optional(Scalar),
  groupLabels: Type.Optional(ScalarMap),
  commonLabels: Type.Optional(ScalarMap),
  commonAnnotations: Type.Optional(ScalarMap),
  externalURL: Type.Optional(Scalar),
  // Grafana alerting: its organisation, and with version "1" the mark of its payload
  orgId: Type.Optional(Scalar),
  alerts: Type.Array(Type.Unknown(), { minItems: 1 }),
})

export type WebhookBody = Type.Static<typeof WebhookBodySchema>
type AlertInput = Type.Static<typeof WebhookAlertSchema>
type ScalarValue = Type.Static<typeof Scalar>

const alertCheck = Compile(WebhookAlertSchema)

/** WebhookAlert: one alert as alertwire stores it. */
export interface WebhookAlert {
  status: 'firing' | 'resolved'
  labels: Record<string, string>
  annotations?: Record<string, string>
  startsAt: string
  endsAt?: string
  generatorURL?: string
  fingerprint: string
  /** Grafana alerting's links and values (notifications with source 'grafana') */
  grafana?: GrafanaExtras
}

/** Webhook: one notification as alertwire stores it (jobs written before `source` existed have none: Alertmanager). */
export interface Webhook {
  version?: string
  groupKey: string
  truncatedAlerts?: number
  status: 'firing' | 'resolved'
  receiver: string
  groupLabels?: Record<string, string>
  commonLabels?: Record<string, string>
  commonAnnotations?: Record<string, string>
  externalURL?: string
  /** set for Grafana alerting only (absent: Alertmanager) */
  source?: Extract<AlertSource, 'grafana'>
  alerts: WebhookAlert[]
}

/** FINGERPRINT: what a fingerprint may be, since it enters Redis keys (Alertmanager's are 16 hex digits). */
const FINGERPRINT = /^[A-Za-z0-9_-]{1,64}$/

/** KNOWN_VERSIONS: payload versions alertwire was written for (Grafana's "1" only with orgId). */
const ALERTMANAGER_VERSION = '4'
const GRAFANA_VERSION = '1'

/** WebhookReading: what readWebhook made of a body. */
export type WebhookReading =
  | {
      ok: true
      notification: Webhook
      /** one line per alert that could not be read ("alerts[2].labels: is missing"), in order */
      unreadable: string[]
      /** the payload version as sent (undefined: none), and whether alertwire knows it */
      version: { text: string | undefined; known: boolean }
    }
  | { ok: false; message: string }

/* ------------------------------------------------------------------------------------------ */
/* Values                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** text reads a scalar as well-formed text (a lone surrogate becomes U+FFFD, which Lua's JSON and URLs survive); null is absent. */
function text(value: ScalarValue | undefined): string | undefined {
  if (value === null || value === undefined) return undefined
  return String(value).toWellFormed()
}

/** readMap reads labels or annotations: text values, null entries dropped, own data properties only (a label called __proto__ stays a label). */
function readMap(map: Record<string, ScalarValue> | null | undefined): Record<string, string> | undefined {
  if (!map) return undefined
  const out: Record<string, string> = Object.create(null)
  for (const [key, value] of Object.entries(map)) {
    const read = text(value)
    if (read !== undefined) out[key.toWellFormed()] = read
  }
  return out
}

const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):?(\d\d))$/
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * parseDateTime reads an RFC 3339 date-time (as JSON Schema's date-time format takes it: t or space,
 * z in any case, a leap second) into ms since the epoch, or undefined if it is not one.
 */
export function parseDateTime(value: string): number | undefined {
  const m = DATE_TIME.exec(value)
  if (!m) return undefined
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [m[1], m[2], m[3], m[4], m[5], m[6], m[10], m[11]].map(Number) as number[]
  const leap = year! % 4 === 0 && (year! % 100 !== 0 || year! % 400 === 0)
  const days = month === 2 && leap ? 29 : DAYS[month! - 1]
  if (!days || day! < 1 || day! > days || hour! > 23 || minute! > 59 || second! > 60) return undefined
  if ((offsetHours ?? 0) > 23 || (offsetMinutes ?? 0) > 59) return undefined
  const date = new Date(0)
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999
  date.setUTCFullYear(year!, month! - 1, day!)
  date.setUTCHours(hour!, minute!, second!, Number((m[7] ?? '0').slice(0, 3).padEnd(3, '0')))
  const offset = m[8] ? 0 : (m[9] === '-' ? -1 : 1) * ((offsetHours ?? 0) * 60 + (offsetMinutes ?? 0))
  return date.getTime() - offset * 60_000
}

/** dateTime keeps a time as sent when it can be read (startsAt is part of an alert's identity: never rewritten). */
function dateTime(value: ScalarValue | undefined): string | undefined {
  return typeof value === 'string' && parseDateTime(value) !== undefined ? value.toWellFormed() : undefined
}

/** httpUrl reads an absolute http(s) URL. */
function httpUrl(value: string | undefined): string | undefined {
  if (!value || !URL.canParse(value)) return undefined
  return /^https?:$/.test(new URL(value).protocol) ? value : undefined
}

/** absoluteUrl keeps an absolute URL, resolves a relative one against an http(s) base, and drops what cannot be made absolute. */
function absoluteUrl(value: string | undefined, base: string | undefined): string | undefined {
  if (!value) return undefined
  if (URL.canParse(value)) return value
  const root = httpUrl(base)
  return root && URL.canParse(value, root) ? new URL(value, root).href : undefined
}

/** statusOf reads firing or resolved, in any case. */
function statusOf(value: ScalarValue | undefined): 'firing' | 'resolved' | undefined {
  const status = typeof value === 'string' ? value.trim().toLowerCase() : undefined
  return status === 'firing' || status === 'resolved' ? status : undefined
}

/* ------------------------------------------------------------------------------------------ */
/* Derived fields                                                                              */
/* ------------------------------------------------------------------------------------------ */

/** groupKeyOf writes a group key as Alertmanager writes the root route's: {}:{a="b", c="d"}. */
export function groupKeyOf(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`)
  return `{}:{${pairs.join(', ')}}`
}

/** sharedLabels: the labels every alert has with the same value. */
function sharedLabels(alerts: readonly WebhookAlert[]): Record<string, string> {
  const [first, ...rest] = alerts
  const shared: Record<string, string> = Object.create(null)
  for (const [name, value] of Object.entries(first?.labels ?? {})) if (rest.every((a) => a.labels[name] === value)) shared[name] = value
  return shared
}

/** derivedGroupKey: a stable key for a notification without one: its group labels, else the labels its alerts share. */
function derivedGroupKey(
  groupLabels: Record<string, string> | undefined,
  commonLabels: Record<string, string> | undefined,
  alerts: readonly WebhookAlert[],
): string {
  const nonEmpty = (labels: Record<string, string> | undefined) => (labels && Object.keys(labels).length > 0 ? labels : undefined)
  return groupKeyOf(nonEmpty(groupLabels) ?? nonEmpty(commonLabels) ?? sharedLabels(alerts))
}

/** truncatedCount reads how many alerts the sender left out: a whole number, or one written as text. */
function truncatedCount(value: ScalarValue | undefined): number | undefined {
  const n = typeof value === 'string' && /^[0-9]{1,15}$/.test(value.trim()) ? Number(value) : value
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined
}

/** grafanaExtras keeps Grafana's per-alert links (http(s) only) and values. */
function grafanaExtras(raw: AlertInput): GrafanaExtras | undefined {
  const values: Record<string, number | null> = Object.create(null)
  for (const [refId, value] of Object.entries(raw.values ?? {})) if (typeof value === 'number' || value === null) values[refId.toWellFormed()] = value
  const hasValues = Object.keys(values).length > 0
  const extras = defined({
    dashboardURL: httpUrl(text(raw.dashboardURL)),
    panelURL: httpUrl(text(raw.panelURL)),
    silenceURL: httpUrl(text(raw.silenceURL)),
    imageURL: httpUrl(text(raw.imageURL)),
    values: hasValues ? values : undefined,
    // Grafana's own text of the values: only needed when the values themselves are not there
    valueString: hasValues ? undefined : text(raw.valueString) || undefined,
  })
  return Object.keys(extras).length > 0 ? extras : undefined
}

/** defined drops undefined properties, so nothing absent is stored as a key. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}

/* ------------------------------------------------------------------------------------------ */
/* Reading                                                                                     */
/* ------------------------------------------------------------------------------------------ */

interface AlertContext {
  now: number
  externalURL: string | undefined
  grafana: boolean
}

/** readAlert turns one readable alert into what alertwire stores, deriving what is missing. */
function readAlert(raw: AlertInput, context: AlertContext): WebhookAlert {
  const labels = readMap(raw.labels)!
  const endsAt = dateTime(raw.endsAt)
  const ended = endsAt !== undefined && !isZeroTime(endsAt) && parseDateTime(endsAt)! <= context.now
  const given = text(raw.fingerprint)
  return defined({
    status: statusOf(raw.status) ?? (ended ? 'resolved' : 'firing'),
    labels,
    annotations: readMap(raw.annotations),
    // not invented: an alert's startsAt is part of its identity, and the zero time shows no "since"
    startsAt: dateTime(raw.startsAt) ?? ZERO_TIME,
    endsAt,
    generatorURL: absoluteUrl(text(raw.generatorURL), context.externalURL),
    fingerprint: given !== undefined && FINGERPRINT.test(given) ? given : labelsFingerprint(labels),
    grafana: context.grafana ? grafanaExtras(raw) : undefined,
  })
}

/** describeIssues names the first problem a schema check found: "alerts[2].labels: is missing". */
export function describeIssues(issues: readonly SchemaIssue[], at = ''): string {
  const first = issues[0]
  if (!first) return `${at || 'body'}: cannot be read`
  const [field] = issueFields(first)
  const named = at && field ? `${at}.${field}` : at || field || 'body'
  // a field name is free text from the network: a 100 KB label name is not repeated back in full
  const where = named.length > 200 ? `${named.slice(0, 200).toWellFormed()}…` : named
  if (first.keyword === 'required') return `${where}: is missing`
  const schemaPath = (first as { schemaPath?: string }).schemaPath ?? ''
  if (first.keyword === 'type' && schemaPath.includes('/anyOf/')) {
    // a union failed: name every type it takes, not only the first it tried
    const types = issues.filter((i) => i.keyword === 'type' && i.instancePath === first.instancePath).map((i) => String((i.params as { type?: unknown }).type))
    return `${where}: must be ${types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types.at(-1)}` : types[0]}`
  }
  return `${where}: ${first.message ?? 'is invalid'}`
}

/** alertProblem says why an alert cannot be read, or nothing if it can. */
function alertProblem(raw: unknown, index: number): string | undefined {
  if (alertCheck.Check(raw)) return undefined
  return describeIssues(alertCheck.Errors(raw) as SchemaIssue[], `alerts[${index}]`)
}

/** versionOf classifies the payload version: Alertmanager's "4", Grafana's "1" (with orgId), anything else unknown. */
function versionOf(body: WebhookBody): { text: string | undefined; known: boolean; grafana: boolean } {
  const version = text(body.version)
  const grafana = version === GRAFANA_VERSION && text(body.orgId) !== undefined
  return { text: version, known: version === ALERTMANAGER_VERSION || grafana, grafana }
}

/**
 * readWebhook reads a notification from a body the route's schema let through: every alert that can
 * be read, with what is missing derived (now: the receiving clock, which decides whether an alert
 * whose endsAt has passed is resolved), and a line for each alert that cannot be read. When none
 * can, it says why, naming the field.
 */
export function readWebhook(body: WebhookBody, now: number): WebhookReading {
  const version = versionOf(body)
  const externalURL = text(body.externalURL)
  const context: AlertContext = { now, externalURL, grafana: version.grafana }
  const alerts: WebhookAlert[] = []
  const unreadable: string[] = []
  body.alerts.forEach((raw, index) => {
    const problem = alertProblem(raw, index)
    if (problem) unreadable.push(problem)
    else alerts.push(readAlert(raw as AlertInput, context))
  })
  if (alerts.length === 0) {
    const more = unreadable.length > 1 ? ` (none of the ${unreadable.length} alerts can be read)` : ''
    return { ok: false, message: `${unreadable[0] ?? 'alerts: none'}${more}` }
  }
  const groupLabels = readMap(body.groupLabels)
  const commonLabels = readMap(body.commonLabels)
  const notification = defined<Webhook>({
    version: version.text,
    groupKey: text(body.groupKey) || derivedGroupKey(groupLabels, commonLabels, alerts),
    truncatedAlerts: truncatedCount(body.truncatedAlerts),
    status: statusOf(body.status) ?? (alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved'),
    receiver: text(body.receiver) ?? '',
    groupLabels,
    commonLabels,
    commonAnnotations: readMap(body.commonAnnotations),
    externalURL,
    source: version.grafana ? 'grafana' : undefined,
    alerts,
  })
  return { ok: true, notification, unreadable, version: { text: version.text, known: version.known } }
}
