/**
 * The Alertmanager API v2 client against a real Alertmanager (Debian's 0.25) for everything it
 * can answer, and small node:http servers for what a real one will not do on demand: hang,
 * answer garbage, demand credentials, fail with 5xx.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { startAlertmanager } from '../helpers/alertmanager.js'
import { freePort } from '../helpers/net.js'
import { AlertmanagerClient, AlertmanagerError } from '../../src/alertmanager/client.js'
import { formatSilenceMatcher, isMatchAll, parseSilenceMatchers, type SilenceMatcher } from '../../src/alertmanager/matchers.js'

const HOUR = 3_600_000
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const eq = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: false, isEqual: true })
const re = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: true, isEqual: true })
const inHours = (hours: number): Date => new Date(Date.now() + hours * HOUR)
const byName = (matchers: SilenceMatcher[]): SilenceMatcher[] => [...matchers].sort((a, b) => a.name.localeCompare(b.name))

/** failure awaits a call that must fail and returns its AlertmanagerError. */
async function failure(promise: Promise<unknown>): Promise<AlertmanagerError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof AlertmanagerError) return error
    throw error
  }
  throw new Error('expected an AlertmanagerError, but the call succeeded')
}

interface Recorded {
  method: string
  url: string
  headers: IncomingHttpHeaders
}

/** startServer runs a local HTTP server for one test and records every request it gets. */
async function startServer(t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; requests: Recorded[] }> {
  const requests: Recorded[] = []
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

interface Answer {
  status?: number
  body: string
  type?: string
}

/** startFakeAlertmanager answers each `METHOD /path` with a canned answer, 404 otherwise. */
function startFakeAlertmanager(t: Test, answers: Record<string, Answer>): ReturnType<typeof startServer> {
  return startServer(t, (req, res) => {
    const answer = answers[`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`]
    if (!answer)
      return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 404, message: `path ${req.url} was not found` }))
    res.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'application/json' }).end(answer.body)
  })
}

const validSilence = {
  id: 'a3e2c5d0-0000-4000-8000-000000000001',
  status: { state: 'active' },
  updatedAt: '2026-11-25T00:49:10.306Z',
  comment: 'c',
  createdBy: 'me',
  startsAt: '2026-11-25T00:49:10.306Z',
  endsAt: '2026-11-25T01:49:10.000Z',
  matchers: [{ name: 'alertname', value: 'X', isRegex: false, isEqual: true }],
}
const validStatus = JSON.stringify({
  cluster: { status: 'disabled', peers: [] },
  config: { original: '' },
  uptime: '2026-11-25T00:43:48.692Z',
  versionInfo: { version: '0.25.0' },
})

