/**
 * Silences for the alerts of a message: one silence whose matchers cover exactly those alerts
 * (a label all of them share is matched with =, a label that differs with =~ of the values), on
 * the configured label set or, by default, every label they carry. Pure.
 */
import type { SilenceMatcher } from '../alertmanager/matchers.js'
import { isMatchAll } from '../alertmanager/matchers.js'
import type { AlertRef } from '../store/bot-store.js'

/** RE2_SPECIAL: characters Alertmanager's regexes (Go RE2) give a meaning to. */
const RE2_SPECIAL = /[\\.+*?()|[\]{}^$]/g

/** escapeRegex makes a label value match itself, and only itself, in an Alertmanager regex. */
export function escapeRegex(value: string): string {
  return value.replace(RE2_SPECIAL, (c) => `\\${c}`)
}

/**
 * silenceMatchers builds the matchers that silence these alerts, or throws when they would match
 * everything (Alertmanager refuses such a silence, and it would hide unrelated alerts).
 */
export function silenceMatchers(alerts: readonly AlertRef[], labelNames: readonly string[]): SilenceMatcher[] {
  const names = labelNames.length > 0 ? [...labelNames] : [...new Set(alerts.flatMap((a) => Object.keys(a.labels)))].sort()
  const matchers: SilenceMatcher[] = []
  for (const name of names) {
    const values = [...new Set(alerts.map((a) => a.labels[name] ?? ''))].sort()
    if (values.length === 1) matchers.push({ name, value: values[0]!, isRegex: false, isEqual: true })
    else matchers.push({ name, value: values.map(escapeRegex).join('|'), isRegex: true, isEqual: true })
  }
  if (matchers.length === 0 || isMatchAll(matchers)) {
    throw new Error('these alerts have none of the labels silences are made of (silences.match_labels): a silence would match everything')
  }
  return matchers
}
