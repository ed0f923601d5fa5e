/**
 * The scale benchmark's counting, apart from its processes so a test can check it: which messages
 * name which alert, the fewest messages a chat's alerts fit in, and when the chat's pace lets the
 * last of them go out at the earliest.
 */

/** TELEGRAM_TEXT_LIMIT: characters one message may hold. */
export const TELEGRAM_TEXT_LIMIT = 4096

/** SeenMessage: one Telegram message as the fake keeps it: every text it showed (the sent one and each edit). */
export interface SeenMessage {
  chat: string
  id: number
  texts: readonly string[]
}

/** Naming: which messages name each alert, and in which chats. */
export interface Naming {
  /** alert → the messages (chat/id) that name it */
  messagesOf: Map<string, Set<string>>
  /** alerts named in more than one message */
  namedTwice: string[]
  /** alerts named in a chat that is not theirs */
  wrongChat: string[]
}

/**
 * namingOf finds the alerts each message names (`names` reads the alerts a text names, e.g. from
 * a digest's heading and lines). An edit of the same message does not count twice: a message is
 * one place to read.
 */
export function namingOf(messages: readonly SeenMessage[], names: (text: string) => Iterable<string>, chatOf: (alert: string) => string): Naming {
  const messagesOf = new Map<string, Set<string>>()
  const wrong = new Set<string>()
  for (const message of messages) {
    for (const text of message.texts) {
      for (const alert of names(text)) {
        const where = messagesOf.get(alert) ?? new Set<string>()
        where.add(`${message.chat}/${message.id}`)
        messagesOf.set(alert, where)
        if (chatOf(alert) !== message.chat) wrong.add(alert)
      }
    }
  }
  const namedTwice = [...messagesOf].filter(([, where]) => where.size > 1).map(([alert]) => alert)
  return { messagesOf, namedTwice, wrongChat: [...wrong] }
}

/** messagesNeeded: the fewest messages that can name these alerts, each name once with a separator, 4,096 characters a message. */
export function messagesNeeded(names: readonly string[], limit = TELEGRAM_TEXT_LIMIT): number {
  const characters = names.reduce((sum, name) => sum + name.length + 1, 0)
  return Math.max(1, Math.ceil(characters / limit))
}

/**
 * paceBound: the earliest a chat can show its last alert, one message per `paceMs` from its first
 * webhook (`firstAt`): after `messages` messages at the least, and not before the slot that
 * follows its last webhook (`lastAt`), since no message can name an alert before it arrives.
 */
export function paceBound(firstAt: number, messages: number, paceMs: number, lastAt = firstAt): number {
  const slotAfterLast = firstAt + Math.ceil(Math.max(0, lastAt - firstAt) / paceMs) * paceMs
  return Math.max(firstAt + Math.max(0, messages - 1) * paceMs, slotAfterLast)
}