t.test('against a real Alertmanager 0.25', async (t) => {
  const sink = await startServer(t, (_req, res) => res.writeHead(200).end())
  const am = await startAlertmanager({ webhookUrl: `${sink.url}/alerts` })
  t.teardown(() => am.stop())
  const client = new AlertmanagerClient({ url: am.url })

  await t.test('a silence is created, shows active with our fields, expires, shows expired', async (t) => {
    const matchers = parseSilenceMatchers('alertname=AwLifecycle instance=~"web-.*" job!="x y"')
    const endsAt = inHours(2)
    const before = Date.now()
    const id = await client.createSilence({ matchers, endsAt, createdBy: 'telegram:@alice (123456789)', comment: 'from Telegram: deploy in progress' })
    t.match(id, UUID, 'Alertmanager answers the new silence id')
    await client.createSilence({ matchers: [eq('alertname', 'AwOther')], endsAt, createdBy: 'x', comment: 'another one' })

    const silence = await client.getSilence(id)
    t.equal(silence.id, id)
    t.equal(silence.status.state, 'active')
    t.equal(silence.createdBy, 'telegram:@alice (123456789)')
    t.equal(silence.comment, 'from Telegram: deploy in progress')
    t.same(byName(silence.matchers), byName(matchers), 'matchers come back as sent')
    t.ok(Math.abs(Date.parse(silence.startsAt) - before) < 5000, 'startsAt defaults to now')
    t.equal(Date.parse(silence.endsAt), endsAt.getTime(), 'endsAt as sent')

    const listed = await client.listSilences([eq('alertname', 'AwLifecycle')])
    t.same(
      listed.map((s) => [s.id, s.status.state]),
      [[id, 'active']],
      'the filter finds only ours',
    )
    const all = await client.listSilences()
    t.equal(all.length, 2, 'no filter lists every silence')

    await client.expireSilence(id)
    const expired = await client.getSilence(id)
    t.equal(expired.status.state, 'expired')
    t.ok(Date.parse(expired.endsAt) <= Date.now(), 'it ended now')
    t.same(
      (await client.listSilences([eq('alertname', 'AwLifecycle')])).map((s) => s.status.state),
      ['expired'],
      'listing keeps expired silences',
    )

    await client.expireSilence(id)
    t.pass('expiring an already expired silence resolves quietly (0.25 answers 200)')
  })

  await t.test('unknown silence ids are not_found', async (t) => {
    const expire = await failure(client.expireSilence(UNKNOWN_ID))
    t.equal(expire.kind, 'not_found')
    t.equal(expire.status, 500, '0.25 answers DELETE of an unknown id with 500')
    t.equal(expire.reason, 'silence not found', '... and the JSON string "silence not found"')
    t.equal(expire.message, `Alertmanager has no silence ${UNKNOWN_ID}`)

    const get = await failure(client.getSilence(UNKNOWN_ID))
    t.equal(get.kind, 'not_found')
    t.equal(get.status, 404, 'GET of an unknown id is a 404 with an empty body')
    t.equal(get.message, `Alertmanager has no silence ${UNKNOWN_ID}`)

    const malformed = await failure(client.expireSilence('not-a-uuid'))
    t.equal(malformed.kind, 'bad_request')
    t.equal(malformed.status, 422)
    t.equal(malformed.message, 'Alertmanager refused to expire silence not-a-uuid: silenceID in path must be of type uuid: "not-a-uuid"')
  })

  await t.test('Alertmanager refuses bad silences with its own reason', async (t) => {
    const base = { matchers: [eq('alertname', 'AwRefused')], createdBy: 'telegram:@bob (1)', comment: 'refused' }
    const cases: [string, () => Promise<string>, number, string][] = [
      [
        'end in the past',
        () => client.createSilence({ ...base, startsAt: inHours(-2), endsAt: inHours(-1) }),
        400,
        "Failed to create silence: end time can't be in the past",
      ],
      [
        'start after end',
        () => client.createSilence({ ...base, startsAt: inHours(2), endsAt: inHours(1) }),
        400,
        'Failed to create silence: start time must be before end time',
      ],
      [
        'start equal to end',
        () => client.createSilence({ ...base, startsAt: inHours(1), endsAt: inHours(1) }),
        400,
        'Failed to create silence: start time must be before end time',
      ],
      [
        'only match-all matchers',
        () => client.createSilence({ ...base, matchers: [re('alertname', '.*'), eq('team', '')], endsAt: inHours(1) }),
        400,
        'silence invalid: at least one matcher must not match the empty string',
      ],
      [
        'an invalid regex',
        () => client.createSilence({ ...base, matchers: [re('alertname', '(')], endsAt: inHours(1) }),
        400,
        'silence invalid: invalid label matcher 0: invalid regular expression "(": error parsing regexp: missing closing ): `(`',
      ],
      [
        'no matchers (missing key)',
        () => client.createSilence({ ...base, matchers: [], endsAt: inHours(1) }),
        422,
        'matchers in body should have at least 1 items',
      ],
    ]
    for (const [what, call, status, reason] of cases) {
      const error = await failure(call())
      t.equal(error.kind, 'bad_request', what)
      t.equal(error.status, status, `${what}: HTTP ${status}`)
      t.equal(error.reason, reason, `${what}: Alertmanager's reason`)
      t.equal(error.message, `Alertmanager refused the silence: ${reason}`, `${what}: message`)
    }
    t.same(await client.listSilences([eq('alertname', 'AwRefused')]), [], 'nothing was created')
  })

  await t.test('a pending silence expires at once', async (t) => {
    const id = await client.createSilence({
      matchers: [eq('alertname', 'AwPending')],
      startsAt: inHours(1),
      endsAt: inHours(2),
      createdBy: 'x',
      comment: 'later',
    })
    t.equal((await client.getSilence(id)).status.state, 'pending')
    await client.expireSilence(id)
    t.equal((await client.getSilence(id)).status.state, 'expired')
  })

  await t.test('listAlerts filters like Alertmanager and hides silenced alerts on request', async (t) => {
    const odd = 'C:\\dir "x"'
    await am.postAlerts([
      { labels: { alertname: 'AwList', instance: 'web-1', severity: 'critical' } },
      { labels: { alertname: 'AwList', instance: 'web-2', severity: 'warning' } },
      { labels: { alertname: 'AwList', instance: 'db-1', severity: 'critical' } },
      { labels: { alertname: 'AwOdd', path: odd } },
    ])
    const instances = async (filter: SilenceMatcher[], query = {}): Promise<string[]> =>
      (await client.listAlerts({ ...query, filter })).map((a) => a.labels.instance ?? a.labels.path ?? '?').sort()

    t.same(await instances([eq('alertname', 'AwList')]), ['db-1', 'web-1', 'web-2'])
    t.same(await instances([eq('alertname', 'AwList'), re('instance', 'web-.*')]), ['web-1', 'web-2'], '=~')
    t.same(await instances([eq('alertname', 'AwList'), { name: 'instance', value: 'web-.*', isRegex: true, isEqual: false }]), ['db-1'], '!~')
    t.same(await instances([eq('alertname', 'AwList'), { name: 'severity', value: 'critical', isRegex: false, isEqual: false }]), ['web-2'], '!=')
    t.same(await instances([eq('path', odd)]), [odd], 'quotes and backslashes are escaped the way Alertmanager parses them')

    const id = await client.createSilence({
      matchers: [eq('alertname', 'AwList'), eq('instance', 'db-1')],
      endsAt: inHours(1),
      createdBy: 'x',
      comment: 'db maintenance',
    })
    const all = await client.listAlerts({ filter: [eq('alertname', 'AwList')] })
    const db = all.find((a) => a.labels.instance === 'db-1')
    t.equal(db?.status.state, 'suppressed')
    t.same(db?.status.silencedBy, [id], 'the alert names the silence that mutes it')
    t.equal(all.length, 3, 'silenced alerts are listed by default')
    t.same(await instances([eq('alertname', 'AwList')], { silenced: false }), ['web-1', 'web-2'], 'silenced=false hides it')
    t.same(await instances([eq('alertname', 'AwList')], { active: false }), ['db-1'], 'active=false leaves only the suppressed one')
    const [one] = await client.listAlerts({ filter: [eq('instance', 'web-1')] })
    t.match(one, { labels: { severity: 'critical' }, receivers: [{ name: 'alertwire' }], fingerprint: /^[0-9a-f]+$/ })
  })

  await t.test('matchers as an admin types them: isMatchAll refuses all that Alertmanager refuses', async (t) => {
    // Alertmanager's own check counts only = and =~ matchers; a negative matcher that matches the
    // empty string (team!="platform": every alert not from that team) passes it, not isMatchAll.
    const cases: [string, boolean, 'refused' | 'accepted'][] = [
      ['alertname=~".*"', true, 'refused'],
      ['team=""', true, 'refused'],
      ['alertname=~"(?i).*"', true, 'refused'],
      ['team="" severity=~"|critical"', true, 'refused'],
      ['team!="platform"', true, 'accepted'],
      ['team="" severity!~"info"', true, 'accepted'],
      ['alertname=~".+"', false, 'accepted'],
      ['alertname!~".*"', false, 'accepted'],
      ['team="" alertname=AwTyped', false, 'accepted'],
      ['alertname=~"(?i)awtyped.*"', false, 'accepted'],
      ['instance=~"web-1\\.example\\.com"', false, 'accepted'],
    ]
    for (const [text, matchAll, alertmanager] of cases) {
      const matchers = parseSilenceMatchers(text)
      t.equal(isMatchAll(matchers), matchAll, `isMatchAll(${text})`)
      const call = client.createSilence({ matchers, endsAt: inHours(1), createdBy: 'x', comment: text })
      if (alertmanager === 'refused') {
        t.match((await failure(call)).message, /at least one matcher must not match the empty string/, `Alertmanager refuses ${text}`)
      } else {
        const silence = await client.getSilence(await call)
        t.same(byName(silence.matchers), byName(matchers), `Alertmanager accepts ${text} as parsed`)
      }
    }
  })

  await t.test('status and healthy', async (t) => {
    const status = await client.status()
    t.equal(status.version, '0.25.0')
    t.equal(status.clusterStatus, 'disabled', 'no gossip in tests')
    t.ok(Date.parse(status.uptime) <= Date.now(), 'uptime is the start time')
    t.equal(await client.healthy(), true)
  })

  await t.test('a killed Alertmanager is unreachable at once, and not healthy', async (t) => {
    await am.kill()
    const started = Date.now()
    const error = await failure(client.status())
    t.equal(error.kind, 'unreachable')
    t.equal(error.message, `Alertmanager at ${am.url} is unreachable (connection refused)`)
    t.equal(await client.healthy(), false)
    t.ok(Date.now() - started < 1000, 'without waiting for the timeout')
  })
})

