// Real Redis for tests, without depending on one particular Redis: $REDIS_URL (CI), the
// developer's local Redis on 6379, or a private redis-server started for this test process.
// Tests that must stop, kill or restart Redis get their own with startPrivateRedis.
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { makeTempDir, removeTempDir, spawnTracked, startOnFreePort, waitUntilReady, type ManagedProcess } from './processes.js'

const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379'

/** testRedisUrl returns a Redis URL for tests: $REDIS_URL, else a Redis on 127.0.0.1:6379, else one private redis-server shared by this test process. */
export function testRedisUrl(): Promise<string> {
  return pickRedisUrl(process.env.REDIS_URL, LOCAL_REDIS_URL)
}

const picked = new Map<string, Promise<string>>()

/** pickRedisUrl is testRedisUrl with the env value and the probed address as parameters, so each branch can be tested. */
export function pickRedisUrl(envUrl: string | undefined, localUrl: string): Promise<string> {
  if (envUrl) return Promise.resolve(envUrl)
  let url = picked.get(localUrl)
  if (!url) {
    url = redisPing(localUrl).then((ok) => (ok ? localUrl : sharedPrivateRedisUrl()))
    // A failed start is not cached: the next test may try again.
    url.catch(() => picked.delete(localUrl))
    picked.set(localUrl, url)
  }
  return url
}

let sharedPrivate: Promise<string> | undefined

// One redis-server for the whole test process. It is unref'd so it does not keep the process
// alive, and the process tracker kills it (and removes its dir) when the process exits.
function sharedPrivateRedisUrl(): Promise<string> {
  sharedPrivate ??= launchRedis({ unref: true }).then((r) => r.url)
  sharedPrivate.catch(() => (sharedPrivate = undefined))
  return sharedPrivate
}

/** redisPing sends a raw PING to the Redis at `url` and tells whether it answered +PONG (no auth, short timeout). */
export function redisPing(url: string, timeoutMs = 500): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) })
    let answer = ''
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1')
      // -LOADING / -NOAUTH mean "not usable as is", just as silence does.
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'))
    })
  })
}

/** uniquePrefix returns a key prefix like `awtest:<name>:<random>:` that no other test shares. */
export function uniquePrefix(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]+/g, '-')
  return `awtest:${safe}:${randomBytes(5).toString('hex')}:`
}

/** cleanupPrefix deletes every key under `prefix` (SCAN MATCH + UNLINK); returns how many were deleted. */
export async function cleanupPrefix(url: string, prefix: string): Promise<number> {
  // An empty prefix would wipe a Redis other people's tests are using.
  if (!prefix) throw new Error('cleanupPrefix: refusing an empty prefix')
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: 2000,
  })
  try {
    await client.connect()
    const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`
    let cursor = '0'
    let deleted = 0
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000)
      if (keys.length > 0) deleted += await client.unlink(...keys)
      cursor = next
    } while (cursor !== '0')
    return deleted
  } finally {
    client.disconnect()
  }
}

export interface PrivateRedisOptions {
  /** Turn on the append-only file, so data survives stop() + restart() (and kill()). */
  appendonly?: boolean
  /** Data dir to use (and keep); a temp dir that close() removes when omitted. */
  dir?: string
  /** More redis-server arguments, e.g. ['--replicaof', '127.0.0.1', '6380'] or ['--cluster-enabled', 'yes']. */
  args?: readonly string[]
}

/** A redis-server owned by one test. stop()/kill() keep the data dir so restart() can bring it back. */
export interface PrivateRedis {
  readonly url: string
  readonly port: number
  readonly dir: string
  /** True while the server process is alive. */
  running(): boolean
  /** Shuts the server down (SIGTERM) and waits; restart() brings it back on the same port. */
  stop(): Promise<void>
  /** Sends a signal (SIGKILL by default: a crash); SIGSTOP/SIGCONT freeze and thaw it. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Stops the server if it runs, then starts it again on the same port and dir. */
  restart(): Promise<void>
  /** Stops for good and removes the temp dir (not a dir passed in options); for t.teardown. */
  close(): Promise<void>
  /** The server's captured log output. */
  logs(): string
}

/** startPrivateRedis starts a dedicated redis-server on a free port, for tests that stop or restart Redis. */
export function startPrivateRedis(opts: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  return launchRedis(opts)
}

async function launchRedis(opts: PrivateRedisOptions & { unref?: boolean }): Promise<PrivateRedis> {
  const ownDir = opts.dir === undefined
  const dir = opts.dir ?? makeTempDir('redis')
  const spawnOn = async (port: number): Promise<ManagedProcess> => {
    const proc = spawnTracked(`redis-server:${port}`, 'redis-server', redisArgs(port, dir, opts), {
      unref: opts.unref,
    })
    const url = `redis://127.0.0.1:${port}`
    await waitUntilReady(proc, (signal) => waitForPong(url, 10_000, signal))
    return proc
  }
  try {
    const started = await startOnFreePort(async (p) => ({ port: p, proc: await spawnOn(p) }))
    const port = started.port
    let current = started.proc
    const handle: PrivateRedis = {
      url: `redis://127.0.0.1:${port}`,
      port,
      dir,
      running: () => current.running(),
      stop: () => current.stop(),
      kill: (signal) => current.kill(signal),
      async restart() {
        await current.stop()
        current = await spawnOn(port)
      },
      async close() {
        await current.stop()
        if (ownDir) await removeTempDir(dir)
      },
      logs: () => current.output(),
    }
    return handle
  } catch (err) {
    if (ownDir) await removeTempDir(dir)
    throw err
  }
}

function redisArgs(port: number, dir: string, opts: PrivateRedisOptions): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '', // no RDB snapshots: nothing lands on disk unless appendonly is asked for
    '--appendonly',
    opts.appendonly ? 'yes' : 'no',
    '--daemonize',
    'no',
    '--logfile',
    '', // log to stdout, which the process tracker captures
    '--loglevel',
    'warning',
    ...(opts.args ?? []),
  ]
}

async function waitForPong(url: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await redisPing(url, 300))) {
    signal.throwIfAborted()
    if (Date.now() > deadline) throw new Error(`redis at ${url} did not answer PING in ${timeoutMs} ms`)
    await sleep(50)
  }
}
