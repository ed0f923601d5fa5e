/**
 * Who is on call: a rota's layers (daily, weekly or every N hours, handing off at a local time in
 * the rota's zone), optionally covering only some hours or days, later layers winning where they
 * have someone; overrides (from the YAML and from the chat) win over layers, the latest made
 * winning where they overlap. Pure: every answer is for an instant the caller passes.
 */
import type { Person } from './incident.js'
import { type LocalClock, localClock, localToUtc, weekdayOf } from './zoned.js'

/** RotaLayer: one compiled layer of a rota. */
export interface RotaLayer {
  /** daily, weekly, or a fixed length in ms (counted from the start's handoff) */
  rotation: 'daily' | 'weekly' | number
  /** local minute of the day the handoff happens */
  handoff: number
  /** weekly: the weekday of the handoff, 0 = Sunday */
  day?: number
  /** the local day (days since 1970-01-01) the first person starts, at the handoff time */
  start: number
  people: Person[]
  /** local minutes this layer covers; from > to crosses midnight (the part after midnight belongs to the day before) */
  hours?: { from: number; to: number }
  /** local weekdays this layer covers, 0 = Sunday */
  days?: ReadonlySet<number>
}

/** RotaOverride: someone on call instead of the layers, from an instant until another; `by` who made it (chat overrides). */
export interface RotaOverride {
  who: Person[]
  fromMs: number
  untilMs: number
  by?: string
}

/** Rota: a compiled rota (config/oncall.ts calls it RotaConfig). */
export interface Rota {
  name: string
  timeZone: string
  layers: RotaLayer[]
  /** from the YAML; they count as made before any from the chat */
  overrides: RotaOverride[]
  /** where each handoff is announced */
  handoffNotice?: { chat: string; topic?: number }
}

/** OnCall: who is on call at an instant, and until the next change (undefined: no change ahead). */
export interface OnCall {
  people: Person[]
  untilMs: number | undefined
}

/** Handoff: the people on call change at an instant. */
export interface Handoff {
  atMs: number
  people: Person[]
}

// how far ahead a rota is searched for its next change: beyond it, "no change"
const HORIZON_MS = 400 * 86_400_000
const MAX_STEPS = 5000

/** covers: whether a layer's hours/days include this local moment. */
function covers(layer: RotaLayer, dayNumber: number, minute: number): boolean {
  const { hours, days } = layer
  const onDay = (d: number) => !days || days.has(weekdayOf(d))
  if (!hours || hours.from === hours.to) return onDay(dayNumber)
  if (hours.from < hours.to) return minute >= hours.from && minute < hours.to && onDay(dayNumber)
  if (minute >= hours.from) return onDay(dayNumber)
  return minute < hours.to && onDay(dayNumber - 1)
}

const startMemo = new WeakMap<RotaLayer, { zone: string; ms: number }>()

/** startMs: the instant a layer's first turn begins (remembered per layer: the walk asks it often). */
function startMs(layer: RotaLayer, zone: string): number {
  const known = startMemo.get(layer)
  if (known?.zone === zone) return known.ms
  const ms = localToUtc(zone, layer.start, layer.handoff)
  startMemo.set(layer, { zone, ms })
  return ms
}

/** constant: one person, all day, every day: such a layer changes only when it starts, so the walk need not stop at its handoffs. */
function constant(layer: RotaLayer): boolean {
  return new Set(layer.people.map((p) => p.id)).size === 1 && !layer.days && (!layer.hours || layer.hours.from === layer.hours.to)
}

/** shiftIndex: which turn of the layer's people an instant falls in (negative: before the start). */
function shiftIndex(layer: RotaLayer, zone: string, atMs: number, { dayNumber, minute }: LocalClock): number {
  if (typeof layer.rotation === 'number') {
    const start = startMs(layer, zone)
    return atMs < start ? -1 : Math.floor((atMs - start) / layer.rotation)
  }
  const shiftDay = minute >= layer.handoff ? dayNumber : dayNumber - 1
  if (shiftDay < layer.start) return -1
  if (layer.rotation === 'daily') return shiftDay - layer.start
  const weekStart = (d: number) => d - ((weekdayOf(d) - (layer.day ?? 1) + 7) % 7)
  return (weekStart(shiftDay) - weekStart(layer.start)) / 7
}

/** layerAt: the person a layer has on call at an instant (its local clock given), if any. */
function layerAt(layer: RotaLayer, zone: string, atMs: number, clock: LocalClock): Person | undefined {
  if (layer.people.length === 0 || !covers(layer, clock.dayNumber, clock.minute)) return undefined
  const index = shiftIndex(layer, zone, atMs, clock)
  return index < 0 ? undefined : layer.people[index % layer.people.length]
}

/**
 * layerChangeAfter: the first instant after atMs at which a layer may change (a handoff or an edge
 * of its hours or days). The candidates are ordered on the wall clock and only the first one after
 * atMs is turned into an instant: the zone is asked twice per step, not for every candidate.
 */
