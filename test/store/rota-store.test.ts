import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import type { RotaOverride } from '../../src/core/rota.js'
import { RotaStore } from '../../src/store/rota-store.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

/** replicas opens n RotaStores on their own connections under one fresh prefix, sharing one clock the test moves. */
async function replicas(t: Test, name: string, n = 2) {
  const url = await testRedisUrl()
  const prefix = uniquePrefix(name)
  const connections = Array.from({ length: n }, () => new Redis(url))
  const clock = { now: 1_000_000 }
  t.teardown(async () => {
    await cleanupPrefix(url, prefix)
    for (const redis of connections) redis.disconnect()
  })
  return { clock, redis: connections[0]!, stores: connections.map((redis) => new RotaStore(redis, prefix, () => clock.now)) }
}

const bob = { id: 2, name: 'Bob' }
const carol = { id: 3, name: 'Carol' }

t.test('overrides made on one replica are read on another, in the order made; ended ones are pruned', async (t) => {
  const { clock, redis, stores } = await replicas(t, 'rota-overrides')
  const [a, b] = stores as [RotaStore, RotaStore]
  const long: RotaOverride = { who: [bob], fromMs: 1_000_000, untilMs: 9_000_000, by: 'Alice' }
  const short: RotaOverride = { who: [carol], fromMs: 1_000_000, untilMs: 2_000_000, by: 'Alice' }
  await a.addOverride('primary', long)
  clock.now += 10
  await b.addOverride('primary', short)
  clock.now += 10
  await a.addOverride('primary', { ...long }) // the same override again is a new one, made last
  t.same(await b.overrides('primary'), [long, short, long], 'made first, first; an identical one is kept apart')
  t.same(await b.overrides('secondary'), [], 'per rota')
  clock.now = 2_000_000
  t.same(await a.overrides('primary'), [long, long], 'the one that ended is gone')
  t.equal(await redis.zcard(a.keys.rotaOverrides('primary')), 2, 'pruned in Redis, not only hidden')
  clock.now = 9_000_001
  await a.addOverride('primary', { who: [carol], fromMs: clock.now, untilMs: clock.now + 1000 })
  t.equal(await redis.zcard(a.keys.rotaOverrides('primary')), 1, 'a write prunes too')
  t.ok(a.keys.rotaOverrides('primary').startsWith(a.keys.prefix), 'under the prefix')
})

t.test('a handoff is claimed once across replicas, never one older than the last', async (t) => {
  const { stores } = await replicas(t, 'rota-claims', 3)
  t.equal(await stores[0]!.lastAnnounced('primary'), undefined)
  const claims = await Promise.all(stores.map((s) => s.claimHandoff('primary', 5000)))
  t.same(claims.filter(Boolean).length, 1, 'one of three replicas wins')
  t.equal(await stores[1]!.lastAnnounced('primary'), 5000)
  t.notOk(await stores[2]!.claimHandoff('primary', 4000), 'an older one is not announced after a newer one')
  t.ok(await stores[2]!.claimHandoff('primary', 6000))
  t.ok(await stores[0]!.claimHandoff('secondary', 4000), 'each rota its own')
})
