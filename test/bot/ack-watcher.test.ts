/**
 * "Ack until resolved", one check at a time, against real Redis and a real Alertmanager: an
 * acknowledgement stays while its alert fires; once the alert resolves the silence is expired and
 * the message marked resolved; a silence already gone is ended all the same; Alertmanager down
 * keeps the acknowledgement for the next check.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { AlertmanagerClient } from '../../src/alertmanager/client.js'
import { AckWatcher } from '../../src/bot/ack-watcher.js'
import { createMetrics } from '../../src/metrics.js'
import { BotStore } from '../../src/store/bot-store.js'
import { DeliveryStore } from '../../src/store/delivery-store.js'
import { Lease } from '../../src/store/lease.js'
import { startAlertmanager } from '../helpers/alertmanager.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const CHAT = '-1001000000001'
const labels = { alertname: 'DiskFull', instance: 'db-1:9100' }

async function setup(t: Test) {
  const am = await startAlertmanager({ webhookUrl: 'http://127.0.0.1:9/unused' })
  t.teardown(() => am.stop())
  const url = await testRedisUrl()
  const prefix = uniquePrefix('acks')
  const redis = new Redis(url)
  t.teardown(async () => {
    await cleanupPrefix(url, prefix)
    redis.disconnect()
  })
  const buttons = new BotStore(redis, prefix, 60_000)
  const delivery = new DeliveryStore(redis, prefix, 60_000)
  const client = new AlertmanagerClient({ url: am.url, timeoutMs: 1000 })
  const watcher = new AckWatcher({
    buttons,
    delivery,
    alertmanager: () => client,
    intervalMs: () => 60_000,
    metrics: createMetrics(),
    log: pino({ level: 'silent' }),
    lease: new Lease(redis, `${prefix}ack-watcher`, 10_000),
    retryMs: 1000,
  })
  await am.postAlerts([{ labels }])
  const [alert] = await am.getAlerts()
  const silenceId = await am.createSilence({
    matchers: labels,
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    createdBy: 'telegram:@alice (1)',
    comment: 'ack',
  })
  const token = BotStore.newToken()
  const target = {
    kind: 'message' as const,
    chat: CHAT,
    messageId: 42,
    alerts: [{ fingerprint: alert!.fingerprint, startsAt: alert!.startsAt, labels }],
    silence: { ids: [silenceId], by: '@alice (1)', until: new Date().toISOString(), ack: true },
  }
  await buttons.saveTarget(token, target)
  await buttons.addAck({ silenceId, chat: CHAT, messageId: 42, token, fingerprints: [alert!.fingerprint] })
  return { am, buttons, delivery, watcher, silenceId, token, fingerprint: alert!.fingerprint }
}

t.test('the acknowledgement stays while the alert fires, and ends when it resolves', async (t) => {
  const { am, buttons, delivery, watcher, silenceId, token, fingerprint } = await setup(t)
  await watcher.check()
  t.equal((await buttons.acks()).length, 1, 'still firing (silenced): nothing changes')
  t.equal((await am.getSilence(silenceId)).status.state, 'active')

  await am.resolveAlerts([labels])
  await watcher.check()
  t.equal((await am.getSilence(silenceId)).status.state, 'expired', 'the silence is expired')
  t.same(await buttons.acks(), [], 'the acknowledgement is done')
  const target = await buttons.target(token)
  t.notOk(target && 'silence' in target && target.silence, "the message's buttons no longer point at the silence")
  const [notice] = (await delivery.loadChat(CHAT, 1)).notices
  t.match(notice, { kind: 'mark', messageId: 42, silence: null, resolutions: [{ fingerprint }] }, 'the message will say resolved')
})

t.test('a silence already gone (expired by someone, or unknown to Alertmanager) is ended all the same', async (t) => {
  const { am, buttons, watcher, silenceId, token, fingerprint } = await setup(t)
  const forgotten = randomUUID()
  await buttons.addAck({ silenceId: forgotten, chat: CHAT, messageId: 43, token, fingerprints: [fingerprint] })
  await am.expireSilence(silenceId)
  await am.resolveAlerts([labels])
  await watcher.check()
  t.same(await buttons.acks(), [], 'both acknowledgements are done')
})

t.test('Alertmanager down: the check fails (the loop retries) and the acknowledgement waits', async (t) => {
  const { am, buttons, watcher } = await setup(t)
  await am.kill()
  await t.rejects(watcher.check(), /unreachable/)
  t.equal((await buttons.acks()).length, 1)
})
