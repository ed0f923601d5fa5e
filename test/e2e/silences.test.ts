/**
 * Silences made elsewhere, end to end: a real Alertmanager (Debian's) sends the alert to
 * alertwire, an operator silences it with amtool, and the chat (the strict Telegram fake) sees the
 * message marked within the watch interval, saying who and why; expiring the silence unmarks it
 * and says so. Two replicas mark once. Alertmanager unreachable is logged once, and the watcher
 * recovers. And the reminder before a chat silence ends: extended from its button (by an admin
 * only), in Alertmanager and on the message.
 */
import { createServer, type Server, type Socket, connect } from 'node:net'
import t, { type Test } from 'tap'
import { amtool, startAlertmanager } from '../helpers/alertmanager.js'
import { FAST_PACE, GROUP, startTestApp, startWithFake, WEBHOOK_TOKEN } from '../helpers/app.js'
import { mergeYaml } from '../helpers/config.js'
import { freePort } from '../helpers/net.js'
import type { FakeMessage, FakeTelegram } from '../fakes/telegram.js'

const ADMIN = { id: 1001, username: 'alice' }
const STRANGER = { id: 2002, username: 'mallory' }
const labels = { alertname: 'DiskFull', severity: 'warning', instance: 'db-1.example.com:9100' }
const WATCH = 'silences: {watch_interval: 1s, remind_before: 15s, durations: [10s, 1h]}'

