import t, { type Test } from 'tap'
import {
  type AlertRow,
  alertsPage,
  helpReply,
  PAGE_SIZE,
  plainReply,
  type SilenceRow,
  type StatusReport,
  silencesPage,
  sortAlerts,
  statusReply,
} from '../../src/bot/replies.js'
import { COMMANDS } from '../../src/core/commands.js'
import { batchOptions } from '../../src/config/slices.js'
import { parseHtml, plainLength } from '../../src/core/html.js'
import { type InlineButton, parseButtonData } from '../../src/core/keyboard.js'
import { TELEGRAM_TEXT_LIMIT, type Rendered } from '../../src/core/render.js'
import { testConfig } from '../helpers/config.js'

const NOW = Date.parse('2026-11-24T23:06:00Z')
const options = batchOptions(testConfig(), NOW)
// the longest token a button may carry: the worst case for Telegram's 64-byte callback data
const TOKEN = 'Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4'
const HOSTILE = `</b><i>&amp; <script>"x"</script> &nbsp; 😀`
const TWO_HOURS = 7_200_000

function alertRow(i: number, over: Partial<AlertRow> = {}, labels: Record<string, string> = {}): AlertRow {
  return {
    fingerprint: `fp${i}`,
    labels: { alertname: `Alert${i}`, severity: 'warning', instance: `web-${i}:9100`, ...labels },
    annotations: { summary: `summary of alert ${i}` },
    startsAt: new Date(NOW - (i + 1) * 60_000).toISOString(),
    ...over,
  }
}

function silenceRow(i: number, over: Partial<SilenceRow> = {}): SilenceRow {
  return {
    id: `5d1e3c2a-0000-4000-8000-${String(i).padStart(12, '0')}`,
    matchers: `alertname="Alert${i}"`,
    endsAt: '2026-11-25T01:06:00Z',
    createdBy: 'telegram:@alice (123456789)',
    comment: `deploy ${i}`,
    ...over,
  }
}

/** accepted checks what Telegram checks before it shows a reply: the HTML parses and fits 4096 characters. */
function accepted(t: Test, reply: Rendered, why: string) {
  const parsed = parseHtml(reply.html)
  t.ok(parsed.ok, `${why}: Telegram parses the HTML`)
  t.ok(plainLength(reply.html) <= TELEGRAM_TEXT_LIMIT, `${why}: fits ${TELEGRAM_TEXT_LIMIT} characters`)
  t.equal(reply.plain, parsed.ok ? parsed.text : '', `${why}: the plain fallback reads the same`)
}

/** callbacks lists every button's callback data, checking each fits Telegram's 64 bytes and reads back as this token's. */
function callbacks(t: Test, keyboard: InlineButton[][]): string[] {
  const actions: string[] = []
  for (const button of keyboard.flat()) {
    if (!('callback_data' in button)) continue
    t.ok(Buffer.byteLength(button.callback_data) <= 64, `${button.callback_data}: within 64 bytes`)
    const parsed = parseButtonData(button.callback_data)
    t.equal(parsed?.token, TOKEN, `${button.text}: carries the page's token`)
    actions.push(parsed?.action ?? '?')
  }
  return actions
}

t.test('/alerts lists the most severe first, then the longest firing', async (t) => {
  const rows = [
    alertRow(1, {}, { severity: 'info' }),
    alertRow(2, {}, { severity: 'critical' }),
    alertRow(3, {}, { severity: 'page-me-maybe' }),
    alertRow(4, {}, { severity: 'warning' }),
    alertRow(5, {}, { severity: 'critical' }),
    alertRow(6, {}, { severity: 'error' }),
  ]
  rows[5]!.labels = { alertname: 'NoSeverity' }
  const sorted = sortAlerts(rows, options)
  t.same(
    sorted.map((a) => a.fingerprint),
    ['fp5', 'fp2', 'fp4', 'fp1', 'fp6', 'fp3'],
    'critical (oldest first), error, warning, info, then unknown and missing severities (oldest first)',
  )
  t.same(
    rows.map((a) => a.fingerprint),
    ['fp1', 'fp2', 'fp3', 'fp4', 'fp5', 'fp6'],
    'the list given is left as it was',
  )
})

