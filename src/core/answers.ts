/**
 * Answers: what each Telegram answer means for the delivery in flight, row by row the error table
 * of the README (DESIGN: "errors sorted by what to do next"). Pure: the sender carries the plan
 * out — the store writes, the counters, the log line.
 */
import { backoffMs } from './backoff.js'
import type { Call, MessageRecord } from './delivery.js'
import type { Observation } from './timeline.js'
import { type CallLetter, callLetter, type InFlight } from './turn.js'

/** Failure: what went wrong with a Telegram call, sorted by what to do next. */
export type Failure =
  /** 429: wait exactly retryAfterMs, without spending an attempt */
  | { kind: 'rate_limited'; retryAfterMs: number; description: string }
  /** 5xx, network, timeout, garbled answer: retry with backoff */
  | { kind: 'transient'; description: string }
  /** Telegram refused our HTML or its length: resend as plain text */
  | { kind: 'bad_format'; description: string }
  /** an edit that changes nothing: it already shows this */
  | { kind: 'not_modified'; description: string }
  /** the message to edit is gone: send a new one */
  | { kind: 'edit_target_missing'; description: string }
  /** the forum topic is gone: send to the chat itself rather than lose the alert */
  | { kind: 'thread_missing'; description: string }
  /** the group became a supergroup: move there and resend */
  | { kind: 'migrated'; migrateTo: number; description: string }
  /** blocked, kicked, chat not found: terminal for this message, counted and visible */
  | { kind: 'chat_unreachable'; description: string }
  /** the bot token or API URL is wrong: nothing will work until an operator fixes it; keep retrying */
  | { kind: 'misconfigured'; description: string }
  /** 409: another process polls this bot, or a webhook is set (webhookSet) */
  | { kind: 'conflict'; webhookSet: boolean; description: string }
  /** any other refusal of this request: terminal, counted and visible */
  | { kind: 'rejected'; description: string }

/** Answer: what Telegram said to one call (a send's success carries the new message's id). */
export type Answer = { ok: true; messageId?: number } | { ok: false; failure: Failure }

/** RetryPolicy: the delivery slice of the config that paces retries. */
export interface RetryPolicy {
  retryInitialMs: number
  retryMaxMs: number
}

/** TurnEnd: how the chat's turn ends: the delivery to keep (none: done), the pace to keep, and when to try again at the earliest. */
export interface TurnEnd {
  inflight: InFlight | undefined
  paceMs: number
  retryInMs: number
}

/** Count: what goes into the metrics (alertwire_messages_total, _telegram_retries_total, _telegram_rate_limited_total, _dead_letters_total). */
export interface Count {
  message?: 'sent' | 'sent_plain' | 'edited' | 'dead_letter'
  retry?: Failure['kind']
  rateLimited?: true
  deadLetter?: string
  /** what the call's record measures (time to acknowledge, to resolve), counted once Telegram took the call */
  observe?: Observation[]
}

/** LogLine: what the log says about the answer (the executor adds the chat). */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error'
  message: string
  fields: Record<string, unknown>
}

/** AnswerPlan: what the answer means next, named as in the README's error table. */
export type AnswerPlan = { count: Count; log: LogLine } & (
  | { action: 'migrate'; migrateTo: string }
  | {
      action: 'advance' | 'wait' | 'retry' | 'resend_plain' | 'send_instead' | 'drop_topic' | 'dead_letter'
      end: TurnEnd
      /**
       * the message record to save (announce: point its alerts' refs and buttons at it; only: an
       * edit that announces some of its alerts, a flap, points only theirs)
       */
      save?: { record: MessageRecord; announce: boolean; only?: string[] }
      letter?: CallLetter
    }
)

