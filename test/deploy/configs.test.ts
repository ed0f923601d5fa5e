/**
 * The shipped monitoring stack's files pass their own tools (promtool, amtool, docker-compose,
 * alertwire check-config, shellcheck, yamllint), and say what the issue asks of them: the seed's
 * alerts with their severities, every alert tested both ways, links that lead somewhere.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import YAML from 'yaml'
import { makeTempDir, removeTempDir, runCommand } from '../helpers/processes.js'
import { DEPLOY, groupEvalOrder, parseRules, RULE_FILES, readDeploy, shippedAlerts } from './stack.js'

/** the seed's alerts and their severities */
const SEED_ALERTS: Record<string, string> = {
  HighErrorRate: 'critical',
  QueueBackup: 'critical',
  BotDown: 'critical',
  YtdlpFailures: 'critical',
  PaymentFailures: 'critical',
  SlowDownloads: 'warning',
  LowSuccessRate: 'warning',
  HighRetryRate: 'warning',
  LowDailyActiveUsers: 'warning',
  LowConversionRate: 'warning',
  HighCancellationRate: 'warning',
}

const ruleTests = () =>
  readdirSync(join(DEPLOY, 'prometheus/tests'))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => join(DEPLOY, 'prometheus/tests', f))

async function passes(t: Test, command: string, args: string[], timeoutMs = 30_000) {
  const { code, output } = await runCommand(command, args, timeoutMs)
  t.equal(code, 0, `${command} ${args.join(' ')}`, { output })
  return output
}

t.test('promtool check config: prometheus.yml and every rule file it loads', async (t) => {
  const output = await passes(t, 'promtool', ['check', 'config', join(DEPLOY, 'prometheus/prometheus.yml')])
  t.match(output, /SUCCESS: 3 rule files found/)
})

t.test('promtool check rules: every rule file', async (t) => {
  const files = readdirSync(join(DEPLOY, 'prometheus/rules')).map((f) => join(DEPLOY, 'prometheus/rules', f))
  t.ok(files.length >= 3)
  await passes(t, 'promtool', ['check', 'rules', ...files])
})

t.test('promtool test rules: each alert fires past its threshold and stays quiet below it', async (t) => {
  await passes(t, 'promtool', ['test', 'rules', ...ruleTests()])
  // the unit tests must cover every shipped alert both ways, not just pass
  const cases = ruleTests().flatMap(
    (file) => (YAML.parse(readFileSync(file, 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] }).tests,
  )
  const checks = cases.flatMap((c) => c.alert_rule_test ?? [])
  for (const { alert } of shippedAlerts()) {
    t.ok(
      checks.some((c) => c.alertname === alert && c.exp_alerts.length > 0),
      `${alert} is shown firing`,
    )
    t.ok(
      checks.some((c) => c.alertname === alert && c.exp_alerts.length === 0),
      `${alert} is shown quiet`,
    )
  }
})

/** THRESHOLD: a comparison with a number in an alert's expression ("> 0.10", "< 0.90"). */
const THRESHOLD = /([<>]=?)\s*(\d+(?:\.\d+)?)(?![\d.])/g

/** withThreshold writes the shipped rules, one threshold of one alert moved to `value`, and that alert's rule tests, to dir; returns the tests' file. */
async function withThreshold(dir: string, alert: string, occurrence: number, value: number) {
  await mkdir(join(dir, 'rules'), { recursive: true })
  for (const file of RULE_FILES) {
    const rules = parseRules(file)
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      let n = 0
      if (rule.alert === alert) rule.expr = rule.expr.replace(THRESHOLD, (match, op: string) => (n++ === occurrence ? `${op} ${value}` : match))
    }
    await writeFile(join(dir, 'rules', file), YAML.stringify(rules))
  }
  // only the cases about this alert: the whole files take seconds each
  const cases = ruleTests().flatMap((file) => (YAML.parse(readFileSync(file, 'utf8')) as { tests: { alert_rule_test?: { alertname: string }[] }[] }).tests)
  const tests = cases.filter((c) => c.alert_rule_test?.some((a) => a.alertname === alert))
  const file = join(dir, 'moved_test.yml')
  const rule_files = RULE_FILES.map((f) => join(dir, 'rules', f))
  await writeFile(file, YAML.stringify({ rule_files, evaluation_interval: '1m', group_eval_order: groupEvalOrder(RULE_FILES), tests }))
  return file
}

