/**
 * What /status shows, gathered: Redis, the webhook queue, dead letters, Alertmanager's health, and
 * each chat alertwire serves with its pace, what waits for it, a /mute and its last error. Every
 * source may fail on its own: /status is asked for when something is wrong, so it shows what it
 * can instead of failing.
 */
import type { AlertmanagerClient } from '../alertmanager/client.js'
import type { StatusReport } from './replies.js'

/** StatusSources: where each part of /status comes from. */
export interface StatusSources {
  dryRun: boolean
  redisAnswers: () => Promise<boolean>
  webhooksWaiting: () => Promise<number>
  deadLetters: () => Promise<number>
  alertmanager: () => AlertmanagerClient
  /** the chats served, with the pace each is sent at (config/slices.ts chatPaces) */
  chats: () => { chat: string; paceMs: number }[]
  waiting: (chat: string) => Promise<number>
  mutedUntil: (chat: string) => Promise<number | undefined>
  /** the last error per chat */
  lastErrors: () => Promise<Record<string, string>>
}

/** gatherStatus reads every source at once and puts the report together. */
export async function gatherStatus(sources: StatusSources): Promise<StatusReport> {
  const chats = sources.chats()
  const [redis, webhooksWaiting, deadLetters, alertmanager, waiting, mutes, errors] = await Promise.all([
    sources.redisAnswers(),
    sources.webhooksWaiting().catch(() => 0),
    sources.deadLetters().catch(() => 0),
    sources
      .alertmanager()
      .status()
      .then(
        (s) => ({ healthy: true, version: s.version, uptime: s.uptime }),
        (error: Error) => ({ healthy: false, error: error.message }),
      ),
    Promise.all(chats.map(({ chat }) => sources.waiting(chat).catch(() => 0))),
    Promise.all(chats.map(({ chat }) => sources.mutedUntil(chat).catch(() => undefined))),
    sources.lastErrors().catch(() => ({}) as Record<string, string>),
  ])
  return {
    redis,
    dryRun: sources.dryRun,
    webhooksWaiting,
    deadLetters,
    alertmanager,
    chats: chats.map(({ chat, paceMs }, i) => ({
      chat,
      paceMs,
      waiting: waiting[i] ?? 0,
      ...(mutes[i] ? { mutedUntil: mutes[i] } : {}),
      ...(errors[chat] ? { lastError: errors[chat] } : {}),
    })),
  }
}
