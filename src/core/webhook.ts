/**
 * The Alertmanager webhook (payload version 4) as a TypeBox schema, and the notification alertwire
 * keeps of it. Unknown properties are accepted: newer Alertmanagers add fields.
 */
import Type from 'typebox'

const Labels = Type.Record(Type.String(), Type.String())

/** WebhookAlertSchema: one alert of a notification. */
export const WebhookAlertSchema = Type.Object({
  status: Type.Enum(['firing', 'resolved']),
  labels: Labels,
  annotations: Type.Optional(Labels),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.Optional(Type.String()),
  generatorURL: Type.Optional(Type.String()),
  // used in Redis keys: keep it to what Alertmanager produces (hex), never a separator
  fingerprint: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
})

/** WebhookSchema: one notification Alertmanager posts for a group. */
export const WebhookSchema = Type.Object({
  version: Type.String(),
  groupKey: Type.String(),
  truncatedAlerts: Type.Optional(Type.Integer({ minimum: 0 })),
  status: Type.Enum(['firing', 'resolved']),
  receiver: Type.String(),
  groupLabels: Type.Optional(Labels),
  commonLabels: Type.Optional(Labels),
  commonAnnotations: Type.Optional(Labels),
  externalURL: Type.Optional(Type.String()),
  alerts: Type.Array(WebhookAlertSchema, { minItems: 1 }),
})

export type Webhook = Type.Static<typeof WebhookSchema>
export type WebhookAlert = Type.Static<typeof WebhookAlertSchema>

function wellFormed(value: string): string {
  return value.toWellFormed()
}

function cleanRecord(record: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!record) return undefined
  // own data properties only: a label called __proto__ stays a label
  const out: Record<string, string> = Object.create(null)
  for (const [key, value] of Object.entries(record)) out[wellFormed(key)] = wellFormed(value)
  return out
}

/**
 * cleanWebhook keeps of a validated notification what alertwire uses, with every string made
 * well-formed: fields newer Alertmanagers add are accepted but not stored (so nothing unknown,
 * however deep, reaches Redis), and a lone surrogate becomes U+FFFD instead of breaking Lua's JSON
 * or a URL later. Alertmanager never sends one; anyone with the token could.
 */
export function cleanWebhook(body: Webhook): Webhook {
  const text = (value: string | undefined) => (value === undefined ? undefined : wellFormed(value))
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
  return defined({
    version: text(body.version)!,
    groupKey: text(body.groupKey)!,
    truncatedAlerts: body.truncatedAlerts,
    status: body.status,
    receiver: text(body.receiver)!,
    groupLabels: cleanRecord(body.groupLabels),
    commonLabels: cleanRecord(body.commonLabels),
    commonAnnotations: cleanRecord(body.commonAnnotations),
    externalURL: text(body.externalURL),
    alerts: body.alerts.map((alert) =>
      defined({
        status: alert.status,
        labels: cleanRecord(alert.labels)!,
        annotations: cleanRecord(alert.annotations),
        startsAt: alert.startsAt,
        endsAt: text(alert.endsAt),
        generatorURL: text(alert.generatorURL),
        fingerprint: alert.fingerprint,
      }),
    ),
  })
}
