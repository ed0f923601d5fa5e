/**
 * The Telegram admin, end to end: the strict fake injects commands and button presses from
 * admins and others; silences are created in (and expired from) a real Alertmanager.
 */
import t, { type Test } from 'tap'
import { type AlertmanagerHandle, startAlertmanager } from '../helpers/alertmanager.js'
import { countedSoon, GROUP, postWebhook, startWithFake, webhook } from '../helpers/app.js'

const ADMIN = { id: 1001, username: 'alice' }
const STRANGER = { id: 2002, username: 'mallory' }
const labels = { alertname: 'DiskFull', severity: 'warning', instance: 'db-1.example.com:9100', job: 'node' }

async function setup(t: Test, yaml = '') {
  const am = await startAlertmanager({ webhookUrl: 'http://127.0.0.1:9/unused' })
  t.teardown(() => am.stop())
  const started = await startWithFake(t, {
    yaml: `alertmanager: {url: "${am.url}"}\nsilences: {ack_check_interval: 500ms}\n${yaml}`,
    env: { ALERTWIRE_ADMINS: String(ADMIN.id) },
  })
  return { ...started, am }
}

async function announce(url: string, fake: Awaited<ReturnType<typeof setup>>['fake'], fingerprint = 'ab12cd34', extra: Record<string, string> = {}) {
  await postWebhook(
    url,
    webhook({
      groupKey: fingerprint,
      alerts: [
        {
          status: 'firing',
          labels: { ...labels, ...extra },
          annotations: { summary: 'disk almost full' },
          startsAt: new Date(Date.now() - 60_000).toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
          fingerprint,
        },
      ],
    }),
  )
  return fake.waitFor(() => fake.messages(GROUP).find((m) => m.text.includes(extra.instance ?? labels.instance)), 5000, 'the alert message')
}

const buttons = (message: { reply_markup?: { inline_keyboard: { text: string; callback_data?: string }[][] } }) =>
  message.reply_markup?.inline_keyboard.flat() ?? []
const button = (message: Parameters<typeof buttons>[0], text: RegExp) => buttons(message).find((b) => text.test(b.text))!.callback_data!

async function activeSilences(am: AlertmanagerHandle) {
  return (await am.getSilences()).filter((s) => s.status.state === 'active')
}

t.test('silence from a button: created in Alertmanager, shown on the message, undone with Unsilence', async (t) => {
  const { url, fake, am } = await setup(t)
  const message = await announce(url, fake)
  t.same(
    buttons(message).map((b) => b.text),
    ['🔕 1h', '🔕 4h', '🔕 1d', "✋ I'm on it", '✋ Ack until resolved'],
  )
  t.ok(
    buttons(message).every((b) => Buffer.byteLength(b.callback_data!) <= 64),
    'callback data within 64 bytes',
  )
  const answer = await fake.pressButton({ chatId: GROUP, messageId: message.message_id, from: ADMIN, data: button(message, /4h/) })
  t.equal(answer.text, 'Silenced for 4h.')
  const [silence] = await activeSilences(am)
  t.ok(silence, 'the silence is in Alertmanager')
  t.equal(silence!.createdBy, 'telegram:@alice (1001)')
  t.same(
    silence!.matchers.map((m) => `${m.name}=${m.value}`).sort(),
    Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .sort(),
    "matchers on exactly the alert's labels",
  )
  t.ok(Math.abs(Date.parse(silence!.endsAt) - Date.now() - 4 * 3_600_000) < 60_000, 'for 4 hours')
  const marked = await fake.waitFor(
    () => {
      const m = fake.message(GROUP, message.message_id)!
      return /Silenced by @alice/.test(m.text) && m
    },
    5000,
    'the message says who silenced it',
  )
  t.match(marked.text, /🔕 Silenced by @alice \(1001\) until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/)
  t.same(
    buttons(marked).map((b) => b.text),
    ['🔔 Unsilence', "✋ I'm on it"],
  )
  const undo = await fake.pressButton({ chatId: GROUP, messageId: message.message_id, from: ADMIN, data: button(marked, /Unsilence/) })
  t.equal(undo.text, 'Unsilenced.')
  t.equal((await activeSilences(am)).length, 0, 'expired in Alertmanager')
  const back = await fake.waitFor(
    () => {
      const m = fake.message(GROUP, message.message_id)!
      return !/Silenced/.test(m.text) && m
    },
    5000,
    'the note is gone',
  )
  t.equal(buttons(back).length, 5, 'the silence buttons are back')
})

