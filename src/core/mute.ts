/**
 * Mute windows: during configured hours, chosen severities are delivered silently or held until
 * the window ends (e.g. warnings silent at night, critical always loud). Pure: the clock is a
 * parameter.
 */

/** MuteWindow: a compiled mute_windows entry. */
export interface MuteWindow {
  severities: ReadonlySet<string>
  /** minutes after local midnight */
  start: number
  end: number
  /** local weekdays the window starts on, 0 = Sunday */
  days: ReadonlySet<number>
  action: 'silent' | 'hold'
  timeZone: string
  /** as written, for route-test and logs */
  text: string
}

/** MuteDecision: what a window does to an alert now. */
export type MuteDecision = { action: 'none' } | { action: 'silent' } | { action: 'hold'; until: number }

const DAY_INDEX: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 }
const WEEKDAY_SHORT: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 }

/** compileMuteWindow turns a validated YAML entry into a MuteWindow. */
export function compileMuteWindow(
  raw: { severities: string[]; times: string; days?: string[]; action: string; time_zone?: string },
  defaultZone: string,
): MuteWindow {
  const [from, to] = raw.times.split('-') as [string, string]
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))
  return {
    severities: new Set(raw.severities),
    start: minutes(from),
    end: minutes(to),
    days: new Set((raw.days ?? Object.keys(DAY_INDEX)).map((d) => DAY_INDEX[d]!)),
    action: raw.action as MuteWindow['action'],
    timeZone: raw.time_zone ?? defaultZone,
    text: `${raw.severities.join(',')} ${raw.action} ${raw.times}${raw.days ? ` ${raw.days.join(',')}` : ''}${raw.time_zone ? ` ${raw.time_zone}` : ''}`,
  }
}

function localClock(now: number, timeZone: string): { day: number; minute: number; second: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now)
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '0'
  return { day: WEEKDAY_SHORT[get('weekday')] ?? 0, minute: Number(get('hour')) * 60 + Number(get('minute')), second: Number(get('second')) }
}

/** minutesLeft: how long until the window ends, if it is open now (null otherwise). */
function minutesLeft(window: MuteWindow, clock: { day: number; minute: number }): number | null {
  const { start, end } = window
  if (start < end) {
    return clock.minute >= start && clock.minute < end && window.days.has(clock.day) ? end - clock.minute : null
  }
  // crosses midnight: the part before midnight belongs to today, the part after to yesterday
  if (clock.minute >= start && window.days.has(clock.day)) return 1440 - clock.minute + end
  if (clock.minute < end && window.days.has((clock.day + 6) % 7)) return end - clock.minute
  return null
}

/**
 * muteDecision tells what the route's windows do to an alert of this severity at `now`: hold wins
 * over silent; a hold lasts until its window ends (wall-clock minutes, so a DST change that night
 * shifts it by that hour).
 */
export function muteDecision(windows: readonly MuteWindow[], severity: string, now: number): MuteDecision {
  let decision: MuteDecision = { action: 'none' }
  for (const window of windows) {
    if (!window.severities.has(severity)) continue
    const clock = localClock(now, window.timeZone)
    const left = minutesLeft(window, clock)
    if (left === null) continue
    if (window.action === 'hold') {
      const until = now + left * 60_000 - clock.second * 1000
      if (decision.action !== 'hold' || until > decision.until) decision = { action: 'hold', until }
    } else if (decision.action === 'none') decision = { action: 'silent' }
  }
  return decision
}
