/**
 * End to end: a real Alertmanager fires a critical alert at alertwire, which talks to the strict
 * Telegram fake on real Redis. Nobody takes it: the escalation policy's steps arrive in order,
 * mentioning people by id, until someone presses "I'm on it". Two replicas fire each step once;
 * a restart in the middle neither repeats nor skips a step.
 */
import t, { type Test } from 'tap'
import type { FakeMessage, FakeTelegram } from '../fakes/telegram.js'
import { FAST_PACE, GROUP, PERSON, startTestApp, startWithFake, WEBHOOK_TOKEN } from '../helpers/app.js'
import { mergeYaml } from '../helpers/config.js'
import { startAlertmanager } from '../helpers/alertmanager.js'

const ALICE = { id: 111, username: 'alice', first_name: 'Alice' }
const BOB = { id: 222, first_name: 'Bob' }
const labels = { alertname: 'DiskFull', severity: 'critical', instance: 'db-1.example.com:9100' }
const annotations = { summary: 'Disk /var is 97% full' }

/** the policy under test: steps at 0s, 2s and 4s; step 2 is loud, step 3 also copies the alert to a private chat */
const YAML = `
telegram: {admins: [${ALICE.id}]}
people:
  alice: {id: ${ALICE.id}, name: Alice, username: alice}
  bob: {id: ${BOB.id}, name: Bob}
rotas:
  primary:
    layers: [{rotation: weekly, handoff: "09:00", day: monday, start: "2026-01-05", people: [alice]}]
escalation:
  check_interval: 100ms
  policies:
    pager:
      steps:
        - {after: 0s, mention: ["rota:primary"]}
        - {after: 2s, mention: [bob], loud: true}
        - {after: 4s, mention: ["rota:primary", bob], notify: {chat: "${PERSON}"}}
routing:
  escalation: pager
  # a silent route: only the loud step has sound
  silent_severities: [critical]
`
const LEASES = { leaseMs: 1500, retryMs: 200 }

function escalations(fake: FakeTelegram): FakeMessage[] {
  return fake.messages(GROUP).filter((m) => m.text.startsWith('🚨 Escalation'))
}

function mentioned(message: FakeMessage): number[] {
  return message.entities.filter((e) => e.type === 'text_mention').map((e) => (e as { user: { id: number } }).user.id)
}

/** fire starts a real Alertmanager posting to the app, fires one critical alert and returns its message in the chat. */
async function fire(t: Test, url: string, fake: FakeTelegram): Promise<FakeMessage> {
  const am = await startAlertmanager({ webhookUrl: `${url}/alerts`, bearerToken: WEBHOOK_TOKEN, groupBy: ['alertname'] })
  t.teardown(() => am.stop())
  await am.postAlerts([{ labels, annotations }])
  return fake.waitFor(() => fake.messages(GROUP).find((m) => m.text.includes('DiskFull') && !m.reply_to_message_id), 10_000, 'alert message')
}

/** press presses the alert message's button whose text matches, as Alice (an admin). */
async function press(t: Test, fake: FakeTelegram, messageId: number, text: RegExp): Promise<void> {
  const button = fake
    .message(GROUP, messageId)!
    .reply_markup?.inline_keyboard.flat()
    .find((b) => text.test(b.text))
  if (!button?.callback_data) {
    t.fail(`the alert message has a ${text} button`)
    return
  }
  await fake.pressButton({ chatId: GROUP, messageId, from: ALICE, data: button.callback_data })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('an untaken critical alert escalates through its steps in order, mentioning people by id', async (t) => {
  const { url, fake, app } = await startWithFake(t, { yaml: YAML, poller: LEASES })
  const alert = await fire(t, url, fake)
  const steps = await fake.waitFor(() => escalations(fake).length >= 3 && escalations(fake), 15_000, 'three steps')
  t.same(
    steps.map((m) => m.text.split('\n')[0]),
    [1, 2, 3].map((n) => `🚨 Escalation, step ${n} of 3: DiskFull is not taken yet.`),
    'in order',
  )
  t.ok(
    steps.every((m) => m.reply_to_message_id === alert.message_id),
    'each replies to the alert message',
  )
  t.same(steps.map(mentioned), [[ALICE.id], [BOB.id], [ALICE.id, BOB.id]], 'mentions reach each person by id (text_mention)')
  t.same(
    steps.map((m) => m.disable_notification === true),
    [true, false, true],
    'the route is silent; the loud step has sound',
  )
  const gaps = [steps[1]!.date - steps[0]!.date, steps[2]!.date - steps[1]!.date]
  t.ok(
    gaps.every((g) => g >= 1 && g <= 4),
    `about 2 s apart (${gaps.join(', ')} s)`,
  )
  const [copy] = await fake.waitFor(() => fake.messages(PERSON).length > 0 && fake.messages(PERSON), 5000, 'the copy')
  t.match(copy!.text, /DiskFull has fired for [0-9]s in chat -1001000000001 and nobody took it/)
  t.ok(
    copy!.entities.some((e) => e.type === 'text_link' && e.url === `https://t.me/c/1000000001/${alert.message_id}`),
    'the copy links the original message',
  )
  await sleep(2500)
  t.equal(escalations(fake).length, 3, 'the policy is done: nothing more')
  t.match(await app.metrics.registry.getSingleMetricAsString('alertwire_escalations_total'), /policy="pager",step="3"\} 1/)
  t.equal(fake.calls.filter((c) => c.status >= 400).length, 0, 'Telegram accepted every call')
})

