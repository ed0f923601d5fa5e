/**
 * What the sender does when Telegram fails, each case against the strict fake.
 */
import t from 'tap'
import { GROUP, PERSON, postWebhook, startWithFake, webhook } from '../helpers/app.js'

function alert(fingerprint: string, labels: Record<string, string> = {}, status: 'firing' | 'resolved' = 'firing') {
  return {
    status,
    labels: { alertname: `Alert_${fingerprint}`, severity: 'critical', instance: `${fingerprint}.example.com:9100`, ...labels },
    annotations: { summary: `summary of ${fingerprint}` },
    startsAt: '2026-11-24T23:01:00Z',
    endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-24T23:11:00Z',
    fingerprint,
  }
}

async function metric(url: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return [...text.matchAll(new RegExp(`^${pattern.source} ([0-9.e+]+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0)
}

const sends = (fake: Awaited<ReturnType<typeof startWithFake>>['fake'], chat = GROUP) =>
  fake.calls.filter((c) => c.method === 'sendMessage' && Number(c.params.chat_id) === chat)

t.test('429: waits exactly retry_after, costs no attempt, loses nothing', async (t) => {
  // the fake is stricter than the configured pace, so Telegram has to say 429
  const { url, fake } = await startWithFake(t, { fake: { limits: { group: { max: 2, windowMs: 2000 } } } })
  for (let i = 0; i < 5; i++) await postWebhook(url, webhook({ groupKey: `g${i}`, alerts: [alert(`rl${i}`)] }))
  await fake.waitFor(() => fake.messages(GROUP).length === 5, 20_000, 'all five delivered')
  const calls = sends(fake)
  const refused = calls.filter((c) => c.status === 429)
  t.ok(refused.length > 0, `${refused.length} times 429`)
  t.ok(refused.length <= 5, 'no hammering: one refused call per wait at most')
  for (const call of refused) {
    const next = calls.find((c) => c.at > call.at)!
    const waited = next.at - call.at
    const asked = Number((call.description ?? '').match(/retry after (\d+)/)?.[1]) * 1000
    t.ok(waited >= asked - 50 && waited < asked + 600, `asked to wait ${asked} ms, waited ${waited} ms`)
  }
  t.same(
    fake.messages(GROUP).map((m) => /Alert_rl(\d)/.exec(m.text)![1]),
    ['0', '1', '2', '3', '4'],
    'still in order',
  )
  t.equal(await metric(url, /alertwire_telegram_rate_limited_total\{chat="-1001000000001"\}/), refused.length, 'every 429 is counted')
})

t.test('5xx, resets and timeouts are retried with backoff until delivered', async (t) => {
  const { url, fake } = await startWithFake(t, { yaml: 'telegram: {request_timeout: 300ms}\ndelivery: {retry_initial: 50ms}' })
  fake.failNext(2, '500', { method: 'sendMessage' })
  fake.failNext(1, '502', { method: 'sendMessage' })
  fake.failNext(1, 'reset', { method: 'sendMessage' })
  fake.failNext(1, 'hang', { method: 'sendMessage' })
  await postWebhook(url, webhook({ alerts: [alert('tr1')] }))
  await postWebhook(url, webhook({ groupKey: 'second', alerts: [alert('tr2')] }))
  await fake.waitFor(() => fake.messages(GROUP).length === 2, 10_000, 'both delivered')
  t.same(
    fake.messages(GROUP).map((m) => /Alert_(tr\d)/.exec(m.text)![1]),
    ['tr1', 'tr2'],
    'in order: the second waited for the first',
  )
  t.equal(await metric(url, /alertwire_telegram_retries_total\{reason="transient"\}/), 5, 'retries are visible in /metrics')
})

t.test('an answer lost on the way back costs at most one extra message, never a lost one', async (t) => {
  const { url, fake } = await startWithFake(t, { yaml: 'delivery: {retry_initial: 50ms}' })
  fake.failNext(1, 'drop-response', { method: 'sendMessage' })
  await postWebhook(url, webhook({ alerts: [alert('dr1')] }))
  await fake.waitFor(() => fake.messages(GROUP).length >= 2, 5000, 'resent')
  await new Promise((r) => setTimeout(r, 500))
  t.equal(fake.messages(GROUP).length, 2, 'the message Telegram took, and the resend we could not know was unneeded')
})

t.test('HTML Telegram refuses is resent as plain text, not lost', async (t) => {
  // passes alertwire's own template check, but Telegram refuses a link that is not a URL
  const { url, fake } = await startWithFake(t, { yaml: `messages: {templates: {alert: '<a href="{{labels.instance}}">{{alertname}}</a> {{summary}}'}}` })
  await postWebhook(url, webhook({ alerts: [alert('pt1', { instance: 'not a url' })] }))
  const [message] = await fake.waitFor(() => fake.messages(GROUP).length === 1 && fake.messages(GROUP), 5000, 'plain message')
  t.equal(message!.parse_mode, undefined, 'sent without parse_mode')
  t.match(message!.text, /Alert_pt1 summary of pt1/)
  t.notMatch(message!.text, /<a|href/, 'the plain text has no markup')
  t.equal(await metric(url, /alertwire_telegram_retries_total\{reason="bad_format"\}/), 1)
  t.equal(await metric(url, /alertwire_messages_total\{chat="-1001000000001",outcome="sent_plain"\}/), 1)
})

t.test('a blocked chat or an unknown chat is terminal: counted, logged, visible; other chats go on', async (t) => {
  const { url, fake, logs } = await startWithFake(t, {
    yaml: `routing: {routes: [{matchers: ['to="person"'], chats: [{chat_id: ${PERSON}}]}, {matchers: ['to="nowhere"'], chats: [{chat_id: -1009999999999}]}]}`,
  })
  fake.blockChat(PERSON)
  await postWebhook(url, webhook({ groupKey: 'p', alerts: [alert('bl1', { to: 'person' })] }))
  await postWebhook(url, webhook({ groupKey: 'n', alerts: [alert('bl2', { to: 'nowhere' })] }))
  await postWebhook(url, webhook({ groupKey: 'g', alerts: [alert('bl3')] }))
  await fake.waitFor(() => fake.messages(GROUP).length === 1, 5000, 'the group still gets its alert')
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && (await metric(url, /alertwire_dead_letters_total\{reason="chat_unreachable"\}/)) < 2)
    await new Promise((r) => setTimeout(r, 100))
  t.equal(await metric(url, /alertwire_dead_letters_total\{reason="chat_unreachable"\}/), 2)
  t.equal(await metric(url, /alertwire_dead_letters\{queue="messages"\}/), 2, 'kept in Redis for inspection')
  t.ok(
    logs.some((l) => l.includes('dead letter') && l.includes('bot was blocked by the user')),
    'logged with the reason',
  )
  t.equal(sends(fake, PERSON).length, 1, 'tried once, not hammered')
})

t.test('a group upgraded to a supergroup: alerts move there, now and later', async (t) => {
  const OLD = -4000001
  const { url, fake, logs } = await startWithFake(t, {
    fake: {
      chats: [
        { id: GROUP, type: 'supergroup' },
        { id: OLD, type: 'group' },
      ],
    },
    env: { TELEGRAM_CHAT_ID: String(OLD) },
  })
  const NEW = fake.migrateChat(OLD)
  await postWebhook(url, webhook({ alerts: [alert('mg1')] }))
  await fake.waitFor(() => fake.messages(NEW).length === 1, 5000, 'in the supergroup')
  await postWebhook(url, webhook({ groupKey: 'later', alerts: [alert('mg2')] }))
  await fake.waitFor(() => fake.messages(NEW).length === 2, 5000, 'later alerts too')
  t.ok(
    logs.some((l) => l.includes('supergroup') && l.includes(String(NEW))),
    'the operator is told to update the config',
  )
})

t.test('the message to edit was deleted: the resolve sends a new one', async (t) => {
  const { url, fake } = await startWithFake(t)
  await postWebhook(url, webhook({ alerts: [alert('de1')] }))
  const [message] = await fake.waitFor(() => fake.messages(GROUP).length === 1 && fake.messages(GROUP), 5000, 'firing')
  await fetch(`${fake.url}/bot${fake.token}/deleteMessage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chat_id: GROUP, message_id: message!.message_id }),
  })
  await postWebhook(url, webhook({ status: 'resolved', alerts: [alert('de1', {}, 'resolved')] }))
  await fake.waitFor(() => fake.messages(GROUP).length === 2, 5000, 'new resolved message and reply')
  t.match(fake.messages(GROUP)[0]!.text, /^✅ RESOLVED · Alert_de1/, 'the resolved state is shown in a new message')
  t.match(fake.messages(GROUP)[1]!.text, /^✅ Resolved: Alert_de1/)
})

