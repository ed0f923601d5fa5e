/**
 * Which proxy each client takes: telegram.proxy_url / alertmanager.proxy_url (or their _file), then
 * HTTPS_PROXY / HTTP_PROXY / ALL_PROXY minus NO_PROXY and loopback; and check-config's words when
 * a proxy URL is unusable, which never repeat its credentials.
 */
import t from 'tap'
import { parseConfig } from '../../src/config/parse.js'
import { checkProxyUrl, describeProxy, noProxyMatches, proxyEnvFrom, proxyFor } from '../../src/config/proxy.js'

const TELEGRAM = 'https://api.telegram.org'
const none = { key: 'telegram.proxy_url' }

t.test('which proxy: the configured one first, then HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, never for NO_PROXY or loopback', async (t) => {
  const cases: [string, string, { url?: string; key: string }, Record<string, string>, { url: string; from: string } | undefined][] = [
    ['nothing set: direct', TELEGRAM, none, {}, undefined],
    [
      'configured wins over the environment',
      TELEGRAM,
      { url: 'socks5://p:1080', key: 'telegram.proxy_url' },
      { HTTPS_PROXY: 'http://e:3128' },
      { url: 'socks5://p:1080', from: 'telegram.proxy_url' },
    ],
    ['HTTPS_PROXY for an https URL', TELEGRAM, none, { HTTPS_PROXY: 'http://e:3128' }, { url: 'http://e:3128', from: 'HTTPS_PROXY' }],
    ['lower case wins', TELEGRAM, none, { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' }, { url: 'http://lower:2', from: 'HTTPS_PROXY' }],
    ['HTTP_PROXY is not for https', TELEGRAM, none, { HTTP_PROXY: 'http://e:3128' }, undefined],
    ['HTTP_PROXY for an http URL', 'http://am:9093', none, { HTTP_PROXY: 'http://e:3128' }, { url: 'http://e:3128', from: 'HTTP_PROXY' }],
    ['ALL_PROXY for anything else', TELEGRAM, none, { ALL_PROXY: 'socks5://s:1080' }, { url: 'socks5://s:1080', from: 'ALL_PROXY' }],
    ['a bare host:port is an http proxy', TELEGRAM, none, { HTTPS_PROXY: 'e:3128' }, { url: 'http://e:3128', from: 'HTTPS_PROXY' }],
    ['NO_PROXY names the host', TELEGRAM, none, { HTTPS_PROXY: 'http://e:3128', NO_PROXY: 'localhost,api.telegram.org' }, undefined],
    ['NO_PROXY covers subdomains', TELEGRAM, none, { HTTPS_PROXY: 'http://e:3128', NO_PROXY: '.telegram.org' }, undefined],
    ['NO_PROXY *', TELEGRAM, none, { ALL_PROXY: 'socks5://s:1080', no_proxy: '*' }, undefined],
    ['loopback is never proxied from the environment', 'http://127.0.0.1:8081', none, { HTTP_PROXY: 'http://e:3128' }, undefined],
    ['localhost neither', 'http://localhost:9093', none, { ALL_PROXY: 'socks5://s:1080' }, undefined],
    ['but a configured proxy is used even for loopback', 'http://127.0.0.1:8081', { url: 'http://p:1', key: 'k' }, {}, { url: 'http://p:1', from: 'k' }],
  ]
  for (const [name, target, configured, env, expected] of cases) t.same(proxyFor(target, configured, proxyEnvFrom(env)), expected, name)
})

t.test('NO_PROXY entries as curl reads them: hosts, suffixes, ports, IPs and CIDR ranges', async (t) => {
  const cases: [string, string, boolean][] = [
    ['https://api.telegram.org', 'telegram.org', true],
    ['https://api.telegram.org', '*.telegram.org', true],
    ['https://nottelegram.org', 'telegram.org', false],
    ['https://api.telegram.org', 'api.telegram.org:443', true],
    ['https://api.telegram.org', 'api.telegram.org:8443', false],
    ['http://10.1.2.3:9093', '10.0.0.0/8', true],
    ['http://10.1.2.3:9093', '192.168.0.0/16 , 10.1.2.3', true],
    ['http://11.1.2.3:9093', '10.0.0.0/8', false],
    ['http://[fd00::5]:9093', 'fd00::/8', true],
    ['http://[fd00::5]:9093', '[fd00::5]:9093', true],
    ['http://am.monitoring.svc:9093', '.svc', true],
    ['http://am:9093', '', false],
  ]
  for (const [target, noProxy, expected] of cases) t.equal(noProxyMatches(new URL(target), noProxy), expected, `${target} vs ${JSON.stringify(noProxy)}`)
})

t.test('proxy URLs are checked, and described without their credentials', async (t) => {
  t.equal(checkProxyUrl('socks5://u:p@proxy:1080'), undefined)
  t.equal(checkProxyUrl('https://proxy:3129'), undefined)
  t.match(checkProxyUrl('ftp://u:secret@proxy:2121'), /expected an http:\/\/, https:\/\/ or socks5:\/\/ proxy URL, got ftp:\/\/proxy:2121/)
  t.notMatch(checkProxyUrl('ftp://u:secret@proxy:2121') ?? '', /secret/)
  t.match(checkProxyUrl('not a url'), /expected a proxy URL like/)
  t.equal(describeProxy('socks5://alice:s3cr3t@proxy:1080'), 'socks5://proxy:1080')
})

function parse(yaml: string, env: Record<string, string> = {}, files: Record<string, string> = {}) {
  return parseConfig(yaml, {
    env,
    readSecret: (path) => {
      if (path in files) return files[path]!
      throw new Error('ENOENT')
    },
  })
}

t.test("the config settles each client's proxy once, and says where it came from", async (t) => {
  const fromFile = parse('telegram: {proxy_url_file: /run/secrets/proxy}', {}, { '/run/secrets/proxy': 'socks5://alertwire:s3cret@proxy:1080\n' })
  t.ok(fromFile.ok)
  if (fromFile.ok) {
    t.same(fromFile.config.telegram.proxy, { url: 'socks5://alertwire:s3cret@proxy:1080', from: 'telegram.proxy_url_file' })
    t.equal(fromFile.config.alertmanager.proxy, undefined, 'Alertmanager (on loopback by default) goes direct')
  }
  const fromEnv = parse('alertmanager: {url: "http://alertmanager:9093"}', {
    HTTPS_PROXY: 'http://corp:3128',
    HTTP_PROXY: 'http://corp:3128',
    NO_PROXY: '.svc',
  })
  t.ok(fromEnv.ok)
  if (fromEnv.ok) {
    t.same(fromEnv.config.telegram.proxy, { url: 'http://corp:3128', from: 'HTTPS_PROXY' })
    t.same(fromEnv.config.alertmanager.proxy, { url: 'http://corp:3128', from: 'HTTP_PROXY' })
  }
  const excluded = parse('alertmanager: {url: "http://alertmanager.monitoring.svc:9093", proxy_url: "socks5://p:1080"}', {
    ALL_PROXY: 'socks5://x:1',
    NO_PROXY: '.svc',
  })
  t.ok(excluded.ok)
  if (excluded.ok)
    t.same(
      excluded.config.alertmanager.proxy,
      { url: 'socks5://p:1080', from: 'alertmanager.proxy_url' },
      'a configured proxy is meant: NO_PROXY is for the environment',
    )
})

t.test('an unusable proxy is an error naming where it came from, never its password', async (t) => {
  const bad = parse('telegram: {proxy_url: "ftp://u:hunter22@proxy:2121"}\nalertmanager: {url: "https://am:9093"}', {
    HTTPS_PROXY: 'socks4://x:hunter33@y:1080',
  })
  t.notOk(bad.ok)
  if (!bad.ok) {
    t.match(bad.errors.join('\n'), /^telegram\.proxy_url: expected an http:\/\/, https:\/\/ or socks5:\/\/ proxy URL, got ftp:\/\/proxy:2121$/m)
    t.match(
      bad.errors.join('\n'),
      /^HTTPS_PROXY \(environment, for alertmanager\): expected an http:\/\/, https:\/\/ or socks5:\/\/ proxy URL, got socks4:\/\/y:1080$/m,
    )
    t.notMatch(bad.errors.join('\n'), /hunter/)
  }
  const unused = parse('', { ALL_PROXY: 'socks4://y:1080', NO_PROXY: '*' })
  t.ok(unused.ok, 'a variable alertwire would not use is none of its business')
  const missing = parse('telegram: {proxy_url_file: /nope}')
  t.notOk(missing.ok)
  if (!missing.ok) t.match(missing.errors, [/^telegram\.proxy_url_file: cannot read "\/nope"/])
})

t.test('telegram.dry_run_view: auto by default, always or never', async (t) => {
  const defaults = parse('')
  t.equal(defaults.ok && defaults.config.telegram.dryRunView, 'auto')
  const always = parse('telegram: {dry_run_view: always}')
  t.equal(always.ok && always.config.telegram.dryRunView, 'always')
  const wrong = parse('telegram: {dry_run_view: sometimes}')
  t.match(!wrong.ok && wrong.errors, [/^telegram\.dry_run_view: expected auto \(on stderr when it is a terminal\), always or never, got "sometimes"/])
})
