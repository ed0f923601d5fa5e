/**
 * "✋ I'm on it", "↩️ Release" and /timeline: a thin executor. It reads the message's record, asks
 * core/take.ts what taking or releasing changes, and pushes that as a 'mark' notice: the chat's
 * sender applies it to the record and edits the message in its own turn, so two presses or two
 * replicas never race on the record. /timeline reads the record and answers.
 */
import type { Logger } from 'pino'
import type { MessageRecord } from '../core/delivery.js'
import type { RenderOptions, Rendered } from '../core/render.js'
import { finish, formatTime } from '../core/render.js'
import { personOf, planTake, type TakeAction } from '../core/take.js'
import { timelineReply } from '../core/timeline.js'
import type { DeliveryStore } from '../store/delivery-store.js'
import type { BotUser } from './update-schema.js'

/** TakeOutcome: how a take or release ended, as handlers.ts records it. */
export interface TakeOutcome {
  outcome: 'ok' | 'invalid'
  text: string
  details: object
}

/** TakeDeps: what taking works with. */
export interface TakeDeps {
  delivery: DeliveryStore
  log: Logger
  display: (now: number) => RenderOptions
}

/** alertRecord reads the alert message (or digest) a command replies to (undefined: it replies to none alertwire keeps). */
export async function alertRecord(delivery: DeliveryStore, chat: string, messageId: number | undefined): Promise<MessageRecord | undefined> {
  if (!messageId) return undefined
  return (await delivery.records(chat, [messageId])).get(messageId)
}

/** takeMessage takes or releases an alert message for an admin (the caller checked): a mark notice, or nothing and why. */
export async function takeMessage(deps: TakeDeps, chat: string, messageId: number, action: TakeAction, user: BotUser): Promise<TakeOutcome> {
  const record = await alertRecord(deps.delivery, chat, messageId)
  if (!record) return { outcome: 'invalid', text: 'This message is not an alert alertwire keeps.', details: { message: messageId } }
  const plan = planTake(record, action, personOf(user), Date.now())
  if (!plan.ok) return { outcome: 'invalid', text: plan.text, details: { message: messageId } }
  await deps.delivery.pushNotice(chat, { kind: 'mark', messageId, ...plan.patch })
  return { outcome: 'ok', text: plan.text, details: { message: messageId } }
}

/** TAKE_USAGE: what /take and /release say when they do not reply to an alert message. */
export const TAKE_USAGE = 'Reply to an alert message with /take (or /release) to say you are on it (or give it back).'

/** timelineAnswer is /timeline's answer for the alert message it replies to. */
export async function timelineAnswer(deps: TakeDeps, chat: string, messageId: number | undefined): Promise<Rendered> {
  const record = await alertRecord(deps.delivery, chat, messageId)
  if (!record) return finish('Reply to an alert message with /timeline to see what happened to it.')
  const options = deps.display(Date.now())
  const alerts = [...record.alerts, ...(record.digest?.unnamed ?? [])]
  const names = [...new Set(alerts.map((a) => a.labels.alertname ?? 'alert'))].slice(0, 5).join(', ')
  const firing = alerts.some((a) => a.status === 'firing')
  return finish(timelineReply(names, { firing, ...record }, options.timeZone, (iso) => formatTime(iso, options.timeZone)))
}