t.test('promtool test rules: every threshold is pinned from both sides (moved 20% up or down, a test fails)', async (t) => {
  const dir = makeTempDir('thresholds')
  t.teardown(() => removeTempDir(dir))
  for (const { alert, expr } of shippedAlerts()) {
    const thresholds = [...expr.matchAll(THRESHOLD)].map((m) => Number(m[2]))
    for (const [occurrence, threshold] of thresholds.entries()) {
      // "> 0" (any failure at all) has no nearer side: its tests start from a single event
      if (threshold === 0) continue
      for (const factor of [1.2, 0.8]) {
        const moved = Number((threshold * factor).toPrecision(6))
        const { code, output } = await runCommand('promtool', ['test', 'rules', await withThreshold(dir, alert, occurrence, moved)], 30_000)
        t.not(code, 0, `${alert}: ${threshold} moved to ${moved} is caught`, { output })
      }
    }
  }
})

t.test("the seed's alerts, each with severity, summary, description, runbook and dashboard link", async (t) => {
  const alerts = shippedAlerts()
  const doradura = Object.fromEntries(alerts.filter((a) => a.file === 'doradura_alerts.yml').map((a) => [a.alert, a.labels?.severity]))
  t.same(doradura, SEED_ALERTS)
  t.ok(alerts.filter((a) => a.file === 'alertwire_alerts.yml').length >= 4, "alertwire's own alerts")
  const runbooks = readFileSync('docs/monitoring/runbooks.md', 'utf8')
  const anchors = new Set(
    [...runbooks.matchAll(/^#+ (.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-'),
    ),
  )
  const dashboards = Object.fromEntries(
    readdirSync(join(DEPLOY, 'grafana/dashboards')).map((f) => {
      const d = JSON.parse(readDeploy(`grafana/dashboards/${f}`)) as { uid: string; panels: { id: number }[] }
      return [d.uid, new Set(d.panels.map((p) => p.id))]
    }),
  )
  for (const a of alerts) {
    t.match(a.labels, { severity: /^(critical|warning)$/, service: /^(doradura|alertwire)$/, component: /./ }, `${a.alert} labels`)
    t.match(a.annotations, { summary: /./, description: /./ }, `${a.alert} text`)
    const runbook = /^\{\{ \$externalLabels\.runbook_base \}\}#([a-z]+)$/.exec(a.annotations?.runbook_url ?? '')
    t.ok(runbook && anchors.has(runbook[1]!), `${a.alert}: its runbook section exists in docs/monitoring/runbooks.md`)
    const dashboard = /^\{\{ \$externalLabels\.grafana_url \}\}\/d\/([a-z-]+)\/[a-z-]+(?:\?viewPanel=(\d+))?/.exec(a.annotations?.dashboard_url ?? '')
    t.ok(dashboard && dashboards[dashboard[1]!], `${a.alert}: its dashboard is shipped`)
    if (dashboard?.[2]) t.ok(dashboards[dashboard[1]!]!.has(Number(dashboard[2])), `${a.alert}: its panel ${dashboard[2]} exists`)
  }
  // recording rules keep job and instance, so alerts can name the instance and be inhibited per instance
  for (const rule of parseRules('doradura_recording.yml').groups.flatMap((g) => g.rules)) {
    t.match(rule.record, /^instance(_category)?:doradura_/, `${rule.record}: level:metric:operation naming`)
  }
})

t.test('amtool check-config, and critical and warning alerts both reach alertwire', async (t) => {
  const file = join(DEPLOY, 'alertmanager/alertmanager.yml')
  await passes(t, 'amtool', ['check-config', file])
  for (const severity of ['critical', 'warning']) {
    const output = await passes(t, 'amtool', [
      'config',
      'routes',
      'test',
      `--config.file=${file}`,
      '--verify.receivers=alertwire',
      `severity=${severity}`,
      'alertname=X',
    ])
    t.match(output, 'alertwire')
  }
  const config = YAML.parse(readDeploy('alertmanager/alertmanager.yml')) as {
    receivers: { webhook_configs: { url: string; send_resolved: boolean; http_config: { authorization: { type: string; credentials_file: string } } }[] }[]
  }
  const webhook = config.receivers[0]!.webhook_configs[0]!
  t.equal(webhook.url, 'http://alertwire:8080/alerts')
  t.equal(webhook.send_resolved, true, 'resolves are sent: they edit the Telegram message')
  t.same(webhook.http_config.authorization, { type: 'Bearer', credentials_file: '/run/secrets/alertwire_webhook_token' }, 'the bearer token comes from a file')
})

/** matches: an alert's static labels satisfy Alertmanager matchers like 'severity="critical"' and 'component!=""'. */
function matches(labels: Record<string, string>, matchers: string[]) {
  return matchers.every((m) => {
    const [, name, op, value] = /^(\w+)(!?=)"(.*)"$/.exec(m) ?? []
    if (!name) throw new Error(`matcher not understood: ${m}`)
    return op === '=' ? (labels[name] ?? '') === value : (labels[name] ?? '') !== value
  })
}

t.test('every inhibit rule of alertmanager.yml applies to a pair of shipped alerts', async (t) => {
  const { inhibit_rules } = YAML.parse(readDeploy('alertmanager/alertmanager.yml')) as {
    inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[]
  }
  const alerts = shippedAlerts().map((a) => ({ alertname: a.alert, ...a.labels }) as Record<string, string>)
  for (const rule of inhibit_rules) {
    // labels the rules set must be equal; job and instance come from the series and can be
    const pairs = alerts.flatMap((source) =>
      alerts
        .filter((target) => target !== source && matches(source, rule.source_matchers) && matches(target, rule.target_matchers))
        .filter((target) => rule.equal.every((l) => source[l] === target[l] || l === 'instance' || l === 'job'))
        .map((target) => `${source.alertname} hides ${target.alertname}`),
    )
    t.ok(pairs.length > 0, `${rule.source_matchers} → ${rule.target_matchers} on ${rule.equal}: ${pairs.join(', ') || 'never applies'}`)
  }
})

interface ComposeService {
  image?: string
  build?: { context: string; dockerfile?: string }
  command?: string[]
  environment?: Record<string, string>
  ports?: ({ published: number; target: number } | string)[]
  volumes?: ({ source: string; target: string; type: string } | string)[]
  healthcheck?: { test: string[] }
  secrets?: { source: string }[]
}

t.test('docker-compose config: the stack, each service with a healthcheck and its data on a volume', async (t) => {
  // with deploy/.env.example as the .env: the example validates too, and a developer's own .env does not change the result
  const compose = ['-f', join(DEPLOY, 'docker-compose.yml'), '--env-file', join(DEPLOY, '.env.example')]
  const output = await passes(t, 'docker-compose', [...compose, '--profile', 'demo', 'config'])
  const { services, volumes } = YAML.parse(output) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> }
  t.same(Object.keys(services).sort(), ['alertmanager', 'alertwire', 'demo-exporter', 'grafana', 'prometheus', 'redis'])
  for (const [name, service] of Object.entries(services)) {
    t.ok(service.healthcheck?.test?.length || name === 'demo-exporter', `${name} has a healthcheck`) // the demo exporter's is in its Dockerfile
  }
  // docker-compose 1.29 writes ports as "127.0.0.1:9091:9090/tcp" and volumes as "name:/path:rw"
  const published = (s: ComposeService) => (s.ports ?? []).map((p) => (typeof p === 'string' ? p.replace(/\/tcp$/, '') : `${p.published}:${p.target}`))
  t.ok(published(services.prometheus!).includes('127.0.0.1:9091:9090'), 'Prometheus on host port 9091 (loopback unless BIND_ADDRESS says otherwise)')
  t.ok(published(services.alertmanager!).includes('127.0.0.1:9093:9093'), 'Alertmanager on 9093')
  t.ok(published(services.grafana!).includes('127.0.0.1:3000:3000'), 'Grafana on 3000')
  const mounts = (s: ComposeService) => (s.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':').slice(0, 2) : [v.source, v.target]))
  for (const [name, target] of [
    ['prometheus', '/prometheus'],
    ['alertmanager', '/alertmanager'],
    ['grafana', '/var/lib/grafana'],
    ['redis', '/data'],
    ['alertwire', '/app/data'],
  ] as const) {
    t.ok(
      mounts(services[name]!).some(([source, path]) => path === target && Object.keys(volumes).includes(source!)),
      `${name} keeps ${target} on a named volume`,
    )
  }
  const prometheus = services.prometheus!.command!.join(' ')
  t.match(prometheus, '--storage.tsdb.retention.time=30d')
  t.match(prometheus, '--config.file=/etc/prometheus/prometheus.yml')
  t.match(YAML.parse(readDeploy('prometheus/prometheus.yml')), { global: { scrape_interval: '15s' } }, '15 s scrapes')
  t.match(services.redis!.command!.join(' '), '--appendonly yes')
  t.same(services.alertwire!.build, { context: join(process.cwd()), dockerfile: 'Dockerfile' }, 'alertwire is built from the repository')
  const grafana = services.grafana!.environment!
  t.notOk('GF_SECURITY_ADMIN_PASSWORD' in grafana, 'no fixed Grafana password in the file')
  t.equal(grafana.GF_SECURITY_ADMIN_PASSWORD__FILE, '/run/secrets/grafana_admin_password')
  t.ok(
    services.alertwire!.secrets?.some((s) => s.source === 'alertwire_webhook_token') &&
      services.alertmanager!.secrets?.some((s) => s.source === 'alertwire_webhook_token'),
    'Alertmanager and alertwire share the token file',
  )
  // the file validates on its own too, without the demo profile
  await passes(t, 'docker-compose', ['-f', join(DEPLOY, 'docker-compose.yml'), 'config', '--quiet'])
  t.ok(output.includes('DORADURA_TARGET: host.docker.internal:9090'), 'an empty DORADURA_TARGET in .env falls back to the bot on the Docker host')
})

