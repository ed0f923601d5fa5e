/**
 * `npm start`, the README's start command, run and stopped as process managers do: they signal the
 * process they started (npm) or its whole process group, and expect the service to stop, its port
 * to be free and nothing of it left within the shutdown timeout. Also: `npm start` compiles only
 * when dist/ was built from other sources. Runs in a copy of the project, so its builds never touch
 * the working tree's dist/.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { freePort, waitForHttp } from './helpers/net.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from './helpers/redis.js'
import { cleanEnv } from './helpers/service.js'

// a tsc build (8–14 s on the 2-core machine, over a minute beside other busy test files) and four runs
t.setTimeout(300_000)

const SHUTDOWN_MS = 5000
const REPO = process.cwd()
// the group of every npm started here, killed however this process ends
const groups = new Set<number>()
process.once('exit', () => groups.forEach(killGroup))

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL')
  } catch {
    // already gone
  }
}

/** copyProject copies what `npm start` reads into a temp dir, with the repo's node_modules linked in. */
function copyProject(dir: string): void {
  for (const name of ['src', 'config', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json'])
    cpSync(join(REPO, name), join(dir, name), { recursive: true })
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'))
}

interface Started {
  npm: ChildProcess
  port: number
  exited: Promise<void>
  output(): string
}

/** npmStart runs `npm start` in `dir` as a supervisor would (its own process group) and waits for /healthz. */
async function npmStart(dir: string, env: NodeJS.ProcessEnv): Promise<Started> {
  const port = await freePort()
  const npm = spawn('npm', ['start'], { cwd: dir, detached: true, env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] })
  groups.add(npm.pid!)
  let output = ''
  npm.stdout!.on('data', (d) => (output += d))
  npm.stderr!.on('data', (d) => (output += d))
  const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()))
  const died = new AbortController()
  void exited.then(() => died.abort())
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 120_000, signal: died.signal })
  } catch (error) {
    killGroup(npm.pid!)
    throw new Error(`npm start did not come up: ${(error as Error).message}\n${output}`)
  }
  return { npm, port, exited, output: () => output }
}

/** groupMembers lists the live processes (zombies are dead) of a process group. */
function groupMembers(pgid: number): string[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' })
  return table
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => !!m && Number(m[2]) === pgid && !m[3]!.startsWith('Z'))
    .map((m) => `${m[1]} ${m[4]}`)
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** stop signals a started service and waits (up to the shutdown timeout and a second) until npm, the port and the group are all gone. */
async function stop(started: Started, signal: () => void) {
  const pgid = started.npm.pid!
  const before = groupMembers(pgid)
  const began = Date.now()
  signal()
  let npmGone = false
  void started.exited.then(() => (npmGone = true))
  let left = before
  let free = false
  while (Date.now() - began < SHUTDOWN_MS + 1000) {
    left = groupMembers(pgid)
    free = await portFree(started.port)
    if (npmGone && free && left.length === 0) break
    await sleep(50)
  }
  return { before, left, free, npmGone, ms: Date.now() - began }
}

const dir = mkdtempSync(join(tmpdir(), 'aw-start-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
copyProject(dir)
const redisUrl = await testRedisUrl()
const prefix = uniquePrefix('start')
t.teardown(() => cleanupPrefix(redisUrl, prefix))
const config = join(dir, 'test.yaml')
writeFileSync(config, `data_dir: ${join(dir, 'data')}\nredis: {prefix: "${prefix}"}\nserver: {shutdown_timeout: ${SHUTDOWN_MS / 1000}s}\n`)
// what a user's shell has: none of alertwire's variables, none of the npm run that runs these tests
const env = {
  ...Object.fromEntries(Object.entries(cleanEnv).filter(([key]) => !/^npm_|^INIT_CWD$/i.test(key))),
  HOST: '127.0.0.1',
  REDIS_URL: redisUrl,
  ALERTWIRE_CONFIG: config,
}
const entry = join(dir, 'dist', 'main.js')

/** stopsCleanly runs npm start, signals it, and checks that the service stopped gracefully and left nothing behind. */
async function stopsCleanly(t: Test, how: string, signal: (npm: ChildProcess) => void): Promise<string> {
  const started = await npmStart(dir, env)
  const result = await stop(started, () => signal(started.npm))
  t.ok(
    result.before.some((p) => p.includes('dist/main.js')),
    'the service runs in npm’s process group',
  )
  t.ok(result.npmGone, `${how}: npm exited`)
  t.ok(result.free, `${how}: port ${started.port} is free`)
  t.same(result.left, [], `${how}: no process of it is left`)
  t.ok(result.ms < SHUTDOWN_MS, `${how}: all gone in ${result.ms} ms, within the ${SHUTDOWN_MS} ms shutdown timeout`)
  t.match(started.output(), /"msg":"stopped"/, `${how}: in-flight work finished and it said "stopped"`)
  return started.output()
}

t.test('the first npm start builds dist/; SIGTERM to npm stops the service', async (t) => {
  const output = await stopsCleanly(t, 'SIGTERM to npm', (npm) => npm.kill('SIGTERM'))
  t.match(output, /building dist\/ \(not built yet\)/)
})

t.test('the next npm start does not build again; SIGINT to npm stops the service', async (t) => {
  const builtAt = statSync(entry).mtimeMs
  const output = await stopsCleanly(t, 'SIGINT to npm', (npm) => npm.kill('SIGINT'))
  t.notMatch(output, /building dist/)
  t.equal(statSync(entry).mtimeMs, builtAt, 'dist/main.js untouched')
})

// A group signal reaches the service twice: from the kernel, and forwarded by npm. The service
// takes the forwarded copy for the same stop request, not a second signal, so it still stops gracefully.

t.test('SIGTERM to the process group (supervisord stopasgroup, kill -TERM -PGID) stops the service', async (t) => {
  await stopsCleanly(t, 'SIGTERM to the group', (npm) => process.kill(-npm.pid!, 'SIGTERM'))
})

t.test('Ctrl-C in a terminal (SIGINT to the process group) stops the service', async (t) => {
  await stopsCleanly(t, 'SIGINT to the group', (npm) => process.kill(-npm.pid!, 'SIGINT'))
})

/** startsBuilding runs the prestart step and tells what it printed: it stops a build as soon as one begins (tsc's result is not the point). */
async function startsBuilding(): Promise<string> {
  const prestart = spawn(process.execPath, ['scripts/build-if-stale.js'], { cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
  groups.add(prestart.pid!)
  let stderr = ''
  const exited = new Promise<void>((resolve) => prestart.once('exit', () => resolve()))
  prestart.stderr!.on('data', (d) => {
    stderr += d
    if (stderr.includes('building')) killGroup(prestart.pid!)
  })
  await exited
  return stderr
}

t.test('npm start builds again when src/ or a package file changes, and only then', async (t) => {
  const main = join(dir, 'src', 'main.ts')
  const original = readFileSync(main, 'utf8')
  writeFileSync(main, `${original}\n// changed by test/start.test.ts\n`)
  t.match(await startsBuilding(), /building dist\/ \(src\/ or package files changed since the last build\)/, 'a changed source file')
  writeFileSync(main, original)
  t.equal(await startsBuilding(), '', 'the same content again: nothing to build, whatever the file times say')
  appendFileSync(join(dir, 'package-lock.json'), '\n')
  t.match(await startsBuilding(), /building dist\//, 'a changed lockfile')
})
