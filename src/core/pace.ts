/**
 * Pace: how far apart alertwire's Telegram calls to one chat must be. One rule, used by the
 * planner, the sender, /status and route-test: a chat's own configured pace wins, else its class's
 * (private chats ~1/s, groups 20/min). Pure.
 */
import type { ChatTarget, Routing } from './route.js'

/** Pace: minimum spacing between Telegram calls, per chat class and overall. */
export interface Pace {
  privateIntervalMs: number
  groupIntervalMs: number
  globalIntervalMs: number
}

/** chatKind infers Telegram's pace class from a chat id: positive ids are people, the rest are groups and channels. */
export function chatKind(chatId: number | string): 'private' | 'group' {
  const id = typeof chatId === 'string' && /^-?[0-9]+$/.test(chatId) ? Number(chatId) : chatId
  return typeof id === 'number' && id > 0 ? 'private' : 'group'
}

/** chatPaceMs is the minimum ms between messages to a configured chat: its own pace, else its class's. */
export function chatPaceMs(chat: Pick<ChatTarget, 'kind' | 'paceMs'>, pace: Pick<Pace, 'privateIntervalMs' | 'groupIntervalMs'>): number {
  return chat.paceMs ?? (chat.kind === 'private' ? pace.privateIntervalMs : pace.groupIntervalMs)
}

/** configuredChat finds the chat target the routing names for a chat id (the first, if several routes name it). */
export function configuredChat(routing: Routing, chatId: string): ChatTarget | undefined {
  const chats = [...(routing.defaultChat ? [routing.defaultChat] : []), ...routing.routes.flatMap((r) => r.chats ?? [])]
  return chats.find((chat) => String(chat.chatId) === chatId)
}

/** paceOfChat is the pace of a chat known only by its id: as the routing configures it, else by its class. */
export function paceOfChat(routing: Routing, pace: Pick<Pace, 'privateIntervalMs' | 'groupIntervalMs'>, chatId: string): number {
  return chatPaceMs(configuredChat(routing, chatId) ?? { kind: chatKind(chatId) }, pace)
}

/**
 * globalWaitMs is how much later than its own pace a chat's next call comes because Telegram's
 * overall limit (telegram.pace.global, shared by every replica through Redis) serves the chats due
 * before that call first, one per globalIntervalMs, then this chat. 0 while they take less time
 * than the chat's own pace; above 0, the overall limit is what holds the chats back.
 */
export function globalWaitMs(othersDue: number, globalIntervalMs: number, paceMs: number): number {
  return Math.max(0, (Math.max(0, othersDue) + 1) * globalIntervalMs - paceMs)
}