/** setup: Alertmanager posting to an alertwire (on a port chosen first) that asks it back, at `amUrl` if given (a cuttable link). */
async function setup(t: Test, link?: (amUrl: string) => Promise<string>) {
  const port = await freePort()
  const am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/alerts`, bearerToken: WEBHOOK_TOKEN })
  t.teardown(() => am.stop())
  const amUrl = link ? await link(am.url) : am.url
  const yaml = `alertmanager: {url: "${amUrl}"}\n${WATCH}`
  const started = await startWithFake(t, { yaml, env: { PORT: String(port), ALERTWIRE_ADMINS: String(ADMIN.id) } })
  await am.postAlerts([{ labels, annotations: { summary: 'disk almost full' }, startsAt: new Date(Date.now() - 60_000) }])
  const message = await started.fake.waitFor(() => fake1(started.fake), 10_000, 'the alert message')
  return { ...started, am, message, yaml }
}

const fake1 = (fake: FakeTelegram) => fake.messages(GROUP).find((m) => m.text.includes('DiskFull') && !m.reply_to_message_id)

const textOf = (fake: FakeTelegram, message: FakeMessage) => fake.message(GROUP, message.message_id)!.text

const buttons = (message: { reply_markup?: { inline_keyboard: { text: string; callback_data?: string }[][] } }) =>
  message.reply_markup?.inline_keyboard.flat() ?? []
const button = (message: Parameters<typeof buttons>[0], text: RegExp) => buttons(message).find((b) => text.test(b.text))!.callback_data!

/** timesSaid counts the edits of a message that newly said what `pattern` matches. */
function timesSaid(fake: FakeTelegram, message: FakeMessage, pattern: RegExp): number {
  const looks = [message.text, ...fake.message(GROUP, message.message_id)!.edits.map((e) => e.text)]
  return looks.filter((text, i) => pattern.test(text) && (i === 0 || !pattern.test(looks[i - 1]!))).length
}

t.test('a silence added with amtool marks the message with who and why; expiring it unmarks it and says so', async (t) => {
  const { fake, am, message, app } = await setup(t)
  t.notMatch(message.text, /silenced/i)
  const started = Date.now()
  const id = await amtool(am.url, ['silence', 'add', '--author=carol', '--comment=db-1 disk swap <tonight>', '--duration=2h', 'alertname=DiskFull'])
  t.match(id, /^[0-9a-f-]{36}$/, 'amtool printed the silence id')
  await fake.waitFor(() => /silenced by carol/.test(textOf(fake, message)), 5000, 'marked silenced')
  t.ok(Date.now() - started < 3000, `marked within the watch interval (1s) and a turn: ${Date.now() - started} ms`)
  const marked = textOf(fake, message)
  t.match(marked, /🔕 silenced by carol until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC — db-1 disk swap <tonight>/, 'who, until when, and the comment')
  t.same(
    buttons(fake.message(GROUP, message.message_id)!).map((b) => b.text),
    ['🔔 Unsilence', "✋ I'm on it"],
    'Unsilence is offered',
  )
  t.match(await app.metrics.registry.getSingleMetricAsString('alertwire_silence_watch_total'), /outcome="marked"\} 1/)

  await amtool(am.url, ['silence', 'expire', id])
  await fake.waitFor(() => !/silenced by carol/.test(textOf(fake, message)), 5000, 'unmarked')
  t.match(textOf(fake, message), /silence expired/, 'the message says the silence expired')
  await new Promise((r) => setTimeout(r, 2500))
  t.equal(timesSaid(fake, message, /silenced by carol/), 1, 'marked once')
  t.equal(timesSaid(fake, message, /silence expired/), 1, 'unmarked once')
  t.equal(fake.calls.filter((c) => c.status >= 400).length, 0, 'Telegram accepted every call')
})

t.test('two replicas on one Redis mark the message once', async (t) => {
  const { fake, am, message, prefix, yaml, app } = await setup(t)
  const second = await startTestApp(t, {
    prefix,
    yaml: mergeYaml(FAST_PACE.yaml, yaml),
    env: { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_URL: fake.url, TELEGRAM_CHAT_ID: String(GROUP), ALERTWIRE_ADMINS: String(ADMIN.id) },
  })
  await amtool(am.url, ['silence', 'add', '--author=carol', '--comment=both replicas see it', '--duration=1h', 'instance=db-1.example.com:9100'])
  await fake.waitFor(() => /silenced by carol/.test(textOf(fake, message)), 5000, 'marked silenced')
  await new Promise((r) => setTimeout(r, 3000))
  t.equal(timesSaid(fake, message, /silenced by carol/), 1, 'one mark')
  const records = await app.store.records(String(GROUP), [message.message_id])
  t.equal(records.get(message.message_id)!.timeline!.filter((e) => e.kind === 'silenced').length, 1, 'one silenced event on the timeline')
  const marks = async (a: typeof app) => /outcome="marked"\} (\d+)/.exec(await a.metrics.registry.getSingleMetricAsString('alertwire_silence_watch_total'))?.[1]
  t.same(
    [await marks(app), await marks(second.app)].map(Number).reduce((x, y) => x + (Number.isNaN(y) ? 0 : y), 0),
    1,
    'counted once across replicas',
  )
})

/** cuttable: a TCP link to `target` that can be cut (connections refused) and restored on the same port. */
async function cuttable(t: Test, target: string) {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  let server: Server | undefined
  const listenPort = await freePort()
  const open = () =>
    new Promise<void>((resolve) => {
      server = createServer((socket) => {
        const upstream = connect(Number(port), hostname)
        sockets.add(socket).add(upstream)
        socket.pipe(upstream).pipe(socket)
        for (const s of [socket, upstream]) s.on('error', () => undefined).on('close', () => sockets.delete(s))
      })
      server.listen(listenPort, '127.0.0.1', resolve)
    })
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server!.close(() => resolve())
    })
  await open()
  t.teardown(() => (server?.listening ? cut() : undefined))
  return { url: `http://127.0.0.1:${listenPort}`, cut, open }
}

t.test('Alertmanager unreachable: logged once, counted, and the watcher recovers', async (t) => {
  let link: Awaited<ReturnType<typeof cuttable>> | undefined
  const { fake, am, message, app, logs } = await setup(t, async (url) => {
    link = await cuttable(t, url)
    return link.url
  })
  await new Promise((r) => setTimeout(r, 1500)) // a good round first
  await link!.cut()
  await new Promise((r) => setTimeout(r, 5000)) // several rounds, with backoff
  const failures = logs.filter((line) => /"level":40/.test(line) && /silence watcher failed/.test(line))
  t.equal(failures.length, 1, `logged once:\n${failures.join('\n')}`)
  const down = /outcome="alertmanager_down"\} (\d+)/.exec(await app.metrics.registry.getSingleMetricAsString('alertwire_silence_watch_total'))
  t.ok(Number(down?.[1]) >= 2, `counted each failed round: ${down?.[1]}`)

  await amtool(am.url, ['silence', 'add', '--author=carol', '--comment=made while alertwire could not see', '--duration=1h', 'alertname=DiskFull'])
  await link!.open()
  await fake.waitFor(() => /silenced by carol/.test(textOf(fake, message)), 15_000, 'marked once Alertmanager is back')
  t.ok(
    logs.some((line) => /silence watcher: working again/.test(line)),
    'says it works again',
  )
})

