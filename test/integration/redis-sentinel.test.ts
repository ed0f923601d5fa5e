/**
 * alertwire through Redis Sentinel (real redis-server and redis-sentinel on loopback), with the
 * passwords an operator sets: the servers' and the sentinels' own. The failovers themselves are
 * in test/faults/redis-sentinel.fault.ts.
 */
import t from 'tap'
import { GROUP, postWebhook, startTestApp, startWithFake, WEBHOOK_TOKEN, webhook } from '../helpers/app.js'
import { protectSentinelSet, SENTINEL_NAME, startSentinelSet } from '../helpers/redis-topologies.js'
import { postTo, startService } from '../helpers/service.js'

const PASSWORD = 'server-s3cret'
const SENTINEL_PASSWORD = 'sentinel-s3cret'

t.test('through password-protected sentinels to a password-protected primary: stored, delivered, replicated', async (t) => {
  const set = await startSentinelSet()
  t.teardown(() => set.close())
  await protectSentinelSet(set, PASSWORD, SENTINEL_PASSWORD)

  const { url, fake, app } = await startWithFake(t, { redis: set.topology, yaml: 'redis: {min_replicas_acked: 1}' })
  t.equal((await postWebhook(url, webhook())).status, 200, 'stored on the primary and confirmed by its replica')
  await fake.waitFor(() => fake.messages(GROUP).length === 1, 10_000, 'the alert in the chat')
  t.equal((await app.server.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)

  // a wrong sentinel password: no primary can be found, so nothing is answered 2xx (the webhook
  // path alone: the planner's BullMQ worker, never having reached Redis, would not close)
  const wrong = await startTestApp(t, {
    redis: { ...set.topology, sentinelPassword: 'wrong' } as typeof set.topology,
    yaml: 'webhook: {store_timeout: 500ms}',
    start: false,
  })
  const refused = await wrong.app.server.inject({
    method: 'POST',
    url: '/alerts',
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` },
    payload: webhook(),
  })
  t.equal(refused.statusCode, 503, 'a wrong sentinel password: 503, never a 2xx')
  t.equal((await wrong.app.server.inject({ method: 'GET', url: '/readyz' })).statusCode, 503, 'and not ready')
})

t.test(
  'the service from the environment: REDIS_SENTINELS, REDIS_SENTINEL_NAME, passwords; the start-up log names the topology, never a password',
  async (t) => {
    const set = await startSentinelSet()
    t.teardown(() => set.close())
    await protectSentinelSet(set, PASSWORD, SENTINEL_PASSWORD)
    const service = await startService(t, {
      redisUrl: `redis://:${PASSWORD}@127.0.0.1:${set.primary.port}`,
      env: {
        REDIS_URL: '',
        REDIS_SENTINELS: set.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
        REDIS_SENTINEL_NAME: SENTINEL_NAME,
        REDIS_PASSWORD: PASSWORD,
        REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
        REDIS_MIN_REPLICAS_ACKED: '1',
      },
    })
    let status = 0
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = await postTo(service.url, webhook())
      if (status !== 200) await new Promise((r) => setTimeout(r, 250))
    }
    t.equal(status, 200, 'webhooks stored through the sentinels')
    const sentinels = set.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',')
    t.match(
      service.output(),
      `Redis sentinel://${sentinels}/${SENTINEL_NAME}: the primary the sentinels know as ${SENTINEL_NAME}, followed across failovers; webhooks answered 2xx once a replica confirms them`,
      'the start-up log says where Redis is and what a 2xx promises',
    )
    t.notMatch(service.output(), PASSWORD, 'no server password in the log')
    t.notMatch(service.output(), SENTINEL_PASSWORD, 'no sentinel password in the log')
  },
)
