// Ports and HTTP polling for tests that start real servers.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * freePort finds a port that is free on 127.0.0.1 right now, below the kernel's ephemeral range.
 * The kernel gives ports of that range to outgoing connections (to Redis, fetches) too, and one
 * of them can take a port between this check and the server's listen; below it, only a bind can.
 */
export async function freePort(): Promise<number> {
  const ephemeralLow = ephemeralRangeStart()
  const low = 15_000
  if (ephemeralLow !== undefined && ephemeralLow - low >= 1000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = low + Math.floor(Math.random() * (ephemeralLow - low))
      if ((await listenOnce(port)) === port) return port
    }
  }
  const port = await listenOnce(0)
  if (!port) throw new Error('freePort: no port assigned')
  return port
}

function ephemeralRangeStart(): number | undefined {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) ? low : undefined
  } catch {
    return undefined // not Linux: the kernel's choice it is
  }
}

/** listenOnce listens on `port` (0: any) and closes again; resolves the port it got, or 0 if it was taken. */
function listenOnce(port: number): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(0))
    server.listen(port, '127.0.0.1', () => {
      const address = server.address()
      const got = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(got))
    })
  })
}

export interface WaitForHttpOptions {
  timeoutMs: number
  /** Status to wait for; any 2xx when omitted. */
  expectStatus?: number
  intervalMs?: number
  /** Stops waiting early, e.g. when the server process has died. */
  signal?: AbortSignal
}

/** waitForHttp polls `url` with GET until it answers the expected status, or throws after timeoutMs. */
export async function waitForHttp(url: string, opts: WaitForHttpOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs
  const matches = (status: number): boolean => (opts.expectStatus === undefined ? status >= 200 && status < 300 : status === opts.expectStatus)
  let last = 'no answer yet'
  for (;;) {
    opts.signal?.throwIfAborted()
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer() // drain, so the connection is released
      if (matches(res.status)) return
      last = `status ${res.status}`
    } catch (err) {
      last = (err as Error).cause ? String((err as Error).cause) : String(err)
    }
    if (Date.now() >= deadline) {
      throw new Error(`waitForHttp: ${url} not ready after ${opts.timeoutMs} ms (last: ${last})`)
    }
    await sleep(opts.intervalMs ?? 100)
  }
}

/** requestJson sends a JSON request and returns the parsed JSON answer; throws on a non-2xx status. */
export async function requestJson<T = unknown>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${url} → ${res.status}: ${text.trim()}`)
  return (text ? JSON.parse(text) : undefined) as T
}
