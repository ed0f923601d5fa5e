import t from 'tap'
import { cutText, escapeHtml, htmlToPlain, parseHtml, plainLength, truncateHtml } from '../../src/core/html.js'

t.test('escapeHtml leaves text Telegram shows exactly as written', async (t) => {
  const hostile = `<script>alert("x")</script> & &amp; 'q' \`b\` *_[]()~>#+-=|{}.!`
  const escaped = escapeHtml(hostile)
  const parsed = parseHtml(escaped)
  t.ok(parsed.ok)
  t.equal(parsed.ok && parsed.text, hostile, 'round trip through Telegram parsing gives the original text')
})

t.test('parseHtml accepts Telegram HTML and refuses what Telegram refuses', async (t) => {
  const cases: [string, boolean][] = [
    ['<b>bold</b> <i>i</i> <a href="https://x.io/?a=1&amp;b=2">link</a>', true],
    ['<blockquote expandable>long</blockquote><pre><code class="language-js">x</code></pre>', true],
    ['&#128512; &#x1F600; &lt;&gt;&amp;&quot;', true],
    ['a & b', false],
    ['a < b', false],
    ['a > b', false],
    ['<div>x</div>', false],
    ['<b>unclosed', false],
    ['<b><i>crossed</b></i>', false],
    ['&nbsp;', false],
    ['&#xD800;', false],
  ]
  for (const [html, ok] of cases) t.equal(parseHtml(html).ok, ok, html)
})

t.test('plainLength counts UTF-16 units after parsing, as Telegram does', async (t) => {
  t.equal(plainLength('<b>ab</b>&amp;'), 3)
  t.equal(plainLength('😀'), 2, 'an emoji outside the BMP is two units')
  t.equal(htmlToPlain('<b>a&lt;b</b>'), 'a<b')
})

t.test('cutText never splits a surrogate pair', async (t) => {
  const text = 'ab😀cd'
  t.equal(cutText(text, 3, ''), 'ab', 'stops before the emoji rather than cutting it in half')
  t.equal(cutText(text, 4, ''), 'ab😀')
  t.equal(cutText('short', 10), 'short')
  t.equal(cutText('abcdef', 4), 'abc…')
})

t.test('truncateHtml cuts plain text, never a tag or an entity, and closes what it opened', async (t) => {
  const html = `<b>${'&amp;'.repeat(50)}</b><i>${'x'.repeat(100)}</i>`
  for (const max of [1, 10, 49, 50, 51, 75, 149, 150]) {
    const cut = truncateHtml(html, max)
    const parsed = parseHtml(cut)
    t.ok(parsed.ok, `max ${max}: still valid HTML`)
    t.ok(parsed.ok && parsed.text.length <= max, `max ${max}: ${parsed.ok && parsed.text.length} characters`)
  }
  t.equal(truncateHtml('<b>short</b>', 100), '<b>short</b>', 'short text is untouched')
  t.match(truncateHtml('<b>abcdef</b>', 4), /^<b>abc…<\/b>$/)
})
