/**
 * Severity as people write it: "critical", "Critical", "CRIT", "P1" and "page" are one level. Each
 * level has a marker and a rank; every way of writing it (its name and its aliases) is matched
 * case-insensitively. Heartbeats (Watchdog-style alerts that always fire) are level `none` whatever
 * they say. Policy (silent severities, mute windows, /mute) compares levels; the chat shows the
 * value as written, with its level's marker. Pure.
 */
import type { Labels } from './matchers.js'

/** SeverityLevel: how a level looks and where it sorts (lower rank: more severe). */
export interface SeverityLevel {
  marker: string
  rank: number
}

/** SeverityScheme: the levels, every way of writing each one, and the alertnames that are heartbeats. */
export interface SeverityScheme {
  levels: Readonly<Record<string, SeverityLevel>>
  /** lowercased value → level: each level's own name and its aliases */
  aliases: ReadonlyMap<string, string>
  heartbeats: ReadonlySet<string>
}

/** Severity: an alert's severity as the chat shows it and policy compares it. */
export interface Severity {
  /** the level policy compares: a known level, else the value lowercased; '' when the alert has none */
  level: string
  /** the label as written ('' when the alert has none) */
  written: string
  marker: string
  rank: number
}

/** HEARTBEAT_LEVEL: the level of alerts that fire all the time on purpose (delivered silently by default). */
export const HEARTBEAT_LEVEL = 'none'
/** UNRANKED: how an unknown or missing severity looks and sorts: after every level. */
const UNRANKED: SeverityLevel = { marker: '⚪', rank: 99 }

/** RawLevel: a level as the YAML writes it. */
export interface RawLevel extends SeverityLevel {
  aliases?: readonly string[]
}

/** DEFAULT_LEVELS: the levels alertwire ships with, and the common ways of writing them. */
export const DEFAULT_LEVELS: Readonly<Record<string, RawLevel>> = {
  critical: { marker: '🔴', rank: 0, aliases: ['crit', 'page', 'p1', 'sev1', 'emergency', 'emerg', 'fatal', 'disaster'] },
  error: { marker: '🔴', rank: 1, aliases: ['err', 'p2', 'sev2', 'high', 'major'] },
  warning: { marker: '🟠', rank: 2, aliases: ['warn', 'p3', 'sev3', 'medium', 'average', 'minor'] },
  info: { marker: '🔵', rank: 3, aliases: ['information', 'informational', 'notice', 'p4', 'p5', 'sev4', 'sev5', 'low'] },
  none: { marker: '⚪', rank: 4, aliases: ['heartbeat', 'silent', 'debug'] },
}

/** DEFAULT_HEARTBEATS: alertnames kube-prometheus and common rule sets use for always-firing heartbeats. */
export const DEFAULT_HEARTBEATS: readonly string[] = ['Watchdog', 'DeadMansSnitch', 'DeadMansSwitch', 'InfoInhibitor']

/**
 * compileSeverities builds the scheme from the configured levels, extra aliases (value → level)
 * and heartbeat alertnames; it returns the errors an operator must fix (an alias of two levels, an
 * alias of a level that does not exist).
 */
export function compileSeverities(
  levels: Readonly<Record<string, RawLevel>>,
  extraAliases: Readonly<Record<string, string>>,
  heartbeats: readonly string[],
): { scheme: SeverityScheme; errors: string[] } {
  const errors: string[] = []
  const aliases = new Map<string, string>()
  const byLower = new Map(Object.keys(levels).map((name) => [name.toLowerCase(), name]))
  const add = (value: string, level: string, where: string) => {
    const key = value.trim().toLowerCase()
    const other = aliases.get(key)
    if (other !== undefined && other !== level) errors.push(`${where}: "${value}" already means ${other}`)
    else aliases.set(key, level)
  }
  for (const name of Object.keys(levels)) add(name, name, `severities.${name}`)
  for (const [name, level] of Object.entries(levels)) for (const alias of level.aliases ?? []) add(alias, name, `severities.${name}.aliases`)
  for (const [value, target] of Object.entries(extraAliases)) {
    const level = byLower.get(target.toLowerCase())
    if (level === undefined) errors.push(`severity_aliases.${value}: no severity level "${target}" (levels: ${[...byLower.values()].join(', ')})`)
    else add(value, level, `severity_aliases.${value}`)
  }
  const shown = Object.fromEntries(Object.entries(levels).map(([name, l]) => [name, { marker: l.marker, rank: l.rank }]))
  return { scheme: { levels: shown, aliases, heartbeats: new Set(heartbeats) }, errors }
}

/** levelOf names the level a configured value means (for silent_severities and mute windows): a known level, else the value lowercased. */
export function levelOf(value: string, scheme: SeverityScheme): string {
  const key = value.trim().toLowerCase()
  return scheme.aliases.get(key) ?? key
}

/** severityOf reads an alert's severity: heartbeats are level none; otherwise the severity label, matched case-insensitively. */
export function severityOf(labels: Labels, scheme: SeverityScheme): Severity {
  const written = (labels.severity ?? '').trim()
  const heartbeat = labels.alertname !== undefined && scheme.heartbeats.has(labels.alertname) && Object.hasOwn(scheme.levels, HEARTBEAT_LEVEL)
  const level = heartbeat ? HEARTBEAT_LEVEL : written ? levelOf(written, scheme) : ''
  // own keys only: a severity called "constructor" is just unknown
  const look = Object.hasOwn(scheme.levels, level) ? scheme.levels[level]! : UNRANKED
  return { level, written, marker: look.marker, rank: look.rank }
}

/** mostSevere picks the severity that describes several alerts: the lowest rank wins (first on a tie). */
export function mostSevere(labelSets: readonly Labels[], scheme: SeverityScheme): Severity {
  let best: Severity | undefined
  for (const labels of labelSets) {
    const severity = severityOf(labels, scheme)
    if (!best || severity.rank < best.rank) best = severity
  }
  return best ?? { level: '', written: '', ...UNRANKED }
}
