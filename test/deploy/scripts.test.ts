/**
 * The scripts as a user runs them where Docker is not available: start-monitoring.sh --native
 * --demo brings up Redis, alertwire, Alertmanager, the demo exporter and Prometheus from Debian's
 * binaries and this checkout; check-metrics.sh finds every part healthy and connected;
 * stop-monitoring.sh --delete-data stops every process and deletes the state it kept.
 * Every port is a free one and the state lives in a temp dir, so nothing on the machine is touched.
 */
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { freePort } from '../helpers/net.js'
import { makeTempDir, removeTempDir } from '../helpers/processes.js'

const SCRIPTS = 'deploy/scripts'

function run(script: string, args: string[], env: Record<string, string>, timeoutMs = 90_000): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('bash', [join(SCRIPTS, script), ...args], { env, timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` })
    })
  })
}

/** alive: the process exists and is not a zombie waiting for init to reap it */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** isolated: free ports, a temp state dir, and a clean environment (no developer's deploy/.env, token or Redis leaks in) */
async function isolated() {
  const dir = makeTempDir('monitoring')
  const state = join(dir, 'state')
  const ports = {
    PROMETHEUS_PORT: await freePort(),
    ALERTMANAGER_PORT: await freePort(),
    ALERTWIRE_PORT: await freePort(),
    DEMO_EXPORTER_PORT: await freePort(),
    GRAFANA_PORT: await freePort(),
    REDIS_PORT: await freePort(), // nothing answers there: the script starts its own redis-server
  }
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(PATH|HOME|LANG|LC_ALL|TMPDIR|USER)$/.test(k))) as Record<string, string>
  const env = {
    ...inherited,
    MONITORING_STATE_DIR: state,
    MONITORING_ENV_FILE: '/dev/null',
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
  }
  return { dir, state, ports, env }
}

/** listening: something accepts connections on 127.0.0.1:port */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** fakeOpener puts an xdg-open on PATH that records the URLs it is given, one a line. */
async function fakeOpener(dir: string, env: Record<string, string>) {
  const bin = join(dir, 'bin')
  const opened = join(dir, 'opened.txt')
  await mkdir(bin, { recursive: true })
  await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$1" >>'${opened}'\n`, { mode: 0o755 })
  return { env: { ...env, PATH: `${bin}:${env.PATH}` }, opened: () => (existsSync(opened) ? readFileSync(opened, 'utf8').split('\n').filter(Boolean) : []) }
}

/** links: the http URLs a script printed. */
const links = (output: string) => [...new Set(output.match(/http:\/\/[^\s)]+/g) ?? [])]