t.test('it stops the moment someone takes it', async (t) => {
  const { url, fake } = await startWithFake(t, { yaml: YAML, poller: LEASES })
  const alert = await fire(t, url, fake)
  await fake.waitFor(() => escalations(fake).length >= 1, 10_000, 'step 1')
  await press(t, fake, alert.message_id, /I'm on it/)
  await sleep(5000)
  t.equal(escalations(fake).length, 1, 'taken after step 1: steps 2 and 3 never come')
})

t.test('released after its next step came due: that step fires at once, the one after keeps its gap', async (t) => {
  const { url, fake } = await startWithFake(t, { yaml: YAML, poller: LEASES })
  const alert = await fire(t, url, fake)
  await fake.waitFor(() => escalations(fake).length >= 1, 10_000, 'step 1')
  await press(t, fake, alert.message_id, /I'm on it/)
  await fake.waitFor(() => /Release/.test(JSON.stringify(fake.message(GROUP, alert.message_id)!.reply_markup)), 5000, 'taken')
  await sleep(4000)
  t.equal(escalations(fake).length, 1, 'nothing while taken, though step 2 came due')
  const released = Date.now()
  await press(t, fake, alert.message_id, /Release/)
  const [, second] = await fake.waitFor(() => escalations(fake).length >= 2 && escalations(fake), 5000, 'step 2 after the release')
  t.match(second!.text, /^🚨 Escalation, step 2 of 3/, 'step 2, not step 3: nothing skipped')
  t.ok(second!.date * 1000 - released < 2500, 'at once')
  const [, , third] = await fake.waitFor(() => escalations(fake).length >= 3 && escalations(fake), 5000, 'step 3')
  t.ok(third!.date - second!.date >= 1, `step 3 keeps its gap after step 2 (${third!.date - second!.date} s)`)
})

t.test('two replicas on one Redis fire each step once', async (t) => {
  const first = await startWithFake(t, { yaml: YAML, poller: LEASES })
  const { fake } = first
  await startTestApp(t, {
    yaml: mergeYaml(FAST_PACE.yaml, YAML),
    prefix: first.prefix,
    poller: LEASES,
    env: { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_URL: fake.url, TELEGRAM_CHAT_ID: String(GROUP), ALERTWIRE_WEBHOOK_TOKEN: WEBHOOK_TOKEN },
  })
  await fire(t, first.url, fake)
  await fake.waitFor(() => escalations(fake).length >= 3, 15_000, 'three steps')
  await sleep(2500)
  t.same(
    escalations(fake).map((m) => m.text.split('\n')[0]!.slice(0, 26)),
    ['🚨 Escalation, step 1 of 3', '🚨 Escalation, step 2 of 3', '🚨 Escalation, step 3 of 3'],
    'each step once',
  )
})

t.test('a restart in the middle of a policy neither repeats nor skips a step', async (t) => {
  const first = await startWithFake(t, { yaml: YAML, poller: LEASES })
  const { fake } = first
  await fire(t, first.url, fake)
  await fake.waitFor(() => escalations(fake).length >= 1, 10_000, 'step 1')
  await first.app.close()
  await startTestApp(t, {
    yaml: mergeYaml(FAST_PACE.yaml, YAML),
    prefix: first.prefix,
    poller: LEASES,
    env: { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_URL: fake.url, TELEGRAM_CHAT_ID: String(GROUP), ALERTWIRE_WEBHOOK_TOKEN: WEBHOOK_TOKEN },
  })
  await fake.waitFor(() => escalations(fake).length >= 3, 15_000, 'steps 2 and 3 after the restart')
  await sleep(2500)
  t.same(
    escalations(fake).map((m) => m.text.split('\n')[0]!.slice(0, 26)),
    ['🚨 Escalation, step 1 of 3', '🚨 Escalation, step 2 of 3', '🚨 Escalation, step 3 of 3'],
    'steps 1, 2, 3, each once',
  )
})
