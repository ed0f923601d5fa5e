/**
 * alertwire as an operator runs it: the command line (--help, check-config, route-test) and a dry
 * run on the defaults. (The service's start-up, reloads and shutdown: main-service.test.ts.)
 */
import { spawnSync } from 'node:child_process'
import t from 'tap'
import { ENV_OVERRIDES } from '../src/config/parse.js'
import { webhook } from './helpers/app.js'
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
