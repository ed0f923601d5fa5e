/**
 * Runs alertwire as operators do, as its own process (src/main.ts through tsx), with a config file
 * of the test's, so tests can signal it, kill it and start it again.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { freePort, waitForHttp } from './net.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from './redis.js'

/** SERVICE_TOKEN: the webhook token services started here require. */
export const SERVICE_TOKEN = 'service-test-token'
const ENTRY = ['--import', 'tsx', 'src/main.ts']

/** cleanEnv: the test process's environment without alertwire's variables. */
export const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TELEGRAM_|ALERTWIRE_|REDIS_|PORT|HOST)/.test(k)))

/** tempConfig writes a config file into a temp dir removed at teardown. */
export function tempConfig(t: Test, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'aw-svc-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'alertwire.yaml')
  writeFileSync(file, text)
  return file
}

/** Service: a running alertwire process. */
export interface Service {
  url: string
  port: number
  child: ChildProcess
  exited: Promise<number | null>
  output(): string
  config: string
}

/** ServiceOptions: environment, extra YAML, and (to restart one) the prefix, port and Redis of an earlier run. */
export interface ServiceOptions {
  env?: Record<string, string>
  yaml?: string
  prefix?: string
  port?: number
  redisUrl?: string
}

/** startService starts alertwire and waits until /healthz answers; teardown kills it and removes its keys. */
export async function startService(t: Test, options: ServiceOptions = {}): Promise<Service & { prefix: string; redisUrl: string }> {
  const redisUrl = options.redisUrl ?? (await testRedisUrl())
  const prefix = options.prefix ?? uniquePrefix('svc')
  if (!options.prefix) t.teardown(() => cleanupPrefix(redisUrl, prefix))
  const port = options.port ?? (await freePort())
  const config = tempConfig(t, `redis: {prefix: "${prefix}"}\ndata_dir: ${join(tmpdir(), `aw-data-${port}`)}\n${options.yaml ?? ''}`)
  const child = spawn(process.execPath, [...ENTRY, '--config', config], {
    env: { ...cleanEnv, REDIS_URL: redisUrl, PORT: String(port), HOST: '127.0.0.1', ALERTWIRE_WEBHOOK_TOKEN: SERVICE_TOKEN, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 30_000 })
  return { url: `http://127.0.0.1:${port}`, port, child, exited, output: () => output, prefix, redisUrl, config }
}

/** postTo posts a notification to a service with its token; a network failure is status 0. */
export async function postTo(url: string, body: unknown, timeoutMs = 5000): Promise<number> {
  try {
    const response = await fetch(`${url}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_TOKEN}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    })
    await response.arrayBuffer()
    return response.status
  } catch {
    return 0
  }
}
