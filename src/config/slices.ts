/**
 * Config slices: the part of the config each component reads, cut in one place, so a component
 * never receives the whole config for the sake of a few keys.
 */
import type { BatchOptions } from '../core/delivery.js'
import type { PlanOptions } from '../core/candidates.js'
import type { EventPolicy } from '../core/events.js'
import type { Routing } from '../core/route.js'
import { paceOfChat } from '../core/pace.js'
import type { RenderOptions } from '../core/render.js'
import type { Config } from './parse.js'
import { policyOfRoute } from './escalation.js'
import type { OnCallSlice } from './oncall.js'

/** MAX_ITEMS_PER_DELIVERY: most outbox items one delivery takes. */
export const MAX_ITEMS_PER_DELIVERY = 500

/** displayOptions: the operator's wording and display choices, at a moment (templates, severities, hidden labels, time zone). */
export function displayOptions(config: Config, now: number): RenderOptions {
  return {
    templates: config.messages.templates,
    severities: config.messages.severities,
    labels: config.messages.labels,
    timeZone: config.messages.timeZone,
    flapWindowMs: config.flapping.windowMs,
    now,
  }
}

/** batchOptions is the rendering and resolve policy for one turn; newToken makes button tokens (none: no buttons). */
export function batchOptions(config: Config, now: number, newToken?: () => string): BatchOptions {
  return {
    ...displayOptions(config, now),
    resolved: config.messages.resolved,
    resolvedUnannounced: config.messages.resolvedUnannounced,
    maxItems: MAX_ITEMS_PER_DELIVERY,
    digestMaxAlerts: config.storms.digestMaxAlerts,
    durationsMs: config.silences.durationsMs,
    // only where a Prometheus is configured: whether an alert's generator host answers is known only when asked
    graphButtons: config.graphs.enabled && (config.graphs.prometheusUrl !== undefined || config.graphs.hostMap.size > 0),
    // buttons only where someone can press them: the bot must be receiving updates
    ...(newToken && config.silences.buttons && config.telegram.updates !== 'off' ? { newToken } : {}),
  }
}

/** knownChats: the chats alertwire sends to (routes, the default chat, chats with their own admins). */
export function knownChats(config: Config): Set<string> {
  const chats = new Set<string>([...config.telegram.chatAdmins.keys()])
  if (config.routing.defaultChat) chats.add(String(config.routing.defaultChat.chatId))
  for (const route of config.routing.routes) for (const chat of route.chats ?? []) chats.add(String(chat.chatId))
  return chats
}

/** chatRotas: the rotas a chat's alerts escalate to: named by the policies of the routes that send there (the default chat: also the routing default). */
export function chatRotas(config: Config, chat: string): string[] {
  const { routing, escalation } = config
  const isDefault = routing.defaultChat !== undefined && String(routing.defaultChat.chatId) === chat
  const routes = routing.routes.filter((r) => (r.chats ? r.chats.some((c) => String(c.chatId) === chat) : isDefault)).map((r) => r.name)
  const policies = [...routes.map((r) => policyOfRoute(escalation, r)), ...(isDefault ? [policyOfRoute(escalation, undefined)] : [])]
  const rotas = policies.flatMap((p) => p?.steps.flatMap((s) => s.mention.flatMap((m) => (m.kind === 'rota' ? [m.rota] : []))) ?? [])
  return [...new Set(rotas)]
}

/** oncallSlice: what /oncall and the handoff notices read. */
export function oncallSlice(config: Config): OnCallSlice {
  return { ...config.oncall, rotasOf: (chat) => chatRotas(config, chat), timeZone: config.messages.timeZone }
}

