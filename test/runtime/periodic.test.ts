/**
 * The loop every background worker runs on: stop waits for the run in progress, failures back off
 * and are logged once per change, a peer's retry-after is honoured, and exclusive work runs on one
 * replica at a time (real Redis leases), handed over when that replica stops or loses the lease.
 */
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import t from 'tap'
import { Periodic, RetryIn } from '../../src/runtime/periodic.js'
import { createLogger } from '../../src/log.js'
import { Lease } from '../../src/store/lease.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function capture() {
  const lines: { level: number; msg: string; retryInMs?: number }[] = []
  const destination = new Writable({
    write(chunk, _e, done) {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      )
      done()
    },
  })
  return { log: createLogger({ level: 'debug', destination }), lines }
}

t.test('stop lets the run in progress finish, then no run starts', async (t) => {
  const { log } = capture()
  let finished = 0
  let runs = 0
  const loop = new Periodic(
    async () => {
      runs++
      await sleep(150)
      finished++
    },
    { name: 'slow', log, intervalMs: () => 10, immediate: true },
  )
  loop.start()
  await sleep(50)
  await loop.stop()
  t.equal(finished, runs, 'the run in progress finished before stop resolved')
  t.notOk(loop.running)
  await sleep(100)
  t.equal(runs, 1, 'nothing ran after stop')
})

t.test('a wake that comes while the work runs is not lost: the next run starts at once, not after the interval', async (t) => {
  const { log } = capture()
  const starts: number[] = []
  let woken = false
  const loop = new Periodic(
    async () => {
      starts.push(Date.now())
      await sleep(50)
      if (!woken) {
        woken = true
        loop.wake()
      }
    },
    { name: 'woken', log, intervalMs: () => 10_000, immediate: true },
  )
  loop.start()
  await sleep(400)
  await loop.stop()
  t.equal(starts.length, 2, 'the wake during the first run gave one more run, and only one')
  t.ok(starts[1]! - starts[0]! < 1000, `the second run started ${starts[1]! - starts[0]!} ms after the first, not after the 10 s interval`)
})

t.test('a failing run backs off, is logged once while it fails the same way, and recovery is said', async (t) => {
  const { log, lines } = capture()
  let runs = 0
  const loop = new Periodic(
    async () => {
      runs++
      if (runs <= 3) throw new Error('peer down')
    },
    { name: 'flaky', log, intervalMs: () => 10_000, immediate: true, retry: { initialMs: 20, maxMs: 100 } },
  )
  loop.start()
  const deadline = Date.now() + 2000
  while (runs < 4 && Date.now() < deadline) await sleep(10)
  await loop.stop()
  t.equal(runs, 4, 'retried until it worked, then waited for the interval')
  t.equal(lines.filter((l) => l.msg === 'flaky failed; retrying with backoff').length, 1, 'one warning for one kind of failure')
  t.ok(lines.some((l) => l.msg === 'flaky: working again'))
})

t.test('RetryIn: the work says how long at least to wait, and is not logged again', async (t) => {
  const { log, lines } = capture()
  const starts: number[] = []
  const loop = new Periodic(
    async () => {
      starts.push(Date.now())
      if (starts.length === 1) throw new RetryIn(300, 'slow down')
    },
    { name: 'told', log, intervalMs: () => 10_000, immediate: true, retry: { initialMs: 10, maxMs: 50 } },
  )
  loop.start()
  while (starts.length < 2) await sleep(10)
  await loop.stop()
  t.ok(starts[1]! - starts[0]! >= 290, `waited ${starts[1]! - starts[0]!} ms`)
  t.notOk(
    lines.some((l) => l.level >= 40),
    'no warning: the work reported it',
  )
})

t.test('exclusive work runs on one replica; the other takes over when it stops or loses the lease', async (t) => {
  const url = await testRedisUrl()
  const prefix = uniquePrefix('periodic')
  const redis = new Redis(url)
  t.teardown(async () => {
    redis.disconnect()
    await cleanupPrefix(url, prefix)
  })
  const key = `${prefix}lease`
  const { log } = capture()
  const runs = { a: 0, b: 0 }
  const held = { a: false, b: false }
  const replica = (name: 'a' | 'b') =>
    new Periodic(
      async () => {
        runs[name]++
      },
      {
        name,
        log,
        intervalMs: () => 20,
        immediate: true,
        exclusive: { lock: new Lease(redis, key, 600), retryMs: 50, onChange: (on) => (held[name] = on) },
      },
    )
  const a = replica('a')
  const b = replica('b')
  a.start()
  await sleep(100)
  b.start()
  await sleep(300)
  t.ok(runs.a > 0, 'the first replica works')
  t.equal(runs.b, 0, 'the second waits')
  t.same(held, { a: true, b: false })
  await a.stop()
  t.equal(held.a, false, 'stopping gives the lease up')
  const before = runs.b
  await sleep(300)
  t.ok(runs.b > before, 'the second took over at once')
  // another process holds the lease now (as when b's expired unrenewed): b notices at its next renewal
  await redis.set(key, 'someone-else', 'PX', 5000)
  await sleep(400)
  t.equal(held.b, false, 'the lease was lost')
  const after = runs.b
  await sleep(200)
  t.equal(runs.b, after, 'no run without the lease')
  await b.stop()
})