t.test('a server that never answers is a timeout within timeoutMs', async (t) => {
  const silent = await startServer(t, () => {})
  const client = new AlertmanagerClient({ url: silent.url, timeoutMs: 300 })
  let started = Date.now()
  const error = await failure(client.status())
  const took = Date.now() - started
  t.equal(error.kind, 'timeout')
  t.equal(error.message, `Alertmanager at ${silent.url} did not answer within 300 ms`)
  t.ok(took >= 250 && took < 1500, `gave up after ${took} ms`)
  started = Date.now()
  t.equal(await client.healthy(), false, 'healthy() says false instead of throwing')
  t.ok(Date.now() - started < 1500)

  const slowBody = await startServer(t, (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).write('['))
  const half = await failure(new AlertmanagerClient({ url: slowBody.url, timeoutMs: 300 }).listSilences())
  t.equal(half.kind, 'timeout', 'a body that never ends times out too')
  const fiveSeconds = await failure(
    new AlertmanagerClient({ url: silent.url, timeoutMs: 5000, fetch: () => Promise.reject(new DOMException('x', 'TimeoutError')) }).status(),
  )
  t.equal(fiveSeconds.message, `Alertmanager at ${silent.url} did not answer within 5 s`)
})

t.test('answers that are not what Alertmanager sends are bad_response, naming the field', async (t) => {
  const fake = await startFakeAlertmanager(t, {
    'GET /api/v2/status': { body: '<html>login</html>', type: 'text/html' },
    'GET /api/v2/silences': { body: JSON.stringify([validSilence, { ...validSilence, status: { state: 'zombie' } }]) },
    'GET /api/v2/silence/a3e2c5d0-0000-4000-8000-000000000001': { body: JSON.stringify({ ...validSilence, createdBy: undefined }) },
    'GET /api/v2/silence/a3e2c5d0-0000-4000-8000-000000000002': {
      body: JSON.stringify({ ...validSilence, extra: { from: 'a newer Alertmanager' }, matchers: [{ name: 'alertname', value: 'X', isRegex: false }] }),
    },
    'POST /api/v2/silences': { body: JSON.stringify({ id: 'x' }) },
    'GET /api/v2/alerts': { body: '' },
  })
  const client = new AlertmanagerClient({ url: fake.url })
  const cases: [string, () => Promise<unknown>, string][] = [
    ['not JSON', () => client.status(), 'answered GET /api/v2/status with a body that is not JSON ("<html>login</html>")'],
    [
      'wrong enum',
      () => client.listSilences(),
      'answered GET /api/v2/silences with an unexpected body: [1].status.state must be equal to one of the allowed values (got "zombie")',
    ],
    ['missing field', () => client.getSilence('a3e2c5d0-0000-4000-8000-000000000001'), 'with an unexpected body: createdBy is missing'],
    [
      'wrong create answer',
      () => client.createSilence({ matchers: [eq('a', 'b')], endsAt: inHours(1), createdBy: 'x', comment: 'y' }),
      'answered POST /api/v2/silences with an unexpected body: silenceID is missing',
    ],
    ['empty body', () => client.listAlerts(), 'answered GET /api/v2/alerts with an empty body'],
  ]
  for (const [what, call, text] of cases) {
    const error = await failure(call())
    t.equal(error.kind, 'bad_response', what)
    t.ok(error.message.startsWith(`Alertmanager at ${fake.url} `) && error.message.includes(text), `${what}: ${error.message}`)
  }
  const lenient = await client.getSilence('a3e2c5d0-0000-4000-8000-000000000002')
  t.equal(lenient.matchers[0]?.isEqual, true, 'extra properties are accepted and a missing isEqual means true')
})

