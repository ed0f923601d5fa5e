// Proves the test helpers against the real binaries: if these pass, a failing end-to-end test
// is about alertwire, not about the harness.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { freePort, waitForHttp } from './net.js'
import { startAlertmanager } from './alertmanager.js'
import { startPrometheus } from './prometheus.js'
import { cleanupPrefix, pickRedisUrl, redisPing, startPrivateRedis, testRedisUrl, uniquePrefix } from './redis.js'
import { trackedResources } from './processes.js'

interface Received {
  headers: IncomingHttpHeaders
  body: {
    status: string
    receiver: string
    version: string
    externalURL: string
    alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string>; endsAt: string }[]
  }
}

/** A webhook receiver that records every POST and answers 200. */
async function startReceiver(t: Test): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    let raw = ''
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')))
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(raw) as Received['body'] })
      res.writeHead(200).end()
    })
  })
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${port}/alerts`, received }
}

/** Polls until `find` returns something, or fails after timeoutMs. */
async function eventually<T>(what: string, find: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await find()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}

t.test('net: waitForHttp waits for the expected status and times out clearly', async (t) => {
  const port = await freePort()
  t.ok(port > 0 && port < 65536, 'freePort gives a port')
  const server = createServer((_req, res) => res.writeHead(204).end())
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  await waitForHttp(`http://127.0.0.1:${port}/`, { timeoutMs: 2000, expectStatus: 204 })
  t.pass('204 seen')
  const closed = await freePort()
  await t.rejects(waitForHttp(`http://127.0.0.1:${closed}/`, { timeoutMs: 300 }), /not ready after 300 ms/)
})

