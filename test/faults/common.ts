/** What the fault tests share: a fake Telegram without limits of its own, and counting what the chat saw. */
import type { Test } from 'tap'
import { type FakeTelegram, startFakeTelegram } from '../fakes/telegram.js'
import { namedValues } from '../helpers/names.js'

/** CHAT: the group every fault test delivers to. */
export const CHAT = -1001000000001

/** FAST: a pace fast enough that a test is about the fault, not about waiting for Telegram's limits. */
export const FAST =
  'telegram: {pace: {group: "50/1s", private: "50/1s", global: "100/1s", headroom: 0}, request_timeout: 2s}\ndelivery: {retry_initial: 200ms, retry_max: 2s}\nstorms: {max_delay: 2s}\nlog: {level: warn}'

/** startFake starts the strict fake with the test chat and limits that match FAST. */
export async function startFake(t: Test): Promise<FakeTelegram> {
  const fake = await startFakeTelegram({
    chats: [{ id: CHAT, type: 'supergroup' }],
    limits: { group: { max: 50, windowMs: 1000 }, global: { max: 100, windowMs: 1000 } },
  })
  t.teardown(() => fake.close())
  return fake
}

/** notification builds a one-alert notification for alert n, named by its instance label. */
export function notification(n: number) {
  return {
    receiver: 'telegram',
    status: 'firing',
    version: '4',
    groupKey: `{}:{instance="node-${n}"}`,
    truncatedAlerts: 0,
    externalURL: '',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'Fault', severity: 'warning', instance: `node-${n}.example.com` },
        annotations: {},
        startsAt: '2026-11-24T23:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: `f${n.toString(16).padStart(8, '0')}`,
      },
    ],
  }
}

/**
 * until polls a predicate every 250 ms (fake.waitFor checks every 5 ms, which is fine for cheap
 * checks but starves the fake itself when the check reads hundreds of messages).
 */
export async function until(check: () => boolean, timeoutMs: number, label: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** namedIn: the alerts a message names, in its order: written whole, or as a digest line under a heading carrying the shared part. */
export function namedIn(text: string): number[] {
  return [...namedValues(text, /node-\d+\.example\.com/)].map((value) => Number(/node-(\d+)/.exec(value)![1]))
}

/** mentions counts, per alert number, how many messages (as they read now) name it. */
export function mentions(fake: FakeTelegram): Map<number, number> {
  const counts = new Map<number, number>()
  for (const message of fake.messages(CHAT)) {
    for (const n of namedIn(message.text)) counts.set(n, (counts.get(n) ?? 0) + 1)
  }
  return counts
}

/**
 * unnamed: the alerts of `numbers` no message in the chat names yet. The chat is read once: read
 * once per alert, a check of a thousand alerts held the test's event loop, and with it the fake
 * Telegram's answers, past alertwire's request timeout, which then sent the message again.
 */
export function unnamed(fake: FakeTelegram, numbers: Iterable<number>): number[] {
  const counts = mentions(fake)
  return [...numbers].filter((n) => !counts.has(n))
}
