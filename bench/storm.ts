/**
 * The storm benchmark: a real Alertmanager (group_by alertname and instance, group_wait 1s) gets
 * 500 alerts in 500 groups for one group chat, and the strict Telegram fake enforces 20 messages
 * per minute per group. Two receivers are measured in the same run, each watched for 60 s:
 * alertwire (Alertmanager's webhook → alertwire → Telegram), and Alertmanager's own
 * telegram_configs receiver pointed straight at the same kind of fake.
 */
import { readFileSync } from 'node:fs'
import { startFakeTelegram } from '../test/fakes/telegram.js'
import { startAlertmanager } from '../test/helpers/alertmanager.js'

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
  peakRssMb: number
}

function peakRssMb(pid: number | undefined): number {
  if (!pid) return NaN
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024
}

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

/** watch follows the chat for the window and reports when each alert was first named (by the fake's clock). */
async function watch(fake: Fake, started: number): Promise<Omit<StormResult, 'receiver' | 'peakRssMb'>> {
  const namedAt = new Map<string, number>()
  let read = 0
  while (Date.now() - started < WINDOW_MS && namedAt.size < ALERTS) {
    for (const call of fake.calls.slice(read)) {
      if (call.status !== 200 || !/^(sendmessage|editmessagetext)$/i.test(call.method)) continue
      for (const match of String(call.params.text).matchAll(/node-(\d+)\.example\.com/g)) {
        if (!namedAt.has(match[1]!) && call.at - started <= WINDOW_MS) namedAt.set(match[1]!, call.at - started)
      }
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
  }
}

/** stormViaAlertwire: Alertmanager → alertwire (already running at url, with this fake) → Telegram. */
export async function stormViaAlertwire(url: string, token: string, fake: Fake, alertwirePid: number): Promise<StormResult> {
  const am = await startAlertmanager({
    webhookUrl: `${url}/alerts`,
    bearerToken: token,
    groupBy: ['alertname', 'instance'],
    groupWait: '1s',
    groupInterval: '5m',
  })
  try {
    const started = Date.now()
    await am.postAlerts(stormAlerts())
    const seen = await watch(fake, started)
    return { receiver: 'alertwire', ...seen, peakRssMb: peakRssMb(alertwirePid) }
  } finally {
    await am.stop()
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
    return { receiver: 'Alertmanager telegram_configs', ...seen, peakRssMb: peakRssMb(am.pid()) }
  } finally {
    await am.stop()
    await fake.close()
  }
}

/** formatStorm writes one result as a table row. */
export function formatStorm(r: StormResult): string {
  const time = (ms?: number) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`)
  return `${r.named}/${ALERTS} alerts named in 60 s, ${r.messages} messages, ${r.calls} sendMessage calls, ${r.tooManyRequests}× 429, first named ${time(r.firstNamedMs)}, last named ${time(r.lastNamedMs)}, peak RSS ${r.peakRssMb.toFixed(0)} MB`
}
