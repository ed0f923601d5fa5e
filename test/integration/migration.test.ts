/**
 * A group upgraded to a supergroup, end to end against the strict fake: everything alertwire keeps
 * about the chat follows it, whichever id the routes, Alertmanager and the admins use.
 */
import t, { type Test } from 'tap'
import { postWebhook, startWithFake, webhook } from '../helpers/app.js'

const OLD = -4000001
/** where the fake's migrateChat puts the supergroup */
const NEW = -1_000_000_000_000 + OLD
const ADMIN = { id: 1001, username: 'alice' }

function alert(fingerprint: string, status: 'firing' | 'resolved' = 'firing', severity = 'critical') {
  return {
    status,
    labels: { alertname: `Alert_${fingerprint}`, severity, instance: `${fingerprint}.example.com:9100` },
    annotations: { summary: `summary of ${fingerprint}` },
    startsAt: '2026-11-24T23:01:00Z',
    endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-24T23:11:00Z',
    fingerprint,
  }
}

/** setup: the configured chat is a group; its admin may act in the supergroup it will become. */
async function setup(t: Test) {
  const started = await startWithFake(t, {
    fake: { chats: [{ id: OLD, type: 'group' }] },
    env: { TELEGRAM_CHAT_ID: String(OLD) },
    yaml: `telegram: {chat_admins: {"${NEW}": [${ADMIN.id}]}}`,
  })
  return started
}

t.test('after the upgrade, a repeated firing is not announced again and a resolve is told', async (t) => {
  const { url, fake } = await setup(t)
  await postWebhook(url, webhook({ groupKey: 'resolving', alerts: [alert('m1')] }))
  const repeating = webhook({ groupKey: 'repeating', alerts: [alert('m2')] })
  await postWebhook(url, repeating)
  const announced = await fake.waitFor(() => fake.messages(OLD).length === 2 && fake.messages(OLD), 5000, 'announced in the group')
  t.equal(fake.migrateChat(OLD), NEW)

  await postWebhook(url, webhook({ groupKey: 'later', alerts: [alert('m3')] }))
  const [later] = await fake.waitFor(() => fake.messages(NEW).length === 1 && fake.messages(NEW), 5000, 'a new alert arrives in the supergroup')
  t.match(later!.text, /Alert_m3/)
  t.equal(later!.message_id, announced[0]!.message_id, "Telegram numbers messages per chat: the supergroup has a message with the id of m1's")

  await postWebhook(url, repeating)
  await postWebhook(url, webhook({ groupKey: 'resolving', status: 'resolved', alerts: [alert('m1', 'resolved')] }))
  const resolved = await fake.waitFor(() => fake.messages(NEW).find((m) => /Alert_m1/.test(m.text)), 5000, 'the resolve is told in the supergroup')
  t.match(resolved.text, /^✅ RESOLVED · Alert_m1/)
  await new Promise((r) => setTimeout(r, 500))
  t.same(
    fake.messages(NEW).map((m) => m.text.match(/Alert_m\d/)?.[0]),
    ['Alert_m3', 'Alert_m1'],
    'the repeated firing of m2 was not announced a second time',
  )
  t.equal(fake.message(NEW, later!.message_id)!.edits.length, 0, "the supergroup's message with m1's old id is left alone")
})

t.test('/mute from the supergroup holds alerts still routed to the old id; /unmute there releases them', async (t) => {
  const { url, fake } = await setup(t)
  fake.migrateChat(OLD)
  await postWebhook(url, webhook({ alerts: [alert('u1')] }))
  await fake.waitFor(() => fake.messages(NEW).length === 1, 5000, 'alertwire has followed the chat')

  fake.sendCommand({ chatId: NEW, from: ADMIN, text: '/mute 1h' })
  await fake.waitFor(() => fake.messages(NEW).some((m) => /Notifications paused here until/.test(m.text)), 5000, 'muted')
  await postWebhook(url, webhook({ groupKey: 'w', alerts: [alert('u2', 'firing', 'warning')] }))
  await new Promise((r) => setTimeout(r, 500))
  t.notOk(
    fake.messages(NEW).some((m) => /Alert_u2/.test(m.text)),
    'the warning waits',
  )

  fake.sendCommand({ chatId: NEW, from: ADMIN, text: '/unmute' })
  await fake.waitFor(() => fake.messages(NEW).some((m) => /1 held alert events follow/.test(m.text)), 5000, 'unmuted')
  await fake.waitFor(() => fake.messages(NEW).some((m) => /Alert_u2/.test(m.text)), 5000, 'the warning after unmute')
})
