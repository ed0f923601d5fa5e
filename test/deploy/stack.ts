/**
 * The shipped monitoring stack (deploy/), started for tests from the very files a user runs:
 * the demo exporter → Prometheus with deploy/prometheus/prometheus.yml and rules/*.yml →
 * Alertmanager with deploy/alertmanager/alertmanager.yml → alertwire with
 * deploy/alertwire/alertwire.yaml → the strict Telegram fake. Only what a test machine needs is
 * rewritten: addresses and ports (Docker service names become 127.0.0.1:<free port>; the bot's
 * target is given statically), the token file's path, and the timings (scrapes and evaluations
 * every second, Alertmanager's group_wait 0s and group_interval 1s, and the alerts' for: when a
 * test asks), so a test takes seconds instead of minutes.
 */
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Test } from 'tap'
import YAML from 'yaml'
import { type Exporter, type Knobs, startExporter } from '../../deploy/demo-exporter/exporter.js'
import { type AmConfig, type AlertmanagerHandle, startAlertmanager } from '../helpers/alertmanager.js'
import { startWithFake, WEBHOOK_TOKEN } from '../helpers/app.js'
import { freePort } from '../helpers/net.js'
import { type PrometheusHandle, startPrometheus } from '../helpers/prometheus.js'
import { makeTempDir, removeTempDir } from '../helpers/processes.js'

/** DEPLOY: the deploy/ folder, from the repository root (tests run there). */
export const DEPLOY = 'deploy'

/** LINKS: what GRAFANA_URL and RUNBOOK_BASE_URL are in tests (dotted hosts: Telegram links them). */
export const LINKS = { grafana: 'https://grafana.example.com', runbooks: 'https://runbooks.example.com/doradura' }

/** readDeploy reads a shipped file by its path under deploy/. */
export function readDeploy(path: string): string {
  return readFileSync(join(DEPLOY, path), 'utf8')
}

/** RULE_FILES: the shipped rule files, by name. */
export const RULE_FILES = ['doradura_recording.yml', 'doradura_alerts.yml', 'alertwire_alerts.yml']

interface RuleFile {
  groups: {
    name: string
    interval?: string
    rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[]
  }[]
}

/** parseRules reads a shipped rule file. */
export function parseRules(name: string): RuleFile {
  return YAML.parse(readDeploy(`prometheus/rules/${name}`)) as RuleFile
}

/**
 * groupEvalOrder: the rule groups of these files (RULE_FILES names), recording rules first, for a
 * promtool test's group_eval_order: without one promtool evaluates groups in a random order, and an
 * alert reads a step-old recorded value in some runs only.
 */
export function groupEvalOrder(files: readonly string[]): string[] {
  return RULE_FILES.filter((file) => files.includes(file)).flatMap((file) => parseRules(file).groups.map((g) => g.name))
}

/** shippedAlerts lists every alerting rule of every shipped rule file. */
export function shippedAlerts() {
  return RULE_FILES.flatMap((file) =>
    parseRules(file).groups.flatMap((g) => g.rules.filter((r) => r.alert).map((rule) => ({ file, ...rule, alert: rule.alert! }))),
  )
}

/** testRuleFiles returns the shipped rule files for the test Prometheus; `forDuration` replaces every alert's for: (test speed). */
export function testRuleFiles(forDuration?: string): Record<string, string> {
  const files: Record<string, string> = {}
  for (const name of RULE_FILES) {
    const rules = parseRules(name)
    if (forDuration) for (const group of rules.groups) for (const rule of group.rules) if (rule.alert) rule.for = forDuration
    files[`rules/${name}`] = YAML.stringify(rules)
  }
  return files
}

interface PromConfig {
  global: Record<string, unknown>
  alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] }
  scrape_configs: { job_name: string; static_configs?: { targets: string[] }[]; file_sd_configs?: { files: string[] }[] }[]
  rule_files: string[]
}