t.test('other HTTP failures are sorted by what to do next', async (t) => {
  const fake = await startFakeAlertmanager(t, {
    'GET /api/v2/silences': { status: 503, body: 'upstream down\n', type: 'text/plain' },
    'POST /api/v2/silences': { status: 400, body: 'bad things\n', type: 'text/plain' },
    'GET /api/v2/silence/a3e2c5d0-0000-4000-8000-000000000001': { status: 404, body: '' },
    'DELETE /api/v2/silence/a3e2c5d0-0000-4000-8000-000000000001': { status: 500, body: '"silence a3e2c5d0-0000-4000-8000-000000000001 already expired"' },
    'GET /api/v2/alerts': { status: 500, body: '"something else"' },
    'DELETE /api/v2/silence/a3e2c5d0-0000-4000-8000-000000000002': { status: 500, body: '"raft is on fire"' },
    'GET /api/v2/status': { status: 302, body: '' },
  })
  const client = new AlertmanagerClient({ url: fake.url })
  const server = await failure(client.listSilences())
  t.match(server, {
    kind: 'server',
    status: 503,
    reason: 'upstream down',
    message: `Alertmanager at ${fake.url} failed to list silences (HTTP 503: upstream down)`,
  })
  const refused = await failure(client.createSilence({ matchers: [eq('a', 'b')], endsAt: inHours(1), createdBy: 'x', comment: 'y' }))
  t.match(refused, { kind: 'bad_request', status: 400, message: 'Alertmanager refused the silence: bad things' })
  const missing = await failure(client.getSilence('a3e2c5d0-0000-4000-8000-000000000001'))
  t.match(missing, { kind: 'not_found', message: 'Alertmanager has no silence a3e2c5d0-0000-4000-8000-000000000001' })
  await client.expireSilence('a3e2c5d0-0000-4000-8000-000000000001')
  t.pass('older Alertmanagers refusing an already expired silence resolve quietly too')
  t.match(await failure(client.listAlerts()), { kind: 'server', status: 500, message: /failed to list alerts \(HTTP 500: something else\)$/ })
  t.match(await failure(client.expireSilence('a3e2c5d0-0000-4000-8000-000000000002')), {
    kind: 'server',
    message: `Alertmanager at ${fake.url} failed to expire silence a3e2c5d0-0000-4000-8000-000000000002 (HTTP 500: raft is on fire)`,
  })
  t.match(await failure(client.status()), {
    kind: 'bad_response',
    status: 302,
    message: `Alertmanager at ${fake.url} answered GET /api/v2/status with HTTP 302, not a success`,
  })

  const wrongPrefix = await failure(new AlertmanagerClient({ url: `${fake.url}/alertmanager` }).status())
  t.match(wrongPrefix, { kind: 'wrong_url', status: 404 })
  t.equal(
    wrongPrefix.message,
    `Alertmanager at ${fake.url}/alertmanager has no /api/v2/status (HTTP 404): check the URL, including any path prefix such as /alertmanager`,
  )
})

