// Ports and HTTP polling for tests that start real servers.
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** freePort asks the kernel for a port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  // Another process can take the port before we use it; starters retry on "address in use".
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => (port ? resolve(port) : reject(new Error('freePort: no port assigned'))))
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
