/**
 * alertwire as an operator runs it, as a service: npm start on its defaults, config reloads,
 * bounded shutdown on signals, and what the start-up log says. (The command line: main.test.ts.)
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startFakeTelegram } from './fakes/telegram.js'
import { GROUP, webhook } from './helpers/app.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from './helpers/redis.js'
import { cleanEnv, startService as start, tempConfig } from './helpers/service.js'

const ENTRY = ['--import', 'tsx', 'src/main.ts']

t.test('npm start on defaults: a dry run that says so, and SIGTERM stops it cleanly', async (t) => {
  const service = await start(t)
  const health = await (await fetch(`${service.url}/healthz`)).json()
  t.same(health, { status: 'ok', dry_run: true })
  const posted = await fetch(`${service.url}/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer service-test-token' },
    body: JSON.stringify(webhook()),
  })
  t.equal(posted.status, 200)
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && !service.output().includes('would send')) await new Promise((r) => setTimeout(r, 50))
  t.match(service.output(), /DRY RUN: no TELEGRAM_BOT_TOKEN/)
  t.match(service.output(), /dry run: would send message/)
  const started = Date.now()
  service.child.kill('SIGTERM')
  t.equal(await service.exited, 0, 'exit code 0')
  t.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms`)
  t.match(service.output(), /"msg":"stopped"/)
  t.notMatch(service.output(), /service-test-token/, 'the webhook token never appears in the logs')
})

t.test('the config reloads on file change and on SIGHUP; a broken file is refused and the old config stays', async (t) => {
  const fake = await startFakeTelegram({
    chats: [
      { id: GROUP, type: 'supergroup' },
      { id: 4242, type: 'private' },
    ],
  })
  t.teardown(() => fake.close())
  const env = { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_URL: fake.url, TELEGRAM_CHAT_ID: String(GROUP) }
  const service = await start(t, { env, yaml: 'telegram: {pace: {private: "10/1s", group: "10/1s"}}' })
  const file = service.config
  const original = readFileSync(file, 'utf8')
  const post = (n: number) =>
    fetch(`${service.url}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer service-test-token' },
      body: JSON.stringify(webhook({ groupKey: `reload-${n}`, alerts: [{ ...webhook().alerts[0], fingerprint: `reload${n}` }] })),
    })
  const reloaded = async (count: number) => {
    const deadline = Date.now() + 5000
    while (Date.now() < deadline && (service.output().match(/"msg":"config reloaded/g) ?? []).length < count) await new Promise((r) => setTimeout(r, 50))
    t.equal((service.output().match(/"msg":"config reloaded/g) ?? []).length, count, `reload number ${count} seen`)
    if ((service.output().match(/"msg":"config reloaded/g) ?? []).length !== count) console.error(service.output())
  }
  writeFileSync(file, `${original}\nrouting: {routes: [{matchers: ['alertname="HighLatency"'], chats: [{chat_id: 4242}]}]}\n`)
  await reloaded(1)
  await post(1)
  await fake.waitFor(() => fake.messages(4242).length === 1, 5000, 'routed by the changed file')
  writeFileSync(file, `${original}\nrouting: {routes: [{matchers: ['not a matcher']}]}\n`)
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && !service.output().includes('config reload refused')) await new Promise((r) => setTimeout(r, 50))
  t.match(service.output(), /config reload refused/)
  t.match(await (await fetch(`${service.url}/metrics`)).text(), /alertwire_config_last_reload_successful 0/)
  await post(2)
  await fake.waitFor(() => fake.messages(4242).length === 2, 5000, 'the old config still routes')
  writeFileSync(file, original)
  await reloaded(2)
  service.child.kill('SIGHUP')
  await reloaded(3)
  t.match(await (await fetch(`${service.url}/metrics`)).text(), /alertwire_config_last_reload_successful 1/)
  await post(3)
  await fake.waitFor(() => fake.messages(GROUP).length === 1, 5000, 'back to the default chat')
})

t.test('shutdown is bounded: a hung Telegram call cannot hold it, and a second signal exits at once', async (t) => {
  const fake = await startFakeTelegram({ chats: [{ id: GROUP, type: 'supergroup' }] })
  t.teardown(() => fake.close())
  fake.failFor(60_000, 'hang', { method: 'sendMessage' })
  const env = { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_URL: fake.url, TELEGRAM_CHAT_ID: String(GROUP) }
  const post = (url: string) =>
    fetch(`${url}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer service-test-token' },
      body: JSON.stringify(webhook()),
    })
  const waitForCall = () => fake.waitFor(() => fake.calls.some((c) => c.method === 'sendMessage'), 5000, 'a hanging call')

  const bounded = await start(t, { env, yaml: 'server: {shutdown_timeout: 1s}\ntelegram: {request_timeout: 30s}' })
  await post(bounded.url)
  await waitForCall()
  const started = Date.now()
  bounded.child.kill('SIGTERM')
  t.equal(await bounded.exited, 1, 'gave up waiting: exit code 1')
  const took = Date.now() - started
  t.ok(took >= 900 && took < 4000, `exited after the 1 s shutdown_timeout (${took} ms)`)
  t.notMatch(bounded.output(), new RegExp(fake.token.split(':')[1]!), 'the bot token never appears in the logs')

  fake.calls.length = 0
  const impatient = await start(t, { env, yaml: 'server: {shutdown_timeout: 30s}\ntelegram: {request_timeout: 30s}' })
  await post(impatient.url)
  await waitForCall()
  impatient.child.kill('SIGTERM')
  await new Promise((r) => setTimeout(r, 300))
  const second = Date.now()
  impatient.child.kill('SIGINT')
  t.equal(await impatient.exited, 1)
  t.ok(Date.now() - second < 2000, 'the second signal exits at once')
  t.match(impatient.output(), /second signal: exiting now/)
})

/** runUntilListening starts alertwire as an operator does, waits for its start-up lines, checks it answers, and stops it with SIGTERM. */
async function runUntilListening(t: Test, config: string, env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [...ENTRY, '--config', config], { env: { ...cleanEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline && !/"webhookToken"/.test(output)) await new Promise((r) => setTimeout(r, 50))
  const started = output.split('\n').find((line) => line.includes(' listening on '))
  t.ok(started, `started:\n${output}`)
  const { url } = JSON.parse(started ?? '{}') as { url: string }
  t.equal((await fetch(`${url}/healthz`)).status, 200, `${url} answers`)
  child.kill('SIGTERM')
  await exited
  return output
}

t.test('the start-up log names the address really bound, the Redis chosen (no password), and a reused token as reused', async (t) => {
  const redis = new URL(await testRedisUrl())
  if (!redis.password) redis.password = 'redis-secret-pw' // a Redis without a password accepts the AUTH and carries on
  const prefix = uniquePrefix('startlog')
  t.teardown(() => cleanupPrefix(redis.toString(), prefix))
  const data = mkdtempSync(join(tmpdir(), 'aw-startlog-'))
  t.teardown(() => rmSync(data, { recursive: true, force: true }))
  const config = tempConfig(t, `redis: {prefix: "${prefix}"}\ndata_dir: ${data}\n`)
  const env = { PORT: '0', HOST: '0.0.0.0', REDIS_URL: redis.toString() }

  const first = await runUntilListening(t, config, env)
  const listening = /"msg":"alertwire \S+ listening on 0\.0\.0\.0:(\d+) \(every interface; http:\/\/127\.0\.0\.1:(\d+) from this machine\)"/.exec(first)
  t.ok(listening, 'the host it binds and the port it got')
  t.not(listening?.[1], '0', 'PORT=0: the real port, not 0')
  t.equal(listening?.[1], listening?.[2])
  const shown = new URL(redis.toString())
  shown.password = '***'
  t.match(first, `"msg":"Redis ${shown.toString()}: from REDIS_URL"`, 'the Redis it chose, and why')
  t.notMatch(first, redis.password, 'never its password')
  t.match(first, /"webhookToken":"generated","msg":"the webhook requires a bearer token: none was configured, so one was generated into this file/)
  const token = readFileSync(join(data, 'webhook_token'), 'utf8')

  const second = await runUntilListening(t, config, env)
  t.match(second, /"webhookToken":"reused","msg":"the webhook requires a bearer token: none is configured: reused the one generated earlier in this file/)
  t.notMatch(second, /generated into this file/)
  t.equal(readFileSync(join(data, 'webhook_token'), 'utf8'), token, 'the same token')
  t.notMatch(first + second, token.trim(), 'the token itself is never logged')
})
