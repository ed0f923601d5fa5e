/**
 * The corpus of real-world webhook bodies (test/fixtures/webhooks, one file per sender's shape, its
 * source noted): each body is posted to a real app with the strict Telegram fake, and the test
 * asserts what a reader of the chat needs, as each fixture's `expect` says: every alert named, the
 * labels that tell alerts apart, shared labels said once, noise hidden, links that are links, the
 * right marker and sound, and a resolve that edits the message and replies to it. Expectations are
 * written from what a reader needs, not from today's output: the ones that fail say what is left.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { FakeMessage, FakeTelegram } from '../fakes/telegram.js'
import { GROUP, postWebhook, startWithFake } from '../helpers/app.js'

const FIXTURES = new URL('../fixtures/webhooks/', import.meta.url)
/** Apps run side by side; each takes its fixtures one after the other, so that every message is known to be one fixture's. */
const APPS = 6
/** How long the chat must stay still, once a fixture's messages look complete, before they count as all sent. */
const QUIET_MS = 500
/** How long to wait for messages that look complete (a fixture whose expectations fail waits this long). */
const FIRST_MESSAGE_MS = 5000

/** Expect: what a reader needs from a fixture's messages (see test/fixtures/webhooks/README.md). */
interface Expect {
  /** the HTTP answer when it is not 200 (a body nothing can be read from) */
  status?: number
  /** first character of the firing message */
  marker?: string
  /** sent without sound */
  silent?: boolean
  /** strings the firing messages contain */
  shows?: string[]
  /** strings no firing message contains */
  hides?: string[]
  /** strings each firing message contains exactly once */
  once?: string[]
  /** URLs the firing messages link (a text link, or the URL written out, which Telegram links itself) */
  links?: string[]
  /** URLs no firing message links */
  nolinks?: string[]
  /** most messages the firing may take */
  maxMessages?: number
}

interface WebhookAlert {
  status?: string
  labels: Record<string, unknown>
  startsAt?: string
  endsAt?: string
  fingerprint?: string
}

interface Fixture {
  name: string
  source: string
  expect: Expect
  body: { alerts?: WebhookAlert[]; [key: string]: unknown }
}

/** Seen: what the chat showed for one fixture. */
interface Seen {
  status: number
  firing: FakeMessage[]
  resolveStatus?: number
  /** the firing messages as they read after the resolve */
  afterResolve: FakeMessage[]
  replies: FakeMessage[]
  /** Telegram's refusals while the fixture was sent and resolved */
  refusals: string[]
}

function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURES)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ name: file.replace(/\.json$/, ''), ...JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) }))
}

function alertsOf(fixture: Fixture): WebhookAlert[] {
  return Array.isArray(fixture.body.alerts) ? fixture.body.alerts : []
}

/** identities: what makes two fixtures' alerts the same alert to alertwire (fingerprint, or the label set it is computed from). */
function identities(fixture: Fixture): string[] {
  return alertsOf(fixture).flatMap((a) => {
    const labels = Object.entries(a.labels ?? {})
      .map(([k, v]) => `${k}=${String(v)}`)
      .sort()
      .join(',')
    return a.fingerprint ? [`fp:${a.fingerprint}`, `labels:${labels}`] : [`labels:${labels}`]
  })
}

/** spread puts fixtures on apps so that no app sees one alert in two fixtures (it would rightly be a duplicate there). */
function spread(fixtures: Fixture[], apps: number): Fixture[][] {
  const buckets = Array.from({ length: apps }, () => ({ fixtures: [] as Fixture[], seen: new Set<string>() }))
  for (const fixture of fixtures) {
    const ids = identities(fixture)
    const free = buckets.filter((b) => !ids.some((id) => b.seen.has(id))).sort((a, b) => a.fixtures.length - b.fixtures.length)[0]
    if (!free) throw new Error(`${fixture.name}: every app already has one of its alerts; add apps`)
    free.fixtures.push(fixture)
    for (const id of ids) free.seen.add(id)
  }
  return buckets.map((b) => b.fixtures)
}