t.test('anyone else is refused politely, and nothing changes', async (t) => {
  const { url, fake, am, app } = await setup(t)
  const message = await announce(url, fake)
  const answer = await fake.pressButton({ chatId: GROUP, messageId: message.message_id, from: STRANGER, data: button(message, /1h/) })
  t.equal(answer.text, 'Sorry, only alertwire admins can do this here.')
  t.equal((await activeSilences(am)).length, 0)
  t.equal(fake.message(GROUP, message.message_id)!.edits.length, 0)
  fake.sendCommand({ chatId: GROUP, from: STRANGER, text: '/silence alertname=DiskFull 1h' })
  await fake.waitFor(() => fake.messages(GROUP).some((m) => /only alertwire admins can use \/silence/.test(m.text)), 5000, 'a refusal')
  t.equal((await activeSilences(am)).length, 0)
  t.match(await app.metrics.registry.getSingleMetricAsString('alertwire_admin_actions_total'), /action="silence",outcome="refused"\} 1/)
})

t.test('forged, unknown, replayed and expired buttons are refused', async (t) => {
  const { url, fake, am } = await setup(t)
  const message = await announce(url, fake)
  let presses = 0
  const press = async (data: string, chat = GROUP) => {
    const id = `forged-${++presses}`
    fake.injectUpdate({
      callback_query: {
        id,
        from: { id: ADMIN.id, is_bot: false, first_name: 'a' },
        chat_instance: '1',
        data,
        message: { message_id: message.message_id, date: 0, chat: { id: chat, type: 'supergroup' } },
      },
    })
    const call = await fake.waitFor(
      () => fake.calls.find((c) => c.method.toLowerCase() === 'answercallbackquery' && c.params.callback_query_id === id),
      5000,
      'an answer',
    )
    return String(call.params.text)
  }
  t.equal(await press('s0.AAAAAAAAAAAAAAAAAAAAAA'), 'This button has expired.', 'a well-formed token nobody issued')
  t.equal(await press('rm-rf.everything'), 'This button is not valid.')
  const token = button(message, /1h/).split('.')[1]!
  t.equal(await press(`s9.${token}`), 'This button is not valid.', 'a real token with an action alertwire never offered')
  t.equal(await press(`s0.${token}`, -1002000000002), 'This button has expired.', 'a real token replayed from another chat')
  t.equal((await am.getSilences()).length, 0, 'none of them silenced anything')
})

t.test('ack until resolved: the silence is expired by alertwire when the alert resolves', async (t) => {
  const { url, fake, am, app } = await setup(t)
  await am.postAlerts([{ labels }])
  const [alert] = await am.getAlerts()
  const message = await announce(url, fake, alert!.fingerprint)
  t.equal(
    (await fake.pressButton({ chatId: GROUP, messageId: message.message_id, from: ADMIN, data: button(message, /Ack/) })).text,
    'Acknowledged: silenced until it resolves.',
  )
  await fake.waitFor(() => /Acknowledged by @alice/.test(fake.message(GROUP, message.message_id)!.text), 5000, 'acknowledged on the message')
  t.equal((await activeSilences(am)).length, 1)
  await am.resolveAlerts([labels])
  const deadline = Date.now() + 8000
  while (Date.now() < deadline && (await activeSilences(am)).length > 0) await new Promise((r) => setTimeout(r, 200))
  t.equal((await activeSilences(am)).length, 0, 'expired by alertwire once the alert resolved')
  await fake.waitFor(() => /^✅ RESOLVED/.test(fake.message(GROUP, message.message_id)!.text), 5000, 'the message says resolved')
  t.notMatch(fake.message(GROUP, message.message_id)!.text, /Acknowledged/)
  // the ack is on the message's timeline, and measured once as its time to acknowledge
  t.match(fake.message(GROUP, message.message_id)!.text, /\d\d:\d\d ✋ acknowledged by @alice\n.*\n✋ acknowledged after \d+(ms|s) · ✅ resolved after/)
  const acknowledged = /_count\{route="[^"]*",severity="warning"\} 1/
  t.match(await countedSoon(app, 'alertwire_time_to_acknowledge_seconds', acknowledged), acknowledged)
})

t.test('Alertmanager down: a clear error in the chat, nothing half-done', async (t) => {
  const { url, fake, am } = await setup(t)
  const message = await announce(url, fake)
  await am.kill()
  const answer = await fake.pressButton({ chatId: GROUP, messageId: message.message_id, from: ADMIN, data: button(message, /1h/) })
  t.match(answer.text, /^Not silenced: Alertmanager at http:\/\/127\.0\.0\.1:\d+ is unreachable/)
  t.equal(answer.show_alert, true, 'shown as an alert, not a passing toast')
  await new Promise((r) => setTimeout(r, 500))
  t.equal(fake.message(GROUP, message.message_id)!.edits.length, 0, 'the message is unchanged')
})

