/**
 * After an outage longer than delivery.catch_up_after, the chat gets one digest of what piled up
 * (resolved ones marked), not one message per alert hours late; then delivery goes on as usual.
 */
import t from 'tap'
import { GROUP, postWebhook, startWithFake, webhook } from '../helpers/app.js'

function alert(fingerprint: string, status: 'firing' | 'resolved' = 'firing') {
  return {
    status,
    labels: { alertname: `Alert_${fingerprint}`, severity: 'critical', instance: `${fingerprint}.example.com` },
    annotations: { summary: `summary of ${fingerprint}` },
    startsAt: '2026-11-24T23:01:00Z',
    endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-24T23:11:00Z',
    fingerprint,
  }
}

t.test('Telegram down longer than catch_up_after: one catch-up digest naming every alert', async (t) => {
  const { url, fake } = await startWithFake(t, { yaml: 'delivery: {catch_up_after: 1s, retry_initial: 200ms, retry_max: 400ms}' })
  fake.failFor(3000, '502', { method: 'sendMessage' })
  const names = ['cu1', 'cu2', 'cu3', 'cu4', 'cu5']
  for (const fp of names) t.equal((await postWebhook(url, webhook({ groupKey: fp, alerts: [alert(fp)] }))).status, 200)
  await postWebhook(url, webhook({ status: 'resolved', groupKey: 'cu3', alerts: [alert('cu3', 'resolved')] }))
  const [digest] = await fake.waitFor(() => fake.messages(GROUP).length > 0 && fake.messages(GROUP), 10_000, 'the chat hears after the outage')
  await new Promise((r) => setTimeout(r, 1000))
  t.equal(fake.messages(GROUP).length, 1, 'one message, not one per alert')
  t.match(digest!.text, /^📡 While alertwire could not reach Telegram · 5 alerts · 1 here resolved/, 'says why it comes late')
  for (const fp of names) t.match(digest!.text, new RegExp(`Alert_${fp}`), `names ${fp}`)
  t.match(digest!.text, /🔴 Alert_cu3 · instance\n✅ cu3\.example\.com/, 'the one that resolved meanwhile is marked so')

  await postWebhook(url, webhook({ groupKey: 'after', alerts: [alert('after')] }))
  const [, next] = await fake.waitFor(() => fake.messages(GROUP).length === 2 && fake.messages(GROUP), 5000, 'the next alert')
  t.match(next!.text, /^🔴 CRITICAL · Alert_after/, 'then delivery goes on as usual')
})

t.test('a short failure (shorter than catch_up_after) is simply retried: one message per alert', async (t) => {
  const { url, fake } = await startWithFake(t, { yaml: 'delivery: {catch_up_after: 15m, retry_initial: 100ms, retry_max: 200ms}' })
  fake.failFor(600, '502', { method: 'sendMessage' })
  for (const fp of ['sf1', 'sf2']) await postWebhook(url, webhook({ groupKey: fp, alerts: [alert(fp)] }))
  await fake.waitFor(() => fake.messages(GROUP).length === 2, 8000, 'both alerts')
  t.same(
    fake.messages(GROUP).map((m) => /Alert_(sf\d)/.exec(m.text)?.[1]),
    ['sf1', 'sf2'],
  )
})