/** BotConfig: what the bot reads of the config. */
export interface BotConfig {
  /** who may act: configured admins everywhere, chat admins in their chat, optionally the chat's own administrators */
  access: Pick<Config['telegram'], 'admins' | 'chatAdmins' | 'chatAdministrators'>
  /** where commands are answered (and privately to admins) */
  chats: ReadonlySet<string>
  silences: Config['silences']
  /** what /mute does to critical alerts, to say so */
  criticalWhenMuted: Config['mute']['critical']
  /** how lists, /status and outcomes are written, at a moment */
  display: (now: number) => RenderOptions
  /** the dashboards, by name: each name is a command */
  dashboards: Config['dashboards']
  /** people and rotas, for /oncall */
  oncall: OnCallSlice
}

/** botConfig cuts the bot's slice. */
export function botConfig(config: Config): BotConfig {
  const { admins, chatAdmins, chatAdministrators } = config.telegram
  return {
    access: { admins, chatAdmins, chatAdministrators },
    chats: knownChats(config),
    silences: config.silences,
    criticalWhenMuted: config.mute.critical,
    display: (now) => displayOptions(config, now),
    dashboards: config.dashboards,
    oncall: oncallSlice(config),
  }
}

/** chatPaces: each chat alertwire serves with the pace it is sent at (its own, else its class's), as /status shows them. */
export function chatPaces(config: Config): { chat: string; paceMs: number }[] {
  return [...knownChats(config)].map((chat) => ({ chat, paceMs: paceOfChat(config.routing, config.telegram.pace, chat) }))
}

/** SenderConfig: what the sender reads of the config, per turn (so a reload applies at the next turn). */
export interface SenderConfig {
  /** lanes: chats served at once by this replica (read at start) */
  lanes: number
  /** how long a chat stays leased to a lane: long enough for one Telegram call to time out */
  leaseMs: number
  globalIntervalMs: number
  storms: { maxDelayMs: number }
  /** delivery.catch_up_after: what waited longer than this is caught up on in a digest (0: never) */
  catchUpAfterMs: number
  retry: Pick<Config['delivery'], 'retryInitialMs' | 'retryMaxMs' | 'giveUpAfterMs'>
  /** the pace of a chat, by its id */
  chatPaceMs: (chat: string) => number
  /** the pace of each chat class, which orders the chats due at once for Telegram's overall limit */
  classPace: { privateIntervalMs: number; groupIntervalMs: number }
  /** rendering and resolve policy at a moment; newToken makes button tokens */
  batch: (now: number, newToken?: () => string) => BatchOptions
}

/** senderConfig cuts the sender's slice. */
export function senderConfig(config: Config): SenderConfig {
  const { telegram, delivery } = config
  return {
    lanes: delivery.concurrency,
    leaseMs: telegram.requestTimeoutMs * 2 + 5000,
    globalIntervalMs: telegram.pace.globalIntervalMs,
    storms: { maxDelayMs: config.storms.maxDelayMs },
    catchUpAfterMs: delivery.catchUpAfterMs,
    retry: { retryInitialMs: delivery.retryInitialMs, retryMaxMs: delivery.retryMaxMs, giveUpAfterMs: delivery.giveUpAfterMs },
    chatPaceMs: (chat) => paceOfChat(config.routing, telegram.pace, chat),
    classPace: { privateIntervalMs: telegram.pace.privateIntervalMs, groupIntervalMs: telegram.pace.groupIntervalMs },
    batch: (now, newToken) => batchOptions(config, now, newToken),
  }
}

/** PlannerConfig: what the planner reads of the config, per notification. */
export interface PlannerConfig {
  routing: Routing
  plan: PlanOptions
  events: Omit<EventPolicy, 'rememberMs'>
}

/** plannerConfig cuts the planner's slice. */
export function plannerConfig(config: Config): PlannerConfig {
  return {
    routing: config.routing,
    plan: {
      resolvedUnannounced: config.messages.resolvedUnannounced,
      alertmanagerUrl: config.alertmanager.url,
      pace: config.telegram.pace,
      severities: config.messages.severities,
    },
    events: { flapping: config.flapping, criticalWhenMuted: config.mute.critical },
  }
}
