/** Redis connections: waiting for one is bounded, a ping never throws or hangs, closing never hangs. */
import t from 'tap'
import { closeRedis, fastFailRedis, pingRedis, type ReachEvent, type RedisReach, reachStep, whenReady, workerRedis } from '../../src/store/redis.js'
import { testRedisUrl } from '../helpers/redis.js'

const NOBODY = 'redis://127.0.0.1:9'

t.test('a Redis that answers: ready, pings, closes', async (t) => {
  const redis = fastFailRedis(await testRedisUrl(), 'test-ok')
  t.equal(await whenReady(redis, 5000), true)
  t.equal(await pingRedis(redis, 1000), true)
  await closeRedis(redis)
  await new Promise((r) => setTimeout(r, 50))
  const started = Date.now()
  t.equal(await whenReady(redis, 5000), false, 'a closed connection is never ready')
  t.ok(Date.now() - started < 100, 'and says so at once')
  t.equal(await pingRedis(redis, 1000), false)
})

t.test('a Redis that does not answer: each wait ends on time, nothing throws', async (t) => {
  for (const redis of [fastFailRedis(NOBODY, 'test-down'), workerRedis(NOBODY, 'test-down-worker')]) {
    redis.on('error', () => undefined)
    const started = Date.now()
    t.equal(await whenReady(redis, 300), false)
    t.equal(await pingRedis(redis, 300), false)
    await closeRedis(redis)
    t.ok(Date.now() - started < 2000, `done in ${Date.now() - started} ms`)
    t.equal(redis.listenerCount('ready'), 0, 'no waiter left behind')
  }
})

t.test('reachStep: an outage is one line when it starts and one when it ends, with the new primary after a failover', async (t) => {
  const refused: ReachEvent = { kind: 'error', message: 'connect ECONNREFUSED 10.0.0.1:6379' }
  const at = (address: string): ReachEvent => ({ kind: 'ready', address })
  /** run: the lines logged for events one second apart, starting at 0 */
  const run = (events: ReachEvent[]) => {
    let reach: RedisReach = { state: 'starting', since: 0 }
    return events.flatMap((event, second) => {
      const step = reachStep(reach, event, second * 1000)
      reach = step.reach
      return step.line ? [`${step.line.level}: ${step.line.msg}`] : []
    })
  }
  const cases: [string, ReachEvent[], string[]][] = [
    ['starts and answers: nothing to say', [at('10.0.0.1:6379')], []],
    ['errors while starting are the start-up line’s to tell', [refused, refused, at('10.0.0.1:6379')], []],
    [
      'not answering at start, then answering',
      [refused, { kind: 'start gave up' }, refused, refused, at('10.0.0.1:6379')],
      [
        'warn: Redis does not answer yet (connect ECONNREFUSED 10.0.0.1:6379); alertwire starts anyway and answers 503 until it does',
        'info: Redis answers now, 4 s after start',
      ],
    ],
    [
      'lost for a while: one line each way, however many attempts',
      [at('10.0.0.1:6379'), refused, refused, refused, refused, at('10.0.0.1:6379')],
      [
        'warn: Redis lost (connect ECONNREFUSED 10.0.0.1:6379): webhooks are answered 503 and Alertmanager retries them until Redis answers again',
        'info: Redis answers again, after 4 s',
      ],
    ],
    [
      'a failover: the promoted replica is named',
      [at('10.0.0.1:6379'), refused, { kind: 'error', message: 'All sentinels are unreachable' }, at('10.0.0.2:6379')],
      [
        'warn: Redis lost (connect ECONNREFUSED 10.0.0.1:6379): webhooks are answered 503 and Alertmanager retries them until Redis answers again',
        'info: Redis answers again at 10.0.0.2:6379 (was 10.0.0.1:6379), after 2 s',
      ],
    ],
    [
      'a reconnect to another primary without an error (a demoted primary left)',
      [at('10.0.0.1:6379'), at('10.0.0.2:6379')],
      ['info: Redis answers at 10.0.0.2:6379 (was 10.0.0.1:6379)'],
    ],
    ['a reconnect to the same Redis: nothing to say', [at('10.0.0.1:6379'), at('10.0.0.1:6379')], []],
    [
      'a second outage is told again',
      [at('a:1'), refused, at('a:1'), refused, at('a:1')],
      [
        'warn: Redis lost (connect ECONNREFUSED 10.0.0.1:6379): webhooks are answered 503 and Alertmanager retries them until Redis answers again',
        'info: Redis answers again, after 1 s',
        'warn: Redis lost (connect ECONNREFUSED 10.0.0.1:6379): webhooks are answered 503 and Alertmanager retries them until Redis answers again',
        'info: Redis answers again, after 1 s',
      ],
    ],
  ]
  for (const [name, events, lines] of cases) t.same(run(events), lines, name)
})
