/**
 * The loop part of `npm run bench -- loop`: what a service under load does with its event loop,
 * second by second. Its CPU share (from /proc/PID/stat), the longest and the 99th-percentile delay
 * of its event loop (its own alertwire_nodejs_eventloop_lag_* gauges, which prom-client resets at
 * every read) and its private memory. Shows whether webhook latency comes from long tasks (a high
 * max with CPU to spare) or from a busy process (CPU near a whole core).
 */
import { readFileSync } from 'node:fs'
import { processMemory } from './memory.js'

/** USER_HZ: the kernel's clock ticks per second in /proc/PID/stat (100 on every Linux architecture Node runs on). */
export const USER_HZ = 100

/** LoopSecond: one second of a process under load. */
export interface LoopSecond {
  cpuPercent: number
  lagP99Ms: number
  lagMaxMs: number
  privateMb: number
}

/** cpuTicks: the CPU time a process has used, user and system, in USER_HZ ticks. */
export function cpuTicks(pid: number): number {
  // the fields after the command name (which may hold spaces): utime and stime are the 12th and 13th
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return Number(fields[11]) + Number(fields[12])
}

async function lagMs(metricsUrl: string): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(metricsUrl)).text()
  const gauge = (name: string) => Number(new RegExp(`^alertwire_nodejs_eventloop_lag_${name}_seconds (\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1000
  return { p99: gauge('p99'), max: gauge('max') }
}

/** watchLoop samples a process every second until stopped. */
export function watchLoop(pid: number, metricsUrl: string): { stop: () => LoopSecond[] } {
  const seconds: LoopSecond[] = []
  let ticks = cpuTicks(pid)
  const timer = setInterval(async () => {
    const now = cpuTicks(pid)
    const cpuPercent = ((now - ticks) / USER_HZ) * 100
    ticks = now
    const lag = await lagMs(metricsUrl)
    seconds.push({ cpuPercent, lagP99Ms: lag.p99, lagMaxMs: lag.max, privateMb: processMemory(pid).privateMb })
  }, 1000)
  return {
    stop: () => {
      clearInterval(timer)
      return seconds
    },
  }
}

/** loopSummary: the seconds in a line each, and the figures over them. */
export function loopSummary(seconds: readonly LoopSecond[]): { lines: string[]; cpuMedian: number; cpuMax: number; lagMaxWorst: number; lagMaxMedian: number } {
  const sorted = (pick: (s: LoopSecond) => number) => seconds.map(pick).sort((a, b) => a - b)
  const median = (values: number[]) => values[Math.floor(values.length / 2)] ?? NaN
  const cpu = sorted((s) => s.cpuPercent)
  const lagMax = sorted((s) => s.lagMaxMs)
  const lines = seconds.map(
    (s, i) =>
      `  ${String(i + 1).padStart(2)} s: CPU ${s.cpuPercent.toFixed(0).padStart(3)}%, event-loop delay p99 ${s.lagP99Ms.toFixed(0)} ms, max ${s.lagMaxMs.toFixed(0)} ms, private ${s.privateMb.toFixed(0)} MB`,
  )
  return { lines, cpuMedian: median(cpu), cpuMax: cpu.at(-1) ?? NaN, lagMaxWorst: lagMax.at(-1) ?? NaN, lagMaxMedian: median(lagMax) }
}