t.test('alertmanager', async (t) => {
  const receiver = await startReceiver(t)
  const am = await startAlertmanager({ webhookUrl: receiver.url, bearerToken: 'harness-token', receiverName: 'tg.ops' })
  t.teardown(() => am.stop())
  const labels = { alertname: 'HarnessTest', severity: 'critical', instance: 'web-1:9100' }

  await t.test('posts a firing notification with the bearer token', async (t) => {
    await am.postAlerts([{ labels, annotations: { summary: 'p99 > 1s' } }])
    const got = await eventually('firing webhook', () => receiver.received.find((r) => r.body.status === 'firing'))
    t.equal(got.headers.authorization, 'Bearer harness-token')
    t.match(got.headers['user-agent'], /^Alertmanager\//)
    t.equal(got.body.version, '4')
    t.equal(got.body.receiver, 'tg\\.ops', 'receiver name arrives regex-quoted')
    t.equal(got.body.externalURL, am.url)
    t.same(got.body.alerts[0]?.labels, labels)
    t.equal(got.body.alerts[0]?.endsAt, '0001-01-01T00:00:00Z', 'firing alerts carry the zero endsAt')
  })

  await t.test('posts a resolved notification after resolveAlerts', async (t) => {
    await am.resolveAlerts([labels])
    const got = await eventually('resolved webhook', () => receiver.received.find((r) => r.body.status === 'resolved'))
    t.equal(got.body.alerts[0]?.status, 'resolved')
    t.not(got.body.alerts[0]?.endsAt, '0001-01-01T00:00:00Z')
    t.same(got.body.alerts[0]?.annotations, { summary: 'p99 > 1s' }, 'annotations survive the resolve')
    const alerts = await am.getAlerts({ filter: ['alertname="HarnessTest"'] })
    t.same(alerts, [], 'a resolved alert is no longer listed as active')
  })

  await t.test('creates and expires a silence', async (t) => {
    const id = await am.createSilence({ matchers: { alertname: 'HarnessTest' }, comment: 'harness' })
    const active = await am.getSilences(['alertname="HarnessTest"'])
    t.same(
      active.map((s) => [s.id, s.status.state, s.comment]),
      [[id, 'active', 'harness']],
    )
    await am.expireSilence(id)
    t.equal((await am.getSilence(id)).status.state, 'expired')
    const after = await am.getSilences(['alertname="HarnessTest"'])
    t.equal(after.find((s) => s.id === id)?.status.state, 'expired', 'expired silences stay listed')
  })

  await t.test('silences survive a restart', async (t) => {
    const id = await am.createSilence({ matchers: { alertname: 'Persisted' } })
    await am.restart()
    t.equal((await am.getSilence(id)).status.state, 'active')
  })
})

t.test('alertmanager: an invalid config fails with amtool output', async (t) => {
  await t.rejects(
    startAlertmanager({
      webhookUrl: 'http://127.0.0.1:1/alerts',
      extraConfig: (config) => {
        config.route.receiver = 'nobody'
      },
    }),
    /amtool check-config rejected the config:[\s\S]*undefined receiver "nobody"/,
  )
})

t.test('redis', async (t) => {
  await t.test('testRedisUrl answers PING and prefixes clean up', async (t) => {
    const url = await testRedisUrl()
    t.ok(await redisPing(url), `${url} answers`)
    const prefix = uniquePrefix('harness')
    t.match(prefix, /^awtest:harness:[0-9a-f]+:$/)
    t.not(prefix, uniquePrefix('harness'), 'prefixes are unique')
    const client = new Redis(url, { retryStrategy: () => null })
    t.teardown(() => client.disconnect())
    await client.mset(`${prefix}a`, '1', `${prefix}b`, '2', `${prefix}c:d`, '3')
    const neighbour = `${uniquePrefix('neighbour')}x`
    await client.set(neighbour, 'keep', 'PX', 60_000)
    t.equal(await cleanupPrefix(url, prefix), 3)
    t.equal(await client.exists(`${prefix}a`, `${prefix}b`, `${prefix}c:d`), 0)
    t.equal(await client.get(neighbour), 'keep', 'keys of other prefixes are untouched')
    await client.del(neighbour)
  })

  await t.test('pickRedisUrl prefers $REDIS_URL, then falls back to a private server', async (t) => {
    t.equal(await pickRedisUrl('redis://example:1', 'redis://127.0.0.1:1'), 'redis://example:1')
    const nobody = `redis://127.0.0.1:${await freePort()}`
    const url = await pickRedisUrl(undefined, nobody)
    t.not(url, nobody)
    t.ok(await redisPing(url), 'the private server answers')
    t.equal(await pickRedisUrl(undefined, nobody), url, 'one private server per process')
  })

  await t.test('a private Redis stops, restarts and keeps appendonly data', async (t) => {
    const redis = await startPrivateRedis({ appendonly: true })
    t.teardown(() => redis.close())
    const client = new Redis(redis.url, { retryStrategy: () => null, maxRetriesPerRequest: 0 })
    client.on('error', () => {}) // the server goes away on purpose below
    await client.set('k', 'v')
    client.disconnect()

    await redis.stop()
    t.notOk(redis.running())
    t.notOk(await redisPing(redis.url), 'stopped: no answer')
    await redis.restart()
    t.ok(await redisPing(redis.url), 'restarted on the same port')

    await redis.kill() // a crash: appendfsync everysec may lose the last second, not older data
    await redis.restart()
    const again = new Redis(redis.url, { retryStrategy: () => null })
    t.teardown(() => again.disconnect())
    t.equal(await again.get('k'), 'v', 'data survived stop, restart and a SIGKILL')
  })
})

t.test('prometheus evaluates a rule file and answers queries', async (t) => {
  const prom = await startPrometheus({
    configYaml: 'global:\n  evaluation_interval: 1s\nrule_files:\n  - rules/test.yml\n',
    ruleFiles: {
      'rules/test.yml': 'groups:\n  - name: harness\n    rules:\n      - alert: AlwaysFiring\n        expr: vector(1)\n',
    },
  })
  t.teardown(() => prom.stop())
  const samples = await prom.queryVector('vector(1)')
  t.same(
    samples.map((s) => s.value[1]),
    ['1'],
  )
  await t.rejects(prom.query('sum('), /bad_data/)
  const alert = await eventually('AlwaysFiring', async () => (await prom.alerts()).find((a) => a.labels.alertname === 'AlwaysFiring'))
  t.equal(alert.state, 'firing')
})

t.test('teardown left nothing behind but the shared private Redis', async (t) => {
  const { pids, dirs } = trackedResources()
  // One each when the fallback subtest ran (it always does unless tests are filtered).
  t.ok(pids.length <= 1, 'only the shared redis-server runs')
  t.ok(dirs.length <= 1, 'only its dir remains (removed at exit)')
})
