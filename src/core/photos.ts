/**
 * Graphs in the chat: which sent message asks for a graph, what a graph waiting in a chat becomes
 * at the chat's turn, and which outcome is counted. A graph is the least urgent thing a chat is
 * told: it is drawn off the delivery path (workers/graph-jobs.ts) and queued per chat, and the
 * chat's turn sends it only when nothing else waits (core/turn.ts). In a storm, or when it waited
 * too long, it is skipped and counted; a text alert never waits for its graph. Pure.
 */
import type { Call } from './delivery.js'
import { type GraphOptions, type GraphQuery, graphForAlert } from './graph.js'

/** GraphKind: why a graph was asked for: an alert's message, its resolution, /graph, a dashboard. */
export type GraphKind = 'alert' | 'resolved' | 'command' | 'dashboard'

/** GraphRequest: a graph to draw for a chat, queued for the graphs worker. */
export interface GraphRequest {
  chat: string
  /** the message the graph answers (an alert message, a command) */
  replyTo?: number
  threadId?: number
  silent: boolean
  query: GraphQuery
  kind: GraphKind
  requestedAt: number
}

/** GraphsOutcome: every value of alertwire_graphs_total{outcome}: what drawing gave, then what became of it in the chat. */
export type GraphsOutcome =
  | 'drawn'
  | 'flat'
  | 'empty'
  | 'bad_query'
  | 'prometheus_down'
  | 'timeout'
  | 'render_error'
  | 'skipped_storm'
  | 'skipped_stale'
  | 'sent'
  | 'failed'

/** PhotoJob: a drawn graph (or the caption that says why there is none) waiting for its chat's turn. */
export interface PhotoJob {
  id: string
  replyTo?: number
  threadId?: number
  silent: boolean
  /** HTML, at most 1024 characters after parsing (graphCaption) */
  caption: string
  /** false: no picture (empty, failed): the caption goes as a text message */
  png: boolean
  queuedAt: number
  kind: GraphKind
}

/** StoredPhoto: the head of a chat's graph list as read (job unset when it cannot be read). */
export interface StoredPhoto {
  raw: string
  job?: PhotoJob
}

/** GRAPH_MAX_WAIT_MS: a graph not sent within this long after it was drawn is skipped: the picture is old news. */
export const GRAPH_MAX_WAIT_MS = 10 * 60_000

/** PhotoTurn: what a chat's graph turn does: send the graph, or drop it (counted skipped_stale, or unreadable). */
export type PhotoTurn = { kind: 'send'; job: PhotoJob } | { kind: 'skip'; reason: 'stale' | 'unreadable' }

/** photoTurn decides what the graph at the head of a chat's list becomes now. */
export function photoTurn(photo: StoredPhoto, now: number, maxWaitMs = GRAPH_MAX_WAIT_MS): PhotoTurn {
  if (!photo.job) return { kind: 'skip', reason: 'unreadable' }
  if (now - photo.job.queuedAt > maxWaitMs) return { kind: 'skip', reason: 'stale' }
  return { kind: 'send', job: photo.job }
}

/**
 * graphsForCall: the graph a call that Telegram accepted asks for. A new alert message (not a
 * digest) gets one graph, of its first alert that has one (several would crowd the chat); the
 * call that marks alerts resolved in their message gets a final graph of the incident when
 * graphs.on_resolve is on. Reminders, flapping updates and silence marks get none.
 */
export function graphsForCall(chat: string, call: Call, messageId: number | undefined, options: GraphOptions, now: number): GraphRequest[] {
  const record = call.record
  if (!record || record.digest || !options.enabled) return []
  const base = { chat, ...(record.threadId ? { threadId: record.threadId } : {}), silent: true, requestedAt: now }
  if (call.op === 'send' && call.announce) {
    const replyTo = messageId ?? record.messageId
    for (const alert of record.alerts) {
      const query = alert.status === 'firing' ? graphForAlert(alert, options, now) : undefined
      if (query) return [{ ...base, replyTo, query, kind: 'alert' }]
    }
    return []
  }
  if (call.announce) return []
  const resolvedNow = new Set(call.fingerprints)
  for (const alert of record.alerts) {
    if (alert.status !== 'resolved' || !resolvedNow.has(alert.fingerprint)) continue
    const query = graphForAlert(alert, options, now)
    if (query) return [{ ...base, replyTo: record.messageId, query, kind: 'resolved' }]
  }
  return []
}