t.test('a forum topic that does not exist: the alert goes to the chat itself', async (t) => {
  const { url, fake, logs } = await startWithFake(t, {
    fake: { chats: [{ id: GROUP, type: 'supergroup', isForum: true, topics: [1] }] },
    yaml: 'telegram: {thread_id: 99}',
  })
  await postWebhook(url, webhook({ alerts: [alert('th1')] }))
  const [message] = await fake.waitFor(() => fake.messages(GROUP).length === 1 && fake.messages(GROUP), 5000, 'delivered')
  t.equal(message!.message_thread_id, undefined)
  t.ok(logs.some((l) => l.includes('forum topic is gone')))
})

t.test('a message failing for longer than give_up_after becomes a counted dead letter', async (t) => {
  const { url, fake } = await startWithFake(t, { yaml: 'delivery: {give_up_after: 1s, retry_initial: 100ms, retry_max: 200ms}' })
  fake.failFor(60_000, '500', { method: 'sendMessage' })
  await postWebhook(url, webhook({ alerts: [alert('gu1')] }))
  const deadline = Date.now() + 6000
  while (Date.now() < deadline && (await metric(url, /alertwire_dead_letters_total\{reason="expired"\}/)) < 1) await new Promise((r) => setTimeout(r, 100))
  t.equal(await metric(url, /alertwire_dead_letters_total\{reason="expired"\}/), 1)
  t.ok((await metric(url, /alertwire_telegram_retries_total\{reason="transient"\}/)) >= 3, 'it was retried first')
})