t.test('credentials are sent, a path prefix is kept, and neither leaks into messages', async (t) => {
  const fake = await startFakeAlertmanager(t, {
    'GET /alertmanager/api/v2/status': { body: validStatus },
    'GET /alertmanager/-/healthy': { body: 'OK', type: 'text/plain' },
    'GET /alertmanager/api/v2/silences': { body: '[]' },
  })
  const basic = new AlertmanagerClient({ url: `${fake.url}/alertmanager/`, basicAuth: { username: 'alice', password: 's3cr3t:pw' } })
  t.same(await basic.status(), { version: '0.25.0', uptime: '2026-11-25T00:43:48.692Z', clusterStatus: 'disabled' })
  t.equal(await basic.healthy(), true)
  const bearer = new AlertmanagerClient({ url: `${fake.url}/alertmanager`, bearerToken: 'tok-123' })
  await bearer.listSilences([eq('a', 'x "y" \\z'), { name: 'instance', value: 'web-.*', isRegex: true, isEqual: false }])
  const fromUrl = new AlertmanagerClient({ url: `${fake.url.replace('//', '//bob:p%40ss@')}/alertmanager` })
  await fromUrl.status()

  const [status, healthy, silences, viaUrl] = fake.requests
  t.equal(status?.url, '/alertmanager/api/v2/status', 'the path prefix is kept')
  t.equal(status?.headers.authorization, `Basic ${Buffer.from('alice:s3cr3t:pw').toString('base64')}`)
  t.equal(healthy?.headers.authorization, status?.headers.authorization, '/-/healthy carries the credentials too')
  t.equal(silences?.headers.authorization, 'Bearer tok-123')
  t.same(
    new URL(silences?.url ?? '', 'http://x').searchParams.getAll('filter'),
    ['a="x \\"y\\" \\\\z"', 'instance!~"web-.*"'],
    'one filter= per matcher, Go-quoted',
  )
  t.equal(viaUrl?.headers.authorization, `Basic ${Buffer.from('bob:p@ss').toString('base64')}`, 'user:password in the URL becomes basic auth')

  const deny = await startServer(t, (_req, res) => res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized\n'))
  const wrong = await failure(new AlertmanagerClient({ url: deny.url, bearerToken: 'tok-123' }).status())
  t.match(wrong, {
    kind: 'unauthorized',
    status: 401,
    message: `Alertmanager at ${deny.url} refused alertwire's credentials (HTTP 401: Unauthorized): check the basic auth or bearer token configured for it`,
  })
  const none = await failure(new AlertmanagerClient({ url: deny.url }).status())
  t.match(none.message, /requires credentials \(HTTP 401: Unauthorized\): configure basic auth or a bearer token/)

  const closed = `http://bob:p%40ss@127.0.0.1:${await freePort()}/am`
  const unreachable = await failure(new AlertmanagerClient({ url: closed, timeoutMs: 2000 }).listAlerts())
  t.equal(unreachable.kind, 'unreachable')
  t.equal(unreachable.message, `Alertmanager at ${closed.replace('bob:p%40ss@', '')} is unreachable (connection refused)`)
  for (const error of [wrong, none, unreachable]) {
    t.notMatch(error.message, /tok-123|p%40ss|p@ss|bob|s3cr3t/, 'no credentials in the message')
  }
})

t.test('options that can never work are refused at construction', async (t) => {
  t.throws(
    () => new AlertmanagerClient({ url: 'http://am:9093', bearerToken: 't', basicAuth: { username: 'u', password: 'p' } }),
    /either basic auth or a bearer token, not both/,
  )
  t.throws(() => new AlertmanagerClient({ url: 'am:9093' }), /is not an http:\/\/ or https:\/\/ URL/)
  t.throws(() => new AlertmanagerClient({ url: 'not a url at all' }), /"not a url at all" is not an http/)
  t.throws(() => new AlertmanagerClient({ url: 'ftp://u:secret@am/' }), /^the Alertmanager URL "ftp:\/\/am\/" is not/, 'credentials are left out')
  t.throws(() => new AlertmanagerClient({ url: 'http://am:9093', timeoutMs: 0 }), /positive number of milliseconds/)
  const invalid = await failure(
    new AlertmanagerClient({ url: 'http://127.0.0.1:1' }).createSilence({ matchers: [eq('a', 'b')], endsAt: new Date('nope'), createdBy: 'x', comment: 'y' }),
  )
  t.match(invalid, { kind: 'bad_request', message: 'Alertmanager refused the silence: endsAt is not a valid time' })
})

t.test('parseSilenceMatchers reads what an admin types', async (t) => {
  const ne = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: false, isEqual: false })
  const nre = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: true, isEqual: false })
  const cases: [string, SilenceMatcher[]][] = [
    ['alertname=HighLatency instance=~"web-.*" job!="x y"', [eq('alertname', 'HighLatency'), re('instance', 'web-.*'), ne('job', 'x y')]],
    ['alertname="A",severity!~"info|debug"', [eq('alertname', 'A'), nre('severity', 'info|debug')]],
    ['{alertname="A", team="b"}', [eq('alertname', 'A'), eq('team', 'b')]],
    ['  alertname=A \n\t team=b  ', [eq('alertname', 'A'), eq('team', 'b')]],
    ['msg="say \\"hi\\", ok"', [eq('msg', 'say "hi", ok')]],
    ['path="C:\\\\dir"', [eq('path', 'C:\\dir')]],
    ['host=~"web-1\\.example\\.com"', [re('host', 'web-1\\.example\\.com')]],
    ['alertname=~"(?i)high.*"', [re('alertname', '(?i)high.*')]],
    ['alertname=~"("', [re('alertname', '(')]],
    ['alertname=“HighLatency” job=“x y”', [eq('alertname', 'HighLatency'), eq('job', 'x y')]],
    ['summary="he said “hi”"', [eq('summary', 'he said “hi”')]],
    ['team=""', [eq('team', '')]],
  ]
  for (const [text, expected] of cases) t.same(parseSilenceMatchers(text), expected, text)

  const errors: [string, RegExp][] = [
    ['', /^expected at least one matcher like alertname="X", got nothing$/],
    [' , ', /^expected at least one matcher like alertname="X", got nothing$/],
    ['HighLatency', /^expected a matcher like alertname="X", got "HighLatency"$/],
    ['alertname = HighLatency', /^expected a matcher like alertname="X", got "alertname" \(write it without spaces around the operator\)$/],
    ['=x', /^expected a matcher like alertname="X", got "=x"$/],
    ['job="x y', /^the quote in "job=\\"x y" is never closed: add the closing "$/],
    ['a-b=c', /^"a-b" in "a-b=c" is not a label name: use letters, digits and _, not starting with a digit$/],
    ['job=x"y"', /must be quoted/],
  ]
  for (const [text, message] of errors) t.throws(() => parseSilenceMatchers(text), message, JSON.stringify(text))
})