/** testPrometheusConfig rewrites the shipped prometheus.yml: addresses to the test's, and scrapes and evaluations every second. */
export function testPrometheusConfig(targets: { doradura: string; alertwire: string; alertmanager: string }): string {
  const config = YAML.parse(readDeploy('prometheus/prometheus.yml')) as PromConfig
  // every second instead of 15 s: rates and alerts move within a test's patience
  Object.assign(config.global, { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' })
  config.alerting.alertmanagers[0]!.static_configs[0]!.targets = [targets.alertmanager]
  const job = (name: string) => {
    const found = config.scrape_configs.find((c) => c.job_name === name)
    if (!found) throw new Error(`deploy/prometheus/prometheus.yml has no ${name} job`)
    return found
  }
  // the bot's target as a static config: Prometheus reads file_sd targets (what
  // run-prometheus.sh writes; the scripts test runs that path) only after ~5 s, time in which a
  // shortened BotDown would fire
  const doradura = job('doradura')
  delete doradura.file_sd_configs
  doradura.static_configs = [{ targets: [targets.doradura] }]
  job('alertwire').static_configs![0]!.targets = [targets.alertwire]
  job('alertmanager').static_configs![0]!.targets = [targets.alertmanager]
  return YAML.stringify(config)
}

/** testAlertmanagerConfig rewrites the shipped alertmanager.yml: alertwire's URL, the token file, and no waiting (group_wait 0s, group_interval 1s). */
export function testAlertmanagerConfig(webhookUrl: string, tokenFile: string): string {
  const config = YAML.parse(readDeploy('alertmanager/alertmanager.yml')) as AmConfig
  const webhook = config.receivers.find((r) => r.name === 'alertwire')!.webhook_configs![0]!
  webhook.url = webhookUrl
  ;(webhook.http_config as { authorization: { credentials_file: string } }).authorization.credentials_file = tokenFile
  for (const route of [config.route, ...(config.route.routes ?? [])]) Object.assign(route, { group_wait: '0s', group_interval: '1s' })
  return YAML.stringify(config)
}

/** StackOptions: knobs the exporter starts with, and the alerts' for: in the test's copy of the rules. */
export interface StackOptions {
  knobs?: Partial<Knobs>
  forDuration?: string
}

/** startStack starts exporter, alertwire (with the strict fake), Alertmanager and Prometheus wired as in deploy/; teardown stops them all. */
export async function startStack(t: Test, options: StackOptions = {}) {
  // Prometheus expands these into its external labels (--enable-feature=expand-external-labels)
  process.env.GRAFANA_URL = LINKS.grafana
  process.env.RUNBOOK_BASE_URL = LINKS.runbooks
  const exporter: Exporter = await startExporter({ port: 0, knobs: options.knobs })
  t.teardown(() => exporter.close())
  // alertwire asks this Prometheus for its graphs and dashboards, as start-monitoring.sh tells it
  const prometheusPort = await freePort()
  const { alertwire, alertmanager } = await startAlertPath(t, { PROMETHEUS_URL: `http://127.0.0.1:${prometheusPort}` })
  const hostPort = (url: string) => new URL(url).host
  const prometheus: PrometheusHandle = await startPrometheus({
    port: prometheusPort,
    configYaml: testPrometheusConfig({ doradura: hostPort(exporter.url), alertwire: hostPort(alertwire.url), alertmanager: hostPort(alertmanager.url) }),
    ruleFiles: testRuleFiles(options.forDuration),
    extraArgs: ['--enable-feature=expand-external-labels'],
  })
  t.teardown(() => prometheus.stop())
  return { exporter, alertwire, fake: alertwire.fake, alertmanager, prometheus }
}

/** startAlertPath starts alertwire (shipped config, strict fake) and Alertmanager (shipped config) posting to it. */
export async function startAlertPath(t: Test, env: Record<string, string> = {}) {
  const alertwire = await startWithFake(t, { yaml: readDeploy('alertwire/alertwire.yaml'), env })
  const dir = makeTempDir('deploy-token')
  t.teardown(() => removeTempDir(dir))
  const tokenFile = join(dir, 'alertwire_webhook_token')
  await writeFile(tokenFile, `${WEBHOOK_TOKEN}\n`, { mode: 0o600 })
  const alertmanager: AlertmanagerHandle = await startAlertmanager({ configYaml: testAlertmanagerConfig(`${alertwire.url}/alerts`, tokenFile) })
  t.teardown(() => alertmanager.stop())
  return { alertwire, alertmanager }
}

/** waitForQuery polls an instant query until `accept` holds for its samples; throws with the last answer. */
export async function waitForQuery(prometheus: PrometheusHandle, promql: string, accept: (values: number[]) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    try {
      const samples = await prometheus.queryVector(promql)
      const values = samples.map((s) => Number(s.value[1]))
      if (accept(values)) return values
      last = JSON.stringify(values)
    } catch (error) {
      last = (error as Error).message
    }
    if (Date.now() > deadline) throw new Error(`waitForQuery(${promql}) timed out; last: ${last}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}