t.test('start, check and stop the stack without Docker', async (t) => {
  const { dir, state, ports, env: plain } = await isolated()
  // a desktop: DISPLAY is set and xdg-open is there
  const { env: desktopEnv, opened } = await fakeOpener(dir, plain)
  const env = { ...desktopEnv, DISPLAY: ':0' }
  const pids = () =>
    existsSync(join(state, 'pids')) ? readdirSync(join(state, 'pids')).map((f) => Number(readFileSync(join(state, 'pids', f), 'utf8').split(' ')[0])) : []
  let started: number[] = []
  t.teardown(async () => {
    // whatever happened above: stop what runs, then make sure of it
    await run('stop-monitoring.sh', ['--delete-data', '--yes'], env)
    for (const pid of [...started, ...pids()]) if (alive(pid)) process.kill(pid, 'SIGKILL')
    await removeTempDir(dir)
  })

  const start = await run('start-monitoring.sh', ['--native', '--demo', '--open'], env)
  t.equal(start.code, 0, 'start-monitoring.sh succeeds', { output: start.output })
  t.match(start.output, 'The monitoring stack is up (native)')
  // Debian's Prometheus serves only its classic UI: /alerts is a 404 there, /classic/alerts is not
  const prometheus = `http://127.0.0.1:${ports.PROMETHEUS_PORT}`
  for (const page of ['alerts', 'targets', 'rules']) t.match(start.output, `${prometheus}/classic/${page}`, `the ${page} link is the classic UI's`)
  for (const url of links(start.output).filter((u) => !u.includes('/scenario/'))) {
    t.equal((await fetch(url)).status, 200, `${url} answers`)
  }
  const deadline = Date.now() + 5000
  while (opened().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  // the pages open side by side (each opener in the background): in any order
  t.same(
    [...opened()].sort(),
    [`${prometheus}/classic/alerts`, `http://127.0.0.1:${ports.ALERTMANAGER_PORT}`].sort(),
    '--open opened the alerts pages (Grafana is not installed)',
  )
  t.match(start.output, `Prometheus    http://127.0.0.1:${ports.PROMETHEUS_PORT}`)
  t.match(start.output, `Alertmanager  http://127.0.0.1:${ports.ALERTMANAGER_PORT}`)
  t.match(start.output, `curl -X POST http://127.0.0.1:${ports.DEMO_EXPORTER_PORT}/scenario/QueueBackup`)
  t.match(start.output, /Prometheus +scraping alertmanager alertwire doradura prometheus/, 'it waited for the first scrape of every job')
  started = pids()
  t.equal(started.length, 5, 'redis-server, alertwire, Alertmanager, the demo exporter and Prometheus')
  t.ok(started.every(alive))

  const again = await run('start-monitoring.sh', ['--native'], env)
  t.not(again.code, 0, 'a second start is refused')
  t.match(again.output, 'already running')

  const check = await run('check-metrics.sh', [], env)
  t.equal(check.code, 0, 'check-metrics.sh passes', { output: check.output })
  t.match(check.output, 'All checks passed.')
  for (const job of ['doradura', 'alertwire', 'alertmanager', 'prometheus']) t.match(check.output, `✓ Prometheus scrapes ${job} at 127.0.0.1:`)
  t.match(check.output, 'Prometheus sends alerts to 1 Alertmanager(s)')
  t.match(check.output, 'DRY RUN', 'no bot token: it says messages go to the log')
  t.match(check.output, /doradura daily active users +120/, "a sample of the demo bot's metrics")

  const stop = await run('stop-monitoring.sh', ['--delete-data', '--yes'], env)
  t.equal(stop.code, 0, 'stop-monitoring.sh succeeds', { output: stop.output })
  t.same(started.filter(alive), [], 'every process is gone')
  t.notOk(existsSync(state), 'and the state dir with it')
  const after = await run('check-metrics.sh', [], env)
  t.not(after.code, 0, 'check-metrics.sh now fails')
  t.match(after.output, `Prometheus does not answer http://127.0.0.1:${ports.PROMETHEUS_PORT}/-/ready`)
})

t.test('a start that fails half-way stops what it had started', async (t) => {
  const { dir, state, ports, env } = await isolated()
  t.teardown(() => removeTempDir(dir))
  // Prometheus, started last, refuses this flag value and exits
  const start = await run('start-monitoring.sh', ['--native'], { ...env, PROMETHEUS_RETENTION: 'not-a-duration' })
  t.not(start.code, 0)
  t.match(start.output, 'Prometheus exited during startup')
  t.match(start.output, 'stopping what it had started')
  for (const [name, port] of Object.entries(ports)) t.notOk(await listening(port), `nothing listens on ${name}`)
  const stop = await run('stop-monitoring.sh', ['--delete-data', '--yes'], env)
  t.equal(stop.code, 0)
  t.notOk(existsSync(state), 'the state dir is deleted')
})

t.test('--open does nothing, quietly, without a desktop', async (t) => {
  const { dir, env: plain } = await isolated()
  t.teardown(() => removeTempDir(dir))
  const { env, opened } = await fakeOpener(dir, plain)
  // xdg-open is installed but there is no display (a server, an SSH session)
  const result = spawnSync('bash', ['-c', `. ${SCRIPTS}/lib.sh && open_urls http://127.0.0.1:1/alerts && echo done`], { env, encoding: 'utf8' })
  t.equal(result.status, 0)
  t.equal(`${result.stdout}${result.stderr}`, 'done\n', 'nothing printed')
  await new Promise((r) => setTimeout(r, 300))
  t.same(opened(), [], 'nothing opened')
})