t.test('isMatchAll tells which silences Alertmanager would refuse', async (t) => {
  const cases: [SilenceMatcher[], boolean][] = [
    [[], true],
    [[eq('team', '')], true],
    [[eq('team', 'x')], false],
    [[{ name: 'team', value: 'x', isRegex: false, isEqual: false }], true],
    [[{ name: 'team', value: '', isRegex: false, isEqual: false }], false],
    [[re('a', '.*')], true],
    [[re('a', 'x|')], true],
    [[re('a', '.+')], false],
    [[{ name: 'a', value: '.+', isRegex: true, isEqual: false }], true],
    [[re('a', '(?s).*')], true],
    [[re('a', '(?P<x>.*)')], false], // Go-only syntax: left to Alertmanager
    [[re('a', '.*'), eq('b', 'x')], false],
  ]
  for (const [matchers, expected] of cases) t.equal(isMatchAll(matchers), expected, matchers.map(formatSilenceMatcher).join(' ') || '(none)')
})

t.test('formatSilenceMatcher output reads back as the same matcher', async (t) => {
  const matcher = fc.record({
    name: fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,10}$/),
    value: fc.oneof(fc.string({ unit: 'binary-ascii' }), fc.string({ unit: 'grapheme' }), fc.constantFrom('\\', '"', '\\n', '\n', '“x”', ' , ')),
    isRegex: fc.boolean(),
    isEqual: fc.boolean(),
  })
  fc.assert(
    fc.property(fc.array(matcher, { minLength: 1, maxLength: 4 }), (matchers) => {
      assert.deepStrictEqual(
        parseSilenceMatchers(matchers.map(formatSilenceMatcher).join(' ')),
        matchers.map((m) => ({ ...m })),
      )
    }),
    { numRuns: 300 },
  )
  t.pass('300 random matcher lists read back unchanged')
  t.equal(formatSilenceMatcher({ name: 'a', value: 'x "y" \\z\n', isRegex: true, isEqual: false }), 'a!~"x \\"y\\" \\\\z\\n"')
})
