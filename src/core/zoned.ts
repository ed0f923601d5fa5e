/**
 * Wall-clock arithmetic in an IANA time zone with Intl only: which local day and minute an instant
 * is, and which instant a local day and minute is. Rotas hand off at local times ("09:00 every
 * Monday"), so a handoff must stay at 09:00 on both sides of a DST change. Pure.
 */

const MINUTE = 60_000
const DAY = 86_400_000

/** LocalClock: an instant seen in a zone: the local day (days since 1970-01-01) and minute of that day. */
export interface LocalClock {
  dayNumber: number
  minute: number
}

const formats = new Map<string, Intl.DateTimeFormat>()

// building a formatter is costly and rotas ask many times per answer: one per zone
function formatIn(zone: string): Intl.DateTimeFormat {
  let format = formats.get(zone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    })
    formats.set(zone, format)
  }
  return format
}

/** wallMs: the local wall time of an instant, written as if it were UTC (to the second). */
function wallMs(zone: string, atMs: number): number {
  const parts: Record<string, number> = {}
  for (const part of formatIn(zone).formatToParts(atMs)) if (part.type !== 'literal') parts[part.type] = Number(part.value)
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!)
}

/** validZone tells whether Intl knows this IANA zone name. */
export function validZone(zone: string): boolean {
  try {
    formatIn(zone)
    return true
  } catch {
    return false
  }
}

function rawOffsetMs(zone: string, atMs: number): number {
  const whole = Math.floor(atMs / 1000) * 1000
  return wallMs(zone, whole) - whole
}

// offsets at the start of each UTC day, per zone: asking Intl is the slow part of a rota's walk
const dayOffsets = new Map<string, Map<number, number>>()
const DAY_OFFSETS_KEPT = 20_000

function dayStartOffset(zone: string, day: number): number {
  let days = dayOffsets.get(zone)
  if (!days || days.size > DAY_OFFSETS_KEPT) {
    days = new Map()
    dayOffsets.set(zone, days)
  }
  let offset = days.get(day)
  if (offset === undefined) {
    offset = rawOffsetMs(zone, day * DAY)
    days.set(day, offset)
  }
  return offset
}

/**
 * zoneOffsetMs: how far the zone's wall clock is ahead of UTC at an instant. A UTC day that starts
 * and ends on the same offset has it throughout (zones change at most once a day), so Intl is
 * asked once per day, and at every instant only on the days the clocks change.
 */
export function zoneOffsetMs(zone: string, atMs: number): number {
  const day = Math.floor(atMs / DAY)
  const start = dayStartOffset(zone, day)
  return start === dayStartOffset(zone, day + 1) ? start : rawOffsetMs(zone, atMs)
}

/** localClock: the local day and minute of an instant in a zone. */
export function localClock(zone: string, atMs: number): LocalClock {
  const wall = atMs + zoneOffsetMs(zone, atMs)
  const dayNumber = Math.floor(wall / DAY)
  return { dayNumber, minute: Math.floor((wall - dayNumber * DAY) / MINUTE) }
}

/**
 * localToUtc: the instant a local day and minute is in a zone. A time the clock skips (02:30 on the
 * night it springs forward) is taken as the instant the clock jumps past it; a time it shows twice
 * (falling back) as its later showing.
 */
export function localToUtc(zone: string, dayNumber: number, minute: number): number {
  const wall = dayNumber * DAY + minute * MINUTE
  let guess = wall - zoneOffsetMs(zone, wall)
  const offset = zoneOffsetMs(zone, guess)
  if (wall - offset !== guess) guess = wall - offset
  return guess
}

/** dayNumberOf: the day number of a calendar date (days since 1970-01-01). */
export function dayNumberOf(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / DAY
}

/** weekdayOf: the weekday of a day number, 0 = Sunday. */
export function weekdayOf(dayNumber: number): number {
  // 1970-01-01 was a Thursday
  return (((dayNumber + 4) % 7) + 7) % 7
}

/** parseLocalDate reads "2026-01-05" as a day number, or undefined when it is no calendar date. */
export function parseLocalDate(text: string): number | undefined {
  const match = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(text)
  if (!match) return undefined
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const date = new Date(Date.UTC(year, month - 1, day))
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined
  return dayNumberOf(year, month, day)
}

/** parseClock reads "09:00" as minutes after midnight ("24:00" only when allowed), or undefined. */
export function parseClock(text: string, allow24 = false): number | undefined {
  const match = /^([0-9]{2}):([0-9]{2})$/.exec(text)
  if (!match) return undefined
  const [hour, minute] = [Number(match[1]), Number(match[2])]
  if (allow24 && hour === 24 && minute === 0) return 1440
  return hour < 24 && minute < 60 ? hour * 60 + minute : undefined
}

/** parseLocalDateTime reads "2026-12-24T18:00" (local to the zone) as an instant, or undefined. */
export function parseLocalDateTime(zone: string, text: string): number | undefined {
  const [date, time] = text.split('T')
  if (date === undefined || time === undefined) return undefined
  const dayNumber = parseLocalDate(date)
  const minute = parseClock(time)
  return dayNumber === undefined || minute === undefined ? undefined : localToUtc(zone, dayNumber, minute)
}
