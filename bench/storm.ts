/**
 * The storm benchmark: a real Alertmanager (group_by alertname and instance, group_wait 1s) gets
 * 500 alerts in 500 groups for one group chat, and the strict Telegram fake enforces 20 messages
 * per minute per group. Two receivers are measured in the same run, each watched for 60 s:
 * alertwire (Alertmanager's webhook → alertwire → Telegram), and Alertmanager's own
 * telegram_configs receiver pointed straight at the same kind of fake.
 * The goal (issue 12): every alert named within 10 s of the first webhook, in at most 4 messages,
 * no 429, the first message within 2 s of posting (Alertmanager's group_wait is 1 s of that).
 * An alert counts as named when its full instance can be read off the chat: whole, or as a digest
 * run's shared part in its heading plus its line (test/helpers/names.ts).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { htmlToPlain } from '../src/core/html.js'
import { startFakeTelegram } from '../test/fakes/telegram.js'
import { startAlertmanager } from '../test/helpers/alertmanager.js'
import { namedValues } from '../test/helpers/names.js'
import { processMemory } from './memory.js'

const GROUP = -1001000000001
const ALERTS = 500
const WINDOW_MS = 60_000

/** StormResult: one row of the comparison. */
export interface StormResult {
  receiver: string
  named: number
  messages: number
  tooManyRequests: number
  calls: number
  firstNamedMs?: number
  lastNamedMs?: number
  /** when the first webhook reached alertwire (alertwire only) */
  firstWebhookMs?: number
  /** each message: when it was sent and how many alerts it named first */
  sends: { atMs: number; named: number }[]
  peakRssMb: number
}

/** pidMemory: a process's peak resident memory in MB, NaN when it never started. */
const pidMemory = (pid: number | undefined) => (pid ? processMemory(pid).peakRssMb : NaN)

/** STORM_GOAL: issue 12's goal for the storm. */
export const STORM_GOAL = { fullPictureMs: 10_000, messages: 4, tooManyRequests: 0, firstMs: 2000 }

function stormAlerts() {
  return Array.from({ length: ALERTS }, (_, i) => ({
    labels: {
      alertname: ['HighLatency', 'DiskFull', 'NodeDown', 'HighErrorRate'][i % 4]!,
      severity: i % 10 === 0 ? 'critical' : 'warning',
      instance: `node-${i}.example.com:9100`,
    },
    annotations: { summary: `storm alert ${i}` },
  }))
}

type Fake = Awaited<ReturnType<typeof startFakeTelegram>>

/** FULL: an alert's instance in full; it counts as named only when the chat shows it whole or as a digest run's heading plus its line. */
const FULL = /node-\d+\.example\.com:9100/

/** plainOf: the text a person reads in a sent message (HTML parsed as Telegram parses it). */
function plainOf(params: Record<string, unknown>): string {
  const text = String(params.text ?? '')
  return String(params.parse_mode ?? '').toLowerCase() === 'html' ? htmlToPlain(text) : text
}

/** watch follows the chat for the window and reports when each alert was first named (by the fake's clock). */
async function watch(fake: Fake, started: number): Promise<Omit<StormResult, 'receiver' | 'peakRssMb'>> {
  const namedAt = new Map<string, number>()
  const sends: StormResult['sends'] = []
  let read = 0
  while (Date.now() - started < WINDOW_MS && namedAt.size < ALERTS) {
    for (const call of fake.calls.slice(read)) {
      if (call.status !== 200 || !/^(sendmessage|editmessagetext)$/i.test(call.method)) continue
      const before = namedAt.size
      for (const value of namedValues(plainOf(call.params), FULL)) {
        if (!namedAt.has(value) && call.at - started <= WINDOW_MS) namedAt.set(value, call.at - started)
      }
      sends.push({ atMs: call.at - started, named: namedAt.size - before })
    }
    read = fake.calls.length
    await new Promise((r) => setTimeout(r, 100))
  }
  const times = [...namedAt.values()]
  return {
    named: namedAt.size,
    messages: fake.messages(GROUP).length,
    tooManyRequests: fake.stats.tooManyRequests,
    calls: fake.calls.filter((c) => c.method.toLowerCase() === 'sendmessage').length,
    ...(times.length > 0 ? { firstNamedMs: Math.min(...times), lastNamedMs: Math.max(...times) } : {}),
    sends,
  }
}