t.test('a wrong bot token is not a reason to drop alerts: they wait, and the error is logged once', async (t) => {
  const { url, fake, logs } = await startWithFake(t, { env: { TELEGRAM_BOT_TOKEN: '999:wrong' }, yaml: 'delivery: {retry_initial: 50ms, retry_max: 100ms}' })
  await postWebhook(url, webhook({ alerts: [alert('wt1')] }))
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && (await metric(url, /alertwire_telegram_retries_total\{reason="misconfigured"\}/)) < 3)
    await new Promise((r) => setTimeout(r, 100))
  t.ok((await metric(url, /alertwire_telegram_retries_total\{reason="misconfigured"\}/)) >= 3, 'kept retrying')
  t.equal(logs.filter((l) => l.includes('refuses the bot token') && l.includes('"level":50')).length, 1, 'one error line, not one per retry')
  t.equal(await metric(url, /alertwire_dead_letters_total\{reason="[a-z_]+"\}/), 0)
  t.equal(fake.messages(GROUP).length, 0)
})

t.test('an item alertwire cannot render is set aside as a dead letter; the chat goes on', async (t) => {
  const { url, fake, app, prefix, redisUrl } = await startWithFake(t)
  const { Redis } = await import('ioredis')
  const redis = new Redis(redisUrl)
  t.teardown(() => redis.disconnect())
  // an item of another shape (written by another version of alertwire, say) at the head of the outbox
  await redis.rpush(`${prefix}:outbox:${GROUP}`, JSON.stringify({ id: 'poison', groupKey: 'p', receivedAt: Date.now(), paceMs: 100 }))
  await postWebhook(url, webhook({ alerts: [alert('after-poison')] }))
  await fake.waitFor(() => fake.messages(GROUP).length === 1, 5000, 'the next alert is delivered')
  t.match(fake.messages(GROUP)[0]!.text, /Alert_after-poison/)
  t.match(await app.metrics.registry.getSingleMetricAsString('alertwire_dead_letters_total'), /reason="render_failed"\} 1/)
  t.match(JSON.parse((await redis.lindex(`${prefix}:dead`, 0))!), { reason: 'render_failed', item: { id: 'poison' } }, 'kept for inspection')
})
