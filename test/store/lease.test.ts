/** The lease that makes one replica poll Telegram (and one watch acknowledgements): held by one, handed over when released or lapsed. */
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t from 'tap'
import { Lease } from '../../src/store/lease.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

t.test('exactly one replica holds a lease; another takes over when it ends or lapses', async (t) => {
  const url = await testRedisUrl()
  const prefix = uniquePrefix('lease')
  const connections = [new Redis(url), new Redis(url)]
  t.teardown(async () => {
    await cleanupPrefix(url, prefix)
    for (const redis of connections) redis.disconnect()
  })
  const key = `${prefix}poller`
  const a = new Lease(connections[0]!, key, 10_000)
  const b = new Lease(connections[1]!, key, 10_000)
  t.ok(await a.acquire(), 'the first replica takes it')
  t.notOk(await b.acquire(), 'the second does not (Telegram would answer 409 to a second poller)')
  t.notOk(await b.renew(), 'nor can it renew a lease it does not hold')
  await b.release()
  t.ok(await a.renew(), "releasing someone else's lease does nothing: the holder still renews")
  await a.release()
  const short = new Lease(connections[1]!, key, 100)
  t.ok(await short.acquire(), 'a released lease is taken over at once')

  await sleep(200)
  t.ok(await a.acquire(), 'a lease its holder stopped renewing lapses and is taken over')
  t.notOk(await short.renew(), 'the old holder learns it lost the lease when it tries to renew')
  t.ok(Number(await connections[0]!.pttl(key)) > 5000, "the new holder's lease runs for its own time")
})
