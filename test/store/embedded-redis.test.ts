import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import t from 'tap'
import { RedisStartupError, resolveRedis } from '../../src/store/embedded-redis.js'
import { freePort } from '../helpers/net.js'

const log = pino({ level: 'silent' })

t.test('with no Redis around, alertwire starts its own with persistence, and data survives a restart', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'aw-embedded-'))
  const nobodyHome = await freePort()
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const first = await resolveRedis({ dataDir, command: 'redis-server', log, localPort: nobodyHome })
  t.equal(first.source, 'embedded')
  const client = new Redis(first.url)
  await client.set('kept', 'yes')
  t.equal(await client.config('GET', 'appendonly').then((r) => (r as string[])[1]), 'yes', 'append-only persistence')
  client.disconnect()
  await first.stop!()
  const second = await resolveRedis({ dataDir, command: 'redis-server', log, localPort: nobodyHome })
  const again = new Redis(second.url)
  t.equal(await again.get('kept'), 'yes', 'what was stored is still there after a restart')
  again.disconnect()
  await second.stop!()
})

t.test('a redis-server left running by a killed alertwire is adopted, not doubled', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'aw-embedded-'))
  const nobodyHome = await freePort()
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const orphan = await resolveRedis({ dataDir, command: 'redis-server', log, localPort: nobodyHome })
  const adopted = await resolveRedis({ dataDir, command: 'redis-server', log, localPort: nobodyHome })
  t.equal(adopted.url, orphan.url)
  await adopted.stop!()
})

t.test('a configured URL wins; a local Redis is used if one answers', async (t) => {
  t.same(await resolveRedis({ url: 'redis://elsewhere:6380', dataDir: '/nonexistent', command: 'x', log }), {
    url: 'redis://elsewhere:6380',
    source: 'configured',
  })
})

t.test('no Redis and no redis-server: one line saying what to do', async (t) => {
  const nobodyHome = await freePort()
  await t.rejects(
    resolveRedis({ dataDir: '/tmp/aw-never', command: 'redis-server-not-installed', log, localPort: nobodyHome }),
    new RedisStartupError(
      `no Redis: nothing answers on 127.0.0.1:${nobodyHome} and "redis-server-not-installed" is not installed; install it (apt-get install redis-server) or set REDIS_URL`,
    ),
  )
})
