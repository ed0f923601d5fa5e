/**
 * The buttons under an alert message: silence for each configured duration and "ack until
 * resolved" while its alerts fire; "unsilence" once someone silenced them. Each button carries the
 * action and the message's opaque token (Telegram allows 64 bytes of callback data). Pure.
 */
import { formatDuration } from './duration.js'
import { graphQueryFromUrl } from './graph.js'
import type { MessageContent } from './render.js'

/** InlineButton: a button under a message: a callback token or a link. */
export type InlineButton = { text: string; callback_data: string } | { text: string; url: string }

/**
 * ButtonAction: what a button asks for. s<i>: silence for durations[i]; ack: until resolved; uns:
 * unsilence; gr: the alert's graph; pg<n>: show page n of a list; it<n>: act on item n of a list;
 * tk: take ("I'm on it"); rl: release; ex<i>: extend a silence by the reminder's option i; lp: let it lapse.
 */
export type ButtonAction = string

const DATA = /^(s[0-9]|ack|uns|gr|tk|rl|ex[0-9]|lp|pg[0-9]{1,3}|it[0-9]{1,3})\.([A-Za-z0-9_-]{16,32})$/

/** buttonData packs an action and a token into callback data (at most 36 bytes). */
export function buttonData(action: ButtonAction, token: string): string {
  return `${action}.${token}`
}

/** parseButtonData reads callback data back, or undefined for anything alertwire did not make. */
export function parseButtonData(data: string | undefined): { action: ButtonAction; token: string } | undefined {
  const match = data ? DATA.exec(data) : null
  return match ? { action: match[1]!, token: match[2]! } : undefined
}

/**
 * alertKeyboard is the keyboard an alert message should have now (undefined: none). graphs: the
 * "📈 Graph" button goes beside "ack" when graphs are on and an alert has a Prometheus graph link.
 * While its alerts fire, "✋ I'm on it" (or "↩️ Release" once someone took it) is offered beside
 * ack, and beside "Unsilence" once silenced: taking is about who works on it, not about the noise.
 */
export function alertKeyboard(content: MessageContent, durationsMs: readonly number[], graphs = false): InlineButton[][] | undefined {
  if (!content.token || content.digest) return undefined
  const firing = content.alerts.some((a) => a.status === 'firing')
  const take = content.taken
    ? { text: '↩️ Release', callback_data: buttonData('rl', content.token) }
    : { text: "✋ I'm on it", callback_data: buttonData('tk', content.token) }
  if (content.silence) return [[{ text: '🔔 Unsilence', callback_data: buttonData('uns', content.token) }, ...(firing ? [take] : [])]]
  if (!firing) return undefined
  const graph = graphs && content.alerts.some((a) => a.generatorURL && graphQueryFromUrl(a.generatorURL))
  return [
    durationsMs.map((ms, i) => ({ text: `🔕 ${formatDuration(ms)}`, callback_data: buttonData(`s${i}`, content.token!) })),
    [
      take,
      { text: '✋ Ack until resolved', callback_data: buttonData('ack', content.token) },
      ...(graph ? [{ text: '📈 Graph', callback_data: buttonData('gr', content.token) }] : []),
    ],
  ]
}
