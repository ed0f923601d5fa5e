/** alertwire's HTTP answers as TypeBox schemas (the webhook's own schema is the core's: core/webhook.ts). */
import Type from 'typebox'

/** AcceptedSchema: the answer once every alert that can be read is stored (and what could not be, if any). */
export const AcceptedSchema = Type.Object({
  status: Type.Literal('accepted'),
  /** alerts stored */
  alerts: Type.Integer(),
  /** alerts skipped because they cannot be read */
  unreadable: Type.Optional(Type.Integer()),
  /** why, for the first few: "alerts[2].labels: is missing" */
  problems: Type.Optional(Type.Array(Type.String())),
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
