/**
 * Taking an alert message ("✋ I'm on it") and giving it back: what a press of the button or
 * /take, /release changes on the message, or why it changes nothing. Taking silences nothing; it
 * says who works on it, which stops escalation. Pure: the clock comes in.
 */
import type { MessagePatch, Person, TimelineEvent } from './incident.js'
import type { MessageContent } from './render.js'
import { personName } from './timeline.js'

/** TakeAction: take the message, or give it back. */
export type TakeAction = 'take' | 'release'

/** TakePlan: the patch to push as a 'mark' notice and the answer, or (ok false) the answer alone: nothing changes. */
export type TakePlan = { ok: true; patch: MessagePatch; text: string } | { ok: false; text: string }

/** personOf: a Telegram user as alertwire names them (the name when they have no username). */
export function personOf(user: { id: number; username?: string; first_name?: string }): Person {
  return { id: user.id, name: user.first_name || user.username || `user ${user.id}`, ...(user.username ? { username: user.username } : {}) }
}

/**
 * planTake decides what taking or releasing a message does: anyone (an admin) may take a firing
 * message, also one someone else took (the event says from whom); release gives it back, whoever
 * took it. A message whose alerts all resolved is not taken any more, and releasing an untaken one
 * changes nothing.
 */
export function planTake(record: Pick<MessageContent, 'alerts' | 'taken' | 'digest'>, action: TakeAction, person: Person, now: number): TakePlan {
  const at = new Date(now).toISOString()
  const by = personName(person)
  if (action === 'release') {
    if (!record.taken) return { ok: false, text: 'Nobody has taken this alert.' }
    const event: TimelineEvent = {
      at,
      kind: 'released',
      by,
      chat: true,
      ...(record.taken.by.id !== person.id ? { detail: `from ${personName(record.taken.by)}` } : {}),
    }
    return { ok: true, patch: { taken: null, events: [event] }, text: '↩️ Released: nobody is on it now.' }
  }
  // a digest is taken with /take as a reply (it escalates too); it fires while any alert it names or counts does
  if (![...record.alerts, ...(record.digest?.unnamed ?? [])].some((a) => a.status === 'firing'))
    return { ok: false, text: 'Its alerts have resolved: there is nothing to take.' }
  if (record.taken?.by.id === person.id) return { ok: false, text: 'You are already on it.' }
  const event: TimelineEvent = { at, kind: 'taken', by, chat: true, ...(record.taken ? { detail: `from ${personName(record.taken.by)}` } : {}) }
  return { ok: true, patch: { taken: { by: person, at }, events: [event] }, text: "✋ You're on it. Nothing was silenced." }
}
