/**
 * Redis on the embedded defaults: REDIS_URL if set; else a Redis answering on 127.0.0.1:6379;
 * else a private redis-server child with append-only persistence in <data_dir>/redis, stopped on
 * exit. A child left behind by a killed alertwire is adopted, never doubled on the same files.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { resolve } from 'node:path'
import type { Logger } from 'pino'

/** RedisStartupError: no Redis can be had; the message is one line telling the operator what to do. */
export class RedisStartupError extends Error {}

/** ResolvedRedis: where Redis is, and how to stop it if alertwire started it. */
export interface ResolvedRedis {
  url: string
  source: 'configured' | 'local' | 'embedded'
  stop?: () => Promise<void>
}

/** tcpPing sends PING and answers whether +PONG came back within timeoutMs. */
export function tcpPing(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port })
    const finish = (ok: boolean) => {
      socket.destroy()
      done(ok)
    }
    socket.setTimeout(timeoutMs, () => finish(false))
    socket.on('error', () => finish(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (data) => finish(data.toString().startsWith('+PONG')))
  })
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => done(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return false
}

function stopper(pid: number): () => Promise<void> {
  return async () => {
    if (!alive(pid)) return
    process.kill(pid, 'SIGTERM') // redis-server flushes its append-only file on SIGTERM
    if (!(await waitFor(async () => !alive(pid), 5000))) process.kill(pid, 'SIGKILL')
  }
}

/** ResolveOptions: where to look and how to start one; localPort is 6379 except in tests. */
export interface ResolveOptions {
  url?: string
  dataDir: string
  command: string
  log: Logger
  localPort?: number
}

/** resolveRedis finds or starts Redis as described in the file comment. */
export async function resolveRedis(options: ResolveOptions): Promise<ResolvedRedis> {
  if (options.url) return { url: options.url, source: 'configured' }
  const localPort = options.localPort ?? 6379
  if (await tcpPing('127.0.0.1', localPort)) return { url: `redis://127.0.0.1:${localPort}`, source: 'local' }
  const dir = resolve(options.dataDir, 'redis')
  const stateFile = resolve(dir, 'embedded.json')
  if (existsSync(stateFile)) {
    const previous = JSON.parse(readFileSync(stateFile, 'utf8')) as { pid: number; port: number }
    if (alive(previous.pid) && (await tcpPing('127.0.0.1', previous.port))) {
      options.log.info({ pid: previous.pid, port: previous.port }, 'adopting the embedded redis-server a previous run left running')
      return { url: `redis://127.0.0.1:${previous.port}`, source: 'embedded', stop: stopper(previous.pid) }
    }
  }
  if (spawnSync(options.command, ['--version']).error) {
    throw new RedisStartupError(
      `no Redis: nothing answers on 127.0.0.1:${localPort} and "${options.command}" is not installed; install it (apt-get install redis-server) or set REDIS_URL`,
    )
  }
  mkdirSync(dir, { recursive: true })
  const port = await freePort()
  const child = spawn(
    options.command,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const started = await waitFor(async () => child.exitCode === null && (await tcpPing('127.0.0.1', port)), 10_000)
  if (!started || !child.pid) {
    child.kill('SIGKILL')
    throw new RedisStartupError(`the embedded redis-server did not start: ${stderr.trim().split('\n').at(-1) ?? 'no output'}`)
  }
  writeFileSync(stateFile, JSON.stringify({ pid: child.pid, port }))
  options.log.info({ port, dir }, 'started an embedded redis-server (append-only persistence); set REDIS_URL to use your own')
  return { url: `redis://127.0.0.1:${port}`, source: 'embedded', stop: stopper(child.pid) }
}
