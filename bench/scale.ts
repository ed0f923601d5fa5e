/**
 * npm run bench -- scale: 10,000 alerts over 100 chats (groups, private chats, forum topics),
 * posted to a real Alertmanager (group_by alertname and instance: one webhook per alert) that
 * sends them through a round-robin relay to TWO alertwire replicas (compiled dist, separate
 * processes, `npm start`'s V8 flags) on one private Redis; Telegram is the strict fake with its
 * real limits. alertwire routes each alert by its `chat` label (routing.routes in its YAML).
 *
 * Prints: when every alert was named in its chat, against the earliest each chat's pace allows
 * (the chat's first webhook, then one message per pace interval for the fewest messages its
 * alerts' names fit in); 429s; alerts named in two messages or in a wrong chat; resident memory
 * per replica; Redis memory per tracked alert. Runnable alone: `tsx bench/scale.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { type ChatSpec, startFakeTelegram } from '../test/fakes/telegram.js'
import { startAlertmanager } from '../test/helpers/alertmanager.js'
import { testConfig } from '../test/helpers/config.js'
import { freePort, waitForHttp } from '../test/helpers/net.js'
import { startPrivateRedis } from '../test/helpers/redis.js'
import { messagesNeeded, namingOf, paceBound } from './scale-count.js'

const ALERTS = 10_000
const CHATS = 100
const TOKEN = 'bench-scale-token'
const PREFIX = 'aw-scale'
/** the default chat: alerts no route takes would land here (none should) */
const DEFAULT_CHAT = -1003000000000
const WINDOW_MS = 150_000
const NAME = /\bh(\d+)\.scale\.example\b/g
const root = new URL('..', import.meta.url).pathname

/** ScaleChat: one of the 100 chats: its Telegram id, its topic, its pace class. */
interface ScaleChat {
  label: string
  id: number
  thread?: number
  kind: 'private' | 'group'
}

/** chats: 40 private chats, 60 supergroups; every sixth group a forum whose alerts go to a topic. */
function scaleChats(): ScaleChat[] {
  return Array.from({ length: CHATS }, (_, c) => {
    if (c % 5 < 2) return { label: `c${c}`, id: 500_000 + c, kind: 'private' as const }
    return { label: `c${c}`, id: -1002000000000 - c, kind: 'group' as const, ...(c % 6 === 0 ? { thread: 10 + c } : {}) }
  })
}

function fakeChats(chats: readonly ScaleChat[]): ChatSpec[] {
  return [
    { id: DEFAULT_CHAT, type: 'supergroup' },
    ...chats.map((chat): ChatSpec => {
      if (chat.kind === 'private') return { id: chat.id, type: 'private', firstName: chat.label }
      return { id: chat.id, type: 'supergroup', title: chat.label, ...(chat.thread ? { isForum: true, topics: [chat.thread] } : {}) }
    }),
  ]
}

function alertwireYaml(chats: readonly ScaleChat[], dataDir: string): string {
  const routes = chats.map((chat) => {
    const thread = chat.thread ? `, thread_id: ${chat.thread}` : ''
    return `    - {name: ${chat.label}, matchers: ['chat="${chat.label}"'], chats: [{chat_id: ${chat.id}${thread}}]}`
  })
  return [
    `redis: {prefix: "${PREFIX}"}`,
    `data_dir: ${dataDir}`,
    `telegram: {chat_id: ${DEFAULT_CHAT}}`,
    'log: {level: warn}',
    'routing:',
    '  routes:',
    ...routes,
    '',
  ].join('\n')
}

const ALERTNAMES = ['HighLatency', 'DiskFull', 'NodeDown', 'HighErrorRate']

function scaleAlerts(chats: readonly ScaleChat[]) {
  return Array.from({ length: ALERTS }, (_, i) => ({
    labels: {
      alertname: ALERTNAMES[i % 4]!,
      severity: i % 10 === 0 ? 'critical' : 'warning',
      instance: `h${i}.scale.example:9100`,
      chat: chats[i % CHATS]!.label,
    },
    annotations: { summary: `scale alert ${i}` },
  }))
}

/** START_ARGS: node's arguments in `npm start`, so the replicas run as operators run them. */
const START_ARGS = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  .split(/\s+/)
  .filter((word) => word !== 'exec')
  .slice(1)

