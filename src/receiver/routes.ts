/**
 * HTTP routes: POST /alerts (the webhook of Alertmanager, Grafana alerting and whatever speaks
 * their payload), /healthz, /readyz, /metrics. Every answer has a schema; every refusal says why in
 * words and is counted. The webhook refuses only a body from which no alert can be read
 * (core/webhook.ts decides what can be).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyError, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify'
import { NotReplicated, type StoredNotification, StoreUnavailable } from '../store/notification-queue.js'
import type { Metrics } from '../metrics.js'
import { isAuthorized, type WebhookAuth } from './auth.js'
import { describeIssues, readWebhook, WebhookBodySchema } from '../core/webhook.js'
import type { SchemaIssue } from '../core/schema-errors.js'
import { AcceptedSchema, ErrorSchema, HealthSchema } from './schema.js'
import { createVersionWatch } from './versions.js'

/** ReceiverDeps: what the routes need from the app. */
export interface ReceiverDeps {
  auth: () => WebhookAuth
  store: (job: StoredNotification) => Promise<void>
  metrics: Metrics
  /** named readiness checks: 'ok' or what is wrong */
  readiness: () => Promise<Record<string, string>>
  /** refreshes the queue gauges before a scrape */
  refreshMetrics: () => Promise<void>
  dryRun: boolean
}

/** AppServer: the Fastify instance alertwire builds, typed by its TypeBox schemas. */
export type AppServer = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>

/** describeValidation names the first offending field: "alerts: must NOT have fewer than 1 items". */
export function describeValidation(issues: readonly SchemaIssue[]): string {
  return describeIssues(issues)
}

/** PROBLEMS_SHOWN: lines about unreadable alerts in an answer or a log line (the counter has them all). */
const PROBLEMS_SHOWN = 5

/** registerRoutes adds alertwire's routes to a Fastify instance. */
export async function registerRoutes(server: AppServer, deps: ReceiverDeps): Promise<void> {
  const { metrics } = deps

  server.setErrorHandler((error: FastifyError, request, reply) => {
    const webhook = request.routeOptions.url === '/alerts'
    if (error.validation) {
      if (webhook) metrics.webhooksReceived.inc({ result: 'invalid' })
      return reply.code(400).send({ error: 'invalid webhook', message: describeValidation(error.validation) })
    }
    const status = error.statusCode ?? 500
    if (status === 413) {
      if (webhook) metrics.webhooksReceived.inc({ result: 'too_large' })
      return reply.code(413).send({ error: 'too large', message: 'the request body is over the configured limit (server.body_limit)' })
    }
    if (status >= 400 && status < 500) {
      if (webhook) metrics.webhooksReceived.inc({ result: 'invalid' })
      return reply.code(status).send({ error: 'bad request', message: error.message })
    }
    request.log.error({ error: error.message }, 'unexpected error answering a request')
    return reply.code(503).send({ error: 'unavailable', message: 'alertwire could not handle the request; retry' })
  })

  server.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url === '/alerts') metrics.webhookDuration.observe({ status: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })

  registerWebhook(server, deps)

  server.get('/healthz', { schema: { response: { 200: HealthSchema } } }, async () => ({ status: 'ok' as const, dry_run: deps.dryRun }))

  server.get('/readyz', { schema: { response: { 200: HealthSchema, 503: HealthSchema } } }, async (_request, reply) => {
    const checks = await deps.readiness()
    const ready = Object.values(checks).every((v) => v === 'ok')
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks, dry_run: deps.dryRun })
  })

  server.get('/metrics', async (_request, reply) => {
    await deps.refreshMetrics().catch(() => undefined)
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  })
}

/**
 * refusal says why a webhook gets a 503, logs it and returns the answer's message. A shortfall of
 * replicas is logged once per change where it is counted (plugins/webhook-queue.ts), not here for
 * every webhook.
 */
function refusal(log: FastifyBaseLogger, groupKey: string, error: StoreUnavailable): string {
  if (error instanceof NotReplicated) {
    log.debug({ groupKey, acked: error.acked, wanted: error.wanted }, 'webhook stored but not confirmed by enough Redis replicas; Alertmanager will retry')
    return `stored on the Redis primary, but only ${error.acked} of the ${error.wanted} replicas redis.min_replicas_acked requires confirmed it in time; retry`
  }
  log.warn({ groupKey, error: error.message }, 'webhook not stored: Redis unavailable; Alertmanager will retry')
  return 'the alert store (Redis) is unavailable; retry'
}

/** registerWebhook adds POST /alerts: authenticated, read (what can be), stored, and only then answered 2xx. */
function registerWebhook(server: AppServer, deps: ReceiverDeps): void {
  const { metrics } = deps
  const versions = createVersionWatch()

  /** noteVersion counts an unknown payload version, and logs it the first time it is seen. */
  const noteVersion = (log: FastifyBaseLogger, version: string | undefined, receiver: string) => {
    const seen = versions.note(version)
    metrics.webhookUnknownVersions.inc({ version: seen.label })
    if (!seen.first) return
    log.warn(
      { version: version?.slice(0, 64) ?? null, receiver: receiver.slice(0, 200) },
      "webhook payload version alertwire does not know; read as Alertmanager's (logged once per version)",
    )
  }

  server.post(
    '/alerts',
    {
      schema: { body: WebhookBodySchema, response: { 200: AcceptedSchema, '4xx': ErrorSchema, 503: ErrorSchema } },
      // checked before the body is read: an unauthenticated request costs no parsing
      onRequest: async (request, reply) => {
        if (isAuthorized(request.headers.authorization, deps.auth())) return
        metrics.webhooksReceived.inc({ result: 'unauthorized' })
        request.log.warn({ remote: request.ip }, 'webhook refused: missing or wrong credentials')
        return reply.code(401).header('www-authenticate', 'Bearer, Basic realm="alertwire"').send({
          error: 'unauthorized',
          message: 'missing or wrong credentials: send the bearer token (or basic auth) from http_config',
        })
      },
    },
    async (request, reply) => {
      const reading = readWebhook(request.body, Date.now())
      if (!reading.ok) {
        metrics.webhooksReceived.inc({ result: 'invalid' })
        request.log.warn({ problem: reading.message.slice(0, 300) }, 'webhook refused: no alert in it can be read')
        return reply.code(400).send({ error: 'invalid webhook', message: reading.message })
      }
      const { notification, unreadable, version } = reading
      if (!version.known) noteVersion(request.log, version.text, notification.receiver)
      try {
        await deps.store({ notification, receivedAt: Date.now() })
      } catch (error) {
        if (!(error instanceof StoreUnavailable)) throw error
        metrics.webhooksReceived.inc({ result: 'unavailable' })
        return reply
          .code(503)
          .header('retry-after', '5')
          .send({ error: 'unavailable', message: refusal(request.log, notification.groupKey, error) })
      }
      metrics.webhooksReceived.inc({ result: 'accepted' })
      if (unreadable.length === 0) return { status: 'accepted' as const, alerts: notification.alerts.length }
      // the readable alerts are stored (refusing the body would lose them too: a 4xx is final); the rest are reported
      metrics.webhookAlertsUnreadable.inc(unreadable.length)
      const problems = unreadable.slice(0, PROBLEMS_SHOWN)
      request.log.warn(
        { groupKey: notification.groupKey, unreadable: unreadable.length, problems },
        'webhook alerts that cannot be read were skipped; the others are stored',
      )
      return { status: 'accepted' as const, alerts: notification.alerts.length, unreadable: unreadable.length, problems }
    },
  )
}
