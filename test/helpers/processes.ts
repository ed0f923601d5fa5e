// Child processes and temp dirs for tests that drive real binaries (redis-server,
// prometheus-alertmanager, prometheus). Everything started here is tracked, and whatever a
// test forgot (or could not clean up because it failed) is killed and removed when the test
// process exits: on a normal exit, on an uncaught error, on SIGINT/SIGTERM/SIGHUP (tap's
// timeout), and even on SIGKILL thanks to a tiny reaper shell that watches this process.
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './net.js'

/** How a tracked process ended. `error` is set when it could not be spawned at all. */
export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
  error?: Error
}

/** A child process started with spawnTracked. */
export interface ManagedProcess {
  readonly name: string
  readonly child: ChildProcess
  /** Resolves (never rejects) once the process has exited or failed to spawn. */
  readonly exited: Promise<ExitInfo>
  /** True until the process has exited. */
  running(): boolean
  /** Last ~64 KiB of stdout and stderr, interleaved, for error messages and assertions. */
  output(): string
  /** Sends a signal; resolves when the process is gone (at once for SIGSTOP/SIGCONT). */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** SIGTERM, then SIGKILL if it is still there after `timeoutMs`; resolves when it is gone. */
  stop(timeoutMs?: number): Promise<void>
}

export interface SpawnOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Do not keep the event loop alive for this child (for process-wide shared services). */
  unref?: boolean
}

const OUTPUT_LIMIT = 64 * 1024
const liveChildren = new Set<ChildProcess>()
const liveDirs = new Set<string>()

/** spawnTracked starts a child whose output is captured and which dies with this process. */
export function spawnTracked(name: string, command: string, args: readonly string[], opts: SpawnOptions = {}): ManagedProcess {
  installExitHooks()
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let captured = ''
  const capture = (chunk: Buffer): void => {
    captured = (captured + chunk.toString('utf8')).slice(-OUTPUT_LIMIT)
  }
  child.stdout?.on('data', capture)
  child.stderr?.on('data', capture)

  let done = false
  const exited = new Promise<ExitInfo>((resolve) => {
    // 'error' alone (ENOENT) or 'error' then 'exit' (failed kill) can both happen: first wins.
    child.once('error', (error) => finish({ code: null, signal: null, error }))
    child.once('exit', (code, signal) => finish({ code, signal }))
    function finish(info: ExitInfo): void {
      if (done) return
      done = true
      liveChildren.delete(child)
      writeReaperList()
      resolve(info)
    }
  })
  if (child.pid !== undefined) {
    liveChildren.add(child)
    writeReaperList()
  }
  if (opts.unref) unrefChild(child)

  const managed: ManagedProcess = {
    name,
    child,
    exited,
    running: () => !done,
    output: () => captured,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (done) return
      child.kill(signal)
      if (signal === 'SIGSTOP' || signal === 'SIGCONT' || signal === 'SIGTSTP') return
      await exited
    },
    async stop(timeoutMs = 10_000) {
      if (done) return
      child.kill('SIGTERM')
      child.kill('SIGCONT') // a SIGSTOPped process only acts on SIGTERM once resumed
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      try {
        await exited
      } finally {
        clearTimeout(timer)
      }
    },
  }
  return managed
}

/** describeExit renders an ExitInfo plus the captured output for an error message. */
export function describeExit(proc: ManagedProcess, info: ExitInfo): string {
  const how = info.error ? `could not start: ${info.error.message}` : `exited with ${info.signal ? `signal ${info.signal}` : `code ${info.code}`}`
  return `${proc.name} ${how}\n--- ${proc.name} output ---\n${proc.output().trim()}`
}

/** runCommand runs a short-lived command to completion (amtool, promtool) and captures its output. */
export function runCommand(command: string, args: readonly string[], timeoutMs = 15_000): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim()
      if (!error) return resolve({ code: 0, output })
      // ENOENT has a string code; a failed command has a numeric one.
      const code = typeof error.code === 'number' ? error.code : 127
      resolve({ code, output: output || error.message })
    })
  })
}

/** makeTempDir creates a tracked temp dir that is removed at process exit if not before. */
export function makeTempDir(prefix: string): string {
  installExitHooks()
  const dir = mkdtempSync(join(tmpdir(), `awtest-${prefix}-`))
  liveDirs.add(dir)
  writeReaperList()
  return dir
}

/** removeTempDir deletes a dir made by makeTempDir and stops tracking it. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  liveDirs.delete(dir)
  writeReaperList()
}

/** trackedResources lists the child pids and temp dirs still alive, so a test can prove its teardown cleaned up. */
export function trackedResources(): { pids: number[]; dirs: string[] } {
  return { pids: [...liveChildren].map((c) => c.pid ?? -1), dirs: [...liveDirs] }
}

