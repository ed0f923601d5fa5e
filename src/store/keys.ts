/** Redis key layout. Every key starts with the configured prefix, so replicas share state and tests never collide. */

/** keysFor names every key alertwire uses under one prefix. */
export function keysFor(prefix: string) {
  return {
    prefix,
    due: `${prefix}:due`,
    pace: `${prefix}:pace`,
    globalPace: `${prefix}:pace:global`,
    chatmap: `${prefix}:chatmap`,
    heldChats: `${prefix}:held-chats`,
    dead: `${prefix}:dead`,
    chatErrors: `${prefix}:chat-errors`,
    dryRunIds: `${prefix}:dry-run:message-id`,
    outbox: (chat: string) => `${prefix}:outbox:${chat}`,
    held: (chat: string) => `${prefix}:held:${chat}`,
    edits: (chat: string) => `${prefix}:edits:${chat}`,
    inflight: (chat: string) => `${prefix}:inflight:${chat}`,
    lease: (chat: string) => `${prefix}:lease:${chat}`,
    alert: (fingerprint: string) => `${prefix}:alert:${fingerprint}`,
    message: (chat: string, messageId: number) => `${prefix}:msg:${chat}:${messageId}`,
    button: (token: string) => `${prefix}:button:${token}`,
    notices: (chat: string) => `${prefix}:notices:${chat}`,
    chatMute: `${prefix}:chat-mutes`,
    acks: `${prefix}:acks`,
    poller: `${prefix}:poller`,
    ackWatcher: `${prefix}:ack-watcher`,
    updateOffset: `${prefix}:updates:offset`,
  }
}

export type Keys = ReturnType<typeof keysFor>

/** refField is where an alert's hash keeps the message that announced it in one chat and topic. */
export function refField(chat: string, threadId: number | undefined): string {
  return `ref:${chat}/${threadId ?? ''}`
}
