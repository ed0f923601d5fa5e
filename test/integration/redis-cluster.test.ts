/**
 * alertwire on a three-primary Redis Cluster (redis-cli --cluster create, no replicas): the whole
 * delivery path (webhook → planner → sender → the strict Telegram fake, the resolve's edit, bot
 * commands) works, and every key alertwire and BullMQ wrote carries the one hash tag, in one slot.
 */
import t from 'tap'
import { startAlertmanager } from '../helpers/alertmanager.js'
import { GROUP, postWebhook, startWithFake, webhook } from '../helpers/app.js'
import { ask, startRedisCluster } from '../helpers/redis-topologies.js'

const ADMIN = { id: 1001, username: 'alice' }

function alert(fingerprint: string, status: 'firing' | 'resolved') {
  return {
    status,
    labels: { alertname: 'DiskFull', severity: 'critical', instance: `${fingerprint}.example.com:9100` },
    annotations: { summary: 'disk almost full' },
    startsAt: '2026-11-24T23:01:00Z',
    endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-24T23:13:00Z',
    fingerprint,
  }
}

t.test('on a Redis Cluster: delivery, the resolve edit and bot commands work; every key is in one slot', async (t) => {
  const cluster = await startRedisCluster()
  t.teardown(() => cluster.close())
  const am = await startAlertmanager({ webhookUrl: 'http://127.0.0.1:9/unused' })
  t.teardown(() => am.stop())
  const { url, fake, config } = await startWithFake(t, {
    redis: cluster.topology,
    yaml: `alertmanager: {url: "${am.url}"}`,
    env: { ALERTWIRE_ADMINS: String(ADMIN.id) },
  })
  t.match(config.redis.prefix, /^\{[^}]+\}$/, 'the prefix is one hash tag')

  for (const fingerprint of ['c1a1', 'c2b2', 'c3c3']) {
    t.equal((await postWebhook(url, webhook({ groupKey: fingerprint, alerts: [alert(fingerprint, 'firing')] }))).status, 200)
  }
  const firing = await fake.waitFor(() => fake.messages(GROUP).length === 3 && fake.messages(GROUP), 15_000, 'three firing messages')
  const first = firing.find((m) => m.text.includes('c1a1.example.com'))!
  t.match(first.text, /^🔴 CRITICAL · DiskFull/)

  t.equal((await postWebhook(url, webhook({ status: 'resolved', groupKey: 'c1a1', alerts: [alert('c1a1', 'resolved')] }))).status, 200)
  await fake.waitFor(() => /^✅ RESOLVED/.test(fake.message(GROUP, first.message_id)!.text), 15_000, 'the resolve edits the message')
  t.equal(fake.message(GROUP, first.message_id)!.edits.length, 1, 'edited once')

  const reply = async (text: string) => {
    const sent = fake.sendCommand({ chatId: GROUP, from: ADMIN, text }) as { message_id: number }
    return fake.waitFor(() => fake.messages(GROUP).find((m) => m.reply_to_message_id === sent.message_id), 15_000, `reply to ${text}`)
  }
  t.match((await reply('/silence alertname=DiskFull 1h disk work')).text, /^🔕 Silenced alertname="DiskFull" for 1h/)
  t.match((await reply('/status')).text, /alertwire: ✅ Redis/)
  t.equal(fake.stats.tooManyRequests, 0)

  // every key lives under the tag, so in one slot on one node: scripts and MULTI never cross slots
  const keys: string[] = []
  for (const node of cluster.nodes) keys.push(...((await ask(node.port, 'KEYS', '*')) as string[]))
  t.ok(keys.length > 5, `${keys.length} keys written`)
  t.same(
    keys.filter((key) => !key.startsWith(config.redis.prefix)),
    [],
    'no key outside the hash tag (alertwire and BullMQ alike)',
  )
  t.ok(
    keys.some((key) => key.startsWith(`${config.redis.prefix}:webhooks:`)),
    'the BullMQ queue is under the tag too',
  )
  const slots = new Set(await Promise.all(keys.map(async (key) => Number(await ask(cluster.nodes[0]!.port, 'CLUSTER', 'KEYSLOT', key)))))
  t.equal(slots.size, 1, 'one slot')
})

t.test('on a Cluster with replicas, min_replicas_acked waits for the replica of the primary serving the tag', async (t) => {
  const cluster = await startRedisCluster({ replicas: 1 })
  t.teardown(() => cluster.close())
  const { url, fake, config, app } = await startWithFake(t, {
    redis: cluster.topology,
    yaml: 'redis: {min_replicas_acked: 1}\nwebhook: {store_timeout: 1s}',
  })
  const send = (fingerprint: string) => postWebhook(url, webhook({ groupKey: fingerprint, alerts: [alert(fingerprint, 'firing')] }))
  t.equal((await send('d1d1')).status, 200, 'the replica confirms: 2xx')

  // only the replica of the node serving {prefix} matters: hold it back and the webhook must wait
  // for it; a WAIT sent to any other primary would find its replica idle and answer 2xx at once
  const { primary, replica } = await cluster.servingKey(config.redis.prefix)
  t.ok(replica, 'the serving primary has a replica')
  await replica!.kill('SIGSTOP')
  await ask(primary.port, 'CLIENT', 'KILL', 'TYPE', 'replica')
  t.equal((await send('d2d2')).status, 503, 'its replica held back: 503, Alertmanager retries')
  await replica!.kill('SIGCONT')
  let status = 0
  for (let i = 0; i < 40 && status !== 200; i++) {
    status = (await send('d2d2')).status
    if (status !== 200) await new Promise((r) => setTimeout(r, 250))
  }
  t.equal(status, 200, 'once the replica is back, the retry is confirmed')
  await fake.waitFor(() => fake.messages(GROUP).length === 2, 15_000, 'both alerts in the chat')
  t.match((await app.server.inject({ method: 'GET', url: '/metrics' })).body, /alertwire_webhooks_unreplicated_total [1-9]/)
})
