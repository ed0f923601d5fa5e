/**
 * Delivery through a real app, real Redis and the strict Telegram fake: what the chat sees.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { GROUP, PERSON, postWebhook, startTestApp, startWithFake, webhook } from '../helpers/app.js'

const HOSTILE = `<b>&amp; "quoted" </i> <script>x</script> *bold* _it_ [l](http://x) & < > 😀 \u0007`

function alert(fingerprint: string, over: Record<string, unknown> = {}, labels: Record<string, string> = {}) {
  return {
    status: 'firing',
    labels: { alertname: 'HighLatency', severity: 'critical', instance: `${fingerprint}:9100`, ...labels },
    annotations: { summary: `p99 high on ${fingerprint}` },
    startsAt: '2026-11-24T23:01:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.example.com/graph?g0.expr=up',
    fingerprint,
    ...over,
  }
}

function resolved(fingerprint: string, labels: Record<string, string> = {}) {
  return alert(fingerprint, { status: 'resolved', endsAt: '2026-11-24T23:13:00Z' }, labels)
}

t.test('a firing alert reaches the chat; its resolve edits that message and replies to it', async (t) => {
  const { url, fake } = await startWithFake(t)
  t.equal((await postWebhook(url, webhook({ alerts: [alert('aa11')] }))).status, 200)
  const [message] = await fake.waitFor(() => fake.messages(GROUP).length === 1 && fake.messages(GROUP), 5000, 'firing message')
  t.match(message!.text, /^🔴 CRITICAL · HighLatency\n/)
  t.equal(message!.parse_mode, 'HTML')
  t.equal(message!.disable_notification, false, 'critical alerts notify')
  t.match(message!.text, /instance: aa11:9100/)
  await postWebhook(url, webhook({ status: 'resolved', alerts: [resolved('aa11')] }))
  const reply = await fake.waitFor(() => fake.messages(GROUP)[1], 5000, 'resolved reply')
  const edited = fake.message(GROUP, message!.message_id)!
  t.equal(edited.edits.length, 1, 'the original message was edited once')
  t.match(edited.text, /^✅ RESOLVED · HighLatency/)
  t.match(edited.text, /resolved after 12m/)
  t.equal(reply.reply_to_message_id, message!.message_id, 'the reply points at the original')
  t.match(reply.text, /^✅ Resolved: HighLatency/)
  t.equal(fake.stats.tooManyRequests, 0)
})

t.test('hostile label values read exactly as written and Telegram never refuses the message', async (t) => {
  const { url, fake } = await startWithFake(t)
  await postWebhook(
    url,
    webhook({
      alerts: [alert('bb22', { annotations: { summary: HOSTILE, description: HOSTILE, runbook_url: HOSTILE } }, { instance: HOSTILE, team: HOSTILE })],
    }),
  )
  const [message] = await fake.waitFor(() => fake.messages(GROUP).length === 1 && fake.messages(GROUP), 5000, 'hostile message')
  t.ok(message!.text.includes(HOSTILE), 'the value as written')
  t.equal(fake.calls.filter((c) => c.status === 400).length, 0, 'no 400 from Telegram')
  t.equal(message!.parse_mode, 'HTML', 'and no plain-text fallback was needed')
})

t.test('silent severities, forum topics and routes reach the right chat the right way', async (t) => {
  const { url, fake } = await startWithFake(t, {
    fake: {
      chats: [
        { id: GROUP, type: 'supergroup', isForum: true, topics: [7] },
        { id: PERSON, type: 'private' },
      ],
    },
    yaml: `
routing:
  silent_severities: [info, warning]
  routes:
    - name: db
      matchers: ['team="db"']
      chats: [{chat_id: ${GROUP}, thread_id: 7}, {chat_id: ${PERSON}}]
`,
  })
  await postWebhook(url, webhook({ groupKey: 'g-db', alerts: [alert('cc33', {}, { team: 'db', severity: 'warning' })] }))
  await postWebhook(url, webhook({ groupKey: 'g-other', alerts: [alert('dd44', {}, { severity: 'critical' })] }))
  await fake.waitFor(() => fake.messages(GROUP).length === 2 && fake.messages(PERSON).length === 1, 5000, 'three messages')
  const [topic, general] = fake.messages(GROUP)
  t.equal(topic!.message_thread_id, 7)
  t.equal(topic!.disable_notification, true, 'warning is silent')
  t.equal(general!.message_thread_id, undefined)
  t.equal(general!.disable_notification, false)
  t.match(fake.messages(PERSON)[0]!.text, /WARNING/)
})

t.test('duplicates from an HA pair, webhook retries and repeat notifications make one message', async (t) => {
  const { url, fake } = await startWithFake(t)
  const body = webhook({ alerts: [alert('ee55'), alert('ff66')] })
  await Promise.all([postWebhook(url, body), postWebhook(url, body), postWebhook(url, body)])
  await postWebhook(url, body)
  await fake.waitFor(() => fake.messages(GROUP).length >= 1, 5000, 'group message')
  await new Promise((r) => setTimeout(r, 700))
  t.equal(fake.messages(GROUP).length, 1, 'one message for the group')
  t.match(fake.messages(GROUP)[0]!.text, /2 alerts/)
  await postWebhook(url, webhook({ alerts: [alert('ee55'), alert('ff66'), alert('gg77')] }))
  await fake.waitFor(() => fake.messages(GROUP).length === 2, 5000, 'only the new alert')
  t.match(fake.messages(GROUP)[1]!.text, /gg77/)
  t.notMatch(fake.messages(GROUP)[1]!.text, /ee55|ff66/, 'alerts already announced are not announced again')
})

t.test('messages to one chat keep their order and stay inside the chat limit', async (t) => {
  const { url, fake } = await startWithFake(t)
  for (let i = 0; i < 25; i++)
    await postWebhook(url, webhook({ groupKey: `order-${i}`, alerts: [alert(`o${i}`, {}, { alertname: `Alert${String(i).padStart(2, '0')}` })] }))
  await fake.waitFor(() => fake.messages(GROUP).length === 25, 15_000, '25 messages')
  t.same(
    fake.messages(GROUP).map((m) => /Alert(\d+)/.exec(m.text)![1]),
    Array.from({ length: 25 }, (_, i) => String(i).padStart(2, '0')),
  )
  t.equal(fake.stats.tooManyRequests, 0, 'paced: Telegram never had to say 429')
  const times = fake.calls.filter((c) => c.method === 'sendMessage').map((c) => c.at)
  t.ok(times.at(-1)! - times[0]! >= 2000, `25 messages at 10/s took ${times.at(-1)! - times[0]!} ms`)
})

t.test('a big group is split over several messages, and all of them are edited on resolve', async (t) => {
  const { url, fake } = await startWithFake(t)
  // 15 long alerts, each its own words: more than one message holds, few enough to be read as one group (a longer burst folds into a storm digest)
  const alerts = Array.from({ length: 15 }, (_, i) =>
    alert(`big${i}`, { annotations: { summary: `disk ${i} almost full `.repeat(10), description: `${i}`.padEnd(300, 'x') } }),
  )
  await postWebhook(url, webhook({ alerts, truncatedAlerts: 5 }))
  const sent = await fake.waitFor(
    () => {
      const m = fake.messages(GROUP)
      return m.length >= 2 && m.every((x) => /part/.test(x.text)) && m.length === Number(/part 1\/(\d+)/.exec(m[0]!.text)?.[1]) && m
    },
    10_000,
    'all parts',
  )
  const named = sent.flatMap((m) => [...m.text.matchAll(/big\d+/g)].map((x) => x[0]))
  t.same(new Set(named).size, 15, 'every alert is named')
  t.match(sent.at(-1)!.text, /5 more alerts in this group were not sent by Alertmanager/)
  await postWebhook(url, webhook({ status: 'resolved', alerts: alerts.map((a) => ({ ...a, status: 'resolved', endsAt: '2026-11-24T23:30:00Z' })) }))
  await fake.waitFor(() => sent.every((m) => /^✅ RESOLVED/.test(fake.message(GROUP, m.message_id)!.text)), 15_000, 'every part edited')
  t.equal(fake.calls.filter((c) => c.status === 400).length, 0, 'every edit fit')
})

t.test('a resolve works after a restart and from another replica', async (t) => {
  const first = await startWithFake(t)
  await postWebhook(first.url, webhook({ alerts: [alert('rr11')] }))
  const [message] = await first.fake.waitFor(() => first.fake.messages(GROUP).length === 1 && first.fake.messages(GROUP), 5000, 'firing')
  await first.app.close()
  const second = await startTestApp(t, {
    prefix: first.prefix,
    yaml: 'telegram: {pace: {group: "10/1s"}}',
    env: { TELEGRAM_BOT_TOKEN: first.fake.token, TELEGRAM_API_URL: first.fake.url, TELEGRAM_CHAT_ID: String(GROUP) },
  })
  await postWebhook(second.url, webhook({ status: 'resolved', alerts: [resolved('rr11')] }))
  await first.fake.waitFor(() => first.fake.message(GROUP, message!.message_id)!.edits.length === 1, 5000, 'edited by the new process')
  t.match(first.fake.message(GROUP, message!.message_id)!.text, /^✅ RESOLVED/)
})

t.test('a resolve for an alert never announced sends nothing, unless configured to', async (t) => {
  const quiet = await startWithFake(t)
  await postWebhook(quiet.url, webhook({ status: 'resolved', alerts: [resolved('nn11')] }))
  await new Promise((r) => setTimeout(r, 800))
  t.equal(quiet.fake.messages(GROUP).length, 0)
  const loud = await startWithFake(t, { yaml: 'messages: {resolved_unannounced: true}' })
  await postWebhook(loud.url, webhook({ status: 'resolved', alerts: [resolved('nn22')] }))
  const [message] = await loud.fake.waitFor(() => loud.fake.messages(GROUP).length === 1 && loud.fake.messages(GROUP), 5000, 'resolved message')
  t.match(message!.text, /^✅ RESOLVED · HighLatency/)
})

t.test('a resolve planned before its firing (a retry, another replica) still ends as a resolved message', async (t) => {
  const { url, fake } = await startWithFake(t)
  await postWebhook(url, webhook({ status: 'resolved', alerts: [resolved('oo11')] }))
  await new Promise((r) => setTimeout(r, 300))
  t.equal(fake.messages(GROUP).length, 0, 'a resolve alone says nothing')
  await postWebhook(url, webhook({ alerts: [alert('oo11')] }))
  const [message, reply] = await fake.waitFor(() => fake.messages(GROUP).length === 2 && fake.messages(GROUP), 5000, 'firing then resolved')
  t.match(fake.message(GROUP, message!.message_id)!.text, /^✅ RESOLVED · HighLatency/)
  t.equal(reply!.reply_to_message_id, message!.message_id)
})

t.test('resolved: edit only, or reply only, as configured', async (t) => {
  for (const mode of ['edit', 'reply'] as const) {
    const { url, fake } = await startWithFake(t, { yaml: `messages: {resolved: ${mode}}` })
    await postWebhook(url, webhook({ alerts: [alert('mm11')] }))
    const [first] = await fake.waitFor(() => fake.messages(GROUP).length === 1 && fake.messages(GROUP), 5000, 'firing')
    await postWebhook(url, webhook({ status: 'resolved', alerts: [resolved('mm11')] }))
    await fake.waitFor(() => (mode === 'edit' ? fake.message(GROUP, first!.message_id)!.edits.length === 1 : fake.messages(GROUP).length === 2), 5000, mode)
    await new Promise((r) => setTimeout(r, 400))
    t.equal(fake.messages(GROUP).length, mode === 'edit' ? 1 : 2, `${mode}: messages`)
    t.equal(fake.message(GROUP, first!.message_id)!.edits.length, mode === 'edit' ? 1 : 0, `${mode}: edits`)
  }
})

t.test('dry run: no token, every message is written to the log in full', async (t) => {
  const { url, logs } = await startTestApp(t, { yaml: 'telegram: {chat_id: -100123}' })
  await postWebhook(url, webhook({ alerts: [alert('dr11', { annotations: { summary: 'the whole summary' } })] }))
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && !logs.some((l) => l.includes('would send'))) await new Promise((r) => setTimeout(r, 50))
  const line = JSON.parse(logs.find((l) => l.includes('would send'))!)
  t.equal(line.chat, '-100123')
  t.match(line.text, /🔴 <b>CRITICAL<\/b> · <b>HighLatency<\/b>/)
  t.match(line.text, /the whole summary/)
})

t.test("a Grafana alert arrives with Grafana's picture and links, and without Alertmanager's silence buttons", async (t) => {
  const { url, fake } = await startWithFake(t)
  const fixture = JSON.parse(readFileSync(new URL('../fixtures/webhooks/grafana-dashboard-panel-image.json', import.meta.url), 'utf8')) as {
    body: { alerts: { imageURL: string }[] }
  }
  t.equal((await postWebhook(url, fixture.body)).status, 200)
  const [message] = await fake.waitFor(() => fake.messages(GROUP).length === 1 && fake.messages(GROUP), 5000, 'the Grafana message')
  t.same(message!.link_preview_options, { url: fixture.body.alerts[0]!.imageURL, prefer_large_media: true }, 'its picture is shown with it')
  t.equal(message!.reply_markup, undefined, 'no buttons that would silence nothing')
  t.match(message!.text, /🔔 Grafana$/)
  await postWebhook(url, webhook({ alerts: [alert('cc33')] }))
  const [, other] = await fake.waitFor(() => fake.messages(GROUP).length === 2 && fake.messages(GROUP), 5000, 'an Alertmanager message')
  t.same(other!.link_preview_options, { is_disabled: true }, 'previews stay off otherwise')
  t.ok(other!.reply_markup, 'and Alertmanager alerts keep their buttons')
})
