/**
 * npm run bench: alertwire's figures, each measured in this one run beside its baseline so that a
 * noisy machine shows in both. Prints a table; the goals of the core issue are checked at the end.
 *
 *   ingest      webhooks/s and latency of POST /alerts with real Redis, beside the same Fastify
 *               routes answering without storing (the ceiling), at full speed and at 1,000/s
 *   e2e         webhook → Telegram latency for alerts no pace holds back (strict fake, limits off)
 *   memory      alertwire's resident memory (peak), at 1,000 webhooks/s and at full speed (measured
 *               by the ingest part: either name runs it)
 *   storm       500 alerts in 500 groups through a real Alertmanager to one group chat (20/min):
 *               alertwire beside Alertmanager's own telegram_configs receiver
 *   sustained   1,000 webhooks/s for 60 s: errors, and resident memory sampled every second
 *   graph       drawing one alert graph (6 series, 1 hour, 800×450): p50/p99 and the memory it adds
 *               (bench/graph.ts, in a process of its own)
 *   round       planning one storm round of 5,000 alerts (1,000 named): how long it holds the event
 *               loop the webhook route shares (bench/round.ts)
 *   loop        a cold service at 1,000 webhooks/s for 20 s, second by second: its CPU share, the
 *               longest delay of its event loop, its private memory (bench/loop.ts)
 *   scale       10,000 alerts over 100 chats through a real Alertmanager to two replicas on one Redis
 *               (bench/scale.ts: its own Redis, fake and processes)
 *   against     BENCH_AGAINST=<git ref>: that commit's service beside this one, 1,000 webhooks/s into
 *               one group chat, alternating three times: latency, CPU per webhook, memory
 *               (bench/against.ts builds it in a worktree of its own)
 * `npm run bench -- e2e ingest sustained storm` runs only the named parts.
 * alertwire runs compiled (npm run build first), as the image runs it.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeTelegram } from '../test/fakes/telegram.js'
import { freePort, waitForHttp } from '../test/helpers/net.js'
import { Redis } from 'ioredis'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../test/helpers/redis.js'
import { GRAPH_GOAL, graphBench } from './graph.js'
import { stormRoundBench } from './round.js'
import { buildRef, redisCalls } from './against.js'
import { cpuTicks, loopSummary, USER_HZ, watchLoop } from './loop.js'
import { processMemory, watchPrivateMemory } from './memory.js'
import { scale } from './scale.js'
import { formatSends, formatStorm, fullPictureMs, STORM_GOAL, stormViaAlertmanager, stormViaAlertwire } from './storm.js'
import { type Service, startService } from './service.js'

const TOKEN = 'bench-token'
const CHAT = 424242
const GROUP = -1001000000001
const root = new URL('..', import.meta.url).pathname
const rows: [string, string][] = []
/** MEMORY_GOAL_MB: issue 12's resident memory goal, at 1,000 webhooks/s and in the storm. */
const MEMORY_GOAL_MB = 100
const verdicts: [string, boolean, string][] = []

function row(name: string, value: string) {
  rows.push([name, value])
  process.stderr.write(`  ${name}: ${value}\n`)
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

function start(name: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  child.on('exit', (code, signal) => {
    if (code && code !== 0) process.stderr.write(`${name} exited ${code ?? signal}:\n${output.slice(-2000)}\n`)
  })
  return child
}

type Load = { requestsPerSecond: number; total: number; p50: number; p99: number; max: number; non2xx: number; errors: number }

function load(url: string, connections: number, seconds: number, tag: string, rate?: number): Promise<Load> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench/load.ts'), JSON.stringify({ url, token: TOKEN, connections, seconds, rate, tag })],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output) as Load) : reject(new Error(`load generator exited ${code}`))))
  })
}

async function queueDepth(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return Number(/alertwire_queue_depth\{queue="webhooks"\} (\d+)/.exec(text)?.[1] ?? 0)
}

/** Durations: the service's own histogram of answered webhooks (alertwire_webhook_duration_seconds, status 200): how many were answered within each bucket's bound, in seconds. */
type Durations = Map<number, number>

async function webhookDurations(url: string): Promise<Durations> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const buckets: Durations = new Map()
  for (const [line] of text.matchAll(/^alertwire_webhook_duration_seconds_bucket\{[^}]*\} \d+$/gm)) {
    if (!line.includes('status="200"')) continue
    const le = /le="([^"]+)"/.exec(line)![1]!
    buckets.set(le === '+Inf' ? Infinity : Number(le), Number(line.split(' ').at(-1)))
  }
  return buckets
}

