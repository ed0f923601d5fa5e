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
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { type ChatSpec, startFakeTelegram } from '../test/fakes/telegram.js'
import { startAlertmanager } from '../test/helpers/alertmanager.js'
import { testConfig } from '../test/helpers/config.js'
import { startPrivateRedis } from '../test/helpers/redis.js'
import { htmlToPlain } from '../src/core/html.js'
import { processMemory, type ProcessMemory } from './memory.js'
import { breakdown, type ChatRun, overallBounds } from './scale-breakdown.js'
import { messagesNeeded, namingOf, paceBound } from './scale-count.js'
import { type Service, startService } from './service.js'

const ALERTS = 10_000
const CHATS = 100
const TOKEN = 'bench-scale-token'
const PREFIX = 'aw-scale'
/** the default chat: alerts no route takes would land here (none should) */
const DEFAULT_CHAT = -1003000000000
const WINDOW_MS = 150_000
/**
 * NAMED: an alert counts as named where its chat shows what tells it apart: its host `h<N>`, whole
 * (`h7.scale.example:9100`) or as a digest line under a heading that says once what the hosts
 * share. Hosts are numbered, so the token alone is unambiguous.
 */
const NAMED = /(?<![\w-])h(\d+)(?!\w)/g
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
    `log: {level: ${process.env.BENCH_SCALE_DEBUG ? 'info' : 'warn'}}`,
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

/** RelayStats: what the relay saw: webhooks, those a replica did not take, each chat's first and last webhook. */
interface RelayStats {
  webhooks: number
  refused: number
  firstAt: Record<string, number>
  lastAt: Record<string, number>
}

/** relay starts bench/scale-relay.ts, the round-robin load balancer, in a process of its own. */
async function relay(targets: readonly string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/scale-relay.ts'), JSON.stringify(targets)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))
    child.once('exit', (code) => reject(new Error(`relay exited ${code}`)))
  })
  return {
    url,
    stats: async () => (await (await fetch(`${url}/stats`)).json()) as RelayStats,
    close: () => child.kill('SIGTERM'),
  }
}

async function redisMemory(redis: Redis): Promise<{ bytes: number; keys: number }> {
  const info = await redis.info('memory')
  return { bytes: Number(/used_memory:(\d+)/.exec(info)![1]), keys: await redis.dbsize() }
}

/** redisKinds sums MEMORY USAGE by the kind of key (the name after the prefix), largest first. */
async function redisKinds(redis: Redis): Promise<[string, { keys: number; bytes: number }][]> {
  const kinds = new Map<string, { keys: number; bytes: number }>()
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000)
    cursor = next
    const pipeline = redis.pipeline()
    for (const key of keys) pipeline.memory('USAGE', key)
    const sizes = (await pipeline.exec()) ?? []
    for (const [i, key] of keys.entries()) {
      const kind = key.startsWith(`${PREFIX}:`) ? key.slice(PREFIX.length + 1).split(':')[0]! : '(other)'
      const entry = kinds.get(kind) ?? { keys: 0, bytes: 0 }
      entry.keys++
      entry.bytes += Number(sizes[i]?.[1] ?? 0)
      kinds.set(kind, entry)
    }
  } while (cursor !== '0')
  return [...kinds].sort((a, b) => b[1].bytes - a[1].bytes)
}

type Fake = Awaited<ReturnType<typeof startFakeTelegram>>

/** alertsNamed: the alerts (their numbers) a plain text names. */
function alertsNamed(plain: string): string[] {
  return [...plain.matchAll(NAMED)].map((match) => match[1]!)
}

/** plainOf: the text a person reads in a sent message (HTML parsed as Telegram parses it). */
function plainOf(params: Record<string, unknown>): string {
  const text = String(params.text ?? '')
  return String(params.parse_mode ?? '').toLowerCase() === 'html' ? htmlToPlain(text) : text
}