/** relay passes webhooks on to alertwire and notes when the first one came (the storm's clock starts there). */
async function relay(target: string, started: () => number) {
  let first: number | undefined
  const server = createServer((req, res) => {
    first ??= Date.now() - started()
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const headers = { 'content-type': String(req.headers['content-type']), authorization: String(req.headers.authorization) }
      fetch(`${target}${req.url}`, { method: req.method!, headers, body: Buffer.concat(chunks) })
        .then(async (answer) => res.writeHead(answer.status).end(await answer.text()))
        .catch(() => res.writeHead(502).end())
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    firstMs: () => first,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** stormViaAlertwire: Alertmanager → alertwire (already running at url, with this fake) → Telegram. */
export async function stormViaAlertwire(url: string, token: string, fake: Fake, alertwirePid: number): Promise<StormResult> {
  let started = Date.now()
  const relayed = await relay(url, () => started)
  const am = await startAlertmanager({
    webhookUrl: `${relayed.url}/alerts`,
    bearerToken: token,
    groupBy: ['alertname', 'instance'],
    groupWait: '1s',
    groupInterval: '5m',
  })
  try {
    started = Date.now()
    await am.postAlerts(stormAlerts())
    const seen = await watch(fake, started)
    const firstWebhookMs = relayed.firstMs()
    return { receiver: 'alertwire', ...seen, ...(firstWebhookMs === undefined ? {} : { firstWebhookMs }), peakRssMb: pidMemory(alertwirePid) }
  } finally {
    await am.stop()
    await relayed.close()
  }
}

/** stormViaAlertmanager: Alertmanager's own Telegram receiver, straight to the fake. */
export async function stormViaAlertmanager(): Promise<StormResult> {
  const fake = await startFakeTelegram({ chats: [{ id: GROUP, type: 'supergroup' }] })
  const configYaml = [
    'route: {receiver: telegram, group_by: [alertname, instance], group_wait: 1s, group_interval: 5m, repeat_interval: 4h}',
    'receivers:',
    '  - name: telegram',
    '    telegram_configs:',
    `      - {bot_token: "${fake.token}", api_url: "${fake.url}", chat_id: ${GROUP}, parse_mode: "", send_resolved: false}`,
  ].join('\n')
  const am = await startAlertmanager({ configYaml })
  try {
    const started = Date.now()
    await am.postAlerts(stormAlerts())
    const seen = await watch(fake, started)
    return { receiver: 'Alertmanager telegram_configs', ...seen, peakRssMb: pidMemory(am.pid()) }
  } finally {
    await am.stop()
    await fake.close()
  }
}

/** fullPictureMs: from the first webhook to the last alert named (undefined unless every alert was named). */
export function fullPictureMs(r: StormResult): number | undefined {
  return r.named === ALERTS && r.lastNamedMs !== undefined && r.firstWebhookMs !== undefined ? r.lastNamedMs - r.firstWebhookMs : undefined
}

/** formatStorm writes one result as a table row (times from posting the alerts to Alertmanager, unless said otherwise). */
export function formatStorm(r: StormResult): string {
  const time = (ms?: number) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`)
  const picture = fullPictureMs(r)
  const webhook = r.firstWebhookMs === undefined ? '' : `, first webhook ${time(r.firstWebhookMs)}`
  const full = picture === undefined ? '' : `, full picture ${time(picture)} after the first webhook`
  return `${r.named}/${ALERTS} alerts named in 60 s, ${r.messages} messages, ${r.calls} sendMessage calls, ${r.tooManyRequests}× 429${webhook}, first named ${time(r.firstNamedMs)}, last named ${time(r.lastNamedMs)}${full}, peak RSS ${r.peakRssMb.toFixed(0)} MB`
}

/** formatSends lists alertwire's messages: when each went out (from posting) and how many alerts it named. */
export function formatSends(r: StormResult): string {
  return r.sends.map((s) => `${(s.atMs / 1000).toFixed(1)} s: ${s.named}`).join(' · ')
}
