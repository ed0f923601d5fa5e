/**
 * deploy/kubernetes/: the base and the example overlay render with `kubectl kustomize`, every
 * object they make passes the Kubernetes and prometheus-operator schemas (kubernetes-models), and
 * the objects fit together: two non-root replicas on a read-only root filesystem with probes on
 * /healthz and /readyz, a Service and PodDisruptionBudget that select them, Secrets only by
 * reference, a config alertwire accepts, a PrometheusRule on metrics alertwire exports that
 * promtool accepts, and an AlertmanagerConfig that posts to alertwire's Service with its token.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig'
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule'
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Service } from 'kubernetes-models/v1/Service'
import t from 'tap'
import YAML from 'yaml'
import { makeTempDir, removeTempDir, runCommand } from '../helpers/processes.js'
import { DEPLOY, parseRules } from './stack.js'

const KUBERNETES = join(DEPLOY, 'kubernetes')

/** MODELS: the kinds the manifests may contain, each with its schema-checking model. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'v1 ConfigMap': ConfigMap,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1 PrometheusRule': PrometheusRule,
  'monitoring.coreos.com/v1alpha1 AlertmanagerConfig': AlertmanagerConfig,
}

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are checked by the models, then read freely
type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec: any; data?: any }

/** render runs `kubectl kustomize` on a folder of deploy/kubernetes and parses what it prints. */
function render(folder: string): { objects: Manifest[]; stderr: string; status: number | null } {
  const result = spawnSync('kubectl', ['kustomize', join(KUBERNETES, folder)], { encoding: 'utf8', timeout: 60_000 })
  if (result.error) throw new Error(`kubectl is needed for this test (kubectl kustomize): ${result.error.message}`)
  const objects = YAML.parseAllDocuments(result.stdout).map((d) => d.toJS() as Manifest)
  return { objects, stderr: result.stderr, status: result.status }
}

const find = (objects: Manifest[], kind: string) => {
  const found = objects.find((o) => o.kind === kind)
  if (!found) throw new Error(`no ${kind} rendered`)
  return found
}

/** exportedMetrics: the metric names src/metrics.ts registers. */
function exportedMetrics(): Set<string> {
  const source = readFileSync('src/metrics.ts', 'utf8')
  return new Set([...source.matchAll(/name: '(alertwire_[a-z_]+)'/g)].map((m) => m[1]!))
}

/** metricsIn lists the metric names an expression reads (label matchers, ranges and grouping removed). */
function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without)\s*\([^)]*\)/g, ' ')
  const words = bare.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []
  const promql = new Set(['sum', 'max', 'min', 'rate', 'increase', 'delta', 'absent', 'or', 'and', 'unless'])
  return words.filter((w) => !promql.has(w))
}