/** withinShares: of the webhooks answered between two readings, the share the service answered within 10 and within 25 ms by its own clock (what the load generator's own delays do not blur). */
function withinShares(before: Durations, after: Durations): string {
  const answered = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0)
  const share = (bound: number) => (100 * ((after.get(bound) ?? 0) - (before.get(bound) ?? 0))) / Math.max(1, answered)
  return `${share(0.01).toFixed(1)}% within 10 ms, ${share(0.025).toFixed(2)}% within 25 ms`
}

/** planned waits until the service's planner has taken every stored webhook (at most limitMs) and returns how long that took. */
async function planned(url: string, limitMs: number): Promise<number> {
  const start = Date.now()
  while ((await queueDepth(url)) > 0 && Date.now() - start < limitMs) await new Promise((r) => setTimeout(r, 250))
  return Date.now() - start
}

async function e2eLatency(service: Service, fake: Awaited<ReturnType<typeof startFakeTelegram>>) {
  process.stderr.write('webhook → Telegram latency (unthrottled, 300 alerts at 30/s)\n')
  const sentAt = new Map<string, number>()
  for (let i = 0; i < 300; i++) {
    const instance = `e2e-${i}.example.com`
    sentAt.set(instance, Date.now())
    const body = JSON.stringify({
      receiver: 'telegram',
      status: 'firing',
      version: '4',
      groupKey: `e2e-${i}`,
      truncatedAlerts: 0,
      externalURL: '',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'Latency', severity: 'critical', instance },
          annotations: {},
          startsAt: new Date().toISOString(),
          fingerprint: `e2e${i}`,
        },
      ],
    })
    await fetch(`${service.url}/alerts`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body })
    await new Promise((r) => setTimeout(r, 33))
  }
  await fake.waitFor(() => fake.calls.filter((c) => c.method === 'sendMessage' && c.status === 200).length >= 300, 20_000, 'all e2e messages')
  const latencies = fake.calls
    .filter((c) => c.method === 'sendMessage')
    .map((c) => c.at - sentAt.get(/(e2e-\d+\.example\.com)/.exec(String(c.params.text))![1]!)!)
  const p50 = percentile(latencies, 50)
  const p99 = percentile(latencies, 99)
  row('e2e webhook→Telegram p50 / p99', `${p50} ms / ${p99} ms`)
  verdicts.push(['webhook→Telegram p99 < 100 ms', p99 < 100, `${p99} ms`])
}

