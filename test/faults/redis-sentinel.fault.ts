/**
 * Redis Sentinel failover, with real redis-server and redis-sentinel processes on loopback: a
 * primary, one replica, three sentinels. alertwire follows the promoted replica without a restart,
 * and redis.min_replicas_acked decides what a 2xx promises:
 * - 0: stored on the primary alone. A webhook answered 2xx while the replica could not copy it is
 *   lost when the primary dies (Alertmanager, having had its 2xx, never sends it again);
 * - 1: the 2xx waits for the replica (WAIT); while it cannot confirm, the answer is 503, and the
 *   notification arrives once Alertmanager's retry is stored on the promoted replica.
 */
import t, { type Test } from 'tap'
import { startWithFake, WEBHOOK_TOKEN } from '../helpers/app.js'
import { ask, type SentinelSet, startSentinelSet, untilTrue } from '../helpers/redis-topologies.js'
import { CHAT, FAST, mentions, notification, unnamed, until } from './common.js'

/** post posts notification n as Alertmanager does, with the test app's token; the HTTP status, or 0 when no answer came. */
async function post(url: string, n: number): Promise<number> {
  try {
    const response = await fetch(`${url}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
      body: JSON.stringify(notification(n)),
      signal: AbortSignal.timeout(10_000),
    })
    await response.arrayBuffer()
    return response.status
  } catch {
    return 0
  }
}

/** retryUntilStored posts n as Alertmanager retries a 5xx (backoff), until it is answered 2xx or the time runs out. */
async function retryUntilStored(url: string, n: number, timeoutMs: number): Promise<number[]> {
  const statuses: number[] = []
  const deadline = Date.now() + timeoutMs
  let delay = 200
  while (Date.now() < deadline) {
    const status = await post(url, n)
    statuses.push(status)
    if (status === 200) return statuses
    await new Promise((r) => setTimeout(r, delay))
    delay = Math.min(delay * 2, 2000)
  }
  return statuses
}

/**
 * rejoin restarts the killed primary (empty: no persistence) as an orchestrator would; Sentinel
 * turns it into a replica of the promoted one, so writes can be confirmed by a replica again.
 */
async function rejoin(set: SentinelSet): Promise<void> {
  await set.primary.restart()
  const online = async () => /connected_slaves:1[\s\S]*state=online/.test(String(await ask(set.replica.port, 'INFO', 'replication')))
  try {
    await untilTrue(online, 15_000, 'Sentinel to make the old primary a replica')
  } catch {
    // Sentinel converts a returning primary when it next looks at it, which on a loaded machine can
    // take long; do what it would, as an orchestrator's start-up script does
    await ask(set.primary.port, 'REPLICAOF', '127.0.0.1', set.replica.port)
    await untilTrue(online, 60_000, 'the old primary to rejoin as a replica of the new one')
  }
}

/** heldBackWindow: webhooks stored while the replica is frozen, then the primary is killed and Sentinel promotes the replica. */
async function heldBackWindow(t: Test, replicas: number) {
  const set = await startSentinelSet()
  // registered before the app's: teardowns run last-in first-out, so the app closes while Redis still answers
  t.teardown(() => set.close())
  const started = await startWithFake(t, {
    redis: set.topology,
    start: false,
    fast: false,
    fake: { chats: [{ id: CHAT, type: 'supergroup' }], limits: { group: { max: 50, windowMs: 1000 }, global: { max: 100, windowMs: 1000 } } },
    env: { TELEGRAM_CHAT_ID: String(CHAT) },
    yaml: `${FAST}\nredis: {min_replicas_acked: ${replicas}}\nwebhook: {store_timeout: 2s}`,
  })
  // the webhook path alone listens: nothing is planned or sent from the primary that is about to die
  const server = started.app.server
  const address = await server.listen({ host: '127.0.0.1', port: 0 })
  const before = await Promise.all([1, 2, 3].map((n) => post(address, n)))
  // replication is asynchronous: with min_replicas_acked 0 a 2xx does not wait for it, so the test
  // does before it freezes the replica (a probe written and WAITed for: the replica then holds all before it)
  const probe = set.direct(set.primary.port)
  await probe.set(`${started.prefix}:probe`, '1')
  t.equal(await probe.wait(1, 5000), 1, 'the replica holds the first three')
  probe.disconnect()
  // the replica frozen and its link cut: what the primary stores now stays on the primary alone
  await set.replica.kill('SIGSTOP')
  await ask(set.primary.port, 'CLIENT', 'KILL', 'TYPE', 'replica')
  const window = await Promise.all([4, 5, 6].map((n) => post(address, n)))
  await set.primary.kill('SIGKILL')
  await set.replica.kill('SIGCONT')
  await set.waitForPrimary(set.replica.port, 60_000)
  t.match(String(await ask(set.replica.port, 'ROLE')), /^master/, 'Sentinel promoted the replica')
  await rejoin(set)
  // as the app does at start-up (plugins/redis.ts): its workers start once its connections are ready, here on the promoted replica
  await untilTrue(async () => Object.values(server.redis).every((c) => c.status === 'ready'), 30_000, 'the app connected to the promoted replica').catch(
    (error) => {
      t.comment(`connections: ${JSON.stringify(Object.fromEntries(Object.entries(server.redis).map(([name, c]) => [name, c.status])))}`)
      t.comment(started.logs.slice(-25).join('\n'))
      throw error
    },
  )
  await server.lifecycle.start()
  return { ...started, address, before, window }
}

t.test('min_replicas_acked 0: webhooks answered 2xx while the replica lagged are lost with the primary', async (t) => {
  const { fake, address, before, window, logs } = await heldBackWindow(t, 0)
  t.same(before, [200, 200, 200], 'stored and replicated')
  t.same(window, [200, 200, 200], 'answered 2xx: the primary alone held them')
  await until(() => unnamed(fake, [1, 2, 3]).length === 0, 60_000, 'the replicated alerts in the chat').catch((error) => {
    t.comment(`in the chat: ${[...mentions(fake).keys()].join(', ')}; the fake: ${fake.summary()}`)
    t.comment(logs.slice(-60).join('\n'))
    throw error
  })
  // a later webhook is planned and sent after the window's would have been, had they survived
  t.equal((await retryUntilStored(address, 7, 30_000)).at(-1), 200)
  await until(() => mentions(fake).has(7), 60_000, 'a later alert in the chat')
  await new Promise((r) => setTimeout(r, 2000))
  t.same(
    [4, 5, 6].filter((n) => mentions(fake).has(n)),
    [],
    'the three alerts answered 2xx in the window never reach the chat, and Alertmanager will not send them again',
  )
})

t.test('min_replicas_acked 1: the same window answers 503, and Alertmanager-style retries deliver every alert', async (t) => {
  const { fake, address, before, window, app, logs } = await heldBackWindow(t, 1)
  t.same(before, [200, 200, 200], 'the replica confirmed them')
  t.same(window, [503, 503, 503], 'the frozen replica could not confirm: 503, so Alertmanager keeps them')
  const retried = await Promise.all([4, 5, 6].map((n) => retryUntilStored(address, n, 60_000)))
  t.ok(
    retried.every((statuses) => statuses.at(-1) === 200),
    `every retry stored on the promoted replica at last: ${JSON.stringify(retried)}`,
  )
  await until(() => unnamed(fake, [1, 2, 3, 4, 5, 6]).length === 0, 60_000, 'all six alerts in the chat')
  const counted = mentions(fake)
  t.same(
    [1, 2, 3, 4, 5, 6].filter((n) => counted.get(n)! > 1),
    [],
    'none twice',
  )
  const scrape = await app.server.inject({ method: 'GET', url: '/metrics' })
  t.match(scrape.body, /alertwire_webhooks_unreplicated_total 3\b/, 'each of the three 503s for want of a replica is counted')
  t.equal(logs.filter((line) => /only 0 of 1 Redis replicas confirm/.test(line)).length, 1, 'the shortfall is logged once, not per webhook')
  t.equal(logs.filter((line) => /Redis replicas confirm stored webhooks again/.test(line)).length, 1, 'and its end once')
})

t.test('a primary SIGKILLed under webhook load: Sentinel promotes the replica, every 2xx is delivered, 503 meanwhile', async (t) => {
  const set = await startSentinelSet()
  // registered before the app's: teardowns run last-in first-out, so the app closes while Redis still answers
  t.teardown(() => set.close())
  const { url, fake, logs } = await startWithFake(t, {
    redis: set.topology,
    fast: false,
    fake: { chats: [{ id: CHAT, type: 'supergroup' }], limits: { group: { max: 50, windowMs: 1000 }, global: { max: 100, windowMs: 1000 } } },
    env: { TELEGRAM_CHAT_ID: String(CHAT) },
    yaml: `${FAST}\nredis: {min_replicas_acked: 1}\nwebhook: {store_timeout: 2s}`,
  })
  const accepted = new Set<number>()
  const statuses = { before: [] as number[], during: [] as number[], after: [] as number[] }
  const phase: { now: keyof typeof statuses } = { now: 'before' }
  let next = 0
  let stop = false
  // four Alertmanager groups at once, each retrying its notification until it gets a 2xx
  const poster = async () => {
    while (!stop) {
      const n = next++
      for (;;) {
        const status = await post(url, n)
        statuses[phase.now].push(status)
        if (status === 200) {
          accepted.add(n)
          break
        }
        if (stop) break
        await new Promise((r) => setTimeout(r, 300))
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const pour = Promise.all(Array.from({ length: 4 }, poster))
  await new Promise((r) => setTimeout(r, 3000))
  phase.now = 'during'
  await set.primary.kill('SIGKILL')
  await set.waitForPrimary(set.replica.port, 60_000)
  await rejoin(set)
  // until the webhook path answers 2xx again on the new primary
  const resumed = statuses.during.length
  await until(() => statuses.during.slice(resumed).includes(200), 30_000, 'a 2xx from the new primary')
  phase.now = 'after'
  await new Promise((r) => setTimeout(r, 3000))
  stop = true
  await pour

  t.ok(statuses.before.length > 10 && statuses.before.every((s) => s === 200), `before: ${statuses.before.length} webhooks, all 2xx`)
  t.ok(statuses.during.includes(503), `during the failover: ${statuses.during.filter((s) => s === 503).length} × 503 (Alertmanager retries them)`)
  t.ok(statuses.after.filter((s) => s === 200).length > 10, `after: ${statuses.after.filter((s) => s === 200).length} × 2xx on the promoted replica`)
  await until(() => unnamed(fake, accepted).length === 0, 120_000, 'every alert answered 2xx in the chat').catch((error) => {
    // what was missing and what the app said about it: a failure here must be explainable from the CI log
    t.comment(`missing: ${unnamed(fake, accepted).join(', ')}`)
    t.comment(
      logs
        .filter((line) => /"level":[456]0/.test(line))
        .slice(-40)
        .join('\n'),
    )
    throw error
  })
  t.pass(`all ${accepted.size} alerts answered 2xx reached the chat: none 2xx-then-lost`)
  const told = logs.filter((line) => /Redis lost|Redis answers/.test(line)).map((line) => (JSON.parse(line) as { msg: string }).msg)
  t.equal(told.length, 2, `the log tells the failover in two lines: ${told.join(' | ')}`)
  t.match(told[0], /^Redis lost/, 'one when the primary is lost')
  t.match(told[1], new RegExp(`^Redis answers again at 127\\.0\\.0\\.1:${set.replica.port} \\(was 127\\.0\\.0\\.1:\\d+\\)`), 'one naming the promoted replica')
  const doubled = [...mentions(fake)].filter(([, count]) => count > 1).map(([n]) => n)
  t.ok(doubled.length <= 5, `at most 5 alerts twice (${doubled.length}: ${doubled.join(', ')})`)
  t.comment(`accepted ${accepted.size} alerts; answers before/during/after: ${statuses.before.length}/${statuses.during.length}/${statuses.after.length}`)
})
