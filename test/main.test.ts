/**
 * alertwire as an operator runs it: the command line, startup, and shutdown on signals.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import t from 'tap'
import { startFakeTelegram } from './fakes/telegram.js'
import { GROUP, webhook } from './helpers/app.js'
import { cleanEnv, startService as start, tempConfig } from './helpers/service.js'

const ENTRY = ['--import', 'tsx', 'src/main.ts']

function cli(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [...ENTRY, ...args], { env: { ...cleanEnv, ...env }, encoding: 'utf8', timeout: 30_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

t.test('--help documents the commands, the config lookup and the environment', async (t) => {
  const { code, stdout } = cli(['--help'])
  t.equal(code, 0)
  for (const text of [
    'check-config',
    'route-test',
    '--config',
    'ALERTWIRE_CONFIG',
    'config/alertwire.yaml',
    'TELEGRAM_BOT_TOKEN',
    'REDIS_URL',
    'PORT',
    'dry-run',
  ])
    t.match(stdout, text)
  t.equal(cli(['--bogus']).code, 2, 'an unknown option is an error, not ignored')
})

t.test('check-config: OK for a good file, every error with its path for a bad one', async (t) => {
  t.match(cli(['check-config', 'config/alertwire.example.yaml']).stdout, /config\/alertwire\.example\.yaml: OK \(1 route/)
  const bad = tempConfig(t, 'server: {port: fast}\nrouting: {routes: [{matchers: ["x"], chats: [{chat_id: -1, bogus: 1}]}]}\n')
  const result = cli(['check-config', bad])
  t.equal(result.code, 1)
  t.match(result.stderr, /server\.port: expected a TCP port/)
  t.match(result.stderr, /routing\.routes\[0\]\.chats\[0\]\.bogus: unknown key/)
  t.equal(cli(['check-config', '/nonexistent.yaml']).code, 1)
  t.match(cli(['check-config'], { ALERTWIRE_CONFIG: bad }).stderr, /server\.port/, 'ALERTWIRE_CONFIG names the file')
})

t.test('route-test shows where an alert would go and the policies it gets there', async (t) => {
  const file = tempConfig(
    t,
    [
      'telegram: {chat_id: -100}',
      'routing:',
      '  silent_severities: [info]',
      '  repeat_interval: 2h',
      '  routes:',
      '    - name: db',
      '      matchers: [\'team="db"\']',
      '      chats: [{chat_id: -200, thread_id: 4}, {chat_id: 42, pace: "1/5s"}]',
      '      throttle: {messages: 10, per: 10m}',
      '      mute_windows: [{severities: [warning], times: "22:00-07:00", action: hold}]',
    ].join('\n'),
  )
  t.equal(
    cli(['route-test', '--config', file, 'team=db', 'severity=warning']).stdout,
    [
      'db [team="db"] → chat -200 topic 4 (group, one message per 3s, repeat every 2h, throttled to one message per 1m, mute window: warning hold 22:00-07:00)',
      'db [team="db"] → chat 42 (private, one message per 5s, repeat every 2h, throttled to one message per 1m, mute window: warning hold 22:00-07:00)',
      '',
    ].join('\n'),
  )
  t.equal(
    cli(['route-test', '--config', file, 'severity=info']).stdout,
    'default [no route matched] → chat -100 (group, one message per 3s, silent, repeat every 2h)\n',
  )
  t.equal(cli(['route-test', '--config', file, 'nonsense']).code, 2)
})

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
