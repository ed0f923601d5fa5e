/**
 * Builds alertwire apps for tests: real Redis under a unique prefix, a config from YAML, logs
 * captured in memory, and everything closed and cleaned up at teardown.
 */
import { Writable } from 'node:stream'
import type { Test } from 'tap'
import { type App, buildApp } from '../../src/app.js'
import { type Config, clusterPrefix } from '../../src/config/parse.js'
import { createLogger } from '../../src/log.js'
import type { LeaseTiming } from '../../src/plugins/bot.js'
import type { RedisTopology } from '../../src/store/redis.js'
import { type StoredNotification, storedNotifications } from '../../src/store/notification-queue.js'
import type { TelegramPort } from '../../src/telegram/client.js'
import { type FakeTelegramOptions, startFakeTelegram } from '../fakes/telegram.js'
import { mergeYaml, testConfig } from './config.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from './redis.js'

/** WEBHOOK_TOKEN: the bearer token test apps require. */
export const WEBHOOK_TOKEN = 'test-webhook-token'

/** TestApp: a started app, where it listens, and what it logged. */
export interface TestApp {
  app: App
  url: string
  prefix: string
  redisUrl: string
  logs: string[]
  config: Config
}

/** TestAppOptions: how to build it. */
export interface TestAppOptions {
  yaml?: string
  env?: Record<string, string | undefined>
  telegram?: TelegramPort
  redisUrl?: string
  /** a Sentinel or Cluster (test/helpers/redis-topologies.ts) instead of a URL; its processes are the test's own, so no keys are cleaned up */
  redis?: RedisTopology
  /** share state with another app (a second replica) */
  prefix?: string
  start?: boolean
  /** how fast replicas take the polling (and ack-watching) lease over */
  poller?: LeaseTiming
}

/** queuedNotifications: the notifications stored and not yet planned, in the order they were stored (a job holds those stored together). */
export async function queuedNotifications(app: App): Promise<StoredNotification[]> {
  const jobs = await app.queue.getJobs(['waiting', 'prioritized', 'delayed'])
  return jobs
    .flatMap((job) => storedNotifications(job.data, Number(job.id)))
    .sort((a, b) => a.seq - b.seq)
    .map(({ stored }) => stored)
}

/** startTestApp builds and (by default) starts an app; teardown closes it and deletes its keys. */
export async function startTestApp(t: Test, options: TestAppOptions = {}): Promise<TestApp> {
  const redisUrl = options.redisUrl ?? (await testRedisUrl())
  const prefix = options.prefix ?? uniquePrefix(t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 30) || 'app')
  const config = testConfig(options.yaml ?? '', {
    ALERTWIRE_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
    HOST: '127.0.0.1',
    PORT: '0',
    ...options.env,
  })
  // as parseConfig does for cluster_nodes: one hash tag, every key in one slot
  config.redis.prefix = options.redis?.kind === 'cluster' ? clusterPrefix(prefix) : prefix
  const logs: string[] = []
  const secrets = [config.telegram.botToken, config.webhook.bearerToken].filter((s): s is string => !!s)
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  const log = createLogger({ level: 'debug', secrets: () => secrets, destination })
  const app = await buildApp(config, {
    log,
    ...(options.redis ? { redis: options.redis } : { redisUrl }),
    ...(options.telegram ? { telegram: options.telegram } : {}),
    ...(options.poller ? { leases: options.poller } : {}),
  })
  const url = options.start === false ? '' : await app.start()
  t.teardown(async () => {
    await app.close()
    if (!options.prefix && !options.redis) await cleanupPrefix(redisUrl, prefix)
  })
  return { app, url, prefix, redisUrl, logs, config }
}

/** webhook builds an Alertmanager notification (payload version 4) for tests. */
export function webhook(over: { status?: 'firing' | 'resolved'; groupKey?: string; truncatedAlerts?: number; alerts?: object[] } = {}) {
  const status = over.status ?? 'firing'
  return {
    receiver: 'telegram',
    status,
    alerts: over.alerts ?? [
      {
        status,
        labels: { alertname: 'HighLatency', instance: 'web-1:9100', severity: 'critical' },
        annotations: { description: '<b>x</b> & y', summary: 'p99 > 1s on web-1' },
        startsAt: '2026-11-24T23:01:00.05687024Z',
        endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-24T23:13:00Z',
        generatorURL: 'http://prom:9090/graph?g0.expr=up',
        fingerprint: '076ae3f4b12baf7a',
      },
    ],
    groupLabels: { alertname: 'HighLatency' },
    commonLabels: { alertname: 'HighLatency', severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: over.groupKey ?? '{}:{alertname="HighLatency"}',
    truncatedAlerts: over.truncatedAlerts ?? 0,
  }
}

/** postWebhook posts a notification with the test token (or the given headers). */
export async function postWebhook(url: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${WEBHOOK_TOKEN}` }) {
  const response = await fetch(`${url}/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined }
}

/** GROUP and PERSON: the chats every fake starts with (a supergroup and a private chat). */
export const GROUP = -1001000000001
export const PERSON = 424242

/**
 * FAST_PACE: tests run a tenth of a second apart instead of Telegram's seconds; the fake enforces
 * the same limits, so pacing is still checked for real, just faster.
 */
export const FAST_PACE = {
  yaml: 'telegram: {pace: {group: "10/1s", private: "10/1s", headroom: 0.05}}',
  limits: { group: { max: 10, windowMs: 1000 }, private: { max: 10, windowMs: 1000 } },
}

/** startWithFake starts a strict Telegram fake and an app that talks to it, fast-paced unless told otherwise. */
export async function startWithFake(t: Test, options: TestAppOptions & { fake?: FakeTelegramOptions; fast?: boolean } = {}) {
  const fast = options.fast !== false
  const fake = await startFakeTelegram({
    chats: [
      { id: GROUP, type: 'supergroup' },
      { id: PERSON, type: 'private' },
    ],
    ...(fast ? { limits: FAST_PACE.limits } : {}),
    ...options.fake,
  })
  t.teardown(() => fake.close())
  const yaml = mergeYaml(fast ? FAST_PACE.yaml : '', options.yaml ?? '')
  const started = await startTestApp(t, {
    ...options,
    yaml,
    env: { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_URL: fake.url, TELEGRAM_CHAT_ID: String(GROUP), ...options.env },
  })
  return { ...started, fake }
}

/**
 * countedSoon reads a metric once it matches `pattern`, or as it is after timeoutMs: the sender counts
 * an outcome after Telegram answers, so a test that saw the message in the fake may be a moment early.
 */
export async function countedSoon(app: App, name: string, pattern: RegExp, timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const text = await app.metrics.registry.getSingleMetricAsString(name)
    if (pattern.test(text) || Date.now() > deadline) return text
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
