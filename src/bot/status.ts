/**
 * What /status shows, gathered: Redis, the webhook queue, dead letters, Alertmanager's health, and
 * each chat alertwire serves with its pace, what waits for it, a /mute and its last error. Every
 * source may fail on its own: /status is asked for when something is wrong, so it shows what it
 * can instead of failing.
 */
import type { AlertmanagerClient } from '../alertmanager/client.js'
import type { DeadLetterCounts } from '../store/dead-letters.js'
import type { ReplicasSeen } from '../store/notification-queue.js'
import type { StatusReport, WebhooksWaiting } from './replies.js'

/** StatusSources: where each part of /status comes from. */
export interface StatusSources {
  dryRun: boolean
  redisAnswers: () => Promise<boolean>
  webhooksWaiting: () => Promise<WebhooksWaiting>
  /** what the Redis replicas last confirmed, while redis.min_replicas_acked asks them to (unset or undefined: not asked) */
  replicas?: () => ReplicasSeen | undefined
  deadLetters: () => Promise<number>
  /** dead letters by reason and by chat, as `alertwire dead-letters list` counts them (unset: the total only) */
  deadLetterCounts?: () => Promise<DeadLetterCounts>
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
  const [redis, webhooksWaiting, letters, alertmanager, waiting, mutes, errors] = await Promise.all([
    sources.redisAnswers(),
    sources.webhooksWaiting().catch(() => ({ batches: 0 })),
    deadLetterCounts(sources),
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
  const replicas = sources.replicas?.()
  return {
    redis,
    dryRun: sources.dryRun,
    webhooksWaiting,
    ...(replicas ? { replicas } : {}),
    deadLetters: letters.total,
    ...(Object.keys(letters.byReason).length > 0 ? { deadLettersByReason: letters.byReason } : {}),
    alertmanager,
    chats: chats.map(({ chat, paceMs }, i) => ({
      chat,
      paceMs,
      waiting: waiting[i] ?? 0,
      ...(letters.byChat[chat] ? { deadLetters: letters.byChat[chat] } : {}),
      ...(mutes[i] ? { mutedUntil: mutes[i] } : {}),
      ...(errors[chat] ? { lastError: errors[chat] } : {}),
    })),
  }
}

/** deadLetterCounts reads the counts by reason and chat when a source gives them, else the total alone. */
async function deadLetterCounts(sources: StatusSources): Promise<DeadLetterCounts> {
  const counted = await sources.deadLetterCounts?.().catch(() => undefined)
  if (counted) return counted
  return { total: await sources.deadLetters().catch(() => 0), byReason: {}, byChat: {} }
}
