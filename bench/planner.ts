/**
 * npm run bench:planner: how many notifications one replica plans per second, the way the service
 * plans them: notifications stored in the BullMQ queue by the receiver's store (real Redis), then
 * taken by the real planner worker (workers/planner.ts: routing, the event decision, the grouped
 * compare-and-set commit, metrics, BullMQ completing each job). The clock runs from starting the
 * worker until the last notification was planned; the queue is full when it starts, so this is the
 * rate a backlog drains at. The store gets BENCH_PLANNER_BATCH notifications at a time (default
 * 10, about what the receiver stores per round trip at 1,000 webhooks/s), so each job holds that
 * many. Three runs: new alerts to one group chat, new alerts spread over 100 chats by a `chat`
 * label, and the same notifications again (HA twins: all duplicates).
 * `--commit-only` also times the commit path alone (planNotification + groupCommit, no queue), the
 * figure this bench printed before it measured the worker.
 */
import type { Job, Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import pino from 'pino'
import { plannerConfig } from '../src/config/slices.js'
import { planNotification } from '../src/core/candidates.js'
import type { Webhook } from '../src/core/webhook.js'
import { createMetrics } from '../src/metrics.js'
import { DeliveryStore } from '../src/store/delivery-store.js'
import { createIngestQueue, createNotificationStore, notificationsOf, type QueuedData } from '../src/store/notification-queue.js'
import { closeRedis, fastFailRedis, whenReady, workerRedis } from '../src/store/redis.js'
import { groupCommit, startPlanner } from '../src/workers/planner.js'
import { testConfig } from '../test/helpers/config.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../test/helpers/redis.js'

const PER_RUN = Number(process.env.BENCH_PLANNER_N ?? 20_000)
const BATCH = Number(process.env.BENCH_PLANNER_BATCH ?? 10)
const CHATS = 100

/** notification i: one firing alert, in one of 50 groups, for chat i % chats (a `chat` label). */
function notification(i: number, chats: number): Webhook {
  return {
    version: '4',
    groupKey: `{}:{alertname="A${i % 50}"}`,
    status: 'firing',
    receiver: 'telegram',
    externalURL: 'http://alertmanager:9093',
    truncatedAlerts: 0,
    alerts: [
      {
        status: 'firing',
        labels: { alertname: `A${i % 50}`, severity: 'warning', instance: `web-${i}:9100`, chat: `c${i % chats}` },
        annotations: { summary: `p99 above 1s on web-${i}` },
        startsAt: '2026-11-24T23:01:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph?g0.expr=up',
        fingerprint: `f${i.toString(16).padStart(15, '0')}`,
      },
    ],
  }
}

/** routesYaml routes chat label c0..c{n-1} to n chats: groups, private chats and forum topics. */
function routesYaml(n: number): string {
  const routes = Array.from({ length: n }, (_, c) => {
    const chat = c % 3 === 1 ? `${100_000 + c}` : `-100${2_000_000_000 + c}`
    const thread = c % 10 === 2 ? `, thread_id: ${c}` : ''
    return `    - {name: c${c}, matchers: ['chat="c${c}"'], chats: [{chat_id: ${chat}${thread}}]}`
  })
  return `routing:\n  routes:\n${routes.join('\n')}\n`
}

const url = await testRedisUrl()
const prefixes: string[] = []
const log = pino({ level: 'warn' })

interface Replica {
  commands: Redis
  webhooks: Redis
  planner: Redis
  queue: Queue<QueuedData>
  store: DeliveryStore
}

async function replica(prefix: string): Promise<Replica> {
  const commands = fastFailRedis(url, 'bench-commands')
  const webhooks = fastFailRedis(url, 'bench-webhooks')
  const planner = workerRedis(url, 'bench-planner')
  await Promise.all([commands, webhooks, planner].map((c) => whenReady(c, 10_000)))
  return { commands, webhooks, planner, queue: createIngestQueue(webhooks, prefix), store: new DeliveryStore(commands, prefix, 3_600_000) }
}

/** fill stores notifications first..first+PER_RUN in the queue as the receiver does, BATCH arriving together. */
async function fill(r: Replica, first: number, chats: number): Promise<void> {
  const store = createNotificationStore(r.queue, r.webhooks)
  for (let done = 0; done < PER_RUN; done += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, PER_RUN - done) }, (_, k) =>
        store({ notification: notification(first + done + k, chats), receivedAt: Date.now() }, 30_000),
      ),
    )
  }
}

