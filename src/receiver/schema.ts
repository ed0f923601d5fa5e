/** alertwire's HTTP answers as TypeBox schemas (the webhook's own schema is the core's: core/webhook.ts). */
import Type from 'typebox'

/** AcceptedSchema: the answer once every alert of the notification is stored. */
export const AcceptedSchema = Type.Object({
  status: Type.Literal('accepted'),
  alerts: Type.Integer(),
})

/** ErrorSchema: every refusal, with a message a person can act on. */
export const ErrorSchema = Type.Object({
  error: Type.String(),
  message: Type.String(),
})

/** HealthSchema: /healthz and /readyz. */
export const HealthSchema = Type.Object({
  status: Type.Enum(['ok', 'unavailable']),
  checks: Type.Optional(Type.Record(Type.String(), Type.String())),
  dry_run: Type.Optional(Type.Boolean()),
})