/** resolvedBody is the same notification with every alert resolved 10 minutes after it started (same labels; fields a sender left out stay out). */
function resolvedBody(body: Fixture['body']): Fixture['body'] {
  const copy = structuredClone(body)
  if ('status' in copy) copy.status = 'resolved'
  if ('state' in copy) copy.state = 'ok'
  if ('notification_reason' in copy) copy.notification_reason = 'all alerts resolved'
  for (const alert of copy.alerts ?? []) {
    if ('status' in alert) alert.status = 'resolved'
    alert.endsAt = new Date(Date.parse(alert.startsAt ?? '0001-01-01T00:00:00Z') + 10 * 60_000).toISOString()
  }
  return copy
}

/** settle waits for `ready` (or gives up after `timeoutMs`), then until the fake has taken no call for QUIET_MS. */
async function settle(fake: FakeTelegram, ready: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ready() && Date.now() < deadline) await sleep(20)
  let calls = fake.calls.length
  let stillSince = Date.now()
  while (Date.now() - stillSince < QUIET_MS && Date.now() < deadline + 10_000) {
    await sleep(50)
    if (fake.calls.length !== calls) [calls, stillSince] = [fake.calls.length, Date.now()]
  }
}

function refusalsSince(fake: FakeTelegram, from: number): string[] {
  return fake.calls.slice(from).flatMap((c) => (c.status >= 400 && c.status !== 429 ? [`${c.method} ${c.status} ${c.description ?? ''}`] : []))
}

/** observe posts a fixture's firing body, then its resolved body, and keeps what the chat showed. */
async function observe(fake: FakeTelegram, url: string, fixture: Fixture): Promise<Seen> {
  const fromCall = fake.calls.length
  const before = fake.messages(GROUP).length
  const answer = await postWebhook(url, fixture.body)
  const seen: Seen = { status: answer.status, firing: [], afterResolve: [], replies: [], refusals: [] }
  // all parts are in once everything the reader should see is there (or, when it never is, after a while)
  const wanted = [...alertsOf(fixture).map((a) => String(a.labels.alertname)), ...(fixture.expect.shows ?? [])]
  const complete = () => {
    const texts = fake
      .messages(GROUP)
      .slice(before)
      .map((m) => m.text)
    return texts.length > 0 && wanted.every((s) => texts.some((text) => text.includes(s)))
  }
  await settle(fake, () => answer.status === 200 && complete(), answer.status === 200 ? FIRST_MESSAGE_MS : 300)
  seen.firing = fake.messages(GROUP).slice(before)
  if (answer.status === 200 && seen.firing.length > 0) {
    const ids = new Set(seen.firing.map((m) => m.message_id))
    const afterFiring = fake.messages(GROUP).length
    seen.resolveStatus = (await postWebhook(url, resolvedBody(fixture.body))).status
    const done = () =>
      seen.firing.every((m) => (fake.message(GROUP, m.message_id)?.edits.length ?? 0) > 0) &&
      fake.messages(GROUP).some((m) => m.reply_to_message_id !== undefined && ids.has(m.reply_to_message_id))
    await settle(fake, done, FIRST_MESSAGE_MS)
    seen.afterResolve = seen.firing.map((m) => fake.message(GROUP, m.message_id)!)
    seen.replies = fake.messages(GROUP).slice(afterFiring)
  }
  seen.refusals = refusalsSince(fake, fromCall)
  return seen
}

const normal = (url: string): string => {
  try {
    return new URL(url).href
  } catch {
    return url
  }
}

function linked(messages: FakeMessage[], url: string): boolean {
  const want = normal(url)
  return messages.some((m) => m.entities.some((e) => e.type === 'text_link' && normal(e.url ?? '') === want) || m.text.includes(url))
}

const count = (text: string, part: string): number => text.split(part).length - 1