/** isAddressInUse tells whether a failed start was a lost race for a port (worth a retry). */
export function isAddressInUse(text: string): boolean {
  return /address already in use|EADDRINUSE/i.test(text)
}

/** waitUntilReady resolves once `ready` does; if the process exits or `ready` fails first, it kills the process and throws with its output. */
export async function waitUntilReady(proc: ManagedProcess, ready: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const abort = new AbortController()
  let diedFirst = false
  const died = proc.exited.then((info) => {
    diedFirst = true
    throw new Error(describeExit(proc, info))
  })
  try {
    await Promise.race([ready(abort.signal), died])
  } catch (err) {
    if (diedFirst) throw err // describeExit already carries the output
    await proc.kill('SIGKILL')
    throw new Error(`${(err as Error).message}\n--- ${proc.name} output ---\n${proc.output().trim()}`)
  } finally {
    abort.abort() // stop polling in every case
    died.catch(() => {}) // the race is settled; a later exit is not an error here
  }
}

/** startOnFreePort runs `start` with a fresh free port, retrying when another process won the port. */
export async function startOnFreePort<T>(start: (port: number) => Promise<T>, tries = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort())
    } catch (err) {
      if (attempt >= tries || !isAddressInUse((err as Error).message)) throw err
    }
  }
}

function unrefChild(child: ChildProcess): void {
  child.unref()
  // The stdio pipes are handles too; unref them or the test process never exits.
  for (const stream of [child.stdout, child.stderr]) {
    ;(stream as unknown as { unref?: () => void } | null)?.unref?.()
  }
}

// ---- cleanup at exit -------------------------------------------------------------------

let hooksInstalled = false
let reaper: ChildProcess | undefined
let reaperList: string | undefined

function installExitHooks(): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('beforeExit', () => void stopLeftovers())
  process.once('exit', cleanupNow)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, function onSignal() {
      cleanupNow()
      // We replaced the default "die" behaviour; restore it unless someone else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    })
  }
  startReaper()
}

// On a normal end (the event loop ran dry) shut leftovers (the unref'd shared Redis) down
// gracefully and reap them, so nothing lingers even as a zombie. Re-ref'ing keeps the loop
// alive until their exit events arrive; 'beforeExit' then fires again with nothing left.
async function stopLeftovers(): Promise<void> {
  const children = [...liveChildren]
  const dirs = [...liveDirs]
  if (children.length === 0 && dirs.length === 0) return
  await Promise.all(
    children.map((child) => {
      child.ref()
      const gone = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), 5000).unref() // a hung child must not hang us
      return gone
    }),
  )
  await Promise.all(dirs.map((dir) => removeTempDir(dir)))
}

// Runs synchronously: an 'exit' handler cannot wait. SIGKILL because these are throwaway
// test resources and a graceful shutdown could write into a dir we are deleting.
function cleanupNow(): void {
  for (const child of liveChildren) child.kill('SIGKILL')
  liveChildren.clear()
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true })
  liveDirs.clear()
  reaper?.kill('SIGKILL')
  if (reaperList) rmSync(reaperList, { force: true })
  reaperList = undefined // late child 'exit' events must not write the list again
}

// If this process is SIGKILLed no handler runs; the reaper notices within a second that its
// parent is gone and kills/removes whatever is still listed in its file.
const REAPER_SCRIPT = `
while kill -0 "$1" 2>/dev/null; do sleep 1; done
[ -f "$2" ] || exit 0
while read -r kind value; do
  case "$kind" in
    pid) kill -9 "$value" 2>/dev/null ;;
    dir) rm -rf -- "$value" ;;
  esac
done < "$2"
rm -f -- "$2"
`

function startReaper(): void {
  reaperList = join(tmpdir(), `awtest-reaper-${process.pid}.list`)
  writeFileSync(reaperList, '')
  reaper = spawn('sh', ['-c', REAPER_SCRIPT, 'awtest-reaper', String(process.pid), reaperList], {
    stdio: 'ignore',
    detached: true, // own process group: a Ctrl-C to the test run must not kill it first
  })
  reaper.unref()
}

function writeReaperList(): void {
  if (!reaperList) return
  const lines = [...[...liveChildren].map((c) => `pid ${c.pid}`), ...[...liveDirs].map((d) => `dir ${d}`)]
  writeFileSync(reaperList, `${lines.join('\n')}\n`)
}
