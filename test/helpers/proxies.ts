/**
 * Real proxies on loopback for the proxy tests: an HTTP proxy (the npm `proxy` server, CONNECT
 * and forwarding) and a SOCKS5 server (@mongodb-js/socksv5), each writing one log line per request
 * that passed through it, as such a proxy's access log would, and optionally asking for a user
 * and password. Both close with the test.
 */
import { createRequire } from 'node:module'
import http from 'node:http'
import type { AddressInfo, Server, Socket } from 'node:net'
import { createProxy } from 'proxy'
import type { Test } from 'tap'

/** RecordingProxy: where it listens and what went through it. */
export interface RecordingProxy {
  /** the proxy URL, with the credentials when it asks for them */
  url: string
  /** one line per request: "CONNECT 127.0.0.1:1234 user=alice", "GET http://…", "SOCKS5 127.0.0.1:1234" */
  log: string[]
}

interface Credentials {
  username: string
  password: string
}

function trackSockets(server: Server, t: Test) {
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
}

/** startHttpProxy starts an HTTP proxy that records each CONNECT and each forwarded request. */
export async function startHttpProxy(t: Test, credentials?: Credentials): Promise<RecordingProxy> {
  const log: string[] = []
  const server = createProxy(http.createServer())
  const userOf = (req: http.IncomingMessage) => {
    const header = req.headers['proxy-authorization'] ?? ''
    const [user, ...rest] = Buffer.from(header.replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':')
    return { user: user ?? '', password: rest.join(':') }
  }
  server.on('connect', (req: http.IncomingMessage) => log.push(`CONNECT ${req.url} user=${userOf(req).user || '-'}`))
  server.on('request', (req: http.IncomingMessage) => log.push(`${req.method} ${req.url} user=${userOf(req).user || '-'}`))
  if (credentials) {
    server.authenticate = (req) => {
      const given = userOf(req)
      return given.user === credentials.username && given.password === credentials.password
    }
  }
  trackSockets(server, t)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const auth = credentials ? `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@` : ''
  return { url: `http://${auth}127.0.0.1:${port}`, log }
}

interface SocksInfo {
  dstAddr: string
  dstPort: number
}

interface SocksServer {
  _srv: Server
  useAuth(auth: unknown): void
  listen(port: number, host: string, done: () => void): void
  address(): AddressInfo
}

interface SocksModule {
  createServer(listener: (info: SocksInfo, accept: () => void, deny: () => void) => void): SocksServer
  auth: { None(): unknown; UserPassword(check: (user: string, password: string, done: (ok: boolean) => void) => void): unknown }
}

/** startSocksProxy starts a SOCKS5 server that records each connection it opens. */
export async function startSocksProxy(t: Test, credentials?: Credentials): Promise<RecordingProxy> {
  const socks = createRequire(import.meta.url)('@mongodb-js/socksv5') as SocksModule
  const log: string[] = []
  let lastUser = '-'
  const server = socks.createServer((info, accept) => {
    log.push(`SOCKS5 ${info.dstAddr}:${info.dstPort} user=${lastUser}`)
    accept()
  })
  server.useAuth(
    credentials
      ? socks.auth.UserPassword((user, password, done) => {
          lastUser = user
          done(user === credentials.username && password === credentials.password)
        })
      : socks.auth.None(),
  )
  trackSockets(server._srv, t)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  const auth = credentials ? `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@` : ''
  return { url: `socks5://${auth}127.0.0.1:${port}`, log }
}
