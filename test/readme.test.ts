/**
 * The README shows what the chat sees for real payloads of the webhook corpus. This test renders
 * each of them through the core (read, plan, deliver: no Redis, no Telegram) and checks the README
 * shows exactly that, so the README cannot drift from the code. After a change in what messages
 * look like, `README_WRITE=1 npx tap test/readme.test.ts` writes the new renderings into it.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import t from 'tap'
import { parseConfig } from '../src/config/parse.js'
import { batchOptions } from '../src/config/slices.js'
import { plannerConfig } from '../src/config/slices.js'
import { planNotification } from '../src/core/candidates.js'
import { planDelivery } from '../src/core/delivery.js'
import { readWebhook, type WebhookBody } from '../src/core/webhook.js'
import { testConfig } from './helpers/config.js'

const README_URL = new URL('../README.md', import.meta.url)
const README = readFileSync(README_URL, 'utf8')
/** a README block rendered from a fixture: the marker line, then a fenced block */
const BLOCK = /<!-- rendered from (test\/fixtures\/webhooks\/[\w.-]+\.json)( resolved)? -->\n```\n([\s\S]*?)```/g
const NEXT_MESSAGE = '\n⸻\n'

/** chatSees renders a fixture's firing body as the chat shows it, five minutes after its last alert started (its resolve, when asked). */
function chatSees(path: string, resolved: boolean): string {
  const { body } = JSON.parse(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')) as { body: WebhookBody }
  const starts = (body.alerts as { startsAt?: unknown }[]).map((a) => Date.parse(String(a.startsAt))).filter(Number.isFinite)
  const now = Math.max(...starts) + 5 * 60_000
  const reading = readWebhook(body, now)
  if (!reading.ok) throw new Error(`${path}: ${reading.message}`)
  const config = testConfig('telegram: {bot_token: "1:x", chat_id: -1001}')
  const plan = planNotification(config.routing, reading.notification, { receivedAt: now, seq: 1 }, plannerConfig(config).plan)
  const items = plan.candidates.map((c) => c.item)
  const options = batchOptions(config, now)
  const firing = planDelivery(items, { refs: new Map(), records: new Map() }, options).calls
  if (!resolved) return firing.map((c) => c.plain).join(NEXT_MESSAGE)
  const resolvedNow = now + 5 * 60_000
  const records = new Map(firing.map((c, i) => [i + 1, { ...c.record!, messageId: i + 1 }]))
  const refs = new Map(
    firing.flatMap((c, i) => c.fingerprints.map((fp) => [fp, { messageId: i + 1, startsAt: items.find((it) => it.alert.fingerprint === fp)!.alert.startsAt }])),
  )
  const resolves = items.map((i) => ({ ...i, alert: { ...i.alert, status: 'resolved' as const, endsAt: new Date(resolvedNow).toISOString() } }))
  return planDelivery(resolves, { refs, records }, batchOptions(config, resolvedNow))
    .calls.map((c) => c.plain)
    .join(NEXT_MESSAGE)
}

t.test("the README's renderings are what the chat shows", async (t) => {
  const blocks = [...README.matchAll(BLOCK)]
  t.ok(blocks.length >= 4, `${blocks.length} rendered blocks`)
  if (process.env.README_WRITE) {
    writeFileSync(
      README_URL,
      README.replace(BLOCK, (_all, path: string, resolved = '') => `<!-- rendered from ${path}${resolved} -->\n\`\`\`\n${chatSees(path, !!resolved)}\n\`\`\``),
    )
  }
  for (const [, path, resolved, shown] of blocks) t.equal(shown!.replace(/\n$/, ''), chatSees(path!, !!resolved), `${path}${resolved ?? ''}`)
})

t.test("the On call section's complete example is a config alertwire takes, with the policy it says", async (t) => {
  const section = README.slice(README.indexOf('\n## On call'))
  const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1]
  if (!example) return t.fail('the On call section shows a YAML example')
  const result = parseConfig(example, { env: { TELEGRAM_CHAT_ID: '-1001234567890' }, readSecret: () => '' })
  if (!result.ok) return t.fail(`the example parses: ${result.errors.join('; ')}`)
  const { escalation, oncall } = result.config
  t.same([...oncall.people.keys()], ['alice', 'bob'])
  t.ok(oncall.rotas.has('primary'), 'its rota')
  t.same(
    escalation.policies.get('pager')?.steps.map((s) => s.afterMs),
    [0, 300_000, 900_000, 1_800_000],
    'its policy, step by step',
  )
})
