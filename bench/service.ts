/**
 * The benchmarks' alertwire: the compiled service started as `npm start` starts it (its V8 flags),
 * with a config of its own, one process per replica. Shared by bench/run.ts and bench/scale.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, waitForHttp } from '../test/helpers/net.js'

const root = new URL('..', import.meta.url).pathname

const START_WORDS = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  .split(/\s+/)
  .filter((word) => word !== 'exec' && word !== 'env')
const ASSIGNMENT = /^[A-Z_]+=/

/** START_ENV and START_ARGS: the environment `npm start` sets (malloc's arenas) and node's arguments in it (the V8 flags), so the benches measure what operators run. */
export const START_ENV = Object.fromEntries(START_WORDS.filter((word) => ASSIGNMENT.test(word)).map((word) => word.split('=', 2) as [string, string]))
export const START_ARGS = START_WORDS.filter((word) => !ASSIGNMENT.test(word)).slice(1)

/** profilingFlags: node flags from BENCH_NODE_FLAGS (say `--cpu-prof --cpu-prof-dir=/tmp/prof`), for finding where a bench's time goes; node refuses most of them in NODE_OPTIONS. */
function profilingFlags(): string[] {
  return (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean)
}

/** Service: a running alertwire and where it listens. */
export interface Service {
  url: string
  process: ChildProcess
}

/**
 * startService runs the compiled service with `yaml` as its config (written in dir) and waits for
 * /healthz. What it says on stderr is kept: its tail is printed if it exits with an error, and
 * everything it says goes to `<logDir>/<name>.log` when a log folder is given. serviceRoot: where
 * its compiled code is (another commit's, built by bench/against.ts), started with this one's flags.
 */
export async function startService(
  dir: string,
  name: string,
  yaml: string,
  env: Record<string, string>,
  logDir?: string,
  serviceRoot = root,
): Promise<Service> {
  const port = await freePort()
  const config = join(dir, `${name}.yaml`)
  writeFileSync(config, yaml)
  const child = spawn(process.execPath, [...profilingFlags(), ...START_ARGS, '--config', config], {
    cwd: serviceRoot,
    env: { ...process.env, ...START_ENV, ...env, PORT: String(port) },
    stdio: ['ignore', logDir ? 'pipe' : 'ignore', 'pipe'],
  })
  const log = (d: Buffer) => logDir && appendFileSync(join(logDir, `${name}.log`), d)
  child.stdout?.on('data', log)
  let errors = ''
  child.stderr!.on('data', (d: Buffer) => {
    errors = (errors + d).slice(-4000)
    log(d)
  })
  child.on('exit', (code) => {
    if (code) process.stderr.write(`${name} exited ${code}:\n${errors}\n`)
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/healthz`, { timeoutMs: 30_000 })
  return { url, process: child }
}
