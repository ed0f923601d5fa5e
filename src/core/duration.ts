/** Durations and sizes as operators write them in YAML ("90s", "1h30m", "10MiB"). */

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

/** DURATION_PATTERN matches Go/Prometheus-style durations: one or more <number><unit> pairs. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+$'

/** POSITIVE_DURATION_PATTERN: a duration that is not zero (for timeouts, intervals and lifetimes, where 0 would never work). */
export const POSITIVE_DURATION_PATTERN = `^(?!(0+(\\.0+)?(ms|s|m|h|d|w))+$)${DURATION_PATTERN.slice(1)}`

/** parseDuration turns "1h30m" into milliseconds, or returns undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!new RegExp(DURATION_PATTERN).test(text)) return undefined
  let total = 0
  for (const [, amount, , unit] of text.matchAll(/([0-9]+(\.[0-9]+)?)(ms|s|m|h|d|w)/g)) {
    total += Number(amount) * DURATION_UNITS[unit!]!
  }
  return Math.round(total)
}

/** formatDuration renders milliseconds the way a person reads them: "3d 4h", "12m 5s", "800ms". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0
  if (ms < 1000) return `${Math.round(ms)}ms`
  const parts: string[] = []
  let rest = Math.floor(ms / 1000)
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0) parts.push(`${n}${unit}`)
    if (parts.length === 2) break
  }
  return parts.join(' ')
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
}

/** SIZE_PATTERN matches byte sizes like "512KiB", "10MiB" or "1048576". */
export const SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)? ?([kKmMgG]i?[bB]|[bB])?$'

/** parseSize turns "10MiB" into bytes, or returns undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?) ?([a-zA-Z]*)$/.exec(text)
  if (!match || !new RegExp(SIZE_PATTERN).test(text)) return undefined
  const unit = SIZE_UNITS[match[2]!.toLowerCase()]
  return unit === undefined ? undefined : Math.floor(Number(match[1]) * unit)
}

/** ZERO_TIME: Go's zero time, what Alertmanager writes for "not set" (a firing alert's endsAt). */
export const ZERO_TIME = '0001-01-01T00:00:00Z'

/** isZeroTime: Go's zero time in any of the forms it is written, which means "not set" (a start shown as unknown, not year 1). */
export function isZeroTime(value: string): boolean {
  return /^0001-01-01[Tt ]00:00:00(\.0+)?([Zz]|[+-]00:?00)$/.test(value)
}
