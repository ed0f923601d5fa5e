/**
 * The silence watcher's keys of the `silences:` section: how often one replica asks Alertmanager
 * which alert messages are silenced (also by silences made elsewhere), how long before a chat
 * silence ends its reminder comes, and the extensions the reminder offers. The schema is here
 * beside its compilation, so the shared schema and parse files only name it.
 */
import Type from 'typebox'
import { DURATION_PATTERN, parseDuration } from '../core/duration.js'

const Duration = (fallback: string, expected: string) => Type.String({ pattern: DURATION_PATTERN, expected, default: fallback })

/** SILENCE_WATCH_KEYS: the keys this module adds to `silences:` (spread into its schema). */
export const SILENCE_WATCH_KEYS = {
  watch_interval: Duration('30s', 'a duration like "30s" ("0s": off)'),
  remind_before: Duration('10m', 'a duration like "10m" ("0s": no reminders)'),
  // ex0..ex9: the button's action has one digit for the option
  extend_options: Type.Array(Type.String({ pattern: DURATION_PATTERN, expected: 'a duration like "1h"' }), {
    default: ['1h', '4h'],
    minItems: 1,
    maxItems: 4,
    expected: 'a list of 1-4 durations like [1h, 4h]',
  }),
}

/** RawSilenceWatch: the keys as the YAML gives them (after defaults). */
export interface RawSilenceWatch {
  watch_interval: string
  remind_before: string
  extend_options: string[]
}

/** SilenceWatchConfig: the keys compiled; 0 turns the watcher or the reminders off (no watcher: no reminders either). */
export interface SilenceWatchConfig {
  watchIntervalMs: number
  remindBeforeMs: number
  extendOptionsMs: number[]
}

/** compileSilenceWatch compiles the keys, adding an error for what only shows together. */
export function compileSilenceWatch(raw: RawSilenceWatch, errors: string[]): SilenceWatchConfig {
  const ms = (text: string) => parseDuration(text) ?? 0
  const config = { watchIntervalMs: ms(raw.watch_interval), remindBeforeMs: ms(raw.remind_before), extendOptionsMs: raw.extend_options.map(ms) }
  raw.extend_options.forEach((text, i) => {
    if (ms(text) <= 0) errors.push(`silences.extend_options[${i}]: expected a duration longer than 0, got "${text}"`)
  })
  // a reminder is looked for at each watch: one due sooner than the next watch could come too late
  if (config.remindBeforeMs > 0 && config.watchIntervalMs > 0 && config.remindBeforeMs <= config.watchIntervalMs) {
    errors.push(
      `silences.remind_before: expected more than silences.watch_interval (${raw.watch_interval}), got "${raw.remind_before}": the reminder is looked for at each watch`,
    )
  }
  return config
}
