/**
 * npm run bench:planner: how many notifications one replica plans per second: routing, the event
 * decision (core/events.ts) and its compare-and-set commit against real Redis, notifications
 * planned together committed together as the planner does; one at a time, 8 and 16 at once (the
 * planner worker runs 16), and HA twins (the same notifications again: all duplicates). One alert
 * per notification, 50 groups, one chat.
 */
import { Redis } from 'ioredis'
import { plannerConfig } from '../src/config/slices.js'
import { planNotification } from '../src/core/candidates.js'
import type { Webhook } from '../src/core/webhook.js'
import { DeliveryStore } from '../src/store/delivery-store.js'
import { groupCommit } from '../src/workers/planner.js'
import { testConfig } from '../test/helpers/config.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../test/helpers/redis.js'

const PER_RUN = 3000

function notification(i: number): Webhook {
  return {
    version: '4',
    groupKey: `{}:{alertname="A${i % 50}"}`,
    status: 'firing',
    receiver: 'telegram',
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: `A${i % 50}`, severity: 'warning', instance: `web-${i}:9100` },
        annotations: { summary: `p99 above 1s on web-${i}` },
        startsAt: '2026-11-24T23:01:00Z',
        fingerprint: `f${i.toString(16).padStart(15, '0')}`,
      },
    ],
  }
}

const url = await testRedisUrl()
const prefix = uniquePrefix('bench-planner')
const redis = new Redis(url)
const config = plannerConfig(testConfig('', { TELEGRAM_CHAT_ID: '-1001000000001' }))
const store = new DeliveryStore(redis, prefix, 3_600_000)
const commit = groupCommit(store)

/** rate plans and commits notifications first..first+PER_RUN, `concurrency` at a time; returns notifications/s. */
async function rate(first: number, concurrency: number): Promise<number> {
  let next = 0
  const started = performance.now()
  const lane = async () => {
    while (next < PER_RUN) {
      const i = first + next++
      const plan = planNotification(config.routing, notification(i), { receivedAt: Date.now(), seq: i + 1 }, config.plan)
      await commit(plan.candidates, config.events)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  return Math.round(PER_RUN / ((performance.now() - started) / 1000))
}

try {
  const figures: [string, number][] = [
    ['new notifications, one at a time', await rate(0, 1)],
    ['new notifications, 8 at a time', await rate(PER_RUN, 8)],
    ['new notifications, 16 at a time', await rate(2 * PER_RUN, 16)],
    ['HA twins (all duplicates), 8 at a time', await rate(PER_RUN, 8)],
  ]
  for (const [what, perSecond] of figures) process.stdout.write(`planner: ${what}: ${perSecond.toLocaleString('en')} notifications/s\n`)
} finally {
  await cleanupPrefix(url, prefix)
  redis.disconnect()
}