t.test('alertwire check-config accepts deploy/alertwire/alertwire.yaml', async (t) => {
  const dir = makeTempDir('deploy-check')
  t.teardown(() => removeTempDir(dir))
  await writeFile(join(dir, 'token'), 'a-token\n')
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TELEGRAM_|ALERTWIRE_|REDIS_URL|PORT|HOST)/.test(k)))
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'check-config', join(DEPLOY, 'alertwire/alertwire.yaml')], {
    env: { ...env, ALERTWIRE_WEBHOOK_TOKEN_FILE: join(dir, 'token') },
    encoding: 'utf8',
    timeout: 30_000,
  })
  t.equal(result.status, 0, result.stderr)
  t.match(result.stdout, 'alertwire.yaml: OK')
})

t.test('shellcheck: the scripts', async (t) => {
  const scripts = readdirSync(join(DEPLOY, 'scripts'))
    .filter((f) => f.endsWith('.sh'))
    .map((f) => join(DEPLOY, 'scripts', f))
  t.same(scripts.map((s) => s.split('/').pop()).sort(), ['check-metrics.sh', 'lib.sh', 'start-monitoring.sh', 'stop-monitoring.sh'])
  await passes(t, 'shellcheck', ['-x', ...scripts, join(DEPLOY, 'prometheus/run-prometheus.sh')])
})

t.test('yamllint: every YAML file of the stack', async (t) => {
  await passes(t, 'yamllint', ['-s', '-c', join(DEPLOY, '.yamllint.yml'), DEPLOY])
})