interface Replica {
  url: string
  process: ChildProcess
}

async function startReplica(dir: string, name: string, yaml: string, env: Record<string, string>): Promise<Replica> {
  const port = await freePort()
  const config = join(dir, `${name}.yaml`)
  writeFileSync(config, yaml)
  const child = spawn(process.execPath, [...START_ARGS, '--config', config], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let errors = ''
  child.stderr!.on('data', (d) => (errors = (errors + d).slice(-4000)))
  child.on('exit', (code) => {
    if (code) process.stderr.write(`${name} exited ${code}:\n${errors}\n`)
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/healthz`, { timeoutMs: 30_000 })
  return { url, process: child }
}

/** memoryMb reads a process's resident memory now (VmRSS) and its peak (VmHWM) in MB. */
function memoryMb(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN)
  return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 }
}

/** relay spreads Alertmanager's webhooks over the replicas in turn and notes when each chat's first webhook came. */
async function relay(targets: readonly string[]) {
  const firstAt = new Map<string, number>()
  const lastAt = new Map<string, number>()
  let next = 0
  let webhooks = 0
  let refused = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const at = Date.now()
      const body = Buffer.concat(chunks)
      webhooks++
      for (const alert of (JSON.parse(body.toString()) as { alerts: { labels: Record<string, string> }[] }).alerts) {
        if (!firstAt.has(alert.labels.chat!)) firstAt.set(alert.labels.chat!, at)
        lastAt.set(alert.labels.chat!, at)
      }
      const target = targets[next++ % targets.length]!
      const headers = { 'content-type': String(req.headers['content-type']), authorization: String(req.headers.authorization) }
      fetch(`${target}${req.url}`, { method: req.method!, headers, body })
        .then(async (answer) => {
          if (answer.status >= 300) refused++
          res.writeHead(answer.status).end(await answer.text())
        })
        .catch(() => {
          refused++
          res.writeHead(502).end()
        })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    firstAt,
    lastAt,
    counts: () => ({ webhooks, refused }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function redisMemory(redis: Redis): Promise<{ bytes: number; keys: number }> {
  const info = await redis.info('memory')
  return { bytes: Number(/used_memory:(\d+)/.exec(info)![1]), keys: await redis.dbsize() }
}

type Fake = Awaited<ReturnType<typeof startFakeTelegram>>

/** firstNamed: when each alert was first named (by the fake's clock), from the successful sends and edits so far. */
function firstNamed(fake: Fake, namedAt: Map<string, number>, from: number): number {
  const calls = fake.calls
  for (let i = from; i < calls.length; i++) {
    const call = calls[i]!
    if (call.status !== 200 || !/^(sendmessage|editmessagetext)$/i.test(call.method)) continue
    for (const match of String(call.params.text).matchAll(NAME)) if (!namedAt.has(match[1]!)) namedAt.set(match[1]!, call.at)
  }
  return calls.length
}

/** ScaleResult: the figures the scale run prints. */
export interface ScaleResult {
  lines: [string, string][]
  goals: [string, boolean, string][]
}

/** scale runs the whole benchmark and returns its figures and goals. */
export async function scale(): Promise<ScaleResult> {
  const chats = scaleChats()
  const dir = mkdtempSync(join(tmpdir(), 'aw-scale-'))
  const redisServer = await startPrivateRedis()
  const redis = new Redis(redisServer.url)
  redis.on('error', () => {})
  const fake = await startFakeTelegram({ chats: fakeChats(chats) })
  const replicas: Replica[] = []
  let am: Awaited<ReturnType<typeof startAlertmanager>> | undefined
  let relayed: Awaited<ReturnType<typeof relay>> | undefined
  try {
    const env = { REDIS_URL: redisServer.url, HOST: '127.0.0.1', ALERTWIRE_WEBHOOK_TOKEN: TOKEN, TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_URL: fake.url }
    for (const name of ['replica-a', 'replica-b']) {
      const dataDir = join(dir, name)
      mkdirSync(dataDir)
      replicas.push(await startReplica(dir, name, alertwireYaml(chats, dataDir), env))
    }
    const before = await redisMemory(redis)
    relayed = await relay(replicas.map((r) => r.url))
    am = await startAlertmanager({
      webhookUrl: `${relayed.url}/alerts`,
      bearerToken: TOKEN,
      groupBy: ['alertname', 'instance'],
      groupWait: '1s',
      groupInterval: '5m',
    })
    process.stderr.write(`scale: ${ALERTS.toLocaleString('en')} alerts over ${CHATS} chats, 2 replicas, posting to Alertmanager\n`)
    const posted = Date.now()
    const alerts = scaleAlerts(chats)
    for (let first = 0; first < ALERTS; first += 250) {
      // a loaded Alertmanager may take longer than the helper's 10 s: posting the same alerts again is harmless
      await am.postAlerts(alerts.slice(first, first + 250)).catch(() => am!.postAlerts(alerts.slice(first, first + 250)))
    }
    process.stderr.write(`scale: posted in ${((Date.now() - posted) / 1000).toFixed(1)} s\n`)
    const namedAt = new Map<string, number>()
    let read = 0
    while (namedAt.size < ALERTS && Date.now() - posted < WINDOW_MS) {
      await new Promise((r) => setTimeout(r, 250))
      read = firstNamed(fake, namedAt, read)
    }
    const allNamedAt = namedAt.size === ALERTS ? Math.max(...namedAt.values()) : undefined
    // a while longer: a message that names an alert a second time would come now
    await new Promise((r) => setTimeout(r, 5000))
    read = firstNamed(fake, namedAt, read)
    const after = await redisMemory(redis)
    const memory = replicas.map((r) => memoryMb(r.process.pid!))
    return report({
      chats,
      fake,
      posted,
      namedAt,
      allNamedAt,
      firstAt: relayed.firstAt,
      lastAt: relayed.lastAt,
      relayCounts: relayed.counts(),
      before,
      after,
      memory,
    })
  } finally {
    for (const r of replicas) r.process.kill('SIGTERM')
    await am?.stop()
    await relayed?.close()
    await new Promise((r) => setTimeout(r, 1000))
    await fake.close()
    redis.disconnect()
    await redisServer.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

interface Observed {
  chats: readonly ScaleChat[]
  fake: Fake
  posted: number
  namedAt: Map<string, number>
  allNamedAt: number | undefined
  firstAt: Map<string, number>
  lastAt: Map<string, number>
  relayCounts: { webhooks: number; refused: number }
  before: { bytes: number; keys: number }
  after: { bytes: number; keys: number }
  memory: { now: number; peak: number }[]
}

/** paceIntervals: the chats' pace as alertwire computes it by default (Telegram's limits less the headroom). */
function paceIntervals(): { private: number; group: number; global: number } {
  const { pace } = testConfig('', { TELEGRAM_CHAT_ID: String(DEFAULT_CHAT) }).telegram
  return { private: pace.privateIntervalMs, group: pace.groupIntervalMs, global: pace.globalIntervalMs }
}

/** tooMany says which chats the 429s were for, by kind and method. */
function tooMany(o: Observed): string {
  const kinds = new Map<string, number>()
  for (const call of o.fake.calls.filter((c) => c.status === 429)) {
    const chat = o.chats.find((c) => String(c.id) === String(call.params.chat_id))
    const key = `${chat?.kind ?? 'other'} ${call.method}`
    kinds.set(key, (kinds.get(key) ?? 0) + 1)
  }
  return kinds.size === 0 ? '' : ` (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')})`
}

function report(o: Observed): ScaleResult {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  const pace = paceIntervals()
  const chatOfAlert = (alert: string) => String(o.chats[Number(alert) % CHATS]!.id)
  // per chat: the earliest its last alert can be named, and when it was
  const overruns: { chat: ScaleChat; over: number }[] = []
  let needed = 0
  for (const [c, chat] of o.chats.entries()) {
    const mine = Array.from({ length: ALERTS / CHATS }, (_, k) => String(c + k * CHATS))
    const messages = messagesNeeded(mine.map((a) => `h${a}.scale.example`))
    needed += messages
    const bound = paceBound(
      o.firstAt.get(chat.label) ?? o.posted,
      messages,
      chat.kind === 'private' ? pace.private : pace.group,
      o.lastAt.get(chat.label) ?? o.posted,
    )
    const done = Math.max(...mine.map((a) => o.namedAt.get(a) ?? Infinity))
    overruns.push({ chat, over: done - bound })
  }
  overruns.sort((a, b) => a.over - b.over)
  const worst = overruns.at(-1)!
  const median = overruns[Math.floor(overruns.length / 2)]!.over
  const withinPace = overruns.filter(({ chat, over }) => over <= (chat.kind === 'private' ? pace.private : pace.group)).length
  const messages = o.chats.flatMap((chat) =>
    o.fake.messages(chat.id).map((m) => ({ chat: String(chat.id), id: m.message_id, texts: [m.text, ...m.edits.map((e) => e.text)] })),
  )
  const strays = o.fake.messages(DEFAULT_CHAT).length
  const naming = namingOf(messages, NAME, chatOfAlert)
  if (process.env.BENCH_SCALE_DEBUG) {
    for (const alert of naming.namedTwice.slice(0, 5)) {
      for (const where of naming.messagesOf.get(alert)!) {
        const m = messages.find((x) => `${x.chat}/${x.id}` === where)!
        process.stderr.write(`h${alert} in ${where}: ${m.texts.map((t) => t.slice(0, 300).replaceAll('\n', ' | ')).join(' // EDIT: ')}\n\n`)
      }
    }
  }
  const firstWebhook = Math.min(...o.firstAt.values())
  const globalBound = firstWebhook + (needed - 1) * pace.global
  const perAlert = (o.after.bytes - o.before.bytes) / ALERTS
  const lines: [string, string][] = [
    [
      'scale: every alert named in its chat',
      o.allNamedAt === undefined
        ? `${o.namedAt.size}/${ALERTS} named within ${s(WINDOW_MS)}`
        : `${s(o.allNamedAt - o.posted)} after posting to Alertmanager (${s(o.allNamedAt - firstWebhook)} after its first webhook)`,
    ],
    [
      'scale: last alert named vs the chat pace allows',
      `${withinPace}/${CHATS} chats within one pace interval of their bound; median ${s(median)}, worst ${s(worst.over)} (${worst.chat.kind} ${worst.chat.label})`,
    ],
    [
      'scale: the fewest messages / sent',
      `${needed} messages would name every alert (all chats end by ${s(globalBound - firstWebhook)} at the global pace); ${messages.length} sent`,
    ],
    ['scale: webhooks relayed', `${o.relayCounts.webhooks} (${o.relayCounts.refused} not 2xx)`],
    ['scale: 429 answers', `${o.fake.stats.tooManyRequests}${tooMany(o)}`],
    [
      'scale: alerts named in two messages / in a wrong chat',
      `${naming.namedTwice.length} / ${naming.wrongChat.length} (messages in the default chat: ${strays})`,
    ],
    ['scale: resident memory per replica (end / peak)', o.memory.map((m) => `${m.now.toFixed(0)} / ${m.peak.toFixed(0)} MB`).join(', ')],
    [
      'scale: Redis memory per tracked alert',
      `${(perAlert / 1024).toFixed(2)} KiB (${(o.before.bytes / 1024 / 1024).toFixed(1)} → ${(o.after.bytes / 1024 / 1024).toFixed(1)} MB, ${o.before.keys} → ${o.after.keys} keys, ${((o.after.keys - o.before.keys) / ALERTS).toFixed(1)} keys per alert)`,
    ],
  ]
  const goals: [string, boolean, string][] = [
    ['scale: every alert named', o.allNamedAt !== undefined, `${o.namedAt.size}/${ALERTS}`],
    ['scale: every chat done within its pace (+1 interval)', withinPace === CHATS, `${withinPace}/${CHATS}`],
    ['scale: zero 429s', o.fake.stats.tooManyRequests === 0, `${o.fake.stats.tooManyRequests}`],
    ['scale: no alert in two messages', naming.namedTwice.length === 0, `${naming.namedTwice.length}`],
    ['scale: resident memory < 200 MB per replica', o.memory.every((m) => m.peak < 200), o.memory.map((m) => `${m.peak.toFixed(0)} MB`).join(', ')],
  ]
  return { lines, goals }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { lines, goals } = await scale()
  for (const [name, value] of lines) process.stdout.write(`${name.padEnd(52)} ${value}\n`)
  for (const [goal, met, value] of goals) process.stdout.write(`${met ? '✓' : '✗'} ${goal.padEnd(52)} ${value}\n`)
  process.exit(0)
}