/** checkFiring asserts a fixture's firing messages against its expectations. */
function checkFiring(t: Test, fixture: Fixture, seen: Seen): void {
  const { expect } = fixture
  const texts = seen.firing.map((m) => m.text)
  const all = texts.join('\n')
  t.equal(seen.status, 200, 'the webhook is accepted')
  t.ok(seen.firing.length > 0, 'the chat gets a message')
  if (seen.firing.length === 0) return
  if (expect.marker) t.equal(String.fromCodePoint(texts[0]!.codePointAt(0)!), expect.marker, `marker ${expect.marker}`, { text: texts[0] })
  if (expect.silent !== undefined)
    t.same(
      seen.firing.map((m) => m.disable_notification === true),
      seen.firing.map(() => expect.silent),
      expect.silent ? 'sent without sound' : 'sent with sound',
    )
  for (const name of new Set(alertsOf(fixture).map((a) => String(a.labels.alertname)))) t.ok(all.includes(name), `alertname "${name}" is shown`, { text: all })
  for (const s of expect.shows ?? []) t.ok(all.includes(s), `shows "${s}"`, { text: all })
  for (const s of expect.hides ?? []) t.notOk(all.includes(s), `hides "${s}"`, { text: all })
  for (const s of expect.once ?? [])
    t.same(
      texts.map((text) => count(text, s)),
      texts.map(() => 1),
      `"${s}" once in each message`,
      { text: all },
    )
  for (const url of expect.links ?? []) t.ok(linked(seen.firing, url), `links ${url}`, { text: all })
  for (const url of expect.nolinks ?? []) t.notOk(linked(seen.firing, url), `does not link ${url}`)
  if (expect.maxMessages) t.ok(seen.firing.length <= expect.maxMessages, `at most ${expect.maxMessages} message(s), got ${seen.firing.length}`)
  t.same(
    seen.firing.map((m) => m.parse_mode),
    seen.firing.map(() => 'HTML'),
    'no plain-text fallback was needed',
  )
}

/** checkResolve asserts that the resolve edited every firing message and replied to it. */
function checkResolve(t: Test, seen: Seen): void {
  if (seen.firing.length === 0) return
  t.equal(seen.resolveStatus, 200, 'the resolved webhook is accepted')
  t.same(
    seen.afterResolve.map((m) => m.text.startsWith('✅ RESOLVED')),
    seen.afterResolve.map(() => true),
    'every message is edited to ✅ RESOLVED',
    { texts: seen.afterResolve.map((m) => m.text.slice(0, 80)) },
  )
  const ids = new Set(seen.firing.map((m) => m.message_id))
  const reply = seen.replies.find((m) => m.reply_to_message_id !== undefined && ids.has(m.reply_to_message_id))
  t.ok(reply?.text.startsWith('✅ Resolved'), 'a reply says ✅ Resolved', { reply: reply?.text })
}

t.test('the corpus: every sender reads right in the chat, and resolves', async (t) => {
  const fixtures = loadFixtures()
  t.ok(fixtures.length >= 30, `${fixtures.length} fixtures`)
  const seen = new Map<string, Seen>()
  await Promise.all(
    spread(fixtures, APPS).map(async (group) => {
      const { url, fake } = await startWithFake(t)
      for (const fixture of group) seen.set(fixture.name, await observe(fake, url, fixture))
    }),
  )
  for (const fixture of fixtures) {
    t.test(fixture.name, async (t) => {
      const result = seen.get(fixture.name)!
      // CORPUS_DUMP=1 prints what the chat showed, to read the corpus as a person would
      if (process.env.CORPUS_DUMP) t.comment(result.firing.map((m) => m.text).join('\n-----\n'))
      t.same(result.refusals, [], 'Telegram refused nothing')
      if (fixture.expect.status !== undefined && fixture.expect.status !== 200) {
        t.equal(result.status, fixture.expect.status, `answered ${fixture.expect.status}`)
        t.equal(result.firing.length, 0, 'nothing reaches the chat')
        return
      }
      checkFiring(t, fixture, result)
      checkResolve(t, result)
    })
  }
})