t.test('nothing firing is said plainly, without buttons', async (t) => {
  const page = alertsPage([], 0, TOKEN, TWO_HOURS, options)
  accepted(t, page, 'empty /alerts')
  t.match(page.plain, /Nothing is firing/)
  t.same(page.keyboard, [])
})

t.test('a page of /alerts: one line per alert and a silence button for each', async (t) => {
  const page = alertsPage([alertRow(1, {}, { severity: 'critical' }), alertRow(2)], 0, TOKEN, TWO_HOURS, options)
  accepted(t, page, '/alerts')
  const lines = page.plain.split('\n')
  t.equal(lines[0], '🔥 2 firing', 'a single page says no page number')
  t.equal(lines[1], '1. 🔴 Alert1 · instance: web-1:9100 · 2m', 'marker, name, identifying labels, how long it fires')
  t.equal(lines[2], '   summary of alert 1')
  t.equal(lines[3], '2. 🟠 Alert2 · instance: web-2:9100 · 3m')
  t.notMatch(page.plain, /severity:|alertname:/, 'severity and alertname are not repeated as labels')
  t.same(
    page.keyboard.map((row) => row.map((b) => b.text)),
    [['🔕 2h · #1 Alert1'], ['🔕 2h · #2 Alert2']],
    'the button names the duration and the alert',
  )
  t.same(callbacks(t, page.keyboard), ['it0', 'it1'], 'each button acts on its own alert')
})

t.test('a long /alerts pages by ten, numbered across pages, with Previous and Next', async (t) => {
  const rows = Array.from({ length: 25 }, (_, i) => alertRow(i))
  const pages = [0, 1, 2].map((n) => alertsPage(rows, n, TOKEN, TWO_HOURS, options))
  t.equal(PAGE_SIZE, 10)
  for (const [n, page] of pages.entries()) {
    accepted(t, page, `page ${n + 1}`)
    t.equal(page.plain.split('\n')[0], `🔥 25 firing · page ${n + 1}/3`)
  }
  t.same(callbacks(t, pages[0]!.keyboard), ['it0', 'it1', 'it2', 'it3', 'it4', 'it5', 'it6', 'it7', 'it8', 'it9', 'pg1'], 'first page: ten alerts, then Next')
  t.same(
    pages[0]!.keyboard.at(-1)!.map((b) => b.text),
    ['Next ›'],
  )
  t.same(callbacks(t, pages[1]!.keyboard).slice(-2), ['pg0', 'pg2'], 'middle page: Previous and Next')
  t.same(
    pages[1]!.keyboard.at(-1)!.map((b) => b.text),
    ['‹ Previous', 'Next ›'],
  )
  t.match(pages[1]!.plain, /^11\. 🟠 Alert10/m, 'numbers go on from the previous page')
  t.same(callbacks(t, pages[2]!.keyboard), ['it20', 'it21', 'it22', 'it23', 'it24', 'pg1'], 'last page: the five left, then Previous')
  t.same(alertsPage(rows, 99, TOKEN, TWO_HOURS, options), pages[2], 'a page past the end shows the last one (the list shrank meanwhile)')
  t.same(alertsPage(rows, -1, TOKEN, TWO_HOURS, options), pages[0], 'a page before the start shows the first')
})

