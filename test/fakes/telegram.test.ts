/**
 * Tests of the fake Telegram Bot API: it must refuse what Telegram refuses (with Telegram's
 * words) and accept what Telegram accepts, or the service's tests against it prove nothing.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { Api, TelegramApiError } from 'node-telegram-bot-api'
import { PNG } from 'pngjs'
import { createTelegramClient } from '../../src/telegram/client.js'
import { startFakeTelegram, type FakeTelegram, type FakeTelegramOptions } from './telegram.js'
import { EntityParseError, parseTelegramHtml, parseTelegramMarkdownV2 } from './telegram-html.js'

const PRIVATE = 111_222_333
const GROUP = -987_654_321
const SUPERGROUP = -1_001_234_567_890
const FORUM = -1_009_876_543_210
const CHANNEL = -1_005_555_555_555
const ALICE = { id: 42, username: 'alice' }

const NO_LIMITS = { group: null, private: null, global: null }

/** A fake with the usual chats and rate limits off (the rate-limit tests set their own). */
async function fakeFor(t: Tap, options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const fake = await startFakeTelegram({
    limits: NO_LIMITS,
    chats: [
      { id: PRIVATE, type: 'private', username: 'alice' },
      { id: GROUP, type: 'group', title: 'ops' },
      { id: SUPERGROUP, type: 'supergroup', title: 'ops-super', username: 'ops_alerts' },
      { id: FORUM, type: 'supergroup', title: 'forum', isForum: true, topics: [7, 9] },
      { id: CHANNEL, type: 'channel', title: 'status' },
    ],
    ...options,
  })
  t.teardown(() => fake.close())
  return fake
}

type Tap = Test
type Encoding = 'json' | 'form' | 'query'

interface ApiAnswer {
  status: number
  headers: Headers
  // biome-ignore lint/suspicious/noExplicitAny: the result's shape differs by Bot API method; the tests read it as the JSON it is, and a wrong read fails the test
  body: { ok: boolean; result?: any; description?: string; error_code?: number; parameters?: Record<string, number> }
}

/** Call the fake over real HTTP, encoding params as JSON, a form (like the client library) or a query string. */
async function call(fake: FakeTelegram, method: string, params: Record<string, unknown> = {}, encoding: Encoding = 'json'): Promise<ApiAnswer> {
  const url = new URL(`${fake.url}/bot${fake.token}/${method}`)
  const wire = Object.entries(params).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)] as [string, string])
  let init: RequestInit
  if (encoding === 'json') init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) }
  else if (encoding === 'form') init = { method: 'POST', body: new URLSearchParams(wire) }
  else {
    for (const [k, v] of wire) url.searchParams.set(k, v)
    init = { method: 'GET' }
  }
  const res = await fetch(url, init)
  return { status: res.status, headers: res.headers, body: (await res.json()) as ApiAnswer['body'] }
}

/** Assert a Bot API error answer: HTTP status, error_code and the exact description. */
function isError(t: Tap, answer: ApiAnswer, code: number, description: string): void {
  t.equal(answer.status, code, `HTTP ${code} for "${description}"`)
  t.same({ ok: answer.body.ok, error_code: answer.body.error_code, description: answer.body.description }, { ok: false, error_code: code, description })
}

const send = (fake: FakeTelegram, params: Record<string, unknown>, encoding: Encoding = 'json') => call(fake, 'sendMessage', params, encoding)
const html = (chat_id: number, text: string, extra: Record<string, unknown> = {}) => ({ chat_id, text, parse_mode: 'HTML', ...extra })
const button = (text: string, callback_data: string) => ({ inline_keyboard: [[{ text, callback_data }]] })

/* ------------------------------------------------------------------------------------------ */