for (const folder of ['base', 'overlays/example']) {
  t.test(`${folder}: kubectl kustomize renders it, and every object passes its schema`, async (t) => {
    const { objects, stderr, status } = render(folder)
    t.equal(status, 0, 'kubectl kustomize succeeds', { stderr })
    t.equal(stderr.trim(), '', 'without warnings (no deprecated kustomize fields)')
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion} ${object.kind}`]
      t.ok(Model, `${object.apiVersion} ${object.kind} is a kind the test knows`)
      if (!Model) continue
      t.doesNotThrow(() => new Model(object as never).validate(), `${object.kind} ${object.metadata.name} passes the schema`)
    }
    t.notOk(
      objects.some((o) => o.kind === 'Secret'),
      'no Secret in the manifests: they are referred to',
    )
  })
}

t.test('the Deployment: two non-root replicas, read-only root filesystem, resources, probes; Service and PDB select it', async (t) => {
  const { objects } = render('base')
  const deployment = find(objects, 'Deployment')
  const pod = deployment.spec.template.spec
  const [container] = pod.containers
  t.equal(deployment.spec.replicas, 2)
  t.equal(pod.securityContext.runAsNonRoot, true)
  t.not(pod.securityContext.runAsUser, 0)
  t.match(container.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } })
  t.match(container.resources, { requests: { cpu: /./, memory: /./ }, limits: { memory: /./ } })
  t.match(container.livenessProbe.httpGet, { path: '/healthz', port: 'http' })
  t.match(container.readinessProbe.httpGet, { path: '/readyz', port: 'http' })
  t.ok(
    container.ports.some((p: { name: string; containerPort: number }) => p.name === 'http' && p.containerPort === 8080),
    'port 8080 named http',
  )
  // the writable places alertwire needs on a read-only root: its data_dir and /tmp
  const mounts = Object.fromEntries(container.volumeMounts.map((m: { name: string; mountPath: string }) => [m.mountPath, m.name]))
  const emptyDirs = pod.volumes.filter((v: { emptyDir?: object }) => v.emptyDir).map((v: { name: string }) => v.name)
  t.ok(emptyDirs.includes(mounts['/app/data']) && emptyDirs.includes(mounts['/tmp']), 'data_dir and /tmp are emptyDirs')

  const podLabels = deployment.spec.template.metadata.labels
  const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v)
  t.ok(selects(deployment.spec.selector.matchLabels), 'the Deployment selects its pods')
  t.ok(selects(find(objects, 'Service').spec.selector), 'the Service selects them')
  t.ok(selects(find(objects, 'PodDisruptionBudget').spec.selector.matchLabels), 'the PodDisruptionBudget selects them')
  t.equal(find(objects, 'PodDisruptionBudget').spec.minAvailable, 1, 'one replica stays through a drain')

  // Secrets by reference, all one Secret; the config reads the files it mounts
  const secretNames = new Set([
    ...pod.volumes.filter((v: { secret?: { secretName: string } }) => v.secret).map((v: { secret: { secretName: string } }) => v.secret.secretName),
    ...container.env
      .filter((e: { valueFrom?: object }) => e.valueFrom)
      .map((e: { valueFrom: { secretKeyRef: { name: string } } }) => e.valueFrom.secretKeyRef.name),
  ])
  t.same([...secretNames], ['alertwire'])
  const configMap = find(objects, 'ConfigMap')
  t.ok(
    pod.volumes.some((v: { configMap?: { name: string } }) => v.configMap?.name === configMap.metadata.name),
    'the generated ConfigMap (hashed name) is mounted',
  )
  const config = YAML.parse(configMap.data['alertwire.yaml'])
  const secretMount = container.volumeMounts.find((m: { name: string }) => m.name === 'secrets').mountPath
  t.equal(config.webhook.bearer_token_file, `${secretMount}/webhook-token`)
  t.equal(config.telegram.bot_token_file, `${secretMount}/telegram-bot-token`)
  t.equal(container.env.find((e: { name: string }) => e.name === 'ALERTWIRE_CONFIG').value, '/etc/alertwire/alertwire.yaml')
})

t.test('alertwire check-config accepts the config files of the base and the overlay', async (t) => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TELEGRAM_|ALERTWIRE_|REDIS_URL|PORT|HOST)/.test(k)))
  for (const folder of ['base', 'overlays/example']) {
    const file = join(KUBERNETES, folder, 'alertwire.yaml')
    // the Secret's files exist only in the pod: the variables stand in for them
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'check-config', file], {
      env: { ...env, TELEGRAM_BOT_TOKEN: '1:test', ALERTWIRE_WEBHOOK_TOKEN: 'token', TELEGRAM_CHAT_ID: '-1001' },
      encoding: 'utf8',
      timeout: 30_000,
    })
    t.equal(result.status, 0, `${file}`, { stderr: result.stderr })
  }
})

t.test("the PrometheusRule: alertwire's own alerts, on metrics alertwire exports, accepted by promtool", async (t) => {
  const { objects } = render('overlays/example')
  const rule = find(objects, 'PrometheusRule')
  const alerts = rule.spec.groups.flatMap((g: { rules: { alert: string; expr: string }[] }) => g.rules)
  const exported = exportedMetrics()
  for (const { alert, expr } of alerts) {
    for (const metric of metricsIn(expr)) {
      const base = metric.replace(/_(count|sum|bucket)$/, '')
      t.ok(metric === 'up' || exported.has(metric) || exported.has(base), `${alert}: ${metric} is exported by alertwire (src/metrics.ts)`)
    }
  }
  // the same alerts as the Docker stack's, but for Alertmanager's own (its metrics, not alertwire's)
  const shipped = parseRules('alertwire_alerts.yml').groups.flatMap((g) => g.rules)
  const expected = shipped.filter((r) => r.alert !== 'AlertmanagerNotificationsFailing')
  t.same(
    alerts.map((a: { alert: string; expr: string }) => [a.alert, a.expr]),
    expected.map((r) => [r.alert, r.expr]),
    'the alerts and expressions of deploy/prometheus/rules/alertwire_alerts.yml',
  )
  const dir = makeTempDir('k8s-rules')
  t.teardown(() => removeTempDir(dir))
  const file = join(dir, 'alertwire.rules.yml')
  await writeFile(file, YAML.stringify({ groups: rule.spec.groups }))
  const { code, output } = await runCommand('promtool', ['check', 'rules', file])
  t.equal(code, 0, 'promtool check rules', { output })
})

t.test('the ServiceMonitor scrapes the Service; the AlertmanagerConfig posts to it with the token alertwire reads', async (t) => {
  const { objects } = render('overlays/example')
  const service = find(objects, 'Service')
  const monitor = find(objects, 'ServiceMonitor')
  const serviceLabels = service.metadata.labels ?? {}
  t.ok(
    Object.entries(monitor.spec.selector.matchLabels as Record<string, string>).every(([k, v]) => serviceLabels[k] === v),
    'the ServiceMonitor selects the Service',
  )
  t.ok(
    service.spec.ports.some((p: { name: string }) => p.name === monitor.spec.endpoints[0].port),
    'by a port name the Service has',
  )
  t.equal(monitor.spec.endpoints[0].path, '/metrics')
  t.equal(serviceLabels[monitor.spec.jobLabel], 'alertwire', 'job="alertwire", as the PrometheusRule expects')

  const config = find(objects, 'AlertmanagerConfig')
  const [webhook] = config.spec.receivers[0].webhookConfigs
  t.equal(
    webhook.url,
    `http://${service.metadata.name}.${service.metadata.namespace}.svc:${service.spec.ports[0].port}/alerts`,
    "the URL is the Service's, in its namespace",
  )
  t.equal(webhook.sendResolved, true, 'resolves are sent: they edit the Telegram message')
  t.same(
    webhook.httpConfig.authorization,
    { type: 'Bearer', credentials: { name: 'alertwire', key: 'webhook-token' } },
    "the Secret's webhook-token, the file alertwire reads",
  )
  t.equal(config.spec.route.receiver, 'alertwire')
})
