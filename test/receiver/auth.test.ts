import t from 'tap'
import { isAuthorized, safeEqual, type WebhookAuth } from '../../src/receiver/auth.js'

const TOKEN = 's3cret-token_with.symbols~'
const bearerOnly: WebhookAuth = { bearerToken: TOKEN, allowUnauthenticated: false }
const basicOnly: WebhookAuth = { basicAuth: { username: 'alertmanager', password: 'p@ss:w0rd' }, allowUnauthenticated: false }
const both: WebhookAuth = { ...bearerOnly, ...basicOnly }
const open: WebhookAuth = { allowUnauthenticated: true }
const nothing: WebhookAuth = { allowUnauthenticated: false }

const basic = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`

t.test('Bearer: the Authorization header Alertmanager sends for http_config.authorization', async (t) => {
  const rows: [string | undefined, boolean, string][] = [
    [`Bearer ${TOKEN}`, true, 'the configured token'],
    [`bearer ${TOKEN}`, true, 'the scheme in any case'],
    [`  Bearer   ${TOKEN}  `, true, 'extra spaces around and between'],
    ['Bearer wrong', false, 'another token'],
    [`Bearer ${TOKEN.slice(0, -1)}`, false, 'the token less its last character'],
    [`Bearer ${TOKEN}x`, false, 'the token with one more character'],
    [`Bearer ${TOKEN.toUpperCase()}`, false, 'tokens are case-sensitive'],
    ['Bearer', false, 'the scheme without a token'],
    [TOKEN, false, 'the token without the scheme'],
    [`Token ${TOKEN}`, false, 'another scheme'],
    [basic(`x:${TOKEN}`), false, 'basic auth when only a bearer token is configured'],
    ['', false, 'an empty header'],
    [undefined, false, 'no header'],
  ]
  for (const [header, ok, why] of rows) t.equal(isAuthorized(header, bearerOnly), ok, why)
})

t.test('Basic: the Authorization header Alertmanager sends for http_config.basic_auth', async (t) => {
  const rows: [string | undefined, boolean, string][] = [
    [basic('alertmanager:p@ss:w0rd'), true, 'the configured user and password (the password holds a colon)'],
    [`basic ${Buffer.from('alertmanager:p@ss:w0rd').toString('base64')}`, true, 'the scheme in any case'],
    [basic('alertmanager:p@ss'), false, 'a wrong password'],
    [basic('alertmanager:'), false, 'an empty password'],
    [basic('admin:p@ss:w0rd'), false, 'a wrong user'],
    [basic(':p@ss:w0rd'), false, 'no user'],
    [basic('alertmanager'), false, 'no colon at all'],
    ['Basic !!!not-base64!!!', false, 'garbage credentials'],
    ['Basic', false, 'the scheme alone'],
    [`Bearer ${TOKEN}`, false, 'a bearer token when only basic auth is configured'],
    [undefined, false, 'no header'],
  ]
  for (const [header, ok, why] of rows) t.equal(isAuthorized(header, basicOnly), ok, why)
})

t.test('with both configured either works; with none nothing does unless explicitly open', async (t) => {
  t.ok(isAuthorized(`Bearer ${TOKEN}`, both), 'bearer')
  t.ok(isAuthorized(basic('alertmanager:p@ss:w0rd'), both), 'basic')
  t.notOk(isAuthorized('Bearer wrong', both))
  t.notOk(isAuthorized(basic('alertmanager:wrong'), both))
  t.notOk(isAuthorized(`Bearer ${TOKEN}`, nothing), 'nothing configured and not open: every request is refused')
  t.notOk(isAuthorized(undefined, nothing))
  t.ok(isAuthorized(undefined, open), 'allow_unauthenticated: no header needed')
  t.ok(isAuthorized('Bearer anything', open), 'allow_unauthenticated: any header passes')
})

t.test('secrets are compared whole, whatever their length, without throwing', async (t) => {
  const rows: [string, string, boolean, string][] = [
    ['abc', 'abc', true, 'equal'],
    ['', '', true, 'both empty'],
    ['abc', 'abd', false, 'last character differs'],
    ['abc', 'abcd', false, 'shorter (a plain timingSafeEqual would throw on unequal lengths)'],
    ['a'.repeat(10_000), 'a', false, 'much longer'],
    ['', 'abc', false, 'empty against a secret'],
    ['pässwörd🔑', 'pässwörd🔑', true, 'non-ASCII'],
    ['pässwörd🔑', 'passwörd🔑', false, 'non-ASCII, one letter differs'],
  ]
  for (const [given, expected, equal, why] of rows) t.equal(safeEqual(given, expected), equal, why)
})