function layerChangeAfter(layer: RotaLayer, zone: string, atMs: number, clock: LocalClock): number {
  if (constant(layer)) return atMs < startMs(layer, zone) ? startMs(layer, zone) : Number.POSITIVE_INFINITY
  let next = Number.POSITIVE_INFINITY
  const minutes = new Set([0])
  if (layer.hours) for (const m of [layer.hours.from, layer.hours.to]) minutes.add(m % 1440)
  if (typeof layer.rotation === 'number') {
    const start = startMs(layer, zone)
    next = atMs < start ? start : start + (Math.floor((atMs - start) / layer.rotation) + 1) * layer.rotation
  } else minutes.add(layer.handoff)
  const now = clock.dayNumber * 1440 + clock.minute
  // every candidate minute happens on one of these days (midnight is one of them)
  const candidates = [0, 1, 2].flatMap((d) => [...minutes].map((m) => (clock.dayNumber + d) * 1440 + m)).filter((c) => c > now)
  for (const wall of candidates.sort((a, b) => a - b)) {
    const at = localToUtc(zone, Math.floor(wall / 1440), wall % 1440)
    // a repeated hour (the clocks going back) can put a later wall time before atMs: then the next one
    if (at > atMs) return Math.min(next, at)
  }
  return next
}

/** allOverrides: the YAML's then the chat's, in the order they were made (the last made wins). */
function allOverrides(rota: Rota, overrides: readonly RotaOverride[]): RotaOverride[] {
  return [...rota.overrides, ...overrides]
}

/** peopleAt: who is on call at an instant: the last-made override covering it, else the last layer that has someone. */
function peopleAt(rota: Rota, overrides: readonly RotaOverride[], atMs: number): Person[] {
  for (let i = overrides.length - 1; i >= 0; i--) {
    const o = overrides[i]!
    if (o.fromMs <= atMs && atMs < o.untilMs) return o.who
  }
  const clock = localClock(rota.timeZone, atMs)
  for (let i = rota.layers.length - 1; i >= 0; i--) {
    const person = layerAt(rota.layers[i]!, rota.timeZone, atMs, clock)
    if (person) return [person]
  }
  return []
}

/** changeAfter: the first instant after atMs at which the answer may change. */
function changeAfter(rota: Rota, overrides: readonly RotaOverride[], atMs: number): number {
  let next = Number.POSITIVE_INFINITY
  for (const o of overrides) for (const edge of [o.fromMs, o.untilMs]) if (edge > atMs && edge < next) next = edge
  const clock = localClock(rota.timeZone, atMs)
  for (const layer of rota.layers) next = Math.min(next, layerChangeAfter(layer, rota.timeZone, atMs, clock))
  return next
}

/** samePeople: the same people on call (by Telegram id, in order). */
export function samePeople(a: readonly Person[], b: readonly Person[]): boolean {
  return a.length === b.length && a.every((p, i) => p.id === b[i]!.id)
}

/** onCallAt tells who is on call for a rota at an instant, and until when (the next change). */
export function onCallAt(rota: Rota, overrides: readonly RotaOverride[], atMs: number): OnCall {
  const all = allOverrides(rota, overrides)
  const people = peopleAt(rota, all, atMs)
  let at = atMs
  for (let step = 0; step < MAX_STEPS; step++) {
    at = changeAfter(rota, all, at)
    if (!Number.isFinite(at) || at - atMs > HORIZON_MS) break
    if (!samePeople(peopleAt(rota, all, at), people)) return { people, untilMs: at }
  }
  return { people, untilMs: undefined }
}

/** nextOnCall tells who comes on call next after an instant, and from when (undefined: nobody changes ahead). */
export function nextOnCall(rota: Rota, overrides: readonly RotaOverride[], atMs: number): { people: Person[]; fromMs: number } | undefined {
  const now = onCallAt(rota, overrides, atMs)
  if (now.untilMs === undefined) return undefined
  return { people: onCallAt(rota, overrides, now.untilMs).people, fromMs: now.untilMs }
}

/**
 * lastHandoffAt finds the last change of who is on call at or before atMs, looking back at most
 * lookbackMs (undefined: none in that time). It searches by halves, since before that change the
 * next change is at or before atMs and after it the next is later: a 2-second test rota looked
 * back on for a week costs a few dozen steps, not a walk through every handoff.
 */
export function lastHandoffAt(rota: Rota, overrides: readonly RotaOverride[], atMs: number, lookbackMs: number): number | undefined {
  const stillCurrent = (t: number) => {
    const until = onCallAt(rota, overrides, t).untilMs
    return until === undefined || until > atMs ? true : until
  }
  let lo = atMs - lookbackMs
  if (stillCurrent(lo) === true) return undefined
  let hi = atMs
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    const found = stillCurrent(mid)
    if (found === true) hi = mid
    else {
      // the change after mid is a candidate: if nothing changes after it, it is the one
      if (stillCurrent(found) === true) return found
      lo = found
    }
  }
  return hi
}

/** handoffsBetween lists each change of who is on call after fromMs up to and including toMs, oldest first (at most 5000). */
export function handoffsBetween(rota: Rota, overrides: readonly RotaOverride[], fromMs: number, toMs: number): Handoff[] {
  const handoffs: Handoff[] = []
  let at = onCallAt(rota, overrides, fromMs).untilMs
  while (at !== undefined && at <= toMs && handoffs.length < MAX_STEPS) {
    const now = onCallAt(rota, overrides, at)
    handoffs.push({ atMs: at, people: now.people })
    at = now.untilMs
  }
  return handoffs
}
