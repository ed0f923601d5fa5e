/**
 * Secrets stay secret: the bot token, the webhook token, the Telegram webhook secret and
 * Alertmanager's password never appear in logs, /metrics, HTTP answers or messages in the chat,
 * whatever goes wrong.
 */
import t from 'tap'
import { GROUP, postWebhook, startWithFake, webhook } from '../helpers/app.js'
import { freePort } from '../helpers/net.js'

const SECRETS = {
  webhookToken: 'wh-SECRET-0a1b2c3d4e5f',
  telegramSecret: 'tg-SECRET-9z8y7x6w5v',
  alertmanagerPassword: 'am-SECRET-p4ssw0rd!',
}

t.test('no secret appears in logs, /metrics, answers or the chat, whatever goes wrong', async (t) => {
  const port = await freePort()
  const amPort = await freePort()
  const { url, fake, logs } = await startWithFake(t, {
    env: { PORT: String(port), ALERTWIRE_WEBHOOK_TOKEN: SECRETS.webhookToken, ALERTWIRE_ADMINS: '1001' },
    yaml: [
      `alertmanager: {url: "http://127.0.0.1:${amPort}", basic_auth: {username: alertwire, password: "${SECRETS.alertmanagerPassword}"}}`,
      `telegram: {updates: webhook, webhook_url: "http://127.0.0.1:${port}/telegram/updates", webhook_secret: "${SECRETS.telegramSecret}"}`,
    ].join('\n'),
  })
  const botToken = fake.token
  const answers: string[] = []
  const record = async (response: Response) => answers.push(`${response.status} ${JSON.stringify([...response.headers])} ${await response.text()}`)

  // wrong and missing credentials, wrong Telegram secret, a bad body
  await record(
    await fetch(`${url}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.webhookToken}x` },
      body: JSON.stringify(webhook()),
    }),
  )
  await record(await fetch(`${url}/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }))
  await record(
    await fetch(`${url}/telegram/updates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'nope' },
      body: '{}',
    }),
  )
  // an alert whose message then fails in every way Telegram can fail
  fake.failNext(1, '500', { method: 'sendMessage' })
  fake.failNext(1, 'reset', { method: 'sendMessage' })
  t.equal((await postWebhook(url, webhook(), { authorization: `Bearer ${SECRETS.webhookToken}` })).status, 200)
  const [message] = await fake.waitFor(() => fake.messages(GROUP).length === 1 && fake.messages(GROUP), 10_000, 'delivered after the failures')
  // an admin presses a button while Alertmanager (with its password) is unreachable
  const button = message!.reply_markup!.inline_keyboard[0]![0]!.callback_data!
  const answer = await fake.pressButton({ chatId: GROUP, messageId: message!.message_id, from: { id: 1001, username: 'alice' }, data: button })
  answers.push(JSON.stringify(answer))
  t.match(answer.text, /unreachable/, 'the error reached the chat')
  fake.sendCommand({ chatId: GROUP, from: { id: 1001, username: 'alice' }, text: '/status' })
  await fake.waitFor(() => fake.messages(GROUP).some((m) => /Alertmanager: ❌/.test(m.text)), 5000, '/status')
  await record(await fetch(`${url}/metrics`))
  await record(await fetch(`${url}/readyz`))
  await new Promise((r) => setTimeout(r, 300))

  const everything = [
    logs.join('\n'),
    answers.join('\n'),
    fake
      .messages(GROUP)
      .map((m) => m.text)
      .join('\n'),
  ].join('\n')
  for (const [name, secret] of Object.entries({ ...SECRETS, botToken })) {
    t.notOk(everything.includes(secret), `${name} appears nowhere`)
  }
  t.notOk(everything.includes(botToken.split(':')[1]!), 'not even the secret half of the bot token')
  for (const logged of ['webhook refused', 'Telegram webhook refused', 'Telegram call failed', 'admin action silence: failed']) {
    t.ok(
      logs.some((l) => l.includes(logged)),
      `the logs checked include "${logged}"`,
    )
  }
})
