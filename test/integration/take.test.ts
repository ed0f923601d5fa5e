/**
 * "✋ I'm on it", end to end: the strict Telegram fake presses the buttons and sends the commands,
 * real Redis keeps the message's record. An admin takes an alert and the message says so, release
 * gives it back, anyone else is refused and nothing changes, /timeline answers, and the resolved
 * edit shows the short timeline with the time to take and to resolve, which the metrics count.
 */
import t from 'tap'
import { countedSoon, GROUP, postWebhook, startWithFake, webhook } from '../helpers/app.js'

const ADMIN = { id: 1001, username: 'alice' }
const STRANGER = { id: 2002, username: 'mallory' }
const labels = { alertname: 'DiskFull', severity: 'critical', instance: 'db-1.example.com:9100', job: 'node' }
const startsAt = new Date(Date.now() - 60_000).toISOString()

const alertOf = (status: 'firing' | 'resolved') => ({
  status,
  labels,
  annotations: { summary: 'disk almost full' },
  startsAt,
  endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : new Date().toISOString(),
  fingerprint: 'ab12cd34',
})

type Message = { text: string; message_id: number; reply_markup?: { inline_keyboard: { text: string; callback_data?: string }[][] } }
const buttons = (message: Message) => message.reply_markup?.inline_keyboard.flat() ?? []
const button = (message: Message, text: RegExp) => buttons(message).find((b) => text.test(b.text))?.callback_data ?? ''

t.test("I'm on it: taken and released by an admin, refused to anyone else; /timeline; the resolved edit sums it up", async (t) => {
  const { url, fake, app } = await startWithFake(t, { env: { ALERTWIRE_ADMINS: String(ADMIN.id) } })
  await postWebhook(url, webhook({ groupKey: 'g', alerts: [alertOf('firing')] }))
  const message = await fake.waitFor(() => fake.messages(GROUP).find((m) => /DiskFull/.test(m.text)), 5000, 'the alert message')
  const id = message.message_id
  const now = () => fake.message(GROUP, id)! as unknown as Message & { edits: unknown[] }

  const refused = await fake.pressButton({ chatId: GROUP, messageId: id, from: STRANGER, data: button(message, /I'm on it/) })
  t.equal(refused.text, 'Sorry, only alertwire admins can do this here.')
  fake.sendCommand({ chatId: GROUP, from: STRANGER, text: '/take', replyTo: id })
  await fake.waitFor(() => fake.messages(GROUP).some((m) => /only alertwire admins can use \/take/.test(m.text)), 5000, 'a polite refusal')
  t.equal(now().edits.length, 0, 'refused: the message is unchanged')

  const taken = await fake.pressButton({ chatId: GROUP, messageId: id, from: ADMIN, data: button(message, /I'm on it/) })
  t.equal(taken.text, "✋ You're on it. Nothing was silenced.")
  const marked = await fake.waitFor(() => /✋ taken by @alice at \d\d:\d\d$/.test(now().text) && now(), 5000, 'the message says who took it')
  t.same(
    buttons(marked).map((b) => b.text),
    ['🔕 1h', '🔕 4h', '🔕 1d', '↩️ Release', '✋ Ack until resolved'],
    'Release in place of "I\'m on it"; nothing was silenced',
  )

  const released = await fake.pressButton({ chatId: GROUP, messageId: id, from: ADMIN, data: button(marked, /Release/) })
  t.equal(released.text, '↩️ Released: nobody is on it now.')
  await fake.waitFor(() => !/taken by/.test(now().text) && button(now(), /I'm on it/) !== '', 5000, 'given back')

  // taken again, by command this time, so the resolved edit has someone to name
  fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/take', replyTo: id })
  await fake.waitFor(() => /taken by @alice/.test(now().text), 5000, 'taken with /take')

  const asked = fake.sendCommand({ chatId: GROUP, from: STRANGER, text: '/timeline', replyTo: id }) as { message_id: number }
  const timeline = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.reply_to_message_id === asked.message_id), 5000, '/timeline answers anyone')
  t.match(timeline.text, /🕒 Timeline · DiskFull\n.*🔥 fired\n.*✋ taken by @alice\n.*↩️ released by @alice\n.*✋ taken by @alice/)

  await postWebhook(url, webhook({ groupKey: 'g', status: 'resolved', alerts: [alertOf('resolved')] }))
  const resolved = await fake.waitFor(() => /^✅ RESOLVED/.test(now().text) && now(), 5000, 'the resolved edit')
  t.match(resolved.text, /\d\d:\d\d 🔥 fired\n\d\d:\d\d ✋ taken by @alice\n\d\d:\d\d ✅ resolved\n✋ taken after \d+(ms|s) · ✅ resolved after \d+(ms|s)$/)
  t.same(buttons(resolved), [], 'nothing left to press')

  const metric = (name: string) => app.metrics.registry.getSingleMetricAsString(name)
  const acknowledged = /alertwire_time_to_acknowledge_seconds_count\{route="[^"]*",severity="critical"\} 1/
  const resolvedIn = /alertwire_time_to_resolve_seconds_count\{route="[^"]*",severity="critical"\} 1/
  t.match(await countedSoon(app, 'alertwire_time_to_acknowledge_seconds', acknowledged), acknowledged)
  t.match(await countedSoon(app, 'alertwire_time_to_resolve_seconds', resolvedIn), resolvedIn)
  t.notMatch(await metric('alertwire_alerts_resolved_untaken_total'), /severity="critical"\} [1-9]/, 'it was taken')
  const actions = await metric('alertwire_admin_actions_total')
  t.match(actions, /action="tk",outcome="refused"\} 1/)
  t.match(actions, /action="take",outcome="refused"\} 1/)
  t.match(actions, /action="take",outcome="ok"\} 2/)
  t.match(actions, /action="release",outcome="ok"\} 1/)
})

t.test('an alert nobody takes is counted as resolved untaken', async (t) => {
  const { url, fake, app } = await startWithFake(t, { env: { ALERTWIRE_ADMINS: String(ADMIN.id) } })
  await postWebhook(url, webhook({ groupKey: 'g', alerts: [alertOf('firing')] }))
  const message = await fake.waitFor(() => fake.messages(GROUP).find((m) => /DiskFull/.test(m.text)), 5000, 'the alert message')
  fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/take' })
  await fake.waitFor(() => fake.messages(GROUP).some((m) => /Reply to an alert message with \/take/.test(m.text)), 5000, 'how to use /take')
  await postWebhook(url, webhook({ groupKey: 'g', status: 'resolved', alerts: [alertOf('resolved')] }))
  const resolved = await fake.waitFor(
    () => /^✅ RESOLVED/.test(fake.message(GROUP, message.message_id)!.text) && fake.message(GROUP, message.message_id)!,
    5000,
    'the resolved edit',
  )
  t.match(resolved.text, /nobody took it · ✅ resolved after/)
  const untaken = /alertwire_alerts_resolved_untaken_total\{route="[^"]*",severity="critical"\} 1/
  t.match(await countedSoon(app, 'alertwire_alerts_resolved_untaken_total', untaken), untaken)
})
