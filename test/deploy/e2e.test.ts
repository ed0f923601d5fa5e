/**
 * The monitoring stack end to end, from the files in deploy/: the demo exporter's queue goes past
 * QueueBackup's threshold, the real Prometheus (shipped config and rules) fires the alert, the real
 * Alertmanager (shipped config) routes it to alertwire (shipped config), and the strict Telegram
 * fake shows the chat the critical message; back under the threshold, that message says resolved.
 *
 * Test-only changes (test/deploy/stack.ts): addresses and ports, scrapes and evaluations every
 * second instead of 15 s, every alert's for: 10s instead of minutes (long enough for every target's
 * first scrape, so BotDown's absent() does not fire at startup), Alertmanager's group_wait 0s and
 * group_interval 1s.
 */
import t from 'tap'
import { GROUP } from '../helpers/app.js'
import { LINKS, startStack, waitForQuery } from './stack.js'

t.test('QueueBackup: past the threshold a critical message, back under it the message resolves', async (t) => {
  const { exporter, fake, prometheus } = await startStack(t, { forDuration: '10s' })
  const instance = new URL(exporter.url).host
  await waitForQuery(prometheus, 'instance:doradura_queue_depth:sum', (v) => v[0] === 4)

  exporter.simulation.set({ queue_depth: 150 })
  const [message] = await fake.waitFor(() => fake.messages(GROUP).length > 0 && fake.messages(GROUP), 30_000, 'the QueueBackup message')
  const lines = message!.text.split('\n')
  t.equal(lines[0], '🔴 CRITICAL · QueueBackup')
  t.match(message!.text, `Download queue backing up on ${instance}`)
  t.match(message!.text, '150 tasks are waiting in the download queue (threshold 100).')
  t.match(message!.text, `instance: ${instance}`)
  t.match(message!.text, 'component: queue')
  t.notMatch(message!.text, /grafana_url|runbook_base/, 'the external labels carrying the links are hidden')
  const links = message!.entities.filter((e) => e.type === 'text_link').map((e) => e.url)
  t.ok(links.includes(`${LINKS.runbooks}#queuebackup`), 'a link to the runbook')
  t.ok(links.includes(`${LINKS.grafana}/d/doradura-overview/doradura-overview?viewPanel=3&var-instance=${instance}`), 'a link to the Queue Depth panel')
  t.not(message!.disable_notification, true, 'a critical alert rings')

  const graph = await fake.waitFor(() => fake.messages(GROUP).find((m) => m.photo), 30_000, 'its graph')
  t.equal(graph.reply_to_message_id, message!.message_id, "the queue's curve follows as a photo replying to the alert")
  t.match(graph.text, /QueueBackup/, 'its caption names the alert')

  exporter.simulation.set({ queue_depth: 4 })
  const texts = () => fake.messages(GROUP).filter((m) => !m.photo)
  const reply = await fake.waitFor(() => texts()[1], 30_000, 'the resolved reply')
  t.match(fake.message(GROUP, message!.message_id)!.text, /^✅ RESOLVED · QueueBackup/, 'the message now says resolved')
  t.equal(reply.reply_to_message_id, message!.message_id, 'and a reply says so')
  // every other alert had its 10 s to fire on the healthy demo bot by now
  t.equal(fake.messages(GROUP).length, 3, 'nothing else reached the chat: the alert, its graph, the resolved reply')
  t.same(
    (await prometheus.alerts()).map((a) => `${a.labels.alertname} ${a.state}`),
    [],
    'and nothing else fires or is pending',
  )
  t.equal(fake.calls.filter((c) => c.status >= 400).length, 0, 'Telegram accepted every call')
})
