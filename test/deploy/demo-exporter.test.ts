/**
 * The demo exporter: runnable as it ships (node --import tsx, no build), serving the seed's
 * doradura_* metrics, with knobs and scenarios; and every scenario really pushes its alert past
 * the threshold of the shipped rules (checked by promtool over three simulated hours), while the
 * healthy bot fires nothing.
 */
import { writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import t from 'tap'
import { type Knobs, SCENARIOS, Simulation } from '../../deploy/demo-exporter/exporter.js'
import { makeTempDir, removeTempDir, runCommand, spawnTracked } from '../helpers/processes.js'
import { DEPLOY, groupEvalOrder } from './stack.js'

/** the seed's metrics, plus the retry, yt-dlp and payment series the rules need, with their types */
const METRICS: Record<string, string> = {
  doradura_download_duration_seconds: 'histogram',
  doradura_download_success_total: 'counter',
  doradura_download_failure_total: 'counter',
  doradura_queue_depth: 'gauge',
  doradura_queue_wait_time_seconds: 'histogram',
  doradura_revenue_total_stars: 'counter',
  doradura_new_subscriptions_total: 'counter',
  doradura_subscription_cancellations_total: 'counter',
  doradura_active_subscriptions: 'gauge',
  doradura_errors_total: 'counter',
  doradura_bot_uptime_seconds: 'counter',
  doradura_daily_active_users: 'gauge',
  doradura_monthly_active_users: 'gauge',
  doradura_command_usage_total: 'counter',
  doradura_format_requests_total: 'counter',
  doradura_task_retries_total: 'counter',
  doradura_payment_failure_total: 'counter',
  doradura_payment_success_total: 'counter',
}

t.test('runs as shipped (node --import tsx), serves the metrics, and its knobs move them', async (t) => {
  const proc = spawnTracked('demo-exporter', process.execPath, [
    '--import',
    'tsx',
    join(DEPLOY, 'demo-exporter/exporter.ts'),
    '--port',
    '0',
    '--set',
    'queue_depth=7',
  ])
  t.teardown(() => proc.stop())
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line: ${proc.output()}`)), 15_000)
    proc.child.stdout!.on('data', () => {
      const found = /listening on (http:\/\/\S+) /.exec(proc.output())
      if (found) {
        clearTimeout(timer)
        resolve(found[1]!)
      }
    })
  })
  const metrics = async () => (await fetch(`${url}/metrics`)).text()
  const text = await metrics()
  for (const [name, type] of Object.entries(METRICS)) t.match(text, `# TYPE ${name} ${type}\n`, `${name} is a ${type}`)
  t.match(text, /doradura_errors_total\{category="ytdlp"\} /, 'errors carry a category')
  t.match(text, /doradura_download_duration_seconds_bucket\{format="mp3",le="\+Inf"\} /)
  t.match(await (await fetch(`${url}/health`)).json(), { status: 'healthy', uptime_seconds: Number })

  const queue = (body: string) => [...body.matchAll(/^doradura_queue_depth\{[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0)
  t.equal(queue(text), 7, '--set sets a knob at start')
  const post = (path: string, body?: object) => fetch(`${url}${path}`, { method: 'POST', ...(body ? { body: JSON.stringify(body) } : {}) })
  t.equal((await post('/knobs?queue_depth=150')).status, 200)
  t.equal(queue(await metrics()), 150, 'POST /knobs?queue_depth=150')
  t.equal((await post('/knobs', { failure_ratio: 0.5, daily_active_users: 3 })).status, 200, 'a JSON body works too')
  t.match(await (await fetch(`${url}/knobs`)).json(), { knobs: { queue_depth: 150, failure_ratio: 0.5, daily_active_users: 3 } })
  const refused = await post('/knobs', { queue_dpeth: 1 })
  t.equal(refused.status, 400)
  t.match(await refused.json(), { error: /unknown knob "queue_dpeth"/ }, 'a misspelt knob is refused by name')
  t.equal((await post('/knobs?failure_ratio=2')).status, 400)

  t.equal((await post('/scenario/BotDown')).status, 200)
  t.equal((await fetch(`${url}/metrics`)).status, 503, 'BotDown: the bot stops answering')
  t.equal((await fetch(`${url}/health`)).status, 503)
  t.equal((await post('/scenario/healthy')).status, 200)
  t.equal(queue(await metrics()), 4, 'healthy puts every knob back')
  t.equal((await post('/scenario/NoSuchAlert')).status, 404)

  await proc.kill('SIGTERM')
  t.equal((await proc.exited).code, 0, 'SIGTERM stops it cleanly')
})

const STEP_MS = 60_000
const HEALTHY_MINUTES = 30
const TOTAL_MINUTES = 180
const INSTANCE = { job: 'doradura', instance: 'demo:9090' }

/** series renders the simulation minute by minute: healthy first, then the scenario's knobs. */
function series(scenario: Partial<Knobs>): Map<string, (number | 'stale')[]> {
  const start = 1_700_000_000_000
  const simulation = new Simulation({}, start)
  const out = new Map<string, (number | 'stale')[]>()
  for (let minute = 0; minute <= TOTAL_MINUTES; minute++) {
    const now = start + minute * STEP_MS
    if (minute === HEALTHY_MINUTES) simulation.set(scenario, now)
    simulation.advance(now)
    const down = simulation.knobs.down
    const push = (name: string, value: number | 'stale') => out.set(name, [...(out.get(name) ?? []), value])
    push(`up{job="${INSTANCE.job}", instance="${INSTANCE.instance}"}`, down ? 0 : 1)
    for (const line of simulation.render().split('\n')) {
      if (!line || line.startsWith('#')) continue
      const at = line.lastIndexOf(' ')
      const name = line
        .slice(0, at)
        .replace(
          /^([a-z_:]+)(?:\{(.*)\})?$/,
          (_, metric: string, labels?: string) => `${metric}{job="${INSTANCE.job}", instance="${INSTANCE.instance}"${labels ? `, ${labels}` : ''}}`,
        )
      // a bot that does not answer has no samples: Prometheus marks its series stale
      push(name, down ? 'stale' : Number(line.slice(at + 1)))
    }
  }
  return out
}

/** compact writes values in promtool's expanding notation: runs with one step become "a+bxN". */
function compact(values: (number | 'stale')[]): string {
  const parts: string[] = []
  const fmt = (n: number) => String(Number(n.toPrecision(12)))
  for (let i = 0; i < values.length; ) {
    const first = values[i]!
    if (first === 'stale') {
      parts.push(values.length - i > 1 ? `stale _x${values.length - i - 1}` : 'stale')
      break
    }
    let j = i + 1
    const step = typeof values[j] === 'number' ? (values[j] as number) - first : 0
    while (
      j < values.length &&
      typeof values[j] === 'number' &&
      Math.abs((values[j] as number) - (first + step * (j - i))) <= 1e-6 * Math.max(1, Math.abs(values[j] as number))
    )
      j++
    const n = j - i - 1
    parts.push(n === 0 ? fmt(first) : `${fmt(first)}${step < 0 ? '-' : '+'}${fmt(Math.abs(step))}x${n}`)
    i = j
  }
  return parts.join(' ')
}

// Alerts a scenario sets off beside its own: a failure ratio that trips one of the pair trips the
// other (Alertmanager inhibits LowSuccessRate while HighErrorRate fires).
const COMPANIONS: Record<string, string[]> = { HighErrorRate: ['LowSuccessRate'], LowSuccessRate: ['HighErrorRate'] }

/** firstPayment: PaymentFailures a minute after the scenario turns, as the chat would read it. */
const firstPayment = {
  eval_time: `${HEALTHY_MINUTES + 1}m`,
  alertname: 'PaymentFailures',
  exp_alerts: [
    {
      exp_labels: { ...INSTANCE, severity: 'critical', service: 'doradura', component: 'payments' },
      exp_annotations: {
        summary: `Payments are failing on ${INSTANCE.instance}`,
        description: 'A payment failed in the last 5 minutes (threshold: any).',
        runbook_url: 'https://r.example#paymentfailures',
        dashboard_url: `https://g.example/d/doradura-overview/doradura-overview?viewPanel=9&var-instance=${INSTANCE.instance}`,
      },
    },
  ],
}

t.test('each scenario sets off its alert in the shipped rules; the healthy bot sets off none', async (t) => {
  const cases = [['healthy', {}] as const, ...Object.entries(SCENARIOS)].map(([name, knobs]) => {
    const expected = name === 'healthy' ? [] : [name, ...(COMPANIONS[name] ?? [])].sort()
    return {
      name: `scenario ${name}`,
      interval: '1m',
      input_series: [...series(knobs)].map(([name, values]) => ({ series: name, values: compact(values) })),
      promql_expr_test: [
        // the healthy half hour before the knobs turn: nothing
        { expr: 'count by (alertname) (ALERTS{alertstate="firing"})', eval_time: `${HEALTHY_MINUTES - 1}m`, exp_samples: [] },
        {
          expr: 'count by (alertname) (ALERTS{alertstate="firing"})',
          eval_time: `${TOTAL_MINUTES}m`,
          exp_samples: expected.map((alert) => ({ labels: `{alertname="${alert}"}`, value: 1 })),
        },
      ],
      // the demo's first payment message counts a whole payment ("About 0 payment(s)" once)
      ...(name === 'PaymentFailures'
        ? { external_labels: { grafana_url: 'https://g.example', runbook_base: 'https://r.example' }, alert_rule_test: [firstPayment] }
        : {}),
    }
  })
  t.equal(cases.length, 12, 'healthy and one scenario per alert of the seed')
  const dir = makeTempDir('scenarios')
  t.teardown(() => removeTempDir(dir))
  const file = join(dir, 'scenarios_test.yml')
  const files = ['doradura_recording.yml', 'doradura_alerts.yml']
  const rules = files.map((f) => resolve(DEPLOY, 'prometheus/rules', f))
  await writeFile(file, JSON.stringify({ rule_files: rules, evaluation_interval: '1m', group_eval_order: groupEvalOrder(files), tests: cases }))
  const { code, output } = await runCommand('promtool', ['test', 'rules', file], 60_000)
  t.equal(code, 0, 'promtool test rules over the generated series', { output: output.slice(0, 4000) })
})
