/**
 * Redis key layout, written once: every key alertwire uses is named here, under the configured
 * prefix (replicas share state, tests never collide). Scripts get their keys from here too: as
 * KEYS, or, where a script iterates over chats, as a template with CHAT where the chat id goes.
 *
 * Two ids name a chat. Its Telegram address (where messages go) keys what the sender works
 * through: outbox, held events, in-flight delivery, lease, pace, notices, deferred edits and the
 * records of messages sent there (Telegram numbers messages per chat). Its origin, the first id
 * it had, keys what alertwire remembers about its alerts (seen events, reminders, flapping,
 * early resolves, /mute), so that memory stays put when a group becomes a supergroup.
 *
 * In a Redis Cluster the prefix is one hash tag ({alertwire}: clusterPrefix in config/parse.ts),
 * so every key named here, and BullMQ's under the same prefix, hashes to one slot: every script,
 * also one that builds per-chat keys from a template inside Lua (keys Redis cannot route), and
 * every MULTI and pipeline stays on one node. Redis hashes only the first {...} of a key, so the
 * CHAT marker after the prefix's tag changes nothing.
 */

/** CHAT marks where a chat id goes in a key template. */
export const CHAT = '{chat}'

/** keysFor names every key alertwire uses under one prefix. */
export function keysFor(prefix: string) {
  const outbox = (chat: string) => `${prefix}:outbox:${chat}`
  const held = (chat: string) => `${prefix}:held:${chat}`
  const lease = (chat: string) => `${prefix}:lease:${chat}`
  const notices = (chat: string) => `${prefix}:notices:${chat}`
  /** an alert (fingerprint) in one chat (origin) and topic: where its markers live */
  const event = (chat: string, thread: string, fingerprint: string) => `${chat}/${thread}/${fingerprint}/`
  return {
    prefix,
    due: `${prefix}:due`,
    pace: `${prefix}:pace`,
    globalPace: `${prefix}:pace:global`,
    /** an earlier Telegram address of a chat → its current one (a group upgraded to a supergroup) */
    chatmap: `${prefix}:chatmap`,
    /** a later Telegram id of a chat → its origin */
    chatOrigin: `${prefix}:chat-origin`,
    heldChats: `${prefix}:held-chats`,
    dead: `${prefix}:dead`,
    chatErrors: `${prefix}:chat-errors`,
    dryRunIds: `${prefix}:dry-run:message-id`,
    outbox,
    held,
    edits: (chat: string) => `${prefix}:edits:${chat}`,
    inflight: (chat: string) => `${prefix}:inflight:${chat}`,
    lease,
    notices,
    /** per-chat keys as templates, for scripts that iterate over chats */
    templates: { outbox: outbox(CHAT), held: held(CHAT), lease: lease(CHAT), notices: notices(CHAT) },
    seen: (chat: string, thread: string, fingerprint: string, status: string, startsAt: string) =>
      `${prefix}:seen:${event(chat, thread, fingerprint)}${status}/${startsAt}`,
    repeat: (chat: string, thread: string, fingerprint: string, startsAt: string) => `${prefix}:repeat:${event(chat, thread, fingerprint)}${startsAt}`,
    early: (chat: string, thread: string, fingerprint: string, startsAt: string) => `${prefix}:early:${event(chat, thread, fingerprint)}${startsAt}`,
    flap: (chat: string, thread: string, fingerprint: string) => `${prefix}:flap:${event(chat, thread, fingerprint)}`,
    /** bumped by every commit that changes what a chat (origin) remembers: the value commits compare-and-set on */
    eventsVersion: (chat: string) => `${prefix}:events-version:${chat}`,
    alert: (fingerprint: string) => `${prefix}:alert:${fingerprint}`,
    message: (chat: string, messageId: number) => `${prefix}:msg:${chat}:${messageId}`,
    button: (token: string) => `${prefix}:button:${token}`,
    member: (chat: string, user: number) => `${prefix}:member:${chat}:${user}`,
    chatMute: `${prefix}:chat-mutes`,
    acks: `${prefix}:acks`,
    poller: `${prefix}:poller`,
    ackWatcher: `${prefix}:ack-watcher`,
    /** alert messages the silence watcher looks at: field chat address + message id (store/silence-store.ts) */
    openMessages: `${prefix}:open-messages`,
    silenceWatcher: `${prefix}:silence-watcher`,
    /** what the silence watcher last made a message without buttons show (with buttons: its button target says) */
    silenceShown: (chat: string, messageId: number) => `${prefix}:silence-shown:${chat}:${messageId}`,
    /** set once a silence's end was reminded of (by silence id and end: an extended silence is reminded again) */
    silenceReminded: (silenceId: string, until: string) => `${prefix}:silence-reminded:${silenceId}:${until}`,
    updateOffset: `${prefix}:updates:offset`,
    /** graphs waiting to be sent in a chat, oldest first: said only when the chat has nothing else to say */
    photos: (chat: string) => `${prefix}:photos:${chat}`,
    /** a drawn graph's PNG, kept briefly until its chat's turn sends it */
    graphPng: (id: string) => `${prefix}:graph-png:${id}`,
    /** set while a chat folds alerts into digests: graphs for it are skipped, not drawn */
    graphStorm: (chat: string) => `${prefix}:graph-storm:${chat}`,
    /** a rota's overrides made from the chat (a sorted set, score: until ms; store/rota-store.ts) */
    rotaOverrides: (rota: string) => `${prefix}:rota-overrides:${rota}`,
    /** the last handoff announced per rota (a hash: rota → ms of the handoff) */
    rotaAnnounced: `${prefix}:rota-announced`,
    /** the handoff notifier's lease: one replica announces handoffs at a time */
    rotaNotifier: `${prefix}:rota-notifier`,
    /** alert messages whose escalation is due (score: ms), members `chat/messageId` */
    escalationDue: `${prefix}:escalation:due`,
    /** one message's escalation state (a hash: policy, fired, firstSentAt, lastFiredAt, parked) */
    escalation: (chat: string, messageId: number) => `${prefix}:escalation:${chat}:${messageId}`,
    /** the escalation watcher's lease: one replica checks due escalations at a time */
    escalationWatcher: `${prefix}:escalation-watcher`,
  }
}

export type Keys = ReturnType<typeof keysFor>

/** refField is where an alert's hash keeps the message that announced it in one chat (address) and topic. */
export function refField(chat: string, threadId: number | undefined): string {
  return `ref:${chat}/${threadId ?? ''}`
}