t.test("HTML parse mode: hostile or broken HTML is refused with Telegram's words", async (t) => {
  const cases: [string, string][] = [
    ['<script>alert(1)</script>', 'Unsupported start tag "script" at byte offset 0'],
    ['<!-- note -->', 'Unsupported start tag "!--" at byte offset 0'],
    ['<b/>', 'Unsupported start tag "b/" at byte offset 0'],
    ['p99 < 1s', 'Unsupported start tag "" at byte offset 4'],
    ['é <foo>', 'Unsupported start tag "foo" at byte offset 3'], // offsets are UTF-8 bytes
    ['<b>unclosed', 'Can\'t find end tag corresponding to start tag "b"'],
    ['<b><i>x</b></i>', 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'],
    ['x</b>', 'Unexpected end tag at byte offset 1'],
    ['<b', 'Unclosed start tag at byte offset 0'],
    ['<b>x</b', 'Unclosed end tag at byte offset 4'],
    ['<span>x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'],
    ['<a href=http://x.org>x</a>', 'Unexpected end of name token at byte offset 8'],
    ['<tg-emoji emoji-id="abc">x</tg-emoji>', 'Invalid custom emoji identifier specified'],
    ['&#xD83D;&#xDE00;', 'Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units'],
    // Stricter than Telegram (which shows these literally or drops the link): the docs forbid them.
    ['AT&T', 'Character entity expected at byte offset 2, use "&amp;" for a literal "&"'],
    ['&nbsp;', 'Character entity expected at byte offset 0, use "&amp;" for a literal "&"'],
    ['&amp no semicolon', 'Character entity must end with ";" at byte offset 0'],
    ['latency > 1s', 'Unescaped ">" at byte offset 8, use "&gt;"'],
    ['<a href="javascript:alert(1)">x</a>', 'URL \'javascript:alert(1)\' of the tag "a" at byte offset 0 is invalid: Wrong HTTP URL'],
    [
      '<a href="http://alertmanager:9093/#/alerts">am</a>',
      'URL \'http://alertmanager:9093/#/alerts\' of the tag "a" at byte offset 0 is invalid: Wrong HTTP URL',
    ],
    ['<a href="ftp://files.example.com/x">f</a>', 'URL \'ftp://files.example.com/x\' of the tag "a" at byte offset 0 is invalid: Unsupported URL protocol'],
  ]
  for (const [input, reason] of cases) {
    t.throws(() => parseTelegramHtml(input), new EntityParseError(reason), input)
  }
  const fake = await fakeFor(t)
  isError(
    t,
    await send(fake, html(GROUP, '<b>x</i>')),
    400,
    'Bad Request: can\'t parse entities: Unmatched end tag at byte offset 4, expected "</b>", found "</i>"',
  )
  t.equal(fake.messages(GROUP).length, 0, 'nothing was stored')
})

t.test('HTML parse mode: lenient mode behaves exactly like TDLib', async (t) => {
  const lenient = { strict: false }
  t.same(parseTelegramHtml('AT&T &nbsp; 1 > 0 &amp', lenient).text, 'AT&T &nbsp; 1 > 0 &')
  t.same(parseTelegramHtml('<a href="http://alertmanager:9093">am</a>', lenient).entities, [], 'an invalid link is silently dropped')
  t.throws(() => parseTelegramHtml('a < b', lenient), new EntityParseError('Unsupported start tag "" at byte offset 2'))
  const fake = await fakeFor(t, { strictHtml: false })
  t.equal((await send(fake, html(GROUP, 'AT&T > 0'))).body.result.text, 'AT&T > 0')
})

t.test('HTML parse mode: every allowed tag, nesting, entities and UTF-16 offsets', async (t) => {
  const all =
    '<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>' +
    '<span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler><a href="https://example.com/a?x=1&amp;y=2">l</a>' +
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji><code>c</code><pre>p</pre>' +
    '<pre><code class="language-python">py</code></pre><blockquote>q</blockquote><blockquote expandable>x</blockquote>'
  const parsed = parseTelegramHtml(all)
  t.equal(parsed.text, 'bsieunskdpql👍cppyqx')
  t.same(parsed.entities, [
    { type: 'bold', offset: 0, length: 1 },
    { type: 'bold', offset: 1, length: 1 },
    { type: 'italic', offset: 2, length: 1 },
    { type: 'italic', offset: 3, length: 1 },
    { type: 'underline', offset: 4, length: 1 },
    { type: 'underline', offset: 5, length: 1 },
    { type: 'strikethrough', offset: 6, length: 1 },
    { type: 'strikethrough', offset: 7, length: 1 },
    { type: 'strikethrough', offset: 8, length: 1 },
    { type: 'spoiler', offset: 9, length: 1 },
    { type: 'spoiler', offset: 10, length: 1 },
    { type: 'text_link', offset: 11, length: 1, url: 'https://example.com/a?x=1&y=2' },
    { type: 'custom_emoji', offset: 12, length: 2, custom_emoji_id: '5368324170671202286' },
    { type: 'code', offset: 14, length: 1 },
    { type: 'pre', offset: 15, length: 1 },
    { type: 'pre', offset: 16, length: 2, language: 'python' },
    { type: 'blockquote', offset: 18, length: 1 },
    { type: 'expandable_blockquote', offset: 19, length: 1 },
  ])
  t.equal(parsed.expandableBlockquote, true)

  const nested = parseTelegramHtml('<B>bold <i>both <U>all</U></i></b> &lt;tag&gt; &quot;q&quot; &#169; &#x1F525;')
  t.equal(nested.text, 'bold both all <tag> "q" © 🔥', 'entities decoded, tag names case-insensitive')
  t.same(nested.entities, [
    { type: 'bold', offset: 0, length: 13 },
    { type: 'italic', offset: 5, length: 8 },
    { type: 'underline', offset: 10, length: 3 },
  ])

  const emoji = parseTelegramHtml('😀<b>😀x</b>')
  t.same(emoji.entities, [{ type: 'bold', offset: 2, length: 3 }], 'an emoji counts as 2 UTF-16 code units')

  t.same(parseTelegramHtml('<code><b>x</b></code>').entities, [{ type: 'code', offset: 0, length: 1 }], 'code cannot contain entities')
  t.same(parseTelegramHtml('<b></b>x').entities, [], 'an empty element makes no entity')
  t.same(parseTelegramHtml('<a href="tg://user?id=42">alice</a>').entities, [{ type: 'text_mention', offset: 0, length: 5, user: { id: 42 } }])
  t.same(parseTelegramHtml('<a href="https://Example.com">x</a>').entities[0]?.url, 'https://example.com/', 'URLs come back normalised')

  const fake = await fakeFor(t)
  const sent = await send(fake, html(GROUP, '<b>🔥 FIRING</b> HighLatency &amp; friends'))
  t.equal(sent.status, 200)
  t.same(sent.body.result.entities, [{ type: 'bold', offset: 0, length: 9 }])
  const [stored] = fake.messages(GROUP)
  t.equal(stored?.text, '🔥 FIRING HighLatency & friends')
  t.equal(stored?.html, '<b>🔥 FIRING</b> HighLatency &amp; friends')
  t.equal(stored?.parse_mode, 'HTML')
})

t.test('MarkdownV2 and unknown parse modes', async (t) => {
  t.throws(() => parseTelegramMarkdownV2('Done. 1+1=2'), new EntityParseError("Character '.' is reserved and must be escaped with the preceding '\\'"))
  t.same(parseTelegramMarkdownV2('*bold* and \\. `a.b` [x](https://example.com)').entities, [
    { type: 'bold', offset: 0, length: 4 },
    { type: 'code', offset: 11, length: 3 },
    { type: 'text_link', offset: 15, length: 1, url: 'https://example.com/' },
  ])
  t.throws(() => parseTelegramMarkdownV2('*open'), new EntityParseError("Can't find end of Bold entity at byte offset 0"))
  const fake = await fakeFor(t)
  isError(
    t,
    await send(fake, { chat_id: GROUP, text: 'v1.2 is out!', parse_mode: 'MarkdownV2' }),
    400,
    "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
  )
  isError(t, await send(fake, { chat_id: GROUP, text: 'x', parse_mode: 'HTML5' }), 400, 'Bad Request: unsupported parse_mode')
  t.equal((await send(fake, { chat_id: GROUP, text: '*x*', parse_mode: 'Markdown' })).body.result.text, 'x')
  const literal = await send(fake, { chat_id: GROUP, text: '<b>not bold</b> & <i>' })
  t.equal(literal.body.result.text, '<b>not bold</b> & <i>', 'without parse_mode the text is literal')
  t.notOk(literal.body.result.entities)
})

t.test('text length counts after parsing: 4096 accepted, 4097 refused', async (t) => {
  const fake = await fakeFor(t)
  t.equal((await send(fake, { chat_id: GROUP, text: 'a'.repeat(4096) })).status, 200, '4096 characters')
  isError(t, await send(fake, { chat_id: GROUP, text: 'a'.repeat(4097) }), 400, 'Bad Request: message is too long')
  const amp = await send(fake, html(GROUP, '&amp;'.repeat(4096)))
  t.equal(amp.status, 200, '20480 raw characters that parse to 4096')
  t.equal(amp.body.result.text, '&'.repeat(4096))
  t.equal((await send(fake, html(GROUP, `<b>${'a'.repeat(4096)}</b>`))).status, 200, 'tags do not count')
  isError(t, await send(fake, html(GROUP, `<b>${'a'.repeat(4096)}</b>&amp;`)), 400, 'Bad Request: message is too long')
  t.equal((await send(fake, { chat_id: GROUP, text: '😀'.repeat(2048) })).status, 200, '2048 emoji = 4096 UTF-16 units')
  isError(t, await send(fake, { chat_id: GROUP, text: `${'😀'.repeat(2048)}a` }), 400, 'Bad Request: message is too long')
  const trailing = await send(fake, { chat_id: GROUP, text: `${'a'.repeat(4096)}\n\n  ` })
  t.equal(trailing.body.result.text, 'a'.repeat(4096), 'Telegram trims trailing spaces and newlines first')
  isError(t, await send(fake, { chat_id: GROUP, text: '' }), 400, 'Bad Request: message text is empty')
  isError(t, await send(fake, { chat_id: GROUP, text: ' \n ' }), 400, 'Bad Request: text must be non-empty')
  isError(t, await send(fake, html(GROUP, '<b></b>')), 400, 'Bad Request: text must be non-empty')
  isError(t, await send(fake, { chat_id: GROUP, text: '\u200b' }), 400, 'Bad Request: text must be non-empty')

  const codepoints = await fakeFor(t, { textLengthUnit: 'codepoints' })
  t.equal((await send(codepoints, { chat_id: GROUP, text: '😀'.repeat(4096) })).status, 200, 'TDLib itself counts characters')
})

t.test('inline keyboards: callback_data is 1-64 bytes, URLs must be valid, shapes are checked', async (t) => {
  const fake = await fakeFor(t)
  const ok = async (callback_data: string, why: string) =>
    t.equal((await send(fake, html(GROUP, 'x', { reply_markup: button('b', callback_data) }))).status, 200, why)
  const invalid = async (callback_data: string, _why: string) =>
    isError(t, await send(fake, html(GROUP, 'x', { reply_markup: button('b', callback_data) })), 400, 'Bad Request: BUTTON_DATA_INVALID')
  await ok('x'.repeat(64), '64 ASCII bytes')
  await invalid('x'.repeat(65), '65 ASCII bytes')
  await ok('é'.repeat(32), '32 × 2-byte characters = 64 bytes')
  await invalid(`${'é'.repeat(32)}x`, '33 characters but 65 bytes')
  await ok('🔥'.repeat(16), '16 × 4 bytes')

  const markup = async (reply_markup: unknown) => send(fake, html(GROUP, 'x', { reply_markup }))
  isError(
    t,
    await markup({ inline_keyboard: [[{ text: 'AM', url: 'http://alertmanager:9093/#/silences' }]] }),
    400,
    "Bad Request: inline keyboard button URL 'http://alertmanager:9093/#/silences' is invalid: Wrong HTTP URL",
  )
  isError(
    t,
    await markup({ inline_keyboard: [[{ text: 'F', url: 'ftp://x.example.com' }]] }),
    400,
    "Bad Request: inline keyboard button URL 'ftp://x.example.com' is invalid: Unsupported URL protocol",
  )
  const linked = await markup({
    inline_keyboard: [[{ text: 'AM', url: 'https://am.example.com/#/silences' }], [{ text: 'tg', url: 'tg://resolve?domain=alice' }]],
  })
  t.same(linked.body.result.reply_markup, {
    inline_keyboard: [[{ text: 'AM', url: 'https://am.example.com/#/silences' }], [{ text: 'tg', url: 'tg://resolve?domain=alice' }]],
  })
  isError(t, await markup({ inline_keyboard: {} }), 400, 'Bad Request: field "inline_keyboard" must be of type Array')
  isError(
    t,
    await markup({ inline_keyboard: [{ text: 'x', callback_data: 'y' }] }),
    400,
    'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays',
  )
  isError(
    t,
    await markup({ inline_keyboard: [[{ text: 'x' }]] }),
    400,
    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
  )
  isError(t, await markup({ inline_keyboard: [[{ callback_data: 'y' }]] }), 400, 'Bad Request: can\'t parse inline keyboard button: Can\'t find field "text"')
  isError(t, await markup({ inline_keyboard: [[{ text: '', callback_data: 'y' }]] }), 400, 'Bad Request: inline keyboard button text must be non-empty')
  isError(
    t,
    await markup({ inline_keyboard: [[{ text: 'x', callback_data: 'y', url: 'https://e.com' }]] }),
    400,
    'Bad Request: can\'t parse inline keyboard button: only one of the fields "url" and "callback_data" may be used',
  )
  isError(t, await markup([]), 400, 'Bad Request: object expected as reply markup')
  isError(
    t,
    await send(fake, html(GROUP, 'x', { reply_markup: '{"inline_keyboard": [[' }), 'form'),
    400,
    "Bad Request: can't parse reply keyboard markup JSON object",
  )
})

t.test('requests: JSON, form and query-string bodies, tokens, paths and methods', async (t) => {
  const fake = await fakeFor(t)
  const params = html(SUPERGROUP, '<i>hi</i>', { reply_markup: button('Ack', 'ack:1'), disable_notification: true })
  for (const encoding of ['json', 'form', 'query'] as const) {
    const answer = await send(fake, params, encoding)
    t.equal(answer.status, 200, encoding)
    t.same(answer.body.result.reply_markup, button('Ack', 'ack:1'), `${encoding}: reply_markup decoded`)
    t.same(
      fake.calls.at(-1)?.params,
      { chat_id: SUPERGROUP, text: '<i>hi</i>', parse_mode: 'HTML', reply_markup: button('Ack', 'ack:1'), disable_notification: true },
      `${encoding}: params decoded`,
    )
  }
  t.equal(
    (await send(fake, { chat_id: GROUP, text: 'json string markup', reply_markup: JSON.stringify(button('a', 'b')) })).status,
    200,
    'a JSON body may carry markup as a JSON string',
  )
  t.equal(fake.messages(SUPERGROUP).at(-1)?.disable_notification, true)
  t.equal((await send(fake, { chat_id: '@OPS_alerts', text: 'by username' })).body.result.chat.id, SUPERGROUP, 'public chats by @username')
  t.equal((await call(fake, 'SENDMESSAGE', { chat_id: GROUP, text: 'x' })).status, 200, 'method names are case-insensitive')
  t.equal((await call(fake, 'getMe', {}, 'query')).body.result.username, 'alertwire_test_bot')

  const wrong = await fetch(`${fake.url}/bot123456:WRONG/getMe`)
  t.same([wrong.status, await wrong.json()], [401, { ok: false, error_code: 401, description: 'Unauthorized' }])
  const malformed = await fetch(`${fake.url}/botnotatoken/getMe`)
  t.same([malformed.status, ((await malformed.json()) as ApiAnswer['body']).description], [401, 'Unauthorized: invalid token specified'])
  isError(t, await call(fake, 'sendMessagee', { chat_id: GROUP, text: 'x' }), 404, 'Not Found: method not found')
  const noPath = await fetch(`${fake.url}/getMe`)
  t.same([noPath.status, await noPath.json()], [404, { ok: false, error_code: 404, description: 'Not Found' }])
  isError(t, await send(fake, { text: 'x' }), 400, 'Bad Request: chat_id is empty')
  isError(t, await send(fake, { chat_id: 5, text: 'x' }), 400, 'Bad Request: chat not found')
  isError(t, await send(fake, { chat_id: '@nobody', text: 'x' }), 400, 'Bad Request: chat not found')
})

t.test('edits and deletes: not found, not modified, keyboard handling, history', async (t) => {
  const fake = await fakeFor(t)
  const first = await send(fake, html(GROUP, '<b>FIRING</b> disk', { reply_markup: button('Silence', 's:1') }))
  const message_id = first.body.result.message_id as number
  const edit = (params: Record<string, unknown>) => call(fake, 'editMessageText', { chat_id: GROUP, message_id, parse_mode: 'HTML', ...params })

  isError(
    t,
    await edit({ text: '<b>FIRING</b> disk', reply_markup: button('Silence', 's:1') }),
    400,
    'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
  )
  isError(
    t,
    await edit({ text: '<b>FIRING</b> disk \n ', reply_markup: button('Silence', 's:1') }),
    400,
    'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
  )
  t.equal((await edit({ text: '<i>FIRING</i> disk', reply_markup: button('Silence', 's:1') })).status, 200, 'same text, other entities: modified')
  const resolved = await edit({ text: '<b>RESOLVED</b> disk' })
  t.equal(resolved.status, 200)
  t.notOk(resolved.body.result.reply_markup, 'an edit without reply_markup removes the keyboard')
  t.ok(resolved.body.result.edit_date)
  const [stored] = fake.messages(GROUP)
  t.equal(stored?.text, 'RESOLVED disk')
  t.same(
    stored?.edits.map((e) => [e.html, e.reply_markup !== undefined]),
    [
      ['<i>FIRING</i> disk', true],
      ['<b>RESOLVED</b> disk', false],
    ],
  )

  isError(
    t,
    await call(fake, 'editMessageReplyMarkup', { chat_id: GROUP, message_id }),
    400,
    'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
  )
  t.equal((await call(fake, 'editMessageReplyMarkup', { chat_id: GROUP, message_id, reply_markup: button('Ack', 'a:1') })).status, 200)
  isError(t, await edit({ text: 'x', message_id: 999 }), 400, 'Bad Request: message to edit not found')

  const command = fake.sendCommand({ chatId: GROUP, from: ALICE, text: '/alerts' })
  isError(t, await edit({ text: 'x', message_id: command['message_id'] }), 400, "Bad Request: message can't be edited")

  t.same((await call(fake, 'deleteMessage', { chat_id: GROUP, message_id })).body, { ok: true, result: true })
  isError(t, await call(fake, 'deleteMessage', { chat_id: GROUP, message_id }), 400, 'Bad Request: message to delete not found')
  isError(t, await edit({ text: 'after delete' }), 400, 'Bad Request: message to edit not found')
  t.equal(fake.messages(GROUP).length, 0, 'deleted messages are gone')
  t.equal(fake.messages(GROUP, { includeDeleted: true })[0]?.deleted, true, 'but can be listed')
  t.equal(fake.messages(GROUP, { includeUsers: true })[0]?.text, '/alerts', "users' messages on request")
})

t.test('replies and forum topics', async (t) => {
  const fake = await fakeFor(t)
  const original = (await send(fake, { chat_id: GROUP, text: 'alert' })).body.result.message_id as number
  const reply = await send(fake, { chat_id: GROUP, text: 'resolved', reply_parameters: { message_id: original } }, 'form')
  t.equal(reply.body.result.reply_to_message.message_id, original)
  t.equal(fake.messages(GROUP).at(-1)?.reply_to_message_id, original)
  isError(t, await send(fake, { chat_id: GROUP, text: 'x', reply_parameters: { message_id: 999 } }), 400, 'Bad Request: message to be replied not found')
  isError(t, await send(fake, { chat_id: GROUP, text: 'x', reply_to_message_id: 999 }), 400, 'Bad Request: message to be replied not found')
  const without = await send(fake, { chat_id: GROUP, text: 'x', reply_parameters: { message_id: 999, allow_sending_without_reply: true } })
  t.equal(without.status, 200)
  t.notOk(without.body.result.reply_to_message, 'sent without the reply')

  const topic = await send(fake, { chat_id: FORUM, text: 'in topic', message_thread_id: 7 }, 'form')
  t.same([topic.body.result.message_thread_id, topic.body.result.is_topic_message], [7, true])
  isError(t, await send(fake, { chat_id: FORUM, text: 'x', message_thread_id: 8 }), 400, 'Bad Request: message thread not found')
  isError(t, await send(fake, { chat_id: GROUP, text: 'x', message_thread_id: 7 }), 400, 'Bad Request: message thread not found')
})

t.test('chats: blocked, kicked, migrated', async (t) => {
  const fake = await fakeFor(t)
  fake.blockChat(PRIVATE)
  isError(t, await send(fake, { chat_id: PRIVATE, text: 'x' }), 403, 'Forbidden: bot was blocked by the user')
  t.equal((await call(fake, 'getChat', { chat_id: PRIVATE })).status, 200, 'a blocked chat can still be read')
  fake.blockChat(GROUP)
  isError(t, await send(fake, { chat_id: GROUP, text: 'x' }), 403, 'Forbidden: bot was kicked from the group chat')
  fake.blockChat(SUPERGROUP)
  isError(t, await send(fake, { chat_id: SUPERGROUP, text: 'x' }), 403, 'Forbidden: bot was kicked from the supergroup chat')
  fake.blockChat(CHANNEL)
  isError(t, await send(fake, { chat_id: CHANNEL, text: 'x' }), 403, 'Forbidden: bot was kicked from the channel chat')
  fake.blockChat(GROUP, false)

  const newId = fake.migrateChat(GROUP)
  const moved = await send(fake, { chat_id: GROUP, text: 'x' })
  isError(t, moved, 400, 'Bad Request: group chat was upgraded to a supergroup chat')
  t.same(moved.body.parameters, { migrate_to_chat_id: newId })
  t.ok(newId <= -1_000_000_000_000, 'a supergroup id')
  const resent = await send(fake, { chat_id: newId, text: 'x' })
  t.same([resent.status, resent.body.result.chat.type], [200, 'supergroup'])
  t.throws(() => fake.addChat({ id: 5, type: 'group' }), /not a valid group chat id/)
})

t.test('rate limits: per private chat, per group, overall; 429 with retry_after', async (t) => {
  let clock = 1_000_000
  const fake = await fakeFor(t, {
    now: () => clock,
    limits: { private: { max: 1, windowMs: 1_000 }, group: { max: 2, windowMs: 60_000 }, global: { max: 4, windowMs: 1_000 } },
  })
  t.equal((await send(fake, { chat_id: PRIVATE, text: '1' })).status, 200)
  clock += 200
  const limited = await send(fake, { chat_id: PRIVATE, text: '2' })
  isError(t, limited, 429, 'Too Many Requests: retry after 1')
  t.same(limited.body.parameters, { retry_after: 1 })
  t.equal(limited.headers.get('retry-after'), '1')
  clock += 850 // 1050 ms after the first: had the refused call counted, this would still be refused
  t.equal((await send(fake, { chat_id: PRIVATE, text: '3' })).status, 200, 'a refused call does not count')

  clock += 2_000
  const id = (await send(fake, { chat_id: GROUP, text: 'g1' })).body.result.message_id as number
  clock += 10_000
  t.equal((await call(fake, 'editMessageText', { chat_id: GROUP, message_id: id, text: 'g1 edited' })).status, 200, 'edits count too')
  clock += 5_000
  const group = await send(fake, { chat_id: GROUP, text: 'g3' })
  isError(t, group, 429, 'Too Many Requests: retry after 45')
  t.same(group.body.parameters, { retry_after: 45 }, 'ceil of the time until the oldest call leaves the 60 s window')
  clock += 45_000
  t.equal((await send(fake, { chat_id: GROUP, text: 'g3' })).status, 200)

  clock += 60_000
  for (const chat_id of [SUPERGROUP, CHANNEL, FORUM, PRIVATE]) t.equal((await send(fake, { chat_id, text: 'burst' })).status, 200)
  isError(t, await send(fake, { chat_id: SUPERGROUP, text: 'fifth in a second' }), 429, 'Too Many Requests: retry after 1')
  t.equal(fake.stats.tooManyRequests, 3)
  t.same(fake.stats.byMethod['sendMessage'], { ok: 8, 429: 3 })
})

t.test('rate limits through node-telegram-bot-api with maxRetries 0, and real time', async (t) => {
  const fake = await fakeFor(t, { limits: { private: { max: 1, windowMs: 300 }, group: null, global: null } })
  const api = new Api(fake.token, { apiRoot: fake.url, maxRetries: 0 })
  await api.sendMessage({ chat_id: PRIVATE, text: 'first' })
  const err = await api.sendMessage({ chat_id: PRIVATE, text: 'second' }).catch((e: unknown) => e)
  t.ok(err instanceof TelegramApiError, 'a TelegramApiError')
  t.same([(err as TelegramApiError).errorCode, (err as TelegramApiError).retryAfter], [429, 1])
  await new Promise((r) => setTimeout(r, 320))
  t.equal((await api.sendMessage({ chat_id: PRIVATE, text: 'third' })).text, 'third', 'the small window has passed')
})

t.test('node-telegram-bot-api talks to the fake (form bodies, JSON-encoded fields, errors)', async (t) => {
  const fake = await fakeFor(t)
  const api = new Api(fake.token, { apiRoot: fake.url, maxRetries: 0 })
  const message = await api.sendMessage({
    chat_id: SUPERGROUP,
    text: '<b>🔥 HighLatency</b> on <code>web-1</code>',
    parse_mode: 'HTML',
    reply_markup: {
      inline_keyboard: [
        [
          { text: 'Silence 1h', callback_data: 'silence:076ae3f4:1h' },
          { text: 'Runbook', url: 'https://runbooks.example.com/latency' },
        ],
      ],
    },
    link_preview_options: { is_disabled: true },
  })
  t.equal(message.text, '🔥 HighLatency on web-1')
  t.same(message.entities, [
    { type: 'bold', offset: 0, length: 14 },
    { type: 'code', offset: 18, length: 5 },
  ])
  const params = fake.calls.at(-1)?.params
  t.equal(params?.['chat_id'], SUPERGROUP, 'the numeric chat_id string was coerced')
  t.same(params?.['link_preview_options'], { is_disabled: true }, 'the JSON-encoded field was decoded')
  t.equal(fake.messages(SUPERGROUP)[0]?.reply_markup?.inline_keyboard[0]?.[1]?.url, 'https://runbooks.example.com/latency')

  const bad = await api.sendMessage({ chat_id: SUPERGROUP, text: '<b>p99 < 1s</b>', parse_mode: 'HTML' }).catch((e: unknown) => e)
  t.ok(bad instanceof TelegramApiError)
  t.equal((bad as TelegramApiError).description, 'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 7')
  fake.migrateChat(GROUP, -1_000_000_000_777)
  const moved = await api.sendMessage({ chat_id: GROUP, text: 'x' }).catch((e: unknown) => e)
  t.equal((moved as TelegramApiError).migrateToChatId, -1_000_000_000_777)
  const edited = await api.editMessageText({ chat_id: SUPERGROUP, message_id: message.message_id, text: '<b>✅ RESOLVED</b>', parse_mode: 'HTML' })
  t.equal(typeof edited === 'object' && edited.text, '✅ RESOLVED')
})

t.test('getUpdates: long polling, offsets, and 409 for a second poller', async (t) => {
  const fake = await fakeFor(t)
  fake.sendCommand({ chatId: GROUP, from: ALICE, text: '/silence HighLatency 1h' })
  const first = await call(fake, 'getUpdates', { timeout: 0 })
  const [update] = first.body.result as { update_id: number; message: { text: string; entities: unknown[]; from: { username: string } } }[]
  t.equal(update?.message.text, '/silence HighLatency 1h')
  t.same(update?.message.entities, [{ type: 'bot_command', offset: 0, length: 8 }])
  t.equal(update?.message.from.username, 'alice')
  t.equal((await call(fake, 'getUpdates', { offset: update!.update_id })).body.result.length, 1, 'not confirmed yet')
  t.same((await call(fake, 'getUpdates', { offset: update!.update_id + 1 })).body.result, [], 'confirmed by offset')

  const started = Date.now()
  const waiting = call(fake, 'getUpdates', { timeout: 5, offset: update!.update_id + 1 }, 'form')
  await fake.waitFor(() => fake.calls.filter((c) => c.method === 'getUpdates').length === 4, 1_000, 'long poll arrived')
  const second = call(fake, 'getUpdates', { timeout: 5, offset: update!.update_id + 1 })
  isError(t, await waiting, 409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running')
  await fake.waitFor(() => fake.calls.filter((c) => c.method === 'getUpdates').length === 5, 1_000, 'second poll arrived')
  fake.sendCommand({ chatId: PRIVATE, from: ALICE, text: '/status' })
  const answered = await second
  t.equal(answered.body.result[0].message.text, '/status')
  t.ok(Date.now() - started < 2_000, 'answered as soon as the update came, not at the timeout')

  const idle = Date.now()
  t.same((await call(fake, 'getUpdates', { timeout: 1, offset: answered.body.result[0].update_id + 1 })).body.result, [])
  t.ok(Date.now() - idle >= 950, 'an empty poll is held for its timeout')
})

t.test('webhook: delivery with the secret header, retries, and 409 for getUpdates', async (t) => {
  const received: { secret: string | undefined; body: { callback_query: { id: string; data: string } } }[] = []
  let failuresLeft = 2
  const receiver = http.createServer((req, res) => {
    let data = ''
    req.on('data', (c) => (data += c))
    req.on('end', () => {
      received.push({ secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined, body: JSON.parse(data) })
      res.statusCode = failuresLeft-- > 0 ? 500 : 200
      res.end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())))
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/telegram`
  const fake = await fakeFor(t, { webhookRetryDelayMs: 10 })

  isError(t, await call(fake, 'setWebhook', { url: hookUrl, secret_token: 'bad token!' }), 400, 'Bad Request: secret token contains unallowed characters')
  t.same((await call(fake, 'setWebhook', { url: hookUrl, secret_token: 's3cr3t_-x' })).body, { ok: true, result: true, description: 'Webhook was set' })
  isError(
    t,
    await call(fake, 'getUpdates', {}),
    409,
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
  )

  const sent = (await send(fake, { chat_id: GROUP, text: 'alert', reply_markup: button('Ack', 'ack:1') })).body.result.message_id as number
  const answer = fake.pressButton({ chatId: GROUP, messageId: sent, from: ALICE, data: 'ack:1' })
  await fake.waitFor(() => fake.webhookDeliveries.length === 3 && fake.pendingUpdates().length === 0, 2_000, 'third attempt delivered')
  t.same(
    received.map((r) => r.secret),
    ['s3cr3t_-x', 's3cr3t_-x', 's3cr3t_-x'],
  )
  t.equal(received[2]?.body.callback_query.data, 'ack:1')
  t.same(
    fake.webhookDeliveries.map((d) => d.status),
    [500, 500, 200],
  )
  const info = (await call(fake, 'getWebhookInfo')).body.result
  t.match(info, { url: hookUrl, pending_update_count: 0, last_error_message: 'Wrong response from the webhook: 500 Internal Server Error' })
  const queryId = received[2]?.body.callback_query.id as string
  t.equal((await call(fake, 'answerCallbackQuery', { callback_query_id: queryId, text: 'Acknowledged' })).status, 200)
  t.same(await answer, { text: 'Acknowledged' })
  t.same((await call(fake, 'deleteWebhook')).body, { ok: true, result: true, description: 'Webhook was deleted' })
  t.same((await call(fake, 'getUpdates', {})).body.result, [])
})

t.test('callback queries: answered once, within 200 characters, before they expire', async (t) => {
  const fake = await fakeFor(t)
  const messageId = (await send(fake, { chat_id: GROUP, text: 'alert', reply_markup: button('Silence', 'silence:1h') })).body.result.message_id as number
  t.throws(() => fake.pressButton({ chatId: GROUP, messageId, from: ALICE, data: 'nope' }), /no button/)
  const answer = fake.pressButton({ chatId: GROUP, messageId, from: ALICE, data: 'silence:1h' })
  const [update] = (await call(fake, 'getUpdates')).body.result as { callback_query: { id: string; data: string; message: { message_id: number } } }[]
  t.same([update?.callback_query.data, update?.callback_query.message.message_id], ['silence:1h', messageId])
  const id = update!.callback_query.id
  isError(t, await call(fake, 'answerCallbackQuery', { callback_query_id: id, text: 'x'.repeat(201) }), 400, 'Bad Request: MESSAGE_TOO_LONG')
  t.equal((await call(fake, 'answerCallbackQuery', { callback_query_id: id, text: 'y'.repeat(200), show_alert: true }, 'form')).status, 200)
  t.same(await answer, { text: 'y'.repeat(200), show_alert: true })
  const tooOld = 'Bad Request: query is too old and response timeout expired or query ID is invalid'
  isError(t, await call(fake, 'answerCallbackQuery', { callback_query_id: id }), 400, tooOld)
  isError(t, await call(fake, 'answerCallbackQuery', { callback_query_id: '123' }), 400, tooOld)

  const late = fake.pressButton({ chatId: GROUP, messageId, from: ALICE, data: 'silence:1h', timeoutMs: 100 })
  await t.rejects(late, /no answerCallbackQuery/)
  const lateId = (fake.pendingUpdates().at(-1)!['callback_query'] as { id: string }).id
  isError(t, await call(fake, 'answerCallbackQuery', { callback_query_id: lateId }), 400, tooOld)
})

t.test('getChatMember, getChat and setMyCommands', async (t) => {
  const fake = await fakeFor(t)
  fake.setChatMember(SUPERGROUP, 7, 'administrator')
  fake.setChatMember(SUPERGROUP, 8, 'creator')
  const status = async (chat_id: number, user_id: number) => (await call(fake, 'getChatMember', { chat_id, user_id }, 'form')).body.result.status
  t.equal(await status(SUPERGROUP, 7), 'administrator')
  t.equal(await status(SUPERGROUP, 8), 'creator')
  t.equal(await status(SUPERGROUP, 9), 'left', 'an unknown user has left')
  fake.sendCommand({ chatId: SUPERGROUP, from: { id: 9, username: 'bob' }, text: '/ack' })
  t.equal(await status(SUPERGROUP, 9), 'member', 'someone who wrote in the chat is a member')
  isError(t, await call(fake, 'getChatMember', { chat_id: SUPERGROUP, user_id: 'x' }), 400, 'Bad Request: invalid user_id specified')
  t.same((await call(fake, 'getChatAdministrators', { chat_id: SUPERGROUP })).body.result.map((m: { user: { id: number } }) => m.user.id).sort(), [7, 8])
  t.match((await call(fake, 'getChat', { chat_id: FORUM })).body.result, { id: FORUM, type: 'supergroup', is_forum: true })

  const commands = [
    { command: 'silence', description: 'Silence an alert' },
    { command: '/ack', description: '  Acknowledge  ' },
  ]
  t.equal((await call(fake, 'setMyCommands', { commands }, 'form')).status, 200)
  t.same((await call(fake, 'getMyCommands')).body.result, [
    { command: 'silence', description: 'Silence an alert' },
    { command: 'ack', description: 'Acknowledge' },
  ])
  const set = (list: unknown) => call(fake, 'setMyCommands', { commands: list })
  isError(t, await set([{ command: 'Silence', description: 'x' }]), 400, 'Bad Request: BOT_COMMAND_INVALID')
  isError(t, await set([{ command: 'silence-now', description: 'x' }]), 400, 'Bad Request: BOT_COMMAND_INVALID')
  isError(t, await set([{ command: 'a'.repeat(33), description: 'x' }]), 400, 'Bad Request: command length must not exceed 32')
  isError(t, await set([{ command: 'a', description: ' ' }]), 400, 'Bad Request: command description must be non-empty')
  isError(t, await set([{ command: 'a', description: 'd'.repeat(257) }]), 400, 'Bad Request: command description length must not exceed 256')
  isError(t, await set([{ command: 'a' }]), 400, 'Bad Request: can\'t parse BotCommand: Can\'t find field "description"')
  isError(t, await set(Array.from({ length: 101 }, (_, i) => ({ command: `c${i}`, description: 'd' }))), 400, 'Bad Request: BOT_COMMANDS_TOO_MUCH')
  isError(t, await call(fake, 'setMyCommands', { commands: '[{' }, 'form'), 400, "Bad Request: can't parse commands JSON object")
})

t.test('faults: 500, 502, reset, slow, dropped response, method filter, windows', async (t) => {
  const fake = await fakeFor(t)
  fake.failNext(1, '500')
  isError(t, await call(fake, 'getMe'), 500, 'Internal Server Error')
  t.equal((await call(fake, 'getMe')).status, 200, 'only the next call failed')

  fake.failNext(1, '502')
  const gateway = await fetch(`${fake.url}/bot${fake.token}/getMe`)
  t.equal(gateway.status, 502)
  t.match(gateway.headers.get('content-type'), /text\/html/)
  t.match(await gateway.text(), /<h1>502 Bad Gateway<\/h1>[\s\S]*nginx/)

  fake.failNext(1, 'reset')
  await t.rejects(call(fake, 'getMe'), TypeError, 'the connection is cut without an answer')

  fake.failNext(1, '500', { method: 'sendMessage' })
  t.equal((await call(fake, 'getMe')).status, 200, 'another method is not affected')
  isError(t, await send(fake, { chat_id: GROUP, text: 'x' }), 500, 'Internal Server Error')

  fake.failNext(1, 'slow', { delayMs: 300 })
  const started = Date.now()
  t.equal((await send(fake, { chat_id: GROUP, text: 'slow' })).status, 200)
  t.ok(Date.now() - started >= 290, 'answered after the delay')

  fake.failNext(1, 'drop-response')
  await t.rejects(send(fake, { chat_id: GROUP, text: 'sent but unconfirmed' }), TypeError)
  t.equal(fake.messages(GROUP).at(-1)?.text, 'sent but unconfirmed', 'the message exists although the client saw an error')

  fake.failFor(300, '500', { method: 'editMessageText' })
  isError(t, await call(fake, 'editMessageText', { chat_id: GROUP, message_id: 1, text: 'y' }), 500, 'Internal Server Error')
  isError(t, await call(fake, 'editMessageText', { chat_id: GROUP, message_id: 1, text: 'z' }), 500, 'Internal Server Error')
  await new Promise((r) => setTimeout(r, 320))
  t.equal((await call(fake, 'editMessageText', { chat_id: GROUP, message_id: 1, text: 'z' })).status, 200, 'the window is over')

  t.same(
    fake.calls.filter((c) => c.fault).map((c) => [c.method, c.status, c.fault]),
    [
      ['getMe', 500, '500'],
      ['getMe', 502, '502'],
      ['getMe', 0, 'reset'],
      ['sendMessage', 500, '500'],
      ['sendMessage', 200, 'slow'],
      ['sendMessage', 200, 'drop-response'],
      ['editMessageText', 500, '500'],
      ['editMessageText', 500, '500'],
    ],
  )
  t.same(fake.stats.byMethod['getMe'], { 'fault:500': 1, ok: 2, 'fault:502': 1, 'fault:reset': 1 })
})

t.test('faults: hung requests end with the window or when the fake closes', async (t) => {
  const fake = await fakeFor(t)
  fake.failFor(300, 'hang', { method: 'getMe' })
  const hung = call(fake, 'getMe')
  t.equal((await send(fake, { chat_id: GROUP, text: 'not hung' })).status, 200, 'other methods still answer')
  await t.rejects(hung, TypeError, 'the hung request is cut when the window ends')

  fake.failNext(1, 'hang')
  await t.rejects(fetch(`${fake.url}/bot${fake.token}/getMe`, { signal: AbortSignal.timeout(200) }), /abort|timeout/i, 'a client timeout fires')
  fake.failNext(1, 'hang')
  const forever = call(fake, 'getMe').catch((e: unknown) => e)
  await fake.waitFor(() => fake.calls.filter((c) => c.fault === 'hang').length === 3, 1_000, 'third hang arrived')
  const closing = Date.now()
  await fake.close()
  t.ok(Date.now() - closing < 1_000, 'close() does not wait for hung requests')
  t.ok((await forever) instanceof TypeError, 'the hung client sees the connection drop')
})

t.test('waitFor resolves with the value or fails with a useful message', async (t) => {
  const fake = await fakeFor(t)
  setTimeout(() => void send(fake, { chat_id: GROUP, text: 'later' }), 50)
  const message = await fake.waitFor(() => fake.messages(GROUP)[0], 1_000, 'first message')
  t.equal(message.text, 'later')
  await t.rejects(
    fake.waitFor(() => fake.messages(PRIVATE).length > 0, 50, 'a private message'),
    /waitFor\(a private message\) timed out after 50 ms; the fake saw 1 call\(s\), last: \[sendMessage→200\]/,
  )
})

/* ------------------------------- sendPhoto ------------------------------------------------ */

/** a real PNG of that size (pngjs), or, for sizes too large to draw in a test, a PNG whose header says so (all the fake reads) */
function png(width: number, height: number, { headerOnly = false } = {}): Buffer {
  if (!headerOnly) return PNG.sync.write(new PNG({ width, height }))
  const ihdr = Buffer.alloc(25)
  ihdr.writeUInt32BE(13, 0)
  ihdr.write('IHDR', 4, 'latin1')
  ihdr.writeUInt32BE(width, 8)
  ihdr.writeUInt32BE(height, 12)
  ihdr.writeUInt8(8, 16)
  ihdr.writeUInt8(6, 17)
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr])
}

/** sendPhoto as a multipart upload (undici FormData), fields as the Bot API reads them */
async function photo(fake: FakeTelegram, fields: Record<string, unknown>, picture?: Buffer, type = 'image/png'): Promise<ApiAnswer> {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v))
  if (picture) form.set('photo', new Blob([new Uint8Array(picture)], { type }), 'graph.png')
  const res = await fetch(`${fake.url}/bot${fake.token}/sendPhoto`, { method: 'POST', body: form })
  return { status: res.status, headers: res.headers, body: (await res.json()) as ApiAnswer['body'] }
}

t.test('sendPhoto: a multipart PNG upload with an HTML caption, replying in a topic, with buttons', async (t) => {
  const fake = await fakeFor(t)
  const alert = (await send(fake, { chat_id: FORUM, text: 'alert', message_thread_id: 7 })).body.result.message_id as number
  const picture = png(800, 450)
  const keyboard = { inline_keyboard: [[{ text: '1h', callback_data: 'g:1h' }]] }
  const answer = await photo(
    fake,
    {
      chat_id: FORUM,
      caption: '<b>HighLatency</b> · 1 h &amp; more',
      parse_mode: 'HTML',
      message_thread_id: 7,
      reply_parameters: { message_id: alert },
      reply_markup: keyboard,
    },
    picture,
  )
  t.equal(answer.status, 200, answer.body.description ?? 'accepted')
  const result = answer.body.result
  t.match(result.photo, [{ width: 800, height: 450, file_size: picture.length }], 'PhotoSize as the Bot API shows it')
  t.equal(result.caption, 'HighLatency · 1 h & more')
  t.same(result.caption_entities, [{ type: 'bold', offset: 0, length: 11 }])
  t.notOk('text' in result, 'a photo message has a caption, not a text')
  t.same([result.reply_to_message.message_id, result.message_thread_id], [alert, 7])
  const stored = fake.messages(FORUM).at(-1)!
  t.same([stored.photo?.width, stored.photo?.height, stored.reply_to_message_id], [800, 450, alert], 'fake.messages shows the photo')
  t.ok(stored.photo?.data.equals(picture), 'the bytes as uploaded')
  t.same(stored.reply_markup, keyboard)
  t.same(fake.calls.at(-1)?.params['photo'], { filename: 'graph.png', contentType: 'image/png', bytes: picture.length }, 'the call log names the upload')

  isError(
    t,
    await call(fake, 'editMessageText', { chat_id: FORUM, message_id: stored.message_id, text: 'now text' }),
    400,
    'Bad Request: there is no text in the message to edit',
  )
  t.equal((await photo(fake, { chat_id: GROUP }, png(10, 10))).status, 200, 'a caption is optional')
})

t.test('sendPhoto: refused as Telegram refuses (no photo, size, dimensions, ratio, caption, reply, topic)', async (t) => {
  const fake = await fakeFor(t)
  isError(t, await photo(fake, { chat_id: GROUP }), 400, 'Bad Request: there is no photo in the request')
  isError(
    t,
    await call(fake, 'sendPhoto', { chat_id: GROUP, photo: 'AgACAgIAAx0' }),
    400,
    'Bad Request: wrong remote file identifier specified: the fake Telegram takes uploads only',
  )
  isError(t, await photo(fake, { chat_id: GROUP }, Buffer.from('GIF89a not a png')), 400, 'Bad Request: IMAGE_PROCESS_FAILED')
  const big = Buffer.concat([png(100, 100), Buffer.alloc(10 * 1024 * 1024)])
  isError(t, await photo(fake, { chat_id: GROUP }, big), 400, 'Bad Request: file is too big')
  t.equal((await photo(fake, { chat_id: GROUP }, png(5000, 5000, { headerOnly: true }))).status, 200, 'width + height = 10000 is allowed')
  isError(t, await photo(fake, { chat_id: GROUP }, png(5000, 5001, { headerOnly: true })), 400, 'Bad Request: PHOTO_INVALID_DIMENSIONS')
  t.equal((await photo(fake, { chat_id: GROUP }, png(2000, 100, { headerOnly: true }))).status, 200, 'a ratio of 20 is allowed')
  isError(t, await photo(fake, { chat_id: GROUP }, png(100, 2001, { headerOnly: true })), 400, 'Bad Request: PHOTO_INVALID_DIMENSIONS')

  const tiny = png(20, 10)
  t.equal((await photo(fake, { chat_id: GROUP, caption: `<b>${'x'.repeat(1024)}</b>`, parse_mode: 'HTML' }, tiny)).status, 200, '1024 after parsing')
  isError(t, await photo(fake, { chat_id: GROUP, caption: 'y'.repeat(1025) }, tiny), 400, 'Bad Request: message caption is too long')
  isError(
    t,
    await photo(fake, { chat_id: GROUP, caption: 'a <b>b', parse_mode: 'HTML' }, tiny),
    400,
    'Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag "b"',
  )
  isError(t, await photo(fake, { chat_id: GROUP, reply_parameters: { message_id: 999 } }, tiny), 400, 'Bad Request: message to be replied not found')
  isError(t, await photo(fake, { chat_id: FORUM, message_thread_id: 8 }, tiny), 400, 'Bad Request: message thread not found')
  isError(
    t,
    await photo(fake, { chat_id: GROUP, reply_markup: { inline_keyboard: [[{ text: 'x', callback_data: 'z'.repeat(65) }]] } }, tiny),
    400,
    'Bad Request: BUTTON_DATA_INVALID',
  )
  t.equal(fake.messages(GROUP).length, 3, 'only the accepted photos are in the chat')
})

t.test('sendPhoto: counted in the same rate limits as messages', async (t) => {
  let clock = 1_000_000
  const fake = await fakeFor(t, { now: () => clock, limits: { private: { max: 1, windowMs: 1_000 }, group: { max: 2, windowMs: 60_000 }, global: null } })
  t.equal((await send(fake, { chat_id: GROUP, text: 'alert' })).status, 200)
  t.equal((await photo(fake, { chat_id: GROUP }, png(10, 10))).status, 200)
  clock += 1_000
  isError(t, await photo(fake, { chat_id: GROUP }, png(10, 10)), 429, 'Too Many Requests: retry after 59')
  isError(t, await send(fake, { chat_id: GROUP, text: 'third' }), 429, 'Too Many Requests: retry after 59')
})

t.test('sendPhoto through the client (node-telegram-bot-api multipart, the same fetch)', async (t) => {
  const fake = await fakeFor(t)
  const client = createTelegramClient({ token: fake.token, apiUrl: fake.url, timeoutMs: 5_000 })
  const alert = await client.sendMessage({ chatId: String(GROUP), text: 'alert', html: false, silent: false })
  const picture = png(640, 360)
  const sent = await client.sendPhoto({ chatId: String(GROUP), png: picture, caption: '<i>last hour</i>', html: true, silent: true, replyTo: alert.messageId })
  const stored = fake.message(GROUP, sent.messageId)!
  t.same(
    [stored.photo?.width, stored.photo?.height, stored.text, stored.reply_to_message_id, stored.disable_notification],
    [640, 360, 'last hour', alert.messageId, true],
  )
  t.ok(stored.photo?.data.equals(picture), 'bytes intact through multipart')
  const refused = await client
    .sendPhoto({ chatId: String(GROUP), png: png(10, 10), caption: 'z'.repeat(1025), html: false, silent: false })
    .catch((e: unknown) => e)
  t.match(refused, { errorCode: 400, description: 'Bad Request: message caption is too long' })
})
