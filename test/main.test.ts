/**
 * alertwire as an operator runs it: the command line, startup, and shutdown on signals.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startFakeTelegram } from './fakes/telegram.js'
import { ENV_OVERRIDES } from '../src/config/parse.js'
import { GROUP, webhook } from './helpers/app.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from './helpers/redis.js'
import { cleanEnv, postTo, SERVICE_TOKEN, startService as start, tempConfig } from './helpers/service.js'

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
  for (const [variable] of ENV_OVERRIDES) t.match(stdout, variable, `--help names ${variable}, which the config reads`)
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

t.test('check-config lists every error of a broken file in one run, a bad template with its line and column', async (t) => {
  const result = cli(['check-config', 'test/config/fixtures/every-error/alertwire.yaml'])
  t.equal(result.code, 1)
  t.match(result.stderr, /invalid config test\/config\/fixtures\/every-error\/alertwire\.yaml \(21 errors\):\n/)
  for (const path of [
    'server.port',
    'messages.resolved',
    'storms.max_delay',
    'delivery.concurrency',
    'telegram.bot_token_file',
    'telegram.thread_id',
    'messages.time_zone',
    'routing.mute_windows[0].time_zone',
    'messages.severity_aliases.sev-x',
    'messages.hide_labels[0].when[0]',
    'routing.routes[0].matchers[0]',
    'routing.routes[0].matchers[1]',
    'messages.templates.alert',
    'messages.templates.footer',
  ])
    t.ok(result.stderr.includes(`\n  ${path}: `), `${path} is listed`)
  t.ok(
    result.stderr.includes(
      "\n  messages.templates.header: Parse error on line 1, column 29: Expecting 'OPEN_INVERSE_CHAIN', 'INVERSE', 'OPEN_ENDBLOCK', got 'EOF'\n    {{#if resolved}}unterminated\n                                ^\n",
    ),
    `the template's line and a caret under the column, indented under its error:\n${result.stderr}`,
  )
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
      'dry run (no TELEGRAM_BOT_TOKEN): alertwire writes these messages to its log instead of sending them',
      '',
    ].join('\n'),
  )
  t.equal(
    cli(['route-test', '--config', file, 'severity=info']).stdout,
    'default [no route matched] → chat -100 (group, one message per 3s, silent, repeat every 2h)\n' +
      'dry run (no TELEGRAM_BOT_TOKEN): alertwire writes these messages to its log instead of sending them\n',
  )
  t.equal(
    cli(['route-test', '--config', file, 'severity=info'], { TELEGRAM_BOT_TOKEN: '1:x' }).stdout,
    'default [no route matched] → chat -100 (group, one message per 3s, silent, repeat every 2h)\n',
    'with a bot token it is not a dry run',
  )
  t.equal(cli(['route-test', '--config', file, 'nonsense']).code, 2)
})

t.test('route-test and the running service agree on the defaults: a dry run for chat 0', async (t) => {
  const service = await start(t)
  const env = { REDIS_URL: service.redisUrl, ALERTWIRE_WEBHOOK_TOKEN: SERVICE_TOKEN }
  const routed = cli(['route-test', '--config', service.config, 'alertname=HighLatency', 'severity=warning'], env)
  t.equal(routed.code, 0, 'delivered, not "would not be delivered"')
  t.match(routed.stdout, /^default \[no route matched\] → chat 0 \(no TELEGRAM_CHAT_ID\) \(private, /)
  t.match(routed.stdout, /\ndry run \(no TELEGRAM_BOT_TOKEN\): alertwire writes these messages to its log instead of sending them\n$/)
  t.equal(await postTo(service.url, webhook()), 200)
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline && !service.output().includes('would send')) await new Promise((r) => setTimeout(r, 50))
  const sent = service
    .output()
    .split('\n')
    .find((line) => line.includes('would send'))
  t.ok(sent, 'the service dry-ran the alert')
  t.equal(String(JSON.parse(sent ?? '{}').chat), '0', 'to chat 0, as route-test said')
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

t.test('check-config and route-test show the escalation an alert gets, step by step, with who is on call', async (t) => {
  const file = tempConfig(
    t,
    [
      'telegram: {chat_id: -100}',
      'people:',
      '  alice: {id: 111, name: Alice, username: alice}',
      'rotas:',
      '  primary: {layers: [{rotation: weekly, handoff: "09:00", day: monday, start: "2026-01-05", people: [alice]}]}',
      'escalation:',
      '  policies:',
      '    pager:',
      '      steps:',
      '        - {after: 0m, mention: ["rota:primary"]}',
      '        - {after: 5m, mention: [alice], loud: true, repeat: 10m}',
      'routing:',
      '  escalation: pager',
      '  routes: [{name: quiet, matchers: [\'team="quiet"\'], escalation: none}]',
    ].join('\n'),
  )
  const pager = 'escalation pager (critical): 0m mention rota primary (now: Alice); 5m mention @alice, loud, repeat every 10m'
  t.match(cli(['check-config', file]).stdout, `${pager}\n`)
  const critical = cli(['route-test', '--config', file, 'severity=crit']).stdout
  t.match(critical, `default [no route matched] → chat -100 (group, one message per 3s, repeat every 4h)\n  ${pager}\n`)
  t.match(cli(['route-test', '--config', file, 'severity=warning']).stdout, '  no escalation (pager covers critical)\n')
  t.notMatch(cli(['route-test', '--config', file, 'team=quiet', 'severity=critical']).stdout, 'escalation', 'escalation: none')
})