t.test('commands: /silence, /silences with Expire, /unsilence, /alerts, /ack, /status, /help', async (t) => {
  const { url, fake, am } = await setup(t)
  const reply = async (text: string, replyTo?: number) => {
    const sent = fake.sendCommand({ chatId: GROUP, from: ADMIN, text, ...(replyTo ? { replyTo } : {}) }) as { message_id: number }
    return fake.waitFor(() => fake.messages(GROUP).find((m) => m.reply_to_message_id === sent.message_id), 5000, `reply to ${text}`)
  }
  t.match(
    (await reply('/silence alertname=DiskFull instance=~"db-.*" 2h planned maintenance')).text,
    /^🔕 Silenced alertname="DiskFull", instance=~"db-\.\*" for 2h \(id [0-9a-f-]+\)\.$/,
  )
  const [silence] = await activeSilences(am)
  t.equal(silence!.comment, 'planned maintenance')
  t.match((await reply('/silence instance=~".*" 1h')).text, /Not silenced: these matchers would silence everything/)
  t.match((await reply('/silence alertname=X')).text, /give a duration like 2h/)
  const list = await reply('/silences')
  t.match(list.text, /1 active silence/)
  t.match(list.text, /alertname="DiskFull", instance=~"db-\.\*"/)
  t.equal(
    (await fake.pressButton({ chatId: GROUP, messageId: list.message_id, from: ADMIN, data: button(list, /Expire #1/) })).text,
    `🔔 Silence ${silence!.id} expired.`,
  )
  t.equal((await activeSilences(am)).length, 0)
  t.match((await reply(`/unsilence ${silence!.id}`)).text, /expired/, 'expiring twice is fine')

  await am.postAlerts([{ labels: { ...labels, severity: 'critical', alertname: 'NodeDown' } }, { labels }])
  const alerts = await reply('/alerts')
  t.match(alerts.text, /^🔥 2 firing\n1\. 🔴 NodeDown/, 'most severe first')
  t.match(alerts.text, /2\. 🟠 DiskFull/)
  t.equal((await fake.pressButton({ chatId: GROUP, messageId: alerts.message_id, from: ADMIN, data: button(alerts, /#2/) })).text, 'Silenced for 1h.')
  t.equal((await activeSilences(am))[0]!.matchers.find((m) => m.name === 'alertname')!.value, 'DiskFull')

  const message = await announce(url, fake, 'ee77ff88', { instance: 'db-9.example.com:9100' })
  t.equal((await reply('/ack', message.message_id)).text, 'Acknowledged: silenced until it resolves.')
  t.match((await reply('/ack')).text, /Reply to an alert message/)
  const status = await reply('/status')
  t.match(status.text, /alertwire: ✅ Redis/)
  t.match(status.text, /Alertmanager: ✅ version 0\.25/)
  t.match(status.text, new RegExp(`chat ${GROUP}: one message per`))
  t.match((await reply('/help')).text, /\/silence — Silence:/)
  t.same(
    fake.myCommands().map((c) => c.command),
    [
      'alerts',
      'silences',
      'silence',
      'unsilence',
      'ack',
      'take',
      'release',
      'timeline',
      'mute',
      'unmute',
      'status',
      'graph',
      'dashboards',
      'dashboard',
      'metrics',
      'oncall',
      'help',
    ],
    'registered with setMyCommands',
  )
})

t.test('/mute pauses this chat (critical still comes, silently); /unmute releases what waited', async (t) => {
  const { url, fake } = await setup(t)
  fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/mute 1h' })
  await fake.waitFor(() => fake.messages(GROUP).some((m) => /Notifications paused here until/.test(m.text)), 5000, 'muted')
  await postWebhook(
    url,
    webhook({ groupKey: 'w', alerts: [{ status: 'firing', labels, annotations: {}, startsAt: new Date().toISOString(), fingerprint: 'aa00aa00' }] }),
  )
  await postWebhook(
    url,
    webhook({
      groupKey: 'c',
      alerts: [
        {
          status: 'firing',
          labels: { ...labels, severity: 'critical', alertname: 'NodeDown' },
          annotations: {},
          startsAt: new Date().toISOString(),
          fingerprint: 'bb00bb00',
        },
      ],
    }),
  )
  const critical = await fake.waitFor(() => fake.messages(GROUP).find((m) => /NodeDown/.test(m.text)), 5000, 'the critical alert')
  t.equal(critical.disable_notification, true, 'critical comes, silently')
  await new Promise((r) => setTimeout(r, 500))
  t.notOk(
    fake.messages(GROUP).some((m) => /DiskFull/.test(m.text)),
    'the warning waits',
  )
  fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/unmute' })
  await fake.waitFor(() => fake.messages(GROUP).some((m) => /Notifications resumed; 1 held alert events follow/.test(m.text)), 5000, 'unmuted')
  await fake.waitFor(() => fake.messages(GROUP).some((m) => /DiskFull/.test(m.text)), 5000, 'the warning after unmute')
})

t.test('commands are answered only where alertwire serves, or privately to an admin', async (t) => {
  const { fake } = await setup(t, `telegram: {chat_admins: {"${GROUP}": [3003]}}`)
  fake.addChat({ id: -1009999999999, type: 'supergroup' })
  fake.addChat({ id: ADMIN.id, type: 'private' })
  fake.addChat({ id: STRANGER.id, type: 'private' })
  fake.sendCommand({ chatId: -1009999999999, from: ADMIN, text: '/help' })
  fake.sendCommand({ chatId: STRANGER.id, from: STRANGER, text: '/help' })
  fake.sendCommand({ chatId: ADMIN.id, from: ADMIN, text: '/help' })
  await fake.waitFor(() => fake.messages(ADMIN.id).length === 1, 5000, 'the admin is answered privately')
  await new Promise((r) => setTimeout(r, 500))
  t.equal(fake.messages(-1009999999999).length, 0, 'an unknown group is not answered')
  t.equal(fake.messages(STRANGER.id).length, 0, "a stranger's private chat is not answered")
  fake.sendCommand({ chatId: GROUP, from: { id: 3003, username: 'bob' }, text: '/mute 5m' })
  await fake.waitFor(() => fake.messages(GROUP).some((m) => /paused/.test(m.text)), 5000, 'a chat admin may act in that chat')
})

t.test("optionally, the group's own Telegram administrators may act there (asked with getChatMember)", async (t) => {
  const { fake } = await setup(t, 'telegram: {chat_administrators: true}')
  fake.setChatMember(GROUP, 4004, 'administrator')
  fake.setChatMember(GROUP, 5005, 'member')
  fake.sendCommand({ chatId: GROUP, from: { id: 5005, username: 'member' }, text: '/mute 5m' })
  await fake.waitFor(() => fake.messages(GROUP).some((m) => /only alertwire admins can use \/mute/.test(m.text)), 5000, 'a member is refused')
  fake.sendCommand({ chatId: GROUP, from: { id: 4004, username: 'groupadmin' }, text: '/mute 5m' })
  await fake.waitFor(() => fake.messages(GROUP).some((m) => /Notifications paused/.test(m.text)), 5000, 'a group administrator may act')
  t.ok(
    fake.calls.some((c) => c.method.toLowerCase() === 'getchatmember'),
    'Telegram was asked',
  )
})

t.test("long lists are paged within Telegram's limits", async (t) => {
  const { fake, am } = await setup(t)
  await am.postAlerts(
    Array.from({ length: 23 }, (_, i) => ({ labels: { ...labels, instance: `db-${i}.example.com:9100` }, annotations: { summary: 'x'.repeat(180) } })),
  )
  const sent = fake.sendCommand({ chatId: GROUP, from: ADMIN, text: '/alerts' }) as { message_id: number }
  const list = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.reply_to_message_id === sent.message_id), 5000, 'page 1')
  t.match(list.text, /^🔥 23 firing · page 1\/3/)
  t.equal(buttons(list).filter((b) => /#\d+/.test(b.text)).length, 10, 'ten alerts, a button each')
  await fake.pressButton({ chatId: GROUP, messageId: list.message_id, from: STRANGER, data: button(list, /Next/) })
  const second = await fake.waitFor(
    () => {
      const m = fake.message(GROUP, list.message_id)!
      return /page 2\/3/.test(m.text) && m
    },
    5000,
    'page 2, shown to anyone',
  )
  t.match(second.text, /\n11\. /)
  t.ok(buttons(second).some((b) => /Previous/.test(b.text)) && buttons(second).some((b) => /Next/.test(b.text)))
  t.ok(fake.messages(GROUP).every((m) => m.text.length <= 4096))
})
