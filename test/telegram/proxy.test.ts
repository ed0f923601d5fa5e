/**
 * Telegram behind a proxy: which proxy a request takes (config, the standard variables, NO_PROXY),
 * and the Telegram client sending and polling through a real HTTP CONNECT proxy and a real SOCKS5
 * proxy on loopback, with credentials, while the bot token appears in no line the proxy or
 * alertwire writes.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { AlertmanagerClient } from '../../src/alertmanager/client.js'
import { createTelegramBotApi, createTelegramClient } from '../../src/telegram/client.js'
import { proxiedTransport } from '../../src/telegram/proxy.js'
import { startFakeTelegram } from '../fakes/telegram.js'
import { GROUP as APP_GROUP, postWebhook, startWithFake, webhook } from '../helpers/app.js'
import { startHttpProxy, startSocksProxy } from '../helpers/proxies.js'

const GROUP = -1001000000001

for (const kind of ['http', 'socks5'] as const) {
  t.test(`sending and polling through a real ${kind} proxy with credentials; the token is in none of its lines`, async (t) => {
    const fake = await startFakeTelegram({ chats: [{ id: GROUP, type: 'supergroup' }] })
    t.teardown(() => fake.close())
    const credentials = { username: 'alertwire', password: 'pr0xy pass:word' }
    const proxy = kind === 'http' ? await startHttpProxy(t, credentials) : await startSocksProxy(t, credentials)
    const transport = proxiedTransport({ url: proxy.url, from: 'telegram.proxy_url' }, { connectTimeoutMs: 2000 })
    t.teardown(() => transport.close())
    const connection = { token: fake.token, apiUrl: fake.url, timeoutMs: 3000, fetch: transport.fetch }
    const client = createTelegramClient(connection)
    const bot = createTelegramBotApi(connection)

    const sent = await client.sendMessage({ chatId: String(GROUP), text: '<b>through the proxy</b>', html: true, silent: false })
    t.equal(fake.message(GROUP, sent.messageId)?.text, 'through the proxy', 'the message arrived')
    fake.injectUpdate({
      message: { message_id: 1, date: 0, chat: { id: GROUP, type: 'supergroup' }, from: { id: 7, is_bot: false, first_name: 'A' }, text: '/status' },
    })
    const updates = await bot.getUpdates(undefined, 0)
    t.equal(updates.length, 1, 'polling went through too')

    const { port } = new URL(fake.url)
    const prefix = kind === 'http' ? 'CONNECT' : 'SOCKS5'
    t.ok(proxy.log.length >= 1, 'the proxy saw the calls')
    for (const line of proxy.log) t.match(line, new RegExp(`^${prefix} 127\\.0\\.0\\.1:${port} user=alertwire$`), 'a tunnel to the fake, by the user')
    t.notOk(
      proxy.log.some((line) => line.includes(fake.token)),
      'the token is in none of its lines',
    )
  })

  t.test(`a ${kind} proxy that refuses the credentials is a network failure that names no secret`, async (t) => {
    const fake = await startFakeTelegram({ chats: [{ id: GROUP, type: 'supergroup' }] })
    t.teardown(() => fake.close())
    const proxy =
      kind === 'http' ? await startHttpProxy(t, { username: 'u', password: 'right' }) : await startSocksProxy(t, { username: 'u', password: 'right' })
    const wrong = proxy.url.replace('u:right@', 'u:wrong-pass@')
    const transport = proxiedTransport({ url: wrong, from: 'telegram.proxy_url' }, { connectTimeoutMs: 2000 })
    t.teardown(() => transport.close())
    const client = createTelegramClient({ token: fake.token, apiUrl: fake.url, timeoutMs: 3000, fetch: transport.fetch })
    const error = await client.sendMessage({ chatId: String(GROUP), text: 'x', html: false, silent: false }).catch((e: Error) => e)
    t.type(error, Error)
    const text = `${(error as Error).message} ${String((error as Error).cause)}`
    t.notMatch(text, /wrong-pass/, 'the password is not in the error')
    t.notMatch(text, new RegExp(fake.token), 'nor the token')
    t.equal(fake.calls.length, 0, 'nothing reached Telegram')
  })
}

t.test('the service sends through telegram.proxy_url, says so without credentials, and logs no secret', async (t) => {
  const proxy = await startSocksProxy(t, { username: 'alertwire', password: 'pr0xy-s3cret' })
  const { url, fake, logs } = await startWithFake(t, { yaml: `telegram: {updates: off, proxy_url: "${proxy.url}"}` })
  const alert = {
    status: 'firing',
    labels: { alertname: 'Blocked', severity: 'critical', instance: 'px11:9100' },
    annotations: { summary: 'Telegram is blocked here' },
    startsAt: '2026-11-24T23:01:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    fingerprint: 'px11',
  }
  t.equal((await postWebhook(url, webhook({ alerts: [alert] }))).status, 200)
  await fake.waitFor(() => fake.messages(APP_GROUP).length === 1, 5000, 'the message through the proxy')
  t.ok(
    proxy.log.some((line) => line.startsWith(`SOCKS5 127.0.0.1:${new URL(fake.url).port}`)),
    'it went through the proxy',
  )
  const said = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'telegram: calls go through a proxy')
  t.match(said, { proxy: /^socks5:\/\/127\.0\.0\.1:[0-9]+$/, from: 'telegram.proxy_url' })
  for (const secret of [fake.token, 'pr0xy-s3cret']) {
    t.notOk(
      logs.some((l) => l.includes(secret)),
      'no secret in our log lines',
    )
    t.notOk(
      proxy.log.some((l) => l.includes(secret)),
      "nor in the proxy's",
    )
  }
})

t.test('Alertmanager through alertmanager.proxy_url (an HTTP CONNECT proxy)', async (t) => {
  const am = http.createServer((_req, res) => res.end('OK'))
  await new Promise<void>((resolve) => am.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => am.close(resolve)))
  const proxy = await startHttpProxy(t)
  const transport = proxiedTransport({ url: proxy.url, from: 'alertmanager.proxy_url' }, { connectTimeoutMs: 2000 })
  t.teardown(() => transport.close())
  const { port } = am.address() as AddressInfo
  const client = new AlertmanagerClient({ url: `http://127.0.0.1:${port}`, fetch: transport.fetch })
  t.equal(await client.healthy(), true)
  t.same(proxy.log, [`CONNECT 127.0.0.1:${port} user=-`])
})
