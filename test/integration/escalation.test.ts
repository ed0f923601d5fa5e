/**
 * Escalation in a storm, through a real app, real Redis and the strict Telegram fake: a critical
 * alert folded into a digest still pages, once per digest round, under the policy of its route.
 */
import t from 'tap'
import { GROUP, postWebhook, startWithFake, webhook } from '../helpers/app.js'

const ALICE = { id: 111, username: 'alice', first_name: 'Alice' }

// a group slot of 2 s: however fast the planner stores the 80 alerts, they are waiting together by the second slot and fold
const YAML = `
telegram: {admins: [111], pace: {group: "1/2s"}}
people:
  alice: {id: 111, name: Alice, username: alice}
escalation:
  check_interval: 100ms
  policies:
    pager:
      steps: [{after: 0s, mention: [alice]}, {after: 6s, mention: [alice], repeat: 1s}]
routing:
  escalation: pager
  routes:
    - {name: warnings, matchers: ['severity="warning"'], escalation: none}
`

function alert(n: number, severity: string) {
  return {
    status: 'firing',
    labels: { alertname: n % 2 ? 'HighLatency' : 'DiskFull', severity, instance: `host-${n}.example.com` },
    annotations: { summary: `alert ${n} on a host with a rather long summary line to fill the message` },
    startsAt: '2026-11-24T23:00:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    fingerprint: `e${n}`,
  }
}

t.test('a storm folded into a digest escalates once, from the digest, under its critical alert’s route, until someone takes it', async (t) => {
  const { url, fake } = await startWithFake(t, { yaml: YAML })
  // one group of its own per alert, all at once: more than one message can say, so it folds
  const posts = Array.from({ length: 80 }, (_, n) =>
    postWebhook(url, webhook({ groupKey: `{}:{instance="host-${n}"}`, alerts: [alert(n, n === 40 ? 'critical' : 'warning')] })),
  )
  await Promise.all(posts)
  const digest = await fake.waitFor(
    () => fake.messages(GROUP).find((m) => /storm/i.test(m.text) && /host-40\.example\.com|critical 1/.test(m.text) && !m.reply_to_message_id),
    20_000,
    'the digest naming the critical alert',
  )
  const reply = await fake.waitFor(
    () => fake.messages(GROUP).find((m) => m.text.startsWith('🚨 Escalation') && m.reply_to_message_id === digest.message_id),
    10_000,
    'the escalation of the digest',
  )
  t.ok(
    reply.entities.some((e) => e.type === 'text_mention' && (e as { user: { id: number } }).user.id === 111),
    'Alice is mentioned by id',
  )
  // /take as a reply on the digest: Alice is on the storm, its escalation stops
  fake.sendCommand({ chatId: GROUP, from: ALICE, text: '/take', replyTo: digest.message_id })
  // past step 2's time (6 s after the digest) with a slot to spare
  await new Promise((r) => setTimeout(r, 8000))
  const escalated = fake.messages(GROUP).filter((m) => m.text.startsWith('🚨 Escalation'))
  t.equal(escalated.length, 1, 'step 1 once (the warnings route has no escalation, the round escalates from one part), and step 2 never: taken')
})