/** answerPlan decides what a Telegram answer to the delivery's current call means (see the README's error table). */
export function answerPlan(answer: Answer, inflight: InFlight, retry: RetryPolicy, random: () => number): AnswerPlan {
  const call = inflight.calls[inflight.next]!
  if (answer.ok) return done(inflight, call, answer.messageId)
  const { failure } = answer
  const fields = { fingerprints: call.fingerprints, op: call.op, error: failure.description }
  const again = (calls: Call[], message: string, level: LogLine['level']) => ({
    end: { inflight: { ...inflight, calls }, paceMs: inflight.paceMs, retryInMs: 0 },
    count: { retry: failure.kind },
    log: { level, message, fields },
  })
  switch (failure.kind) {
    case 'not_modified':
      return done(inflight, call, undefined)
    case 'rate_limited':
      return {
        action: 'wait',
        end: { inflight, paceMs: failure.retryAfterMs, retryInMs: 0 },
        count: { retry: 'rate_limited', rateLimited: true },
        log: { level: 'warn', message: 'Telegram asked to slow down; waiting exactly retry_after', fields: { ...fields, retryAfterMs: failure.retryAfterMs } },
      }
    case 'transient':
    case 'misconfigured': {
      const attempts = inflight.attempts + 1
      const wait = backoffMs(attempts, retry.retryInitialMs, retry.retryMaxMs, random)
      const misconfigured = failure.kind === 'misconfigured'
      // the same failure again is logged quietly, so a long outage is one line, not thousands
      const level = inflight.lastError === failure.description ? 'debug' : misconfigured ? 'error' : 'warn'
      const message = misconfigured
        ? 'Telegram refuses the bot token or API URL; messages wait until it is fixed'
        : 'Telegram call failed; retrying with backoff'
      return {
        action: 'retry',
        end: { inflight: { ...inflight, attempts, lastError: failure.description }, paceMs: inflight.paceMs, retryInMs: wait },
        count: { retry: failure.kind },
        log: { level, message, fields: { ...fields, attempts, retryInMs: wait } },
      }
    }
    // each fallback below is tried once: a refusal of the fallback itself is final
    case 'bad_format':
      if (call.plainOnly) return deadLetter(inflight, call, 'rejected', failure.description)
      return {
        action: 'resend_plain',
        ...again(replaceCurrent(inflight, { ...call, plainOnly: true }), 'Telegram refused the HTML; resending as plain text', 'warn'),
      }
    case 'edit_target_missing': {
      if (call.op !== 'edit') return deadLetter(inflight, call, 'rejected', failure.description)
      const { messageId: _gone, ...send } = call
      return {
        action: 'send_instead',
        ...again(replaceCurrent(inflight, { ...send, op: 'send', announce: true }), 'the message to edit is gone; sending a new one', 'info'),
      }
    }
    case 'thread_missing':
      if (call.threadId === undefined) return deadLetter(inflight, call, 'rejected', failure.description)
      return {
        action: 'drop_topic',
        ...again(
          inflight.calls.map(({ threadId: _gone, ...rest }) => rest),
          'the forum topic is gone; sending to the chat itself',
          'warn',
        ),
      }
    case 'migrated':
      return {
        action: 'migrate',
        migrateTo: String(failure.migrateTo),
        count: { retry: 'migrated' },
        log: {
          level: 'warn',
          message: 'the group became a supergroup; moving its alerts there (update the chat id in the config)',
          fields: { ...fields, newChat: failure.migrateTo },
        },
      }
    case 'chat_unreachable':
      return deadLetter(inflight, call, 'chat_unreachable', failure.description)
    case 'conflict':
    case 'rejected':
      return deadLetter(inflight, call, 'rejected', failure.description)
  }
}

/** done: the call did what it was for: save what it announced or changed, go on with the next call. */
function done(inflight: InFlight, call: Call, messageId: number | undefined): AnswerPlan {
  // an edit that announces (a flap) moves only the refs of the alerts it is about: the message's
  // other alerts may have been announced anew elsewhere since, and their refs must stay there
  const only = call.announce && call.op === 'edit' ? { only: call.fingerprints } : {}
  const save = call.record
    ? {
        save: {
          record: { ...call.record, messageId: call.announce && messageId ? messageId : call.record.messageId },
          announce: call.announce === true,
          ...only,
        },
      }
    : {}
  // an unchanged edit made no call: it takes nothing of the chat's pace and is no message
  const end = advance(inflight)
  const message = call.unchanged ? {} : { message: call.op === 'edit' ? ('edited' as const) : call.plainOnly ? ('sent_plain' as const) : ('sent' as const) }
  return {
    action: 'advance',
    end: call.unchanged ? { ...end, paceMs: 0 } : end,
    ...save,
    count: { ...message, ...(call.observe ? { observe: call.observe } : {}) },
    log: { level: 'debug', message: 'telegram call done', fields: { fingerprints: call.fingerprints, op: call.op } },
  }
}

function deadLetter(inflight: InFlight, call: Call, reason: string, error: string): AnswerPlan {
  return {
    action: 'dead_letter',
    end: advance(inflight),
    letter: callLetter(inflight, call, reason, error),
    count: { message: 'dead_letter', deadLetter: reason },
    log: { level: 'error', message: 'message given up on (dead letter)', fields: { fingerprints: call.fingerprints, op: call.op, error, reason } },
  }
}

/** advance moves on to the delivery's next call (a fresh one: no attempts, no error yet), or ends it after the last. */
function advance(inflight: InFlight): TurnEnd {
  const next = inflight.next + 1
  const { lastError: _done, ...rest } = inflight
  return { inflight: next < inflight.calls.length ? { ...rest, next, attempts: 0 } : undefined, paceMs: inflight.paceMs, retryInMs: 0 }
}

function replaceCurrent(inflight: InFlight, call: Call): Call[] {
  return inflight.calls.map((c, i) => (i === inflight.next ? call : c))
}
