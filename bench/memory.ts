/**
 * A process's memory as the benches report it, read from /proc (Linux), in MB. Resident memory
 * (RSS) counts the pages of the `node` binary the process touched (about 50 MB, file-backed and
 * shared by every Node process on the host); private memory (anonymous pages: the heap, malloc)
 * is what each further replica costs.
 */
import { readFileSync } from 'node:fs'

/** ProcessMemory: resident memory now and at its peak, and the part of it now private to the process and shared from files. */
export interface ProcessMemory {
  rssMb: number
  peakRssMb: number
  privateMb: number
  fileMb: number
}

/** processMemory reads VmRSS, VmHWM, RssAnon and RssFile of a process. */
export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const mb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) / 1024
  return { rssMb: mb('VmRSS'), peakRssMb: mb('VmHWM'), privateMb: mb('RssAnon'), fileMb: mb('RssFile') }
}

/** watchPrivateMemory samples a process's private memory every everyMs until stopped, which gives the highest seen (the kernel keeps no peak of it). */
export function watchPrivateMemory(pid: number, everyMs = 100): { stop: () => number } {
  let highest = processMemory(pid).privateMb
  const timer = setInterval(() => {
    try {
      highest = Math.max(highest, processMemory(pid).privateMb)
    } catch {
      // the process has exited: the highest so far stands
    }
  }, everyMs)
  return {
    stop: () => {
      clearInterval(timer)
      return highest
    },
  }
}