t.test('/alerts shows hostile label values as text and stays within Telegram limits', async (t) => {
  const hostile = alertRow(1, { annotations: { summary: HOSTILE } }, { alertname: HOSTILE, job: HOSTILE })
  const page = alertsPage([hostile], 0, TOKEN, TWO_HOURS, options)
  accepted(t, page, 'hostile values')
  t.match(page.plain, `1. 🟠 ${HOSTILE}`, 'the name reads exactly as Alertmanager has it')
  t.match(page.plain, `job: ${HOSTILE}`)
  t.match(page.plain, `   ${HOSTILE}`)

  const huge = 'x'.repeat(20_000)
  const rows = Array.from({ length: 10 }, (_, i) =>
    alertRow(i, { annotations: { summary: huge } }, { alertname: `${huge}${i}`, description: huge, team: huge }),
  )
  const full = alertsPage(rows, 0, TOKEN, TWO_HOURS, options)
  accepted(t, full, 'ten alerts with 20 KB values')
  t.equal(full.keyboard.length, 10, 'every alert keeps its button')
  for (const button of full.keyboard.flat()) t.ok(button.text.length <= 64, 'button labels are cut short')
  callbacks(t, full.keyboard)
})

t.test('/silences: each active silence with who, until when, why, its id and an Expire button', async (t) => {
  const empty = silencesPage([], 0, TOKEN, options)
  accepted(t, empty, 'no silences')
  t.match(empty.plain, /No active silences/)
  t.same(empty.keyboard, [])

  const one = silencesPage([silenceRow(1)], 0, TOKEN, options)
  accepted(t, one, 'one silence')
  t.same(one.plain.split('\n'), [
    '🔕 1 active silence',
    '1. 🔕 alertname="Alert1"',
    '   until 2026-11-25 01:06:00 UTC · by telegram:@alice (123456789) · deploy 1',
    '   id 5d1e3c2a-0000-4000-8000-000000000001',
  ])
  t.match(one.html, '<code>5d1e3c2a-0000-4000-8000-000000000001</code>', 'the id is easy to copy for /unsilence')
  t.same(
    one.keyboard.map((row) => row.map((b) => b.text)),
    [['🔔 Expire #1']],
  )
  t.same(callbacks(t, one.keyboard), ['it0'])

  const uncommented = silencesPage([silenceRow(1, { comment: '' }), silenceRow(2)], 0, TOKEN, options)
  t.equal(uncommented.plain.split('\n')[0], '🔕 2 active silences', 'plural')
  t.match(uncommented.plain, /by telegram:@alice \(123456789\)\n/, 'no comment, no trailing separator')
})

t.test('/silences pages like /alerts and keeps hostile text as text', async (t) => {
  const rows = Array.from({ length: 12 }, (_, i) =>
    silenceRow(i, { matchers: `${HOSTILE} ${'m'.repeat(5000)}`, createdBy: HOSTILE, comment: HOSTILE.repeat(100) }),
  )
  const first = silencesPage(rows, 0, TOKEN, options)
  const second = silencesPage(rows, 1, TOKEN, options)
  accepted(t, first, 'page 1')
  accepted(t, second, 'page 2')
  t.equal(first.plain.split('\n')[0], '🔕 12 active silences · page 1/2')
  t.match(first.plain, `by ${HOSTILE}`)
  t.same(callbacks(t, first.keyboard).at(-1), 'pg1')
  t.same(callbacks(t, second.keyboard), ['it10', 'it11', 'pg0'], 'the second page expires the silences it shows')
  t.same(
    second.keyboard.map((row) => row.map((b) => b.text)),
    [['🔔 Expire #11'], ['🔔 Expire #12'], ['‹ Previous']],
  )
})

function report(over: Partial<StatusReport> = {}): StatusReport {
  return {
    redis: true,
    dryRun: false,
    webhooksWaiting: { batches: 2, oldestAt: Date.parse('2026-11-24T23:05:48Z') },
    deadLetters: 0,
    alertmanager: { healthy: true, version: '0.25.0', uptime: '2026-11-24T20:00:00Z' },
    chats: [{ chat: '-1001234567890', paceMs: 3000, waiting: 2 }],
    ...over,
  }
}

