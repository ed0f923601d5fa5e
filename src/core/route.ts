/**
 * Routing: which chats an alert goes to. Routes are tried in order; the first that matches wins
 * unless it says `continue`; an alert no route claims goes to the default chat. Pure.
 */
import { type Labels, type Matcher, matchesAll } from './matchers.js'
import type { MuteWindow } from './mute.js'

/** ChatTarget: a chat (and forum topic) with the pace class Telegram applies to it. */
export interface ChatTarget {
  chatId: number | string
  threadId?: number
  kind: 'private' | 'group'
  /** this chat's own pace (minimum ms between messages), instead of its class's */
  paceMs?: number
}

/** Policy: how a route treats its alerts; routing-level values are the defaults routes inherit. */
export interface Policy {
  silentSeverities: ReadonlySet<string>
  /** re-announce a still-firing alert no more often than this (0: never) */
  repeatIntervalMs: number
  /** this route's messages to a chat are at least this far apart; what waits is folded into digests */
  throttleMs?: number
  muteWindows: readonly MuteWindow[]
}

/** Route: a compiled routes[] entry. */
export interface Route extends Policy {
  name: string
  matchers: Matcher[]
  /** undefined: the default chat */
  chats?: ChatTarget[]
  continue: boolean
}

/** Routing: the compiled routing section; its policy applies to alerts no route takes. */
export interface Routing extends Policy {
  defaultChat?: ChatTarget
  routes: Route[]
}

/** Target: one delivery of an alert: where, through which route, with which policy. */
export interface Target {
  chat: ChatTarget
  route: string
  policy: Policy
}

/** DEFAULT_ROUTE_NAME: the name reported for alerts that only the default chat receives. */
export const DEFAULT_ROUTE_NAME = 'default'

/** routeAlert returns the targets for an alert's labels (empty when nothing, not even a default chat, takes it). */
export function routeAlert(routing: Routing, labels: Labels): Target[] {
  const targets: Target[] = []
  const seen = new Set<string>()
  const add = (chats: readonly ChatTarget[], route: string, policy: Policy) => {
    for (const chat of chats) {
      const key = `${chat.chatId}/${chat.threadId ?? ''}`
      if (seen.has(key)) continue
      seen.add(key)
      targets.push({ chat, route, policy })
    }
  }
  const defaultChats = routing.defaultChat ? [routing.defaultChat] : []
  let matched = false
  for (const route of routing.routes) {
    if (!matchesAll(route.matchers, labels)) continue
    matched = true
    add(route.chats ?? defaultChats, route.name, route)
    if (!route.continue) break
  }
  if (!matched) add(defaultChats, DEFAULT_ROUTE_NAME, routing)
  return targets
}
