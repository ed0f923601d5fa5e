/**
 * Telegram's HTML parse mode, as alertwire needs it: escape values, measure a message the way
 * Telegram does (characters after entity parsing, in UTF-16 code units), cut it without breaking
 * a tag or an entity, and turn it into plain text for the fallback when Telegram refuses it.
 */

const ALLOWED_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'tg-emoji', 'code', 'pre', 'blockquote'])
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' }

/** UNSAFE: a character escapeHtml changes (most values have none: they are returned as they are) */
const UNSAFE = /[&<>"]/

/** escapeHtml makes any text safe inside Telegram HTML (outside and inside attribute values). */
export function escapeHtml(text: string): string {
  if (!UNSAFE.test(text)) return text
  return text.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'))
}

type Token = { kind: 'text'; raw: string; text: string } | { kind: 'open'; raw: string; name: string } | { kind: 'close'; raw: string; name: string }

export class HtmlError extends Error {}

function decodeEntity(body: string): string | undefined {
  if (body in NAMED_ENTITIES) return NAMED_ENTITIES[body]
  const numeric = /^#(x[0-9a-fA-F]{1,6}|[0-9]{1,7})$/.exec(body)
  if (!numeric) return undefined
  const code = numeric[1]!.startsWith('x') ? parseInt(numeric[1]!.slice(1), 16) : parseInt(numeric[1]!, 10)
  if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined
  return String.fromCodePoint(code)
}

/** tokenize splits Telegram HTML into text runs and tags, or throws HtmlError naming the problem. */
function tokenize(html: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  let raw = ''
  let text = ''
  const flushText = () => {
    if (raw) tokens.push({ kind: 'text', raw, text })
    raw = ''
    text = ''
  }
  while (i < html.length) {
    const c = html[i]!
    if (c === '<') {
      const end = html.indexOf('>', i)
      if (end < 0) throw new HtmlError(`unclosed "<" at offset ${i}`)
      const inner = html.slice(i + 1, end)
      const tag = /^(\/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<]*)?$/.exec(inner)
      if (!tag) throw new HtmlError(`malformed tag at offset ${i}`)
      const name = tag[2]!.toLowerCase()
      if (!ALLOWED_TAGS.has(name)) throw new HtmlError(`unsupported tag "${name}" at offset ${i}`)
      flushText()
      tokens.push({ kind: tag[1] ? 'close' : 'open', raw: html.slice(i, end + 1), name })
      i = end + 1
    } else if (c === '&') {
      const end = html.indexOf(';', i)
      const decoded = end > i && end - i <= 12 ? decodeEntity(html.slice(i + 1, end)) : undefined
      if (decoded === undefined) throw new HtmlError(`"&" not starting an entity at offset ${i}`)
      raw += html.slice(i, end + 1)
      text += decoded
      i = end + 1
    } else if (c === '>') {
      throw new HtmlError(`unescaped ">" at offset ${i}`)
    } else {
      raw += c
      text += c
      i++
    }
  }
  flushText()
  return tokens
}

/** parseHtml checks that html is well-formed Telegram HTML and returns its plain text. */
export function parseHtml(html: string): { ok: true; text: string } | { ok: false; error: string } {
  try {
    const stack: string[] = []
    let text = ''
    for (const token of tokenize(html)) {
      if (token.kind === 'text') text += token.text
      else if (token.kind === 'open') stack.push(token.name)
      else if (stack.pop() !== token.name) throw new HtmlError(`unexpected end tag "${token.name}"`)
    }
    if (stack.length > 0) throw new HtmlError(`tag "${stack.at(-1)}" is never closed`)
    return { ok: true, text }
  } catch (error) {
    if (error instanceof HtmlError) return { ok: false, error: error.message }
    throw error
  }
}

/** plainLength is the message length Telegram checks against 4096: parsed text in UTF-16 units. */
export function plainLength(html: string): number {
  const parsed = parseHtml(html)
  if (!parsed.ok) throw new HtmlError(parsed.error)
  return parsed.text.length
}

/** htmlToPlain is the text a person would read, for sending without parse_mode. */
export function htmlToPlain(html: string): string {
  const parsed = parseHtml(html)
  return parsed.ok ? parsed.text : html
}

/** cutText cuts plain text to at most max UTF-16 units without splitting a surrogate pair. */
export function cutText(text: string, max: number, ellipsis = '…'): string {
  if (text.length <= max) return text
  let end = Math.max(0, max - ellipsis.length)
  const code = text.charCodeAt(end - 1)
  if (code >= 0xd800 && code <= 0xdbff) end--
  return text.slice(0, end) + ellipsis
}

/**
 * truncateHtml cuts well-formed Telegram HTML so that its plain text is at most max units: the cut
 * falls in plain text (never in a tag or an entity), an ellipsis marks it and open tags are closed.
 */
export function truncateHtml(html: string, max: number, ellipsis = '…'): string {
  const tokens = tokenize(html)
  if (tokens.reduce((n, t) => n + (t.kind === 'text' ? t.text.length : 0), 0) <= max) return html
  const budget = Math.max(0, max - ellipsis.length)
  const open: string[] = []
  let out = ''
  let used = 0
  for (const token of tokens) {
    if (token.kind === 'text') {
      if (used + token.text.length > budget) {
        out += escapeHtml(cutText(token.text, budget - used, '')) + escapeHtml(ellipsis)
        break
      }
      used += token.text.length
      out += token.raw
    } else {
      if (token.kind === 'open') open.push(token.name)
      else open.pop()
      out += token.raw
    }
  }
  return (
    out +
    open
      .reverse()
      .map((name) => `</${name}>`)
      .join('')
  )
}