/** firstNamed: when each alert was first named (by the fake's clock), from the successful sends and edits so far. */
function firstNamed(fake: Fake, namedAt: Map<string, number>, from: number): number {
  const calls = fake.calls
  for (let i = from; i < calls.length; i++) {
    const call = calls[i]!
    if (call.status !== 200 || !/^(sendmessage|editmessagetext)$/i.test(call.method)) continue
    for (const alert of alertsNamed(plainOf(call.params))) if (!namedAt.has(alert)) namedAt.set(alert, call.at)
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
  const replicas: Service[] = []
  let am: Awaited<ReturnType<typeof startAlertmanager>> | undefined
  let relayed: Awaited<ReturnType<typeof relay>> | undefined
  try {
    const env = { REDIS_URL: redisServer.url, HOST: '127.0.0.1', ALERTWIRE_WEBHOOK_TOKEN: TOKEN, TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_URL: fake.url }
    for (const name of ['replica-a', 'replica-b']) {
      const dataDir = join(dir, name)
      mkdirSync(dataDir)
      replicas.push(await startService(dir, name, alertwireYaml(chats, dataDir), env, process.env.BENCH_SCALE_DEBUG))
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
    const kinds = await redisKinds(redis)
    const memory = replicas.map((r) => processMemory(r.process.pid!))
    return report({
      chats,
      fake,
      posted,
      namedAt,
      allNamedAt,
      relay: await relayed.stats(),
      kinds,
      before,
      after,
      memory,
    })
  } finally {
    for (const r of replicas) r.process.kill('SIGTERM')
    await am?.stop()
    relayed?.close()
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
  relay: RelayStats
  kinds: [string, { keys: number; bytes: number }][]
  before: { bytes: number; keys: number }
  after: { bytes: number; keys: number }
  memory: ProcessMemory[]
}

/** chatRuns: per chat, the earliest its last alert can be named (its pace bound) and when it was; and the fewest messages all chats need. */
function chatRuns(o: Observed, pace: { private: number; group: number }): { runs: ChatRun[]; needed: number } {
  const runs: ChatRun[] = []
  let needed = 0
  for (const [c, chat] of o.chats.entries()) {
    const mine = Array.from({ length: ALERTS / CHATS }, (_, k) => String(c + k * CHATS))
    const messages = messagesNeeded(mine.map((a) => `h${a}.scale.example`))
    needed += messages
    const paceMs = chat.kind === 'private' ? pace.private : pace.group
    const bound = paceBound(o.relay.firstAt[chat.label] ?? o.posted, messages, paceMs, o.relay.lastAt[chat.label] ?? o.posted)
    const done = Math.max(...mine.map((a) => o.namedAt.get(a) ?? Infinity))
    runs.push(chatRun(o, chat, bound, done, paceMs))
  }
  return { runs, needed }
}

/** chatRun: what one chat saw in the run, for the breakdown: its webhooks, the calls Telegram accepted, when its last alert was named. */
function chatRun(o: Observed, chat: ScaleChat, bound: number, doneAt: number, paceMs: number): ChatRun {
  const callsAt = o.fake.calls
    .filter((c) => c.status === 200 && /^(sendmessage|editmessagetext)$/i.test(c.method) && String(c.params.chat_id) === String(chat.id))
    .map((c) => c.at)
  const kind = chat.kind === 'private' ? 'private' : chat.thread ? 'forum topic' : 'group'
  return {
    label: chat.label,
    kind,
    paceMs,
    firstAt: o.relay.firstAt[chat.label] ?? o.posted,
    lastAt: o.relay.lastAt[chat.label] ?? o.posted,
    callsAt,
    doneAt,
    bound,
  }
}

/** paceIntervals: the chats' pace as alertwire computes it by default (Telegram's limits less the headroom). */
function paceIntervals(): { private: number; group: number; global: number } {
  const { pace } = testConfig('', { TELEGRAM_CHAT_ID: String(DEFAULT_CHAT) }).telegram
  return { private: pace.privateIntervalMs, group: pace.groupIntervalMs, global: pace.globalIntervalMs }
}

/** explainTooMany (BENCH_SCALE_DEBUG) prints, for each 429, the gap since the chat's last accepted call and the calls accepted in the second before it. */
function explainTooMany(o: Observed): void {
  const accepted = o.fake.calls.filter((c) => c.status === 200 && /^(sendmessage|editmessagetext|sendphoto)$/i.test(c.method))
  for (const call of o.fake.calls.filter((c) => c.status === 429)) {
    const chat = String(call.params.chat_id)
    const before = accepted.filter((c) => c.at <= call.at)
    const last = before.filter((c) => String(c.params.chat_id) === chat).at(-1)
    const lastSecond = before.filter((c) => c.at > call.at - 1000).length
    const lastMinute = before.filter((c) => String(c.params.chat_id) === chat && c.at > call.at - 60_000).length
    process.stderr.write(
      `429 ${call.method} chat ${chat}: ${call.description}; ${last ? call.at - last.at : '—'} ms after its last accepted call, ${lastMinute} to it in the last minute, ${lastSecond} calls overall in the last second\n`,
    )
  }
}

/** explainTwice (BENCH_SCALE_DEBUG) prints the 429s, and the messages that name one of the first alerts named twice. */
function explainTwice(o: Observed, naming: ReturnType<typeof namingOf>, messages: { chat: string; id: number; texts: string[] }[]): void {
  explainTooMany(o)
  for (const alert of naming.namedTwice.slice(0, 5)) {
    for (const where of naming.messagesOf.get(alert)!) {
      const m = messages.find((x) => `${x.chat}/${x.id}` === where)!
      process.stderr.write(`h${alert} in ${where}: ${m.texts.map((t) => t.slice(0, 300).replaceAll('\n', ' | ')).join(' // EDIT: ')}\n\n`)
    }
  }
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
  const { runs, needed } = chatRuns(o, pace)
  const overruns = runs.map((run, c) => ({ chat: o.chats[c]!, over: run.doneAt - run.bound }))
  const overall = overallBounds(runs, pace.global)
  const withinOverall = runs.filter((run, i) => run.doneAt - overall[i]! <= run.paceMs).length
  overruns.sort((a, b) => a.over - b.over)
  const worst = overruns.at(-1)!
  const median = overruns[Math.floor(overruns.length / 2)]!.over
  const withinPace = overruns.filter(({ chat, over }) => over <= (chat.kind === 'private' ? pace.private : pace.group)).length
  const messages = o.chats.flatMap((chat) =>
    o.fake.messages(chat.id).map((m) => ({ chat: String(chat.id), id: m.message_id, texts: [m.text, ...m.edits.map((e) => e.text)] })),
  )
  const strays = o.fake.messages(DEFAULT_CHAT).length
  const naming = namingOf(messages, alertsNamed, chatOfAlert)
  const firstWebhook = Math.min(...Object.values(o.relay.firstAt))
  for (const line of breakdown(runs, pace.global, firstWebhook)) process.stderr.write(`scale breakdown: ${line}\n`)
  if (process.env.BENCH_SCALE_DEBUG) explainTwice(o, naming, messages)
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
      'scale: … vs the pace and the overall limit allow',
      `${withinOverall}/${CHATS} chats within one pace interval of the bound that also counts Telegram's overall limit (scale-breakdown.ts overallBounds)`,
    ],
    [
      'scale: the fewest messages / sent',
      `${needed} messages would name every alert (all chats end by ${s(globalBound - firstWebhook)} at the global pace); ${messages.length} sent`,
    ],
    [
      'scale: webhooks relayed',
      `${o.relay.webhooks} (${o.relay.refused} not 2xx), over ${s(Math.max(...Object.values(o.relay.lastAt)) - firstWebhook)} from the first`,
    ],
    ['scale: 429 answers', `${o.fake.stats.tooManyRequests}${tooMany(o)}`],
    [
      'scale: alerts named in two messages / in a wrong chat',
      `${naming.namedTwice.length} / ${naming.wrongChat.length} (messages in the default chat: ${strays})`,
    ],
    [
      'scale: resident memory per replica (end / peak; private at the end)',
      o.memory.map((m) => `${m.rssMb.toFixed(0)} / ${m.peakRssMb.toFixed(0)} MB (${m.privateMb.toFixed(0)} MB)`).join(', '),
    ],
    [
      'scale: Redis memory per tracked alert',
      `${(perAlert / 1024).toFixed(2)} KiB (${(o.before.bytes / 1024 / 1024).toFixed(1)} → ${(o.after.bytes / 1024 / 1024).toFixed(1)} MB, ${o.before.keys} → ${o.after.keys} keys, ${((o.after.keys - o.before.keys) / ALERTS).toFixed(1)} keys per alert)`,
    ],
  ]
  lines.push([
    'scale: Redis by kind of key (MEMORY USAGE)',
    o.kinds
      .slice(0, 6)
      .map(([kind, { keys, bytes }]) => `${kind} ${(bytes / 1024 / 1024).toFixed(1)} MB in ${keys}`)
      .join(', '),
  ])
  const goals: [string, boolean, string][] = [
    ['scale: every alert named', o.allNamedAt !== undefined, `${o.namedAt.size}/${ALERTS}`],
    ['scale: every chat done within its pace (+1 interval)', withinPace === CHATS, `${withinPace}/${CHATS}`],
    ['scale: every chat done within its pace and the overall limit (+1 interval)', withinOverall === CHATS, `${withinOverall}/${CHATS}`],
    ['scale: zero 429s', o.fake.stats.tooManyRequests === 0, `${o.fake.stats.tooManyRequests}`],
    ['scale: no alert in two messages', naming.namedTwice.length === 0, `${naming.namedTwice.length}`],
    ['scale: resident memory < 200 MB per replica', o.memory.every((m) => m.peakRssMb < 200), o.memory.map((m) => `${m.peakRssMb.toFixed(0)} MB`).join(', ')],
  ]
  return { lines, goals }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { lines, goals } = await scale()
  for (const [name, value] of lines) process.stdout.write(`${name.padEnd(52)} ${value}\n`)
  for (const [goal, met, value] of goals) process.stdout.write(`${met ? '✓' : '✗'} ${goal.padEnd(52)} ${value}\n`)
  process.exit(0)
}
