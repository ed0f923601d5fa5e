/**
 * HTTP routes: POST /alerts (the Alertmanager webhook), /healthz, /readyz, /metrics. Every answer
 * has a schema; every refusal says why in words and is counted.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyError, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify'
import { type IngestJob, StoreUnavailable } from '../store/notification-queue.js'
import type { Metrics } from '../metrics.js'
import { isAuthorized, type WebhookAuth } from './auth.js'
import { cleanWebhook, WebhookSchema } from '../core/webhook.js'
import { issueFields, type SchemaIssue } from '../core/schema-errors.js'
import { AcceptedSchema, ErrorSchema, HealthSchema } from './schema.js'

/** ReceiverDeps: what the routes need from the app. */
export interface ReceiverDeps {
  auth: () => WebhookAuth
  store: (job: IngestJob) => Promise<void>
  metrics: Metrics
  /** named readiness checks: 'ok' or what is wrong */
  readiness: () => Promise<Record<string, string>>
  /** refreshes the queue gauges before a scrape */
  refreshMetrics: () => Promise<void>
  dryRun: boolean
}

/** AppServer: the Fastify instance alertwire builds, typed by its TypeBox schemas. */
export type AppServer = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>

/** describeValidation names the first offending field: "alerts[0].status: must be one of firing, resolved". */
export function describeValidation(issues: readonly SchemaIssue[]): string {
  const issue = issues[0]
  if (!issue) return 'invalid body'
  const [path] = issueFields(issue)
  const { allowedValues } = issue.params as { allowedValues?: unknown }
  const allowed = Array.isArray(allowedValues) ? ` (${allowedValues.join(', ')})` : ''
  return `${path || 'body'}: ${issue.message ?? 'is invalid'}${allowed}`
}

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

  server.post(
    '/alerts',
    {
      schema: { body: WebhookSchema, response: { 200: AcceptedSchema, '4xx': ErrorSchema, 503: ErrorSchema } },
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
      const notification = cleanWebhook(request.body)
      try {
        await deps.store({ notification, receivedAt: Date.now() })
      } catch (error) {
        if (!(error instanceof StoreUnavailable)) throw error
        metrics.webhooksReceived.inc({ result: 'unavailable' })
        request.log.warn({ groupKey: notification.groupKey, error: error.message }, 'webhook not stored: Redis unavailable; Alertmanager will retry')
        return reply.code(503).header('retry-after', '5').send({ error: 'unavailable', message: 'the alert store (Redis) is unavailable; retry' })
      }
      metrics.webhooksReceived.inc({ result: 'accepted' })
      return { status: 'accepted' as const, alerts: notification.alerts.length }
    },
  )

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
