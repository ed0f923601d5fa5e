/**
 * Reaching Telegram (and Alertmanager) through a proxy, where Telegram is blocked; which proxy is
 * settled by the config (src/config/proxy.ts). The transport is undici's fetch with a dispatcher:
 * ProxyAgent for http:// and https:// proxies, always as a CONNECT tunnel so the proxy never sees a
 * request path (the bot token is in it), and for socks5:// an undici Agent whose connections the
 * `socks` client opens (undici's own SOCKS5 agent is still experimental). Credentials stay in the
 * URL given to the dispatcher; errors name the proxy without them.
 */
import { isIP } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { Dispatcher } from 'undici'
import { bareHost, describeProxy, type ProxyChoice } from '../config/proxy.js'

/** Libraries: undici and socks, loaded only once a proxy is used: they cost ~8 MB of resident memory every other deployment need not pay. */
type Libraries = { undici: typeof import('undici'); socks: typeof import('socks') }
let libraries: Promise<Libraries> | undefined
const load = (): Promise<Libraries> => (libraries ??= Promise.all([import('undici'), import('socks')]).then(([undici, socks]) => ({ undici, socks })))

/** socksDispatcher: an undici Agent whose connections are opened by a SOCKS5 proxy (TLS on top for https URLs). */
function socksDispatcher({ undici: { Agent }, socks: { SocksClient } }: Libraries, proxy: URL, timeoutMs: number): Dispatcher {
  const userId = proxy.username ? decodeURIComponent(proxy.username) : undefined
  const password = proxy.password ? decodeURIComponent(proxy.password) : undefined
  return new Agent({
    connect: (options, callback) => {
      SocksClient.createConnection({
        proxy: { host: bareHost(proxy.hostname), port: Number(proxy.port || 1080), type: 5, ...(userId ? { userId, password: password ?? '' } : {}) },
        command: 'connect',
        // the proxy resolves the name (socks5h behaviour): DNS may be blocked or poisoned too
        destination: { host: bareHost(options.hostname), port: Number(options.port || (options.protocol === 'https:' ? 443 : 80)) },
        timeout: timeoutMs,
      }).then(
        ({ socket }) => {
          if (options.protocol !== 'https:') return callback(null, socket)
          const servername = options.servername || (isIP(bareHost(options.hostname)) ? undefined : bareHost(options.hostname))
          const secure = tlsConnect({ socket, ...(servername ? { servername } : {}), ALPNProtocols: ['http/1.1'] })
          secure.once('secureConnect', () => callback(null, secure)).once('error', (error) => callback(error, null))
        },
        (error: Error) => callback(new Error(`SOCKS5 proxy ${describeProxy(proxy.href)}: ${error.message}`), null),
      )
    },
  })
}

/** ProxiedTransport: a fetch that goes through the chosen proxy, and how to let its connections go. */
export interface ProxiedTransport {
  fetch: typeof fetch
  close(): Promise<void>
}

/** proxiedTransport gives the fetch for a proxy choice: the global fetch when there is none. */
export function proxiedTransport(choice: ProxyChoice | undefined, options: { connectTimeoutMs: number }): ProxiedTransport {
  if (!choice) return { fetch: globalThis.fetch, close: async () => {} }
  const proxy = new URL(choice.url)
  const ready = load().then((libs) => {
    const dispatcher: Dispatcher = proxy.protocol.startsWith('socks')
      ? socksDispatcher(libs, proxy, options.connectTimeoutMs)
      : // a tunnel even for http:// targets: a forwarding proxy would see (and may log) the token in the path
        new libs.undici.ProxyAgent({ uri: proxy.href, proxyTunnel: true })
    return { dispatcher, undiciFetch: libs.undici.fetch }
  })
  // a failure to load shows on the first call through the proxy, not as an unhandled rejection
  ready.catch(() => undefined)
  const proxied = (async (input: string | URL, init?: RequestInit) => {
    const { dispatcher, undiciFetch } = await ready
    return undiciFetch(input as string, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1])
  }) as unknown as typeof fetch
  return { fetch: proxied, close: async () => (await ready.catch(() => undefined))?.dispatcher.close() }
}