t.test('/status: alertwire, Alertmanager and each chat on one line each', async (t) => {
  const healthy = statusReply(report(), options)
  accepted(t, healthy, 'healthy')
  t.same(healthy.plain.split('\n'), [
    'alertwire: ✅ Redis · webhooks waiting 12s (2 stored batches) · 0 dead letters',
    'Alertmanager: ✅ version 0.25.0 · up since 2026-11-24 20:00:00 UTC',
    'chat -1001234567890: one message per 3s · 2 waiting',
  ])

  const troubled = statusReply(
    report({
      redis: false,
      dryRun: true,
      webhooksWaiting: { batches: 0 },
      deadLetters: 7,
      deadLettersByReason: { expired: 2, chat_unreachable: 5 },
      alertmanager: { healthy: false, error: `connect ECONNREFUSED ${HOSTILE}` },
      chats: [
        { chat: '-100', paceMs: 3000, waiting: 0, mutedUntil: Date.parse('2026-11-24T23:36:00Z') },
        { chat: '42', paceMs: 1000, waiting: 5, deadLetters: 5, lastError: `403 Forbidden: bot was blocked by the user ${HOSTILE}` },
      ],
    }),
    options,
  )
  accepted(t, troubled, 'troubled')
  t.same(troubled.plain.split('\n'), [
    'alertwire: ❌ Redis · dry run (no bot token) · no webhooks waiting · 7 dead letters (5 chat_unreachable, 2 expired)',
    `Alertmanager: ❌ connect ECONNREFUSED ${HOSTILE}`,
    'chat -100: one message per 3s · 0 waiting · muted until 2026-11-24 23:36:00 UTC',
    `chat 42: one message per 1s · 5 waiting · 5 dead letters · last error: 403 Forbidden: bot was blocked by the user ${HOSTILE}`,
    'alertwire dead-letters list shows them; retry sends them again',
  ])

  const replicated = statusReply(report({ replicas: { acked: 2, wanted: 2, at: Date.parse('2026-11-24T23:05:59Z') } }), options)
  t.equal(replicated.plain.split('\n')[0], 'alertwire: ✅ Redis, ✅ 2 replicas confirm webhooks · webhooks waiting 12s (2 stored batches) · 0 dead letters')
  const unreplicated = statusReply(report({ replicas: { acked: 0, wanted: 1, at: Date.parse('2026-11-24T23:05:00Z') } }), options)
  accepted(t, unreplicated, 'too few replicas')
  t.equal(
    unreplicated.plain.split('\n')[0],
    'alertwire: ✅ Redis, ❌ 0 of 1 replicas confirmed the webhooks stored 1m ago: answering 503, Alertmanager retries · webhooks waiting 12s (2 stored batches) · 0 dead letters',
    'redis.min_replicas_acked not met: Alertmanager is being refused, and since when it was seen',
  )

  const many = statusReply(
    report({ chats: Array.from({ length: 200 }, (_, i) => ({ chat: `-100${i}`, paceMs: 3000, waiting: i, lastError: 'e'.repeat(500) })) }),
    options,
  )
  accepted(t, many, 'two hundred chats with long errors')
})

t.test('/help names every command and stays valid HTML', async (t) => {
  const help = helpReply()
  accepted(t, help, '/help')
  for (const { command, description } of COMMANDS) t.match(help.plain, `/${command} — ${description}`)
})

t.test('a one-line answer is shown as written, escaped and bounded', async (t) => {
  const refusal = plainReply(`only chat admins may silence: ${HOSTILE}`)
  accepted(t, refusal, 'refusal')
  t.equal(refusal.plain, `only chat admins may silence: ${HOSTILE}`)
  const long = plainReply('y'.repeat(10_000))
  accepted(t, long, 'a 10 KB error from Alertmanager')
  t.ok(long.plain.length <= 4000, 'cut well under the limit')
  t.match(long.plain, /…$/, 'and marked as cut')
})
