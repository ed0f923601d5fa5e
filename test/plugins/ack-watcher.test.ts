/**
 * The ack watcher runs wherever the bot runs: with updates by webhook (no polling, so no polling
 * lease) an acknowledged alert that resolves still gets its silence expired and its message marked
 * resolved, by exactly one of the replicas.
 */
import t from 'tap'
import { type AlertmanagerHandle, startAlertmanager } from '../helpers/alertmanager.js'
import { GROUP, postWebhook, startTestApp, startWithFake, webhook } from '../helpers/app.js'
import { freePort } from '../helpers/net.js'

const ADMIN = { id: 1001, username: 'alice' }
const labels = { alertname: 'DiskFull', severity: 'warning', instance: 'db-1.example.com:9100', job: 'node' }

async function activeSilences(am: AlertmanagerHandle) {
  return (await am.getSilences()).filter((s) => s.status.state === 'active')
}

t.test('webhook mode: an acknowledged alert that resolves has its silence expired, by one replica', async (t) => {
  const am = await startAlertmanager({ webhookUrl: 'http://127.0.0.1:9/unused' })
  t.teardown(() => am.stop())
  const port = await freePort()
  const yaml = [
    `alertmanager: {url: "${am.url}"}`,
    'silences: {ack_check_interval: 300ms}',
    `telegram: {updates: webhook, webhook_url: "http://127.0.0.1:${port}/telegram/updates", webhook_secret: "hook-secret"}`,
  ].join('\n')
  const one = await startWithFake(t, { yaml, env: { PORT: String(port), ALERTWIRE_ADMINS: String(ADMIN.id) } })
  // a second replica on the same state: it must not expire the silence a second time, nor poll
  const env = { TELEGRAM_BOT_TOKEN: one.fake.token, TELEGRAM_API_URL: one.fake.url, TELEGRAM_CHAT_ID: String(GROUP), ALERTWIRE_ADMINS: String(ADMIN.id) }
  const two = await startTestApp(t, {
    prefix: one.prefix,
    env,
    yaml: `alertmanager: {url: "${am.url}"}\nsilences: {ack_check_interval: 300ms}\ntelegram: {pace: {group: "10/1s"}, updates: webhook, webhook_url: "http://127.0.0.1:${port}/telegram/updates", webhook_secret: "hook-secret"}`,
  })
  const { fake, url } = one

  await am.postAlerts([{ labels }])
  const [alert] = await am.getAlerts()
  await postWebhook(
    url,
    webhook({
      groupKey: 'ack',
      alerts: [{ status: 'firing', labels, annotations: {}, startsAt: alert!.startsAt, endsAt: '0001-01-01T00:00:00Z', fingerprint: alert!.fingerprint }],
    }),
  )
  const message = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.text.includes('DiskFull')), 5000, 'the alert message')
  const ack = message.reply_markup!.inline_keyboard.flat().find((b) => /Ack/.test(b.text))!.callback_data!
  t.equal((await fake.pressButton({ chatId: GROUP, messageId: message.message_id, from: ADMIN, data: ack })).text, 'Acknowledged: silenced until it resolves.')
  t.equal((await activeSilences(am)).length, 1, 'silenced in Alertmanager')

  await am.resolveAlerts([labels])
  const deadline = Date.now() + 8000
  while (Date.now() < deadline && (await activeSilences(am)).length > 0) await new Promise((r) => setTimeout(r, 200))
  t.equal((await activeSilences(am)).length, 0, 'expired by alertwire once the alert resolved')
  await fake.waitFor(() => /^✅ RESOLVED/.test(fake.message(GROUP, message.message_id)!.text), 5000, 'the message says resolved')
  t.equal(fake.calls.filter((c) => c.method.toLowerCase() === 'getupdates').length, 0, 'nobody polls in webhook mode')
  await new Promise((r) => setTimeout(r, 500))
  const ended = [...one.logs, ...two.logs].filter((l) => l.includes('acknowledged alerts resolved'))
  t.equal(ended.length, 1, 'one replica ended it, once')
  t.equal(fake.messages(GROUP).filter((m) => m.text.includes('DiskFull')).length, 1, 'no second message about it')
})
