/**
 * Which proxy a request takes, decided from the config and the environment (pure, so parseConfig
 * can settle it once and check-config can show it): a configured proxy_url first, else the standard
 * variables (HTTPS_PROXY for https URLs, HTTP_PROXY for http, ALL_PROXY for both) minus NO_PROXY.
 * Loopback never goes through a proxy from the environment (as Go's net/http does), so local fakes
 * and sidecars keep working on machines that export a proxy. Descriptions drop credentials.
 */
import { BlockList, isIP } from 'node:net'

/** ProxyEnv: the standard proxy variables (lower case wins, as curl reads them). */
export interface ProxyEnv {
  httpsProxy?: string
  httpProxy?: string
  allProxy?: string
  noProxy?: string
}

/** ProxyChoice: the proxy a target is reached through, and what chose it (for the start-up log). */
export interface ProxyChoice {
  url: string
  from: string
}

/** PROXY_PROTOCOLS: the proxy URL schemes alertwire speaks. */
export const PROXY_PROTOCOLS = ['http:', 'https:', 'socks5:', 'socks5h:', 'socks:'] as const

/** proxyEnvFrom reads the standard variables from an environment. */
export function proxyEnvFrom(env: Record<string, string | undefined>): ProxyEnv {
  const pick = (name: string) => env[name.toLowerCase()] || env[name.toUpperCase()] || undefined
  const out: ProxyEnv = {}
  const httpsProxy = pick('https_proxy')
  const httpProxy = pick('http_proxy')
  const allProxy = pick('all_proxy')
  const noProxy = pick('no_proxy')
  if (httpsProxy) out.httpsProxy = httpsProxy
  if (httpProxy) out.httpProxy = httpProxy
  if (allProxy) out.allProxy = allProxy
  if (noProxy) out.noProxy = noProxy
  return out
}

/** proxyFor decides which proxy a request to target goes through, if any (see the file comment). */
export function proxyFor(target: string, configured: { url?: string; key: string }, env: ProxyEnv): ProxyChoice | undefined {
  if (configured.url) return { url: configured.url, from: configured.key }
  const url = new URL(target)
  const [fromEnv, from] =
    url.protocol === 'https:' && env.httpsProxy
      ? [env.httpsProxy, 'HTTPS_PROXY']
      : url.protocol === 'http:' && env.httpProxy
        ? [env.httpProxy, 'HTTP_PROXY']
        : [env.allProxy, 'ALL_PROXY']
  if (!fromEnv || isLoopback(url.hostname) || noProxyMatches(url, env.noProxy ?? '')) return undefined
  // curl and others take a bare host:port as an http:// proxy
  return { url: /^[a-z][a-z0-9+.-]*:\/\//i.test(fromEnv) ? fromEnv : `http://${fromEnv}`, from }
}

/** bareHost: a URL's host name as compared: without IPv6 brackets, lower case. */
export function bareHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '').toLowerCase()
}

function isLoopback(hostname: string): boolean {
  const host = bareHost(hostname)
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\./.test(host)
}

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80')
}

/** noProxyMatches: NO_PROXY as curl reads it: "*", hosts and their subdomains (a leading "." or "*." is the same), optional :port, IPs and CIDR ranges. */
export function noProxyMatches(target: URL, noProxy: string): boolean {
  const host = bareHost(target.hostname)
  for (const raw of noProxy.split(/[\s,]+/).filter(Boolean)) {
    if (raw === '*') return true
    const entry = raw.toLowerCase()
    const portMatch = /^(.*?)(?::([0-9]+))?$/.exec(entry.startsWith('[') ? entry.replace(/^\[(.*)\](:[0-9]+)?$/, '$1$2') : entry)
    const [pattern, port] = isIP(entry) === 6 ? [entry, undefined] : [portMatch?.[1] ?? entry, portMatch?.[2]]
    if (port && port !== defaultPort(target)) continue
    if (ipMatches(host, pattern)) return true
    const domain = pattern.replace(/^\*?\./, '')
    if (domain && (host === domain || host.endsWith(`.${domain}`))) return true
  }
  return false
}

function ipMatches(host: string, pattern: string): boolean {
  const family = isIP(host)
  if (!family) return false
  const [address, bits] = pattern.split('/')
  const patternFamily = isIP(address ?? '')
  if (patternFamily !== family) return false
  const type = family === 4 ? 'ipv4' : 'ipv6'
  const list = new BlockList()
  if (bits === undefined) list.addAddress(address!, type)
  else list.addSubnet(address!, Number(bits), type)
  return list.check(host, type)
}

/** describeProxy is a proxy URL without its credentials, for logs and errors. */
export function describeProxy(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}`
  } catch {
    return '(not a URL)'
  }
}

/** checkProxyUrl says what is wrong with a proxy URL (without repeating its credentials), or nothing. */
export function checkProxyUrl(url: string): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'expected a proxy URL like http://proxy:3128, https://proxy:3129 or socks5://user:password@proxy:1080'
  }
  if (!(PROXY_PROTOCOLS as readonly string[]).includes(parsed.protocol)) {
    return `expected an http://, https:// or socks5:// proxy URL, got ${describeProxy(url)}`
  }
  if (!parsed.hostname) return 'expected a proxy URL with a host'
  return undefined
}

/** ProxySettings: the proxy each outgoing client takes, settled once from the config and the environment. */
export interface ProxySettings {
  telegram?: ProxyChoice
  alertmanager?: ProxyChoice
}

interface ProxiedClient {
  target: string
  proxy_url?: string | undefined
  proxy_url_file?: string | undefined
}

/** settleProxies picks each client's proxy (proxy_url, its _file already read, then the environment); a proxy it would use but cannot is an error naming where it came from. */
export function settleProxies(
  clients: { telegram: ProxiedClient; alertmanager: ProxiedClient },
  environment: Record<string, string | undefined>,
  errors: string[],
): ProxySettings {
  const env = proxyEnvFrom(environment)
  const settled: ProxySettings = {}
  for (const client of ['telegram', 'alertmanager'] as const) {
    const { target, proxy_url: url, proxy_url_file: file } = clients[client]
    const key = `${client}.proxy_url${file ? '_file' : ''}`
    const choice = proxyFor(target, { ...(url ? { url } : {}), key }, env)
    const problem = choice && checkProxyUrl(choice.url)
    // a variable only other programs use may hold what alertwire cannot: only the one it would use counts
    if (problem) errors.push(`${choice.from === key ? key : `${choice.from} (environment, for ${client})`}: ${problem}`)
    else if (choice) settled[client] = choice
  }
  return settled
}