t.test('a chat silence about to end: one reminder; "Extend 1h" extends it in Alertmanager and on the message; others are refused', async (t) => {
  const { fake, am, message, app } = await setup(t)
  const answer = await fake.pressButton({ chatId: GROUP, messageId: message.message_id, from: ADMIN, data: button(message, /10s/) })
  t.equal(answer.text, 'Silenced for 10s.')
  const [silence] = (await am.getSilences()).filter((s) => s.status.state === 'active')
  const reminder = await fake.waitFor(
    () => fake.messages(GROUP).find((m) => m.reply_to_message_id === message.message_id && /silence ends/.test(m.text)),
    5000,
    'the reminder',
  )
  t.match(reminder.text, /^🔕 The silence ends at \d\d:\d\d while DiskFull still fires\.$/)
  t.same(
    buttons(reminder).map((b) => b.text),
    ['Extend 1h', 'Extend 4h', 'Let it lapse'],
  )
  const untilBefore = /until (.*? UTC)/.exec(textOf(fake, message))![1]

  const refused = await fake.pressButton({ chatId: GROUP, messageId: reminder.message_id, from: STRANGER, data: button(reminder, /Extend 1h/) })
  t.equal(refused.text, 'Sorry, only alertwire admins can do this here.', 'a non-admin is refused politely')
  t.match(await app.metrics.registry.getSingleMetricAsString('alertwire_admin_actions_total'), /action="ex0",outcome="refused"\} 1/)
  t.equal(Date.parse((await am.getSilence(silence!.id)).endsAt), Date.parse(silence!.endsAt), 'and nothing changed')

  const extended = await fake.pressButton({ chatId: GROUP, messageId: reminder.message_id, from: ADMIN, data: button(reminder, /Extend 1h/) })
  t.match(extended.text, /^Extended by 1h: the silence ends at /)
  const after = (await am.getSilences()).filter((s) => s.status.state === 'active')
  t.equal(after.length, 1, 'still one silence')
  t.equal(after[0]!.id, silence!.id, 'Alertmanager changed it in place (same matchers and start)')
  t.equal(Date.parse(after[0]!.endsAt) - Date.parse(silence!.endsAt), 3_600_000, 'ends an hour later')
  await fake.waitFor(() => !textOf(fake, message).includes(untilBefore!), 5000, 'the message shows the new end')
  t.match(textOf(fake, message), /Silenced by @alice \(1001\) until/)
  await fake.waitFor(() => /extended the silence by 1h/.test(fake.message(GROUP, reminder.message_id)!.text), 5000, 'the reminder says so')
  t.same(buttons(fake.message(GROUP, reminder.message_id)!), [], 'and has no buttons left')

  await new Promise((r) => setTimeout(r, 12_000)) // past the first end: no second reminder, still silenced
  t.equal(fake.messages(GROUP).filter((m) => m.reply_to_message_id === message.message_id).length, 1, 'reminded once (the only reply)')
  t.match(textOf(fake, message), /Silenced by @alice/, 'still silenced')
  // the 'reminded' event changes the record's timeline, not what the message shows: no edit is made for it (Telegram would say "not modified")
  const failed = fake.calls.filter((c) => c.status >= 400)
  t.equal(failed.length, 0, `Telegram accepted every call: ${JSON.stringify(failed)}`)
})

t.test('"Let it lapse": the reminder says so, and the silence ends as planned', async (t) => {
  const { fake, message, am } = await setup(t)
  await fake.pressButton({ chatId: GROUP, messageId: message.message_id, from: ADMIN, data: button(message, /10s/) })
  const reminder = await fake.waitFor(
    () => fake.messages(GROUP).find((m) => m.reply_to_message_id === message.message_id && /silence ends/.test(m.text)),
    5000,
    'the reminder',
  )
  const answer = await fake.pressButton({ chatId: GROUP, messageId: reminder.message_id, from: ADMIN, data: button(reminder, /lapse/) })
  t.equal(answer.text, 'The silence will lapse.')
  await fake.waitFor(() => /@alice lets it lapse/.test(fake.message(GROUP, reminder.message_id)!.text), 5000, 'the reminder says so')
  await fake.waitFor(() => /silence expired/.test(textOf(fake, message)), 15_000, 'the message says the silence ended')
  t.notMatch(textOf(fake, message), /Silenced by/)
  t.equal((await am.getAlerts({ silenced: false })).length, 1, 'the alert fires unsilenced')
})