async function ingest(service: Service, bareUrl: string) {
  process.stderr.write('warming up both servers (JIT) at 1,000/s\n')
  await load(bareUrl, 32, 5, 'warmbare', 1000)
  await load(service.url, 32, 5, 'warmaw', 1000)

  process.stderr.write('ingest at 1,000 webhooks/s, 15 s each, alternating\n')
  const privately = watchPrivateMemory(service.process.pid!)
  const durationsBefore = await webhookDurations(service.url)
  const steady = await load(service.url, 32, 15, 'steady', 1000)
  const answeredWithin = withinShares(durationsBefore, await webhookDurations(service.url))
  const privateSteady = privately.stop()
  const { peakRssMb: rssSteady, fileMb } = processMemory(service.process.pid!)
  const bareSteady = await load(bareUrl, 32, 15, 'baresteady', 1000)
  row(
    'ingest at 1,000/s: alertwire p50 / p99',
    `${steady.p50} ms / ${steady.p99} ms (${Math.round(steady.requestsPerSecond)}/s, non-2xx ${steady.non2xx}, errors ${steady.errors})`,
  )
  row('ingest at 1,000/s: alertwire by its own clock (request in to answer out)', answeredWithin)
  row('ingest at 1,000/s: bare Fastify p50 / p99', `${bareSteady.p50} ms / ${bareSteady.p99} ms`)
  row('alertwire peak resident memory up to here', `${rssSteady.toFixed(0)} MB`)
  row(
    'alertwire private memory at 1,000/s (peak)',
    `${privateSteady.toFixed(0)} MB (the rest of resident memory, ${fileMb.toFixed(0)} MB, is the node binary's pages, shared by every replica on a host)`,
  )
  verdicts.push(['p99 < 25 ms at 1,000 webhooks/s', steady.p99 < 25, `${steady.p99} ms`])
  verdicts.push(['resident memory ≤ 100 MB (1,000 webhooks/s)', rssSteady <= MEMORY_GOAL_MB, `${rssSteady.toFixed(0)} MB`])

  process.stderr.write('ingest at full speed (32 connections, 8 s per run, alertwire and the ceiling alternating 3 times)\n')
  const bareRuns: Load[] = []
  const fullRuns: Load[] = []
  for (let round = 0; round < 3; round++) {
    bareRuns.push(await load(bareUrl, 32, 8, `bare${round}`))
    fullRuns.push(await load(service.url, 32, 8, `full${round}`))
  }
  const median = (runs: Load[]) => [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[1]!
  const ceiling = median(bareRuns)
  const full = median(fullRuns)
  const ratio = full.requestsPerSecond / ceiling.requestsPerSecond
  const rates = (runs: Load[]) => runs.map((r) => Math.round(r.requestsPerSecond)).join(' / ')
  row(
    'ingest ceiling (bare Fastify: same routes, no store)',
    `${Math.round(ceiling.requestsPerSecond)} req/s median (${rates(bareRuns)}), p99 ${ceiling.p99} ms`,
  )
  row(
    'ingest alertwire (stored in Redis, 1 alert each)',
    `${Math.round(full.requestsPerSecond)} alerts/s median (${rates(fullRuns)}), p50 ${full.p50} ms, p99 ${full.p99} ms`,
  )
  row('ingest ratio alertwire / ceiling (medians)', `${(ratio * 100).toFixed(1)}%`)
  row('alertwire peak resident memory at full speed', `${processMemory(service.process.pid!).peakRssMb.toFixed(0)} MB`)
  const refused = [...fullRuns, steady].reduce((n, r) => n + r.non2xx + r.errors, 0)
  verdicts.push(['ingest ≥ 50% of the bare Fastify ceiling', ratio >= 0.5, `${(ratio * 100).toFixed(1)}%`])
  verdicts.push(['no webhook refused under load', refused === 0, `${refused} non-2xx or errors`])

  const waiting = await queueDepth(service.url)
  const drainMs = await planned(service.url, 120_000)
  row('planner backlog when the load stopped', `${waiting} stored batches of webhooks, planned ${(drainMs / 1000).toFixed(1)} s later`)
}

/** sustained holds 1,000 webhooks/s for 60 s and samples memory every second: it must stay flat. */
async function sustained(service: Service) {
  process.stderr.write('sustained: 1,000 webhooks/s for 60 s (after a 10 s warm-up)\n')
  await load(service.url, 32, 10, 'sustainwarm', 1000)
  const samples: number[] = []
  const sampler = setInterval(() => samples.push(processMemory(service.process.pid!).rssMb), 1000)
  const result = await load(service.url, 32, 60, 'sustained', 1000)
  clearInterval(sampler)
  const third = Math.max(1, Math.floor(samples.length / 3))
  const average = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const [first, last] = [average(samples.slice(0, third)), average(samples.slice(-third))]
  row(
    'sustained 1,000/s for 60 s',
    `${result.total} webhooks, ${Math.round(result.requestsPerSecond)}/s, p50 ${result.p50} ms, p99 ${result.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`,
  )
  row(
    'sustained: resident memory',
    `first third ${first.toFixed(0)} MB, last third ${last.toFixed(0)} MB, max ${Math.max(...samples).toFixed(0)} MB (sampled every second)`,
  )
  verdicts.push([
    'sustained 1,000/s for 60 s without an error',
    result.non2xx + result.errors === 0 && result.total >= 59_000,
    `${result.non2xx + result.errors} errors, ${result.total} webhooks`,
  ])
  verdicts.push(['sustained: resident memory ≤ 100 MB', Math.max(...samples) <= MEMORY_GOAL_MB, `${Math.max(...samples).toFixed(0)} MB`])
  verdicts.push(['sustained: memory flat (last third ≤ first third + 10%)', last <= first * 1.1, `${first.toFixed(0)} → ${last.toFixed(0)} MB`])
}

/** loop: a service from cold (no warm-up) at 1,000 webhooks/s for 20 s, watched second by second (bench/loop.ts). */
async function loop(service: Service) {
  process.stderr.write('loop: a cold service at 1,000 webhooks/s for 20 s, second by second\n')
  const watch = watchLoop(service.process.pid!, `${service.url}/metrics`)
  const result = await load(service.url, 32, 20, 'loop', 1000)
  const summary = loopSummary(watch.stop())
  process.stderr.write(`${summary.lines.join('\n')}\n`)
  row('loop: cold service at 1,000/s, webhook p50 / p99', `${result.p50} ms / ${result.p99} ms (non-2xx ${result.non2xx}, errors ${result.errors})`)
  row('loop: CPU share per second (median / max)', `${summary.cpuMedian.toFixed(0)}% / ${summary.cpuMax.toFixed(0)}% of a core`)
  row(
    'loop: longest event-loop delay per second (median / worst)',
    `${summary.lagMaxMedian.toFixed(0)} ms / ${summary.lagMaxWorst.toFixed(0)} ms (10 ms resolution: an idle loop reads about 10 ms)`,
  )
}

/** Run: one service's 15 s at 1,000 webhooks/s: the CPU it used and the Redis commands it ran per webhook. */
type Run = Load & { cpuMsPerWebhook: number; commandsPerWebhook: number; scriptsPerWebhook: number; answeredWithin: string }

/**
 * measuredRun loads a service at 1,000/s for 15 s, then waits until it has planned and folded what
 * it got, so the next run measures the other alone (an idle service's lanes poll Redis a few times
 * a second: noise of about 0.02 commands per webhook).
 */
async function measuredRun(service: Service, redis: Redis, tag: string): Promise<Run> {
  const pid = service.process.pid!
  const [ticks, calls, durations] = [cpuTicks(pid), await redisCalls(redis), await webhookDurations(service.url)]
  const result = await load(service.url, 32, 15, tag, 1000)
  const [ticksAfter, callsAfter] = [cpuTicks(pid), await redisCalls(redis)]
  const answeredWithin = withinShares(durations, await webhookDurations(service.url))
  const cpuMsPerWebhook = (((ticksAfter - ticks) / USER_HZ) * 1000) / result.total
  const commandsPerWebhook = (callsAfter.all - calls.all) / result.total
  const scriptsPerWebhook = (callsAfter.scripts - calls.scripts) / result.total
  await planned(service.url, 60_000)
  // the storm rounds that fold the 15,000 alerts it got (5,000 a round, one every 3 s)
  await new Promise((r) => setTimeout(r, 10_000))
  return { ...result, cpuMsPerWebhook, commandsPerWebhook, scriptsPerWebhook, answeredWithin }
}

/** against: BENCH_AGAINST's commit beside the working tree, at 1,000 webhooks/s into one group chat, alternating (bench/against.ts). */
async function against(dir: string, prefixes: [string, string], env: Record<string, string>) {
  const ref = process.env.BENCH_AGAINST
  if (!ref) {
    row('against', 'not run: set BENCH_AGAINST to a git ref (a commit, a tag) to measure it beside the working tree')
    return
  }
  process.stderr.write(`against ${ref}: building it in a worktree of its own (npm ci, tsc)\n`)
  const yaml = (prefix: string) => `redis: {prefix: "${prefix}"}\ndata_dir: ${dir}\ntelegram: {chat_id: ${GROUP}}\nlog: {level: warn}\n`
  const built = buildRef(ref)
  const started: Service[] = []
  const redis = new Redis(env.REDIS_URL!)
  const begin = async (name: string, prefix: string, serviceRoot?: string) => {
    started.push(await startService(dir, name, yaml(prefix), env, undefined, serviceRoot))
    return started.at(-1)!
  }
  try {
    const sides = [
      { name: 'working tree', service: await begin('against-ours', prefixes[0]), runs: [] as Run[] },
      { name: built.commit, service: await begin('against-ref', prefixes[1], built.root), runs: [] as Run[] },
    ]
    process.stderr.write('warming up both (JIT) at 1,000/s, then 15 s each at 1,000/s, alternating 3 times\n')
    for (const side of sides) await load(side.service.url, 32, 5, 'abwarm', 1000)
    for (let round = 0; round < 3; round++) for (const side of sides) side.runs.push(await measuredRun(side.service, redis, `ab${round}`))
    const median = (runs: Run[], pick: (run: Run) => number) => runs.map(pick).sort((a, b) => a - b)[1]!
    for (const { name, service, runs } of sides) {
      const { peakRssMb } = processMemory(service.process.pid!)
      row(
        `against: ${name} at 1,000/s, p50 / p99 (median of 3)`,
        `${median(runs, (r) => r.p50)} ms / ${median(runs, (r) => r.p99)} ms (p99 ${runs.map((r) => r.p99).join(' / ')}), non-2xx ${runs.reduce((n, r) => n + r.non2xx + r.errors, 0)}`,
      )
      row(`against: ${name} by its own clock, each run`, runs.map((r) => r.answeredWithin).join(' · '))
      row(`against: ${name}, CPU per webhook (median) and peak RSS`, `${median(runs, (r) => r.cpuMsPerWebhook).toFixed(3)} ms, ${peakRssMb.toFixed(0)} MB`)
      row(
        `against: ${name}, Redis per webhook (median)`,
        `${median(runs, (r) => r.commandsPerWebhook).toFixed(1)} commands, of them ${median(runs, (r) => r.scriptsPerWebhook).toFixed(2)} scripts (each counted again in the commands it runs)`,
      )
    }
  } finally {
    for (const { process: child } of started) child.kill('SIGTERM')
    redis.disconnect()
    await new Promise((r) => setTimeout(r, 1000))
    built.remove()
  }
}

/** storm: 500 alerts in 500 groups through a real Alertmanager to one group chat, via alertwire and via Alertmanager's own receiver. */
async function storm(dir: string, prefix: string, env: Record<string, string>, services: Service[]) {
  process.stderr.write('storm: 500 alerts in 500 groups, one group chat at 20 messages/min, 60 s each\n')
  const stormFake = await startFakeTelegram({ chats: [{ id: GROUP, type: 'supergroup' }] })
  try {
    const service = await startService(dir, 'storm', `redis: {prefix: "${prefix}"}\ndata_dir: ${dir}\ntelegram: {chat_id: ${GROUP}}\nlog: {level: warn}\n`, {
      ...env,
      TELEGRAM_BOT_TOKEN: stormFake.token,
      TELEGRAM_API_URL: stormFake.url,
    })
    services.push(service)
    const ours = await stormViaAlertwire(service.url, TOKEN, stormFake, service.process.pid!)
    row('storm via alertwire', formatStorm(ours))
    row('storm via alertwire: messages (sent at · alerts first named)', formatSends(ours))
    const theirs = await stormViaAlertmanager()
    row('storm via Alertmanager telegram_configs', formatStorm(theirs))
    const picture = fullPictureMs(ours)
    verdicts.push(['storm: every alert named within 60 s', ours.named === 500, `${ours.named}/500`])
    verdicts.push(['storm: resident memory ≤ 100 MB', ours.peakRssMb <= MEMORY_GOAL_MB, `${ours.peakRssMb.toFixed(0)} MB`])
    verdicts.push([
      'storm: full picture ≤ 10 s after the first webhook',
      picture !== undefined && picture <= STORM_GOAL.fullPictureMs,
      picture === undefined ? 'not every alert named' : `${(picture / 1000).toFixed(1)} s`,
    ])
    verdicts.push(['storm: at most 4 messages', ours.messages <= STORM_GOAL.messages, `${ours.messages}`])
    verdicts.push(['storm: zero 429s', ours.tooManyRequests === STORM_GOAL.tooManyRequests, `${ours.tooManyRequests}`])
    verdicts.push([
      'storm: first message within 2 s',
      (ours.firstNamedMs ?? Infinity) <= STORM_GOAL.firstMs,
      `${ours.firstNamedMs} ms (including group_wait 1 s)`,
    ])
  } finally {
    await stormFake.close()
  }
}

/** graph: drawing one alert graph, in a process of its own, beside the machine's load (other work slows it). */
async function graph() {
  process.stderr.write('graph: 6 series over 1 hour at a 15 s step, 800×450, 200 pictures after 5 to warm up\n')
  const g = await graphBench(root)
  row(
    'graph: render p50 / p99 / max',
    `${g.p50Ms} / ${g.p99Ms} / ${g.maxMs} ms (CPU ${g.cpuMsPerRender} ms a picture; first ${g.firstMs} ms; PNG ${Math.round(g.pngBytes / 1024)} KiB; load average ${loadavg()[0]!.toFixed(1)})`,
  )
  row(
    'graph: memory added (libraries, +first, +200)',
    `${g.rssLoadedMb} / ${g.rssAfterFirstMb} / ${g.rssAfterAllMb} MB resident; heap after GC ${g.heapAfterAllMb} MB`,
  )
  verdicts.push([`graph: render p99 ≤ ${GRAPH_GOAL.p99Ms} ms`, g.p99Ms <= GRAPH_GOAL.p99Ms, `${g.p99Ms} ms`])
}

/** round: one storm round planned in this process (pure work: no Redis, no Telegram). */
function round() {
  const r = stormRoundBench()
  row(
    'storm round: plan p50 / max',
    `${r.p50Ms} / ${r.maxMs} ms (${r.items} alerts, ${r.named} named in ${r.messages} messages; load average ${loadavg()[0]!.toFixed(1)})`,
  )
}

async function main() {
  const only = new Set(process.argv.slice(2))
  const wanted = (part: string) => only.size === 0 || only.has(part)
  if (wanted('graph')) await graph()
  if (wanted('round')) round()
  if (wanted('scale')) {
    const figures = await scale()
    for (const [name, value] of figures.lines) row(name, value)
    verdicts.push(...figures.goals)
  }
  // the graph, round and scale parts need neither the shared Redis nor the fake: asked alone, they are all there is
  if (only.size > 0 && [...only].every((part) => part === 'graph' || part === 'round' || part === 'scale')) {
    report()
    process.exit(0)
  }
  const redisUrl = await testRedisUrl()
  const prefixes = [
    uniquePrefix('bench-e2e'),
    uniquePrefix('bench-ingest'),
    uniquePrefix('bench-storm'),
    uniquePrefix('bench-sustained'),
    uniquePrefix('bench-loop'),
    uniquePrefix('bench-against'),
    uniquePrefix('bench-against-ref'),
  ]
  const dir = mkdtempSync(join(tmpdir(), 'aw-bench-'))
  const fake = await startFakeTelegram({
    chats: [
      { id: CHAT, type: 'private' },
      { id: GROUP, type: 'supergroup' },
    ],
    limits: { group: null, private: null, global: null },
  })
  const env = { REDIS_URL: redisUrl, HOST: '127.0.0.1', ALERTWIRE_WEBHOOK_TOKEN: TOKEN, TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_URL: fake.url }
  const services: Service[] = []
  const barePort = await freePort()
  const bare = wanted('ingest') || wanted('memory') ? start('bare fastify', ['bench/bare-server.ts', String(barePort), TOKEN], {}) : undefined
  try {
    process.stderr.write(`machine: ${cpus().length} cores, node ${process.version}, Redis ${redisUrl}\n`)
    if (wanted('e2e')) {
      // an unthrottled pace, so only alertwire's own work is measured
      const e2e = await startService(
        dir,
        'e2e',
        `redis: {prefix: "${prefixes[0]}"}\ndata_dir: ${dir}\ntelegram: {chat_id: ${CHAT}, pace: {private: "1000/1s", global: "1000/1s", headroom: 0}}\nlog: {level: warn}\n`,
        env,
      )
      services.push(e2e)
      await e2eLatency(e2e, fake)
      e2e.process.kill('SIGTERM')
    }
    // Telegram's own limits: a real group chat behind a storm of distinct alerts
    const onGroupChat = async (name: string, prefix: string, measure: (service: Service) => Promise<void>) => {
      const service = await startService(dir, name, `redis: {prefix: "${prefix}"}\ndata_dir: ${dir}\ntelegram: {chat_id: ${GROUP}}\nlog: {level: warn}\n`, env)
      services.push(service)
      await measure(service)
      service.process.kill('SIGTERM')
    }
    if (wanted('ingest') || wanted('memory')) {
      await onGroupChat('ingest', prefixes[1]!, async (busy) => {
        await waitForHttp(`http://127.0.0.1:${barePort}/healthz`, { timeoutMs: 30_000 })
        await ingest(busy, `http://127.0.0.1:${barePort}`)
      })
    }
    if (wanted('sustained')) await onGroupChat('sustained', prefixes[3]!, sustained)
    if (wanted('storm')) await storm(dir, prefixes[2]!, env, services)
    if (wanted('loop')) await onGroupChat('loop', prefixes[4]!, loop)
    if (wanted('against')) await against(dir, [prefixes[5]!, prefixes[6]!], env)
  } finally {
    for (const service of services) service.process.kill('SIGTERM')
    bare?.kill('SIGTERM')
    await fake.close()
    await new Promise((r) => setTimeout(r, 1000))
    for (const prefix of prefixes) await cleanupPrefix(redisUrl, prefix)
    rmSync(dir, { recursive: true, force: true })
  }

  report()
  process.exit(0)
}

/** report prints the table of figures and the goals. */
function report() {
  const width = Math.max(...rows.map(([name]) => name.length))
  process.stdout.write(`\n${'benchmark'.padEnd(width + 2)}result\n`)
  for (const [name, value] of rows) process.stdout.write(`${name.padEnd(width + 2)}${value}\n`)
  process.stdout.write('\ngoals\n')
  for (const [goal, met, value] of verdicts) process.stdout.write(`${met ? '✓' : '✗'} ${goal.padEnd(46)} ${value}\n`)
}

await main()