/** redisCpuMs reads Redis's own CPU time (user + system) in ms: shared with whatever else uses that Redis. */
async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu')
  const seconds = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0)
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000
}

/** Drained: notifications/s, and CPU µs per notification of this process and of Redis. */
interface Drained {
  perSecond: number
  plannerUs: number
  redisUs: number
}

/** drain runs the planner worker until PER_RUN notifications were planned (or failed). */
async function drain(r: Replica, prefix: string, yaml: string): Promise<Drained> {
  const config = plannerConfig(testConfig(yaml, { TELEGRAM_CHAT_ID: '-1001000000001' }))
  let completed = 0
  let failed = 0
  let resolveDone = () => {}
  const done = new Promise<void>((resolve) => (resolveDone = resolve))
  const [cpu, redisCpu] = [process.cpuUsage(), await redisCpuMs(r.commands)]
  const started = performance.now()
  const worker = startPlanner({ connection: r.planner, prefix, store: r.store, config: () => config, metrics: createMetrics(), log, onDue: () => {} })
  const count = () => {
    if (completed + failed >= PER_RUN) resolveDone()
  }
  const notifications = (job: Job<QueuedData> | undefined) => (job ? notificationsOf(job.data).length : 0)
  worker.on('completed', (job) => {
    completed += notifications(job)
    count()
  })
  worker.on('failed', (job) => {
    failed += notifications(job)
    count()
  })
  await done
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  const redisUs = ((await redisCpuMs(r.commands)) - redisCpu) * 1000
  await worker.close()
  if (failed > 0) process.stdout.write(`planner: ${failed} notifications failed\n`)
  return { perSecond: Math.round(PER_RUN / seconds), plannerUs: (used.user + used.system) / PER_RUN, redisUs: redisUs / PER_RUN }
}

function describe({ perSecond, plannerUs, redisUs }: Drained): string {
  return `${perSecond.toLocaleString('en')} notifications/s (CPU per notification: planner ${plannerUs.toFixed(0)} µs, Redis ${redisUs.toFixed(0)} µs)`
}

/** commitOnly plans and commits without the queue, 16 at a time (the figure this bench printed before it ran the worker). */
async function commitOnly(r: Replica, first: number): Promise<number> {
  const config = plannerConfig(testConfig('', { TELEGRAM_CHAT_ID: '-1001000000001' }))
  const commit = groupCommit(r.store)
  let next = 0
  const started = performance.now()
  const lane = async () => {
    while (next < PER_RUN) {
      const i = first + next++
      const plan = planNotification(config.routing, notification(i, 1), { receivedAt: Date.now(), seq: i + 1 }, config.plan)
      await commit(plan.candidates, config.events)
    }
  }
  await Promise.all(Array.from({ length: 16 }, lane))
  return Math.round(PER_RUN / ((performance.now() - started) / 1000))
}

async function run(what: string, chats: number, twins: boolean): Promise<[string, string]> {
  const prefix = uniquePrefix('bench-planner')
  prefixes.push(prefix)
  const r = await replica(prefix)
  try {
    const yaml = chats > 1 ? routesYaml(chats) : ''
    await fill(r, 0, chats)
    let perSecond = await drain(r, prefix, yaml)
    if (twins) {
      await fill(r, 0, chats)
      perSecond = await drain(r, prefix, yaml)
    }
    return [what, describe(perSecond)]
  } finally {
    await r.queue.close()
    await Promise.all([r.commands, r.webhooks, r.planner].map(closeRedis))
  }
}

try {
  process.stdout.write(
    `planner: ${PER_RUN.toLocaleString('en')} notifications of one alert each per run, stored ${BATCH} at a time, one replica (the planner worker as the service runs it)\n`,
  )
  const figures: [string, string][] = [
    await run('new alerts, one group chat', 1, false),
    await run(`new alerts, ${CHATS} chats routed by label`, CHATS, false),
    await run('HA twins (all duplicates), one group chat', 1, true),
  ]
  if (process.argv.includes('--commit-only')) {
    const prefix = uniquePrefix('bench-planner')
    prefixes.push(prefix)
    const r = await replica(prefix)
    figures.push(['commit path alone (no queue), one group chat', `${(await commitOnly(r, 0)).toLocaleString('en')} notifications/s`])
    await r.queue.close()
    await Promise.all([r.commands, r.webhooks, r.planner].map(closeRedis))
  }
  for (const [what, figure] of figures) process.stdout.write(`planner: ${what}: ${figure}\n`)
} finally {
  for (const prefix of prefixes) await cleanupPrefix(url, prefix)
}
