/**
 * The buttons of a silence reminder (workers/silence-watcher.ts sends it, replying to the alert
 * message): "Extend 1h" (ex<i>: silences.extend_options[i]) moves the end of the message's
 * silence in Alertmanager that much later and marks the message with the new end; "Let it lapse"
 * (lp) only says so in the reminder. Either way the reminder loses its buttons. Handlers check the
 * presser is an admin first (bot/handlers.ts), as for every button that changes something.
 */
import type { Logger } from 'pino'
import type { AlertmanagerClient } from '../alertmanager/client.js'
import type { BotConfig } from '../config/slices.js'
import { formatDuration } from '../core/duration.js'
import { escapeHtml, htmlToPlain } from '../core/html.js'
import type { SilenceMark } from '../core/incident.js'
import { formatTime } from '../core/render.js'
import { extendedEnd } from '../core/silence-watch.js'
import type { Metrics } from '../metrics.js'
import type { BotStore, ButtonTarget } from '../store/bot-store.js'
import type { DeliveryStore } from '../store/delivery-store.js'
import { type BotUser, who } from './update-schema.js'

/** RemindersDeps: what the reminder buttons work with (a part of the bot's). */
export interface RemindersDeps {
  config: () => BotConfig
  alertmanager: () => AlertmanagerClient
  buttons: BotStore
  delivery: DeliveryStore
  metrics: Metrics
  log: Logger
}

type MessageTarget = Extract<ButtonTarget, { kind: 'message' }>

const ACTION = /^(ex[0-9]|lp)$/

/** nameOf: how a reminder names who pressed: @username, else the first name. */
const nameOf = (user: BotUser) => (user.username ? `@${user.username}` : (user.first_name ?? 'someone'))

/** isReminderAction tells a reminder's button (ex<i>, lp) from the others. */
export function isReminderAction(action: string): boolean {
  return ACTION.test(action)
}

/** Reminders: see the file comment. */
export class Reminders {
  constructor(private readonly deps: RemindersDeps) {}

  /** press acts on a reminder's button pressed by an admin; returns the answer for the presser. */
  async press(action: string, target: MessageTarget, token: string, reminderId: number, user: BotUser): Promise<string> {
    const mark = target.silence
    const timeZone = this.deps.config().display(Date.now()).timeZone
    if (!mark || mark.ack) {
      this.record(action === 'lp' ? 'lapse' : 'extend', 'invalid', user, target.chat, { message: target.messageId })
      await this.editReminder(target.chat, reminderId, '🔔 These alerts are no longer silenced from here.')
      return 'These alerts are no longer silenced from here.'
    }
    if (action === 'lp') {
      const ends = escapeHtml(formatTime(mark.until, timeZone))
      await this.editReminder(target.chat, reminderId, `🔕 The silence ends at ${ends}: ${escapeHtml(nameOf(user))} lets it lapse.`)
      this.record('lapse', 'ok', user, target.chat, { message: target.messageId, silences: mark.ids })
      return 'The silence will lapse.'
    }
    const optionMs = this.deps.config().silences.extendOptionsMs[Number(action.slice(2))]
    if (!optionMs) return 'This button is not valid.'
    return this.extend(target, token, mark, optionMs, reminderId, user)
  }

  /** extend moves the end of the message's silences optionMs later in Alertmanager, then marks the message and edits the reminder. */
  private async extend(target: MessageTarget, token: string, mark: SilenceMark, optionMs: number, reminderId: number, user: BotUser): Promise<string> {
    const am = this.deps.alertmanager()
    const now = Date.now()
    const changed: { id: string; endsAt: string }[] = []
    try {
      for (const id of mark.ids) {
        const silence = await am.getSilence(id)
        const endsAt = extendedEnd(silence.endsAt, optionMs, now)
        // an ended silence cannot be changed: Alertmanager makes a new one from the same matchers
        const ended = silence.status.state === 'expired'
        const newId = await am.createSilence({
          ...(ended ? {} : { id, startsAt: new Date(silence.startsAt) }),
          matchers: silence.matchers,
          endsAt: new Date(endsAt),
          createdBy: silence.createdBy,
          comment: silence.comment,
        })
        changed.push({ id: newId, endsAt })
      }
    } catch (error) {
      this.record('extend', 'failed', user, target.chat, { message: target.messageId, error: (error as Error).message })
      return `Not extended: ${(error as Error).message}`
    }
    const until = changed.map((c) => c.endsAt).reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a))
    const next: SilenceMark = { ...mark, ids: changed.map((c) => c.id), until }
    const timeZone = this.deps.config().display(now).timeZone
    const ends = formatTime(until, timeZone)
    const by = nameOf(user)
    await this.deps.buttons.saveTarget(token, { ...target, silence: next })
    await this.deps.delivery.pushNotice(target.chat, {
      kind: 'mark',
      messageId: target.messageId,
      silence: next,
      events: [{ at: new Date(now).toISOString(), kind: 'silenced', by, detail: `extended by ${formatDuration(optionMs)} until ${ends}` }],
    })
    await this.editReminder(
      target.chat,
      reminderId,
      `🔕 ${escapeHtml(by)} extended the silence by ${formatDuration(optionMs)}: it now ends at ${escapeHtml(ends)}.`,
    )
    this.record('extend', 'ok', user, target.chat, { message: target.messageId, silences: next.ids, until })
    return `Extended by ${formatDuration(optionMs)}: the silence ends at ${ends}.`
  }

  /** editReminder replaces the reminder's words, without buttons (each reminder is answered once). */
  private editReminder(chat: string, messageId: number, html: string): Promise<void> {
    return this.deps.delivery.pushNotice(chat, { kind: 'edit', messageId, html, plain: htmlToPlain(html) })
  }

  private record(action: string, outcome: 'ok' | 'failed' | 'invalid', user: BotUser, chat: string, details: object) {
    this.deps.metrics.adminActions.inc({ action, outcome })
    const level = outcome === 'ok' ? 'info' : outcome === 'failed' ? 'error' : 'warn'
    this.deps.log[level]({ action, outcome, user: who(user), chat, ...details }, `admin action ${action}: ${outcome}`)
  }
}
