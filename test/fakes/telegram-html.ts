/**
 * Telegram's text parse modes, reimplemented for the fake Bot API.
 *
 * This file deliberately imports nothing from src/: it is a second, independent reading of how
 * Telegram turns `text` + `parse_mode` into plain text and entities, so that the fake can catch
 * the service's own renderer when the two disagree.
 *
 * The HTML parser follows TDLib's `parse_html` (td/telegram/MessageEntity.cpp, the code behind
 * api.telegram.org) step by step: the same tag scanner, the same attribute rules, the same error
 * texts and byte offsets. Where TDLib is lenient with input the documentation forbids ("all `<`,
 * `>` and `&` symbols that are not a part of a tag or an HTML entity must be replaced with the
 * corresponding HTML entities"; "a href must be a URL"), `strict` mode (the default) refuses it,
 * because the service must never depend on Telegram's leniency.
 */

/** The entity types this module can produce, named as the Bot API names them. */
export type EntityType =
  | 'bold'
  | 'italic'
  | 'underline'
  | 'strikethrough'
  | 'spoiler'
  | 'code'
  | 'pre'
  | 'text_link'
  | 'text_mention'
  | 'custom_emoji'
  | 'blockquote'
  | 'expandable_blockquote'
  | 'date_time'
  | 'bot_command'

/** A MessageEntity as the Bot API returns it; offsets and lengths are in UTF-16 code units. */
export interface MessageEntity {
  type: EntityType
  offset: number
  length: number
  url?: string
  language?: string
  custom_emoji_id?: string
  user?: { id: number }
  unix_time?: number
  date_time_format?: string
}

/** The outcome of parsing: plain text, its entities, and whether any blockquote is expandable. */
export interface ParsedText {
  text: string
  entities: MessageEntity[]
  expandableBlockquote: boolean
}

/** Options for the parsers. */
export interface ParseOptions {
  /** Refuse what the documentation forbids but TDLib tolerates (default true). */
  strict?: boolean
}

/**
 * EntityParseError is thrown by every parser; `description` is the text Telegram puts after
 * "Bad Request: " (e.g. `can't parse entities: Unsupported start tag "foo" at byte offset 0`).
 */
export class EntityParseError extends Error {
  readonly description: string
  constructor(readonly reason: string) {
    super(`Can't parse entities: ${reason}`)
    this.name = 'EntityParseError'
    this.description = `can't parse entities: ${reason}`
  }
}

const HTML_TAGS = new Set([
  'a',
  'b',
  'strong',
  'i',
  'em',
  's',
  'strike',
  'del',
  'u',
  'ins',
  'tg-spoiler',
  'tg-emoji',
  'tg-time',
  'span',
  'pre',
  'code',
  'blockquote',
])

const NAMED_ENTITIES: Record<string, number> = { lt: 0x3c, gt: 0x3e, amp: 0x26, quot: 0x22 }

// TDLib's is_space(): the only characters that end a tag name or separate attributes.
const isSpace = (ch: string | undefined): boolean => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\v' || ch === '\f'

const isAsciiLetter = (ch: string | undefined): boolean => ch !== undefined && /^[A-Za-z]$/.test(ch)

/** codePointLength returns the number of Unicode characters (what TDLib's utf8_length counts). */
export function codePointLength(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

/** utf8ByteLength returns the size of `text` in UTF-8 bytes (callback_data limits count bytes). */
export function utf8ByteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

// Telegram reports positions as byte offsets into the UTF-8 text.
const byteOffset = (source: string, index: number): number => Buffer.byteLength(source.slice(0, index), 'utf8')

interface DecodedEntity {
  code: number
  end: number
  terminated: boolean
}

/** Decode the character reference at `pos` (which holds '&') exactly as TDLib does, or undefined. */
function decodeHtmlEntity(source: string, pos: number): DecodedEntity | undefined {
  let end = pos + 1
  let code = 0
  if (source[end] === '#') {
    end++
    // TDLib only knows a lowercase 'x' for hexadecimal references.
    const hex = source[end] === 'x'
    if (hex) end++
    const digit = hex ? /^[0-9a-fA-F]$/ : /^[0-9]$/
    while (end < source.length && digit.test(source[end]!)) {
      code = code * (hex ? 16 : 10) + parseInt(source[end]!, 16)
      end++
    }
    if (code === 0 || code >= 0x10ffff || end - pos >= 10) return undefined
  } else {
    while (isAsciiLetter(source[end])) end++
    const named = NAMED_ENTITIES[source.slice(pos + 1, end)]
    if (named === undefined) return undefined
    code = named
  }
  const terminated = source[end] === ';'
  return { code, end: terminated ? end + 1 : end, terminated }
}

const isSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdfff

/** The state one HTML parse threads through its helpers. */
interface HtmlState {
  source: string
  strict: boolean
  i: number
  text: string
  entities: MessageEntity[]
  open: OpenTag[]
  sawSurrogate: boolean
}

interface OpenTag {
  tag: string
  argument: string
  unixTime: number
  offset: number
  sourceIndex: number
}

/** parseTelegramHtml parses like sendMessage with parse_mode=HTML, or throws Telegram's EntityParseError. */
export function parseTelegramHtml(html: string, options: ParseOptions = {}): ParsedText {
  const st: HtmlState = {
    source: html,
    strict: options.strict ?? true,
    i: 0,
    text: '',
    entities: [],
    open: [],
    sawSurrogate: false,
  }
  while (st.i < html.length) {
    const ch = html[st.i]!
    if (ch === '&') readCharacterReference(st)
    else if (ch === '<' && html[st.i + 1] === '/') readEndTag(st)
    else if (ch === '<') readStartTag(st)
    else if (ch === '>' && st.strict) fail(`Unescaped ">" at byte offset ${byteOffset(html, st.i)}, use "&gt;"`)
    else {
      st.text += ch
      st.i++
    }
  }
  const unclosed = st.open.at(-1)
  if (unclosed) fail(`Can't find end tag corresponding to start tag "${unclosed.tag}"`)
  if (st.sawSurrogate) {
    // TDLib writes each reference as UTF-8 on its own, so even a "valid" pair is invalid UTF-8.
    fail('Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units')
  }
  return finishEntities(st.text, st.entities)
}

function fail(reason: string): never {
  throw new EntityParseError(reason)
}

/** Consume '&...' at st.i: a known reference is decoded; anything else is literal (or an error). */
function readCharacterReference(st: HtmlState): void {
  const decoded = decodeAmpersand(st, st.i)
  if (decoded === undefined) {
    st.text += '&'
    st.i++
    return
  }
  st.text += decoded.char
  st.i = decoded.end
}

/** Decode an '&' in text or attribute values; undefined means "keep it literally" (lenient mode). */
function decodeAmpersand(st: HtmlState, pos: number): { char: string; end: number } | undefined {
  const entity = decodeHtmlEntity(st.source, pos)
  if (entity && (entity.terminated || !st.strict)) {
    if (isSurrogate(entity.code)) st.sawSurrogate = true
    const char = isSurrogate(entity.code) ? String.fromCharCode(entity.code) : String.fromCodePoint(entity.code)
    return { char, end: entity.end }
  }
  if (!st.strict) return undefined
  const at = byteOffset(st.source, pos)
  if (entity) fail(`Character entity must end with ";" at byte offset ${at}`)
  fail(`Character entity expected at byte offset ${at}, use "&amp;" for a literal "&"`)
}

/** Consume a start tag at st.i and push it on the stack of open tags. */
function readStartTag(st: HtmlState): void {
  const src = st.source
  const begin = st.i
  const at = () => byteOffset(src, begin)
  let i = begin + 1
  while (i < src.length && !isSpace(src[i]) && src[i] !== '>') i++
  if (i >= src.length) fail(`Unclosed start tag at byte offset ${at()}`)
  const tag = src.slice(begin + 1, i).toLowerCase()
  if (!HTML_TAGS.has(tag)) fail(`Unsupported start tag "${tag}" at byte offset ${at()}`)

  const open: OpenTag = { tag, argument: '', unixTime: 0, offset: st.text.length, sourceIndex: begin }
  while (src[i] !== '>') {
    while (i < src.length && isSpace(src[i])) i++
    if (src[i] === '>') break
    i = readAttribute(st, open, i, at)
  }
  if (tag === 'span' && open.argument !== 'spoiler') {
    fail(`Tag "span" must have class "tg-spoiler" at byte offset ${at()}`)
  }
  st.open.push(open)
  st.i = i + 1
}

/** Read one attribute starting at `i`, record what matters for `open`, return the next index. */
function readAttribute(st: HtmlState, open: OpenTag, start: number, at: () => number): number {
  const src = st.source
  const tag = open.tag
  let i = start
  while (i < src.length && !isSpace(src[i]) && !'=>/"\''.includes(src[i]!)) i++
  const name = src.slice(start, i)
  if (name === '') fail(`Empty attribute name in the tag "${tag}" at byte offset ${at()}`)
  while (i < src.length && isSpace(src[i])) i++
  if (src[i] !== '=') {
    if (i >= src.length) fail(`Unclosed start tag "${tag}" at byte offset ${at()}`)
    if (tag === 'blockquote' && name === 'expandable') open.argument = '1'
    return i
  }
  i++
  while (i < src.length && isSpace(src[i])) i++
  if (i >= src.length) fail(`Unclosed start tag "${tag}" at byte offset ${at()}`)
  const [value, next] = src[i] === '"' || src[i] === "'" ? readQuotedValue(st, i) : readNameToken(src, i)
  if (next >= src.length) fail(`Unclosed start tag at byte offset ${at()}`)
  applyAttribute(open, name, value)
  return next
}

/** An unquoted value is an SGML name token: letters, digits, '.', '-' (and case-insensitive). */
function readNameToken(src: string, start: number): [string, number] {
  let i = start
  while (i < src.length && /^[A-Za-z0-9.-]$/.test(src[i]!)) i++
  if (i < src.length && !isSpace(src[i]) && src[i] !== '>') {
    fail(`Unexpected end of name token at byte offset ${byteOffset(src, start)}`)
  }
  return [src.slice(start, i).toLowerCase(), i]
}

/** A quoted value runs to the matching quote; character references inside it are decoded. */
function readQuotedValue(st: HtmlState, start: number): [string, number] {
  const src = st.source
  const quote = src[start]!
  let i = start + 1
  let value = ''
  while (i < src.length && src[i] !== quote) {
    if (src[i] === '&') {
      const decoded = decodeAmpersand(st, i)
      if (decoded) {
        value += decoded.char
        i = decoded.end
        continue
      }
    }
    value += src[i]
    i++
  }
  return [value, src[i] === quote ? i + 1 : i]
}

/** Attribute names are case-sensitive in TDLib: only these exact names mean anything. */
function applyAttribute(open: OpenTag, name: string, value: string): void {
  const { tag } = open
  if (tag === 'a' && name === 'href') open.argument = value
  else if (tag === 'code' && name === 'class' && value.startsWith('language-')) open.argument = value.slice(9)
  else if (tag === 'span' && name === 'class' && value.startsWith('tg-')) open.argument = value.slice(3)
  else if (tag === 'tg-emoji' && name === 'emoji-id') open.argument = value
  else if (tag === 'blockquote' && name === 'expandable') open.argument = '1'
  else if (tag === 'tg-time' && name === 'unix') open.unixTime = parseInt(value, 10) || 0
  else if (tag === 'tg-time' && name === 'format') open.argument = value
}

/** Consume an end tag at st.i, check it closes the innermost open tag, and emit its entity. */
function readEndTag(st: HtmlState): void {
  const src = st.source
  const begin = st.i
  const at = () => byteOffset(src, begin)
  const top = st.open.at(-1)
  if (!top) fail(`Unexpected end tag at byte offset ${at()}`)
  let i = begin + 2
  while (i < src.length && !isSpace(src[i]) && src[i] !== '>') i++
  const name = src.slice(begin + 2, i).toLowerCase()
  while (i < src.length && isSpace(src[i])) i++
  if (src[i] !== '>') fail(`Unclosed end tag at byte offset ${at()}`)
  // TDLib accepts "</>" as "close whatever is open".
  if (name !== '' && name !== top.tag) {
    fail(`Unmatched end tag at byte offset ${at()}, expected "</${top.tag}>", found "</${name}>"`)
  }
  st.open.pop()
  st.i = i + 1
  // An element with no text produces no entity at all.
  if (st.text.length > top.offset) emitEntity(st, top)
}

const SIMPLE_TAG_TYPES: Record<string, EntityType> = {
  i: 'italic',
  em: 'italic',
  b: 'bold',
  strong: 'bold',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  u: 'underline',
  ins: 'underline',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
}

function emitEntity(st: HtmlState, open: OpenTag): void {
  const offset = open.offset
  const length = st.text.length - offset
  const simple = SIMPLE_TAG_TYPES[open.tag]
  if (simple) {
    st.entities.push({ type: simple, offset, length })
    return
  }
  switch (open.tag) {
    case 'tg-emoji':
      emitCustomEmoji(st, open, length)
      return
    case 'tg-time':
      if (open.unixTime > 0) {
        st.entities.push({ type: 'date_time', offset, length, unix_time: open.unixTime, ...(open.argument ? { date_time_format: open.argument } : {}) })
      }
      return
    case 'a':
      emitLink(st, open, length)
      return
    case 'pre':
      emitPre(st, offset, length)
      return
    case 'code':
      emitCode(st, open, length)
      return
    case 'blockquote':
      st.entities.push({ type: open.argument ? 'expandable_blockquote' : 'blockquote', offset, length })
      return
  }
}

function emitCustomEmoji(st: HtmlState, open: OpenTag, length: number): void {
  const id = open.argument
  const valid = /^-?\d{1,19}$/.test(id) && BigInt(id) !== 0n && BigInt(id) <= 9223372036854775807n && BigInt(id) >= -9223372036854775808n
  if (!valid) fail('Invalid custom emoji identifier specified')
  st.entities.push({ type: 'custom_emoji', offset: open.offset, length, custom_emoji_id: String(BigInt(id)) })
}

function emitLink(st: HtmlState, open: OpenTag, length: number): void {
  // Without href, TDLib uses the link text itself as the URL.
  const url = open.argument || st.text.slice(open.offset)
  const mention = /^tg:(?:\/\/)?user\?id=(\d{1,15})$/i.exec(url)
  if (mention) {
    st.entities.push({ type: 'text_mention', offset: open.offset, length, user: { id: Number(mention[1]) } })
    return
  }
  const checked = checkTelegramUrl(url, { allowMailto: true })
  if (checked.ok) {
    st.entities.push({ type: 'text_link', offset: open.offset, length, url: checked.url })
    return
  }
  // Telegram silently drops such a link; a renderer that emits one has lost a link it meant to send.
  if (st.strict) {
    fail(`URL '${url}' of the tag "a" at byte offset ${byteOffset(st.source, open.sourceIndex)} is invalid: ${checked.reason}`)
  }
}

function emitPre(st: HtmlState, offset: number, length: number): void {
  const last = st.entities.at(-1)
  if (last && last.type === 'code' && last.offset === offset && last.length === length && last.language) {
    last.type = 'pre'
    return
  }
  st.entities.push({ type: 'pre', offset, length })
}

function emitCode(st: HtmlState, open: OpenTag, length: number): void {
  const last = st.entities.at(-1)
  if (last && last.type === 'pre' && last.offset === open.offset && last.length === length && open.argument) {
    last.language = open.argument
    return
  }
  st.entities.push({ type: 'code', offset: open.offset, length, ...(open.argument ? { language: open.argument } : {}) })
}

// TDLib's sort order: offset ascending, then the longer entity first, then by type priority.
const TYPE_PRIORITY: Record<EntityType, number> = {
  blockquote: 0,
  expandable_blockquote: 0,
  pre: 11,
  code: 20,
  text_link: 49,
  text_mention: 49,
  bold: 90,
  italic: 91,
  underline: 92,
  strikethrough: 93,
  spoiler: 94,
  date_time: 95,
  custom_emoji: 99,
  bot_command: 50,
}

const isCodeLike = (e: MessageEntity): boolean => e.type === 'code' || e.type === 'pre'
const isQuote = (e: MessageEntity): boolean => e.type === 'blockquote' || e.type === 'expandable_blockquote'
const contains = (outer: MessageEntity, inner: MessageEntity): boolean =>
  outer !== inner && inner.offset >= outer.offset && inner.offset + inner.length <= outer.offset + outer.length

/**
 * finishEntities applies the documented nesting rules the way Telegram does (silently): code and
 * pre can't contain other entities, blockquotes can't be nested; then sorts like TDLib.
 */
function finishEntities(text: string, raw: MessageEntity[]): ParsedText {
  // A language on a plain <code> is dropped: only <pre><code class=...> keeps it.
  let entities = raw.map((e) => (e.type === 'code' && e.language ? { type: e.type, offset: e.offset, length: e.length } : e))
  entities = entities.filter((e) => !entities.some((outer) => isCodeLike(outer) && contains(outer, e) && !isQuote(e)))
  entities = entities.filter((e) => !(isQuote(e) && entities.some((outer) => isQuote(outer) && contains(outer, e))))
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length || TYPE_PRIORITY[a.type] - TYPE_PRIORITY[b.type])
  return { text, entities, expandableBlockquote: entities.some((e) => e.type === 'expandable_blockquote') }
}

/** The outcome of checking a URL: Telegram's normalised form, or the reason it is refused. */
export type UrlCheck = { ok: true; url: string } | { ok: false; reason: string }

/** checkTelegramUrl validates a button or text link like TDLib's LinkManager::check_link. */
export function checkTelegramUrl(url: string, options: { allowMailto?: boolean } = {}): UrlCheck {
  // http(s) needs a dotted host, so `http://alertmanager:9093` is refused; tg:// is fine; mailto:
  // only where the caller allows it (HTML links, per the brief; TDLib would mangle it into http).

  if (/^tg:/i.test(url)) return checkTgUrl(url.slice(3))
  if (options.allowMailto && /^mailto:/i.test(url)) {
    return /^mailto:[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/i.test(url) ? { ok: true, url } : { ok: false, reason: 'Wrong mailto URL' }
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)
  if (scheme && !/^https?$/i.test(scheme[1]!)) return { ok: false, reason: 'Unsupported URL protocol' }
  return checkHttpUrl(scheme ? scheme[1]!.toLowerCase() : 'http', scheme ? url.slice(scheme[0].length) : url)
}

function checkTgUrl(rest: string): UrlCheck {
  const body = rest.startsWith('//') ? rest.slice(2) : rest
  const m = /^([^/?#]*)([/?#][^\s]*)?$/.exec(body)
  if (!m || m[1] === '') return { ok: false, reason: 'Wrong tg URL' }
  if (!/^[A-Za-z0-9_-]+$/.test(m[1]!)) return { ok: false, reason: 'Unallowed characters in URL host' }
  return { ok: true, url: `tg://${m[1]}${m[2] ?? ''}` }
}

function checkHttpUrl(scheme: string, rest: string): UrlCheck {
  if (rest === '' || /[\s\u0000-\u001f\u007f]/.test(rest)) return { ok: false, reason: 'Wrong HTTP URL' }
  const split = /^([^/?#]*)(.*)$/.exec(rest)!
  const authority = split[1]!
  const tail = split[2] ?? ''
  const at = authority.lastIndexOf('@')
  const userinfo = at >= 0 ? authority.slice(0, at + 1) : ''
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority
  const hp = /^(\[[0-9A-Fa-f:.]+\]|[^:]*)(?::(\d*))?$/.exec(hostPort)
  if (!hp) return { ok: false, reason: 'Wrong HTTP URL' }
  const host = hp[1]!
  const port = hp[2]
  if (port !== undefined && !(port !== '' && Number(port) >= 1 && Number(port) <= 65535)) {
    return { ok: false, reason: 'Wrong port number specified in the URL' }
  }
  const isIpv6 = host.startsWith('[')
  if (host === '' || (!isIpv6 && (!host.includes('.') || !/^[\p{L}\p{N}._-]+$/u.test(host) || host.startsWith('.') || host.endsWith('.')))) {
    return { ok: false, reason: 'Wrong HTTP URL' }
  }
  const portPart = port !== undefined ? `:${port}` : ''
  // TDLib returns the URL rebuilt from its parts, with "/" as the smallest path.
  const path = tail === '' || tail[0] !== '/' ? `/${tail}` : tail
  return { ok: true, url: `${scheme}://${userinfo}${host.toLowerCase()}${portPart}${path}` }
}

/* ------------------------------------------------------------------------------------------ */
/* Markdown modes: enough of TDLib's parse_markdown_v2 / parse_markdown to be strict about what  */
/* they refuse (reserved characters, unterminated entities); HTML is the mode alertwire uses.    */
/* ------------------------------------------------------------------------------------------ */

const MD_TYPE_NAMES: Record<string, string> = {
  bold: 'Bold',
  italic: 'Italic',
  underline: 'Underline',
  strikethrough: 'Strikethrough',
  spoiler: 'Spoiler',
  code: 'Code',
  pre: 'Pre',
  text_link: 'TextUrl',
  blockquote: 'BlockQuote',
  custom_emoji: 'CustomEmoji',
}

interface MdOpen {
  type: EntityType
  offset: number
  byteAt: number
  language?: string
}

/** parseTelegramMarkdownV2 parses MarkdownV2 (TDLib's parse_markdown_v2, minus expandable quotes) or throws. */
export function parseTelegramMarkdownV2(source: string): ParsedText {
  let text = ''
  const entities: MessageEntity[] = []
  const open: MdOpen[] = []
  let i = 0
  let lineStart = true
  let quote: { offset: number } | undefined
  // Inside code and pre only '`' is special (and '\' still escapes).
  const reserved = (): string => (open.at(-1)?.type === 'code' || open.at(-1)?.type === 'pre' ? '`' : '_*[]()~`>#+-=|{}.!\n')
  const refuse = (ch: string): never => fail(`Character '${ch}' is reserved and must be escaped with the preceding '\\'`)
  const closeQuote = (): void => {
    if (quote && text.length > quote.offset) entities.push({ type: 'blockquote', offset: quote.offset, length: text.length - quote.offset })
    quote = undefined
  }

  while (i < source.length) {
    const ch = source[i]!
    const next = source[i + 1]
    if (ch === '\\' && next !== undefined && next.charCodeAt(0) > 0 && next.charCodeAt(0) <= 126) {
      text += next
      lineStart = next === '\n'
      i += 2
      continue
    }
    if (!reserved().includes(ch)) {
      text += ch
      if (ch !== '\r') lineStart = false
      i++
      continue
    }
    if (ch === '\n') {
      if (quote && source[i + 1] !== '>') {
        const top = open.at(-1)
        if (top) fail(`Can't find end of ${MD_TYPE_NAMES[top.type]} entity at byte offset ${top.byteAt}`)
        closeQuote()
      }
      text += '\n'
      lineStart = true
      i++
      continue
    }
    if (ch === '>') {
      if (!lineStart) refuse(ch)
      if (!quote) quote = { offset: text.length }
      i++
      continue
    }
    const top = open.at(-1)
    const closing = top !== undefined && closesMarkdownEntity(top, source, i)
    if (closing) {
      i = closeMarkdownEntity(source, i, top, text, entities)
      open.pop()
      continue
    }
    const opened = openMarkdownEntity(source, i, text.length, refuse)
    open.push(opened.entity)
    i = opened.next
    lineStart = false
  }
  const top = open.at(-1)
  if (top) fail(`Can't find end of ${MD_TYPE_NAMES[top.type]} entity at byte offset ${top.byteAt}`)
  closeQuote()
  return finishEntities(text, entities)
}

function closesMarkdownEntity(top: MdOpen, s: string, i: number): boolean {
  const ch = s[i]
  switch (top.type) {
    case 'bold':
      return ch === '*'
    case 'italic':
      return ch === '_' && s[i + 1] !== '_'
    case 'underline':
      return ch === '_' && s[i + 1] === '_'
    case 'strikethrough':
      return ch === '~'
    case 'spoiler':
      return ch === '|' && s[i + 1] === '|'
    case 'code':
      return ch === '`'
    case 'pre':
      return ch === '`' && s[i + 1] === '`' && s[i + 2] === '`'
    case 'text_link':
    case 'custom_emoji':
      return ch === ']'
    default:
      return false
  }
}

function openMarkdownEntity(s: string, i: number, offset: number, refuse: (ch: string) => never): { entity: MdOpen; next: number } {
  const ch = s[i]!
  const byteAt = byteOffset(s, i)
  const make = (type: EntityType, next: number, language?: string) => ({ entity: { type, offset, byteAt, ...(language ? { language } : {}) }, next })
  switch (ch) {
    case '*':
      return make('bold', i + 1)
    case '~':
      return make('strikethrough', i + 1)
    case '[':
      return make('text_link', i + 1)
    case '_':
      return s[i + 1] === '_' ? make('underline', i + 2) : make('italic', i + 1)
    case '|':
      return s[i + 1] === '|' ? make('spoiler', i + 2) : refuse(ch)
    case '!':
      return s[i + 1] === '[' ? make('custom_emoji', i + 2) : refuse(ch)
    case '`': {
      if (s[i + 1] !== '`' || s[i + 2] !== '`') return make('code', i + 1)
      let j = i + 3
      let end = j
      while (end < s.length && !isSpace(s[end]) && s[end] !== '`') end++
      let language: string | undefined
      if (end !== j && end < s.length && s[end] !== '`') {
        language = s.slice(j, end)
        j = end
      }
      if (s[j] === '\n' || s[j] === '\r') j += (s[j + 1] === '\n' || s[j + 1] === '\r') && s[j] !== s[j + 1] ? 2 : 1
      return make('pre', j, language)
    }
    default:
      return refuse(ch)
  }
}

/** Close `top` at s[i]; push its entity (links read their "(url)"), return the next index. */
function closeMarkdownEntity(s: string, i: number, top: MdOpen, text: string, entities: MessageEntity[]): number {
  const length = text.length - top.offset
  const base = { type: top.type, offset: top.offset, length }
  const widths: Partial<Record<EntityType, number>> = { underline: 2, spoiler: 2, pre: 3 }
  let next = i + (widths[top.type] ?? 1)
  let url: string | undefined
  if (top.type === 'text_link' || top.type === 'custom_emoji') {
    if (s[next] === '(') {
      ;[url, next] = readMarkdownUrl(s, next + 1)
    } else if (top.type === 'custom_emoji') {
      fail('The entity must contain a tg://emoji or tg://time URL')
    } else {
      url = text.slice(top.offset)
    }
  }
  if (length === 0) return next
  if (top.type === 'custom_emoji') {
    const m = /^tg:\/\/emoji\?id=(\d+)$/.exec(url ?? '')
    if (!m) fail('Invalid tg://emoji or tg://time URL specified')
    entities.push({ ...base, custom_emoji_id: m[1]! })
  } else if (top.type === 'text_link') {
    const checked = checkTelegramUrl(url ?? '')
    if (checked.ok) entities.push({ ...base, url: checked.url })
  } else {
    entities.push(top.language ? { ...base, language: top.language } : base)
  }
  return next
}

function readMarkdownUrl(s: string, start: number): [string, number] {
  let i = start
  let url = ''
  while (i < s.length && s[i] !== ')') {
    const next = s[i + 1]
    if (s[i] === '\\' && next !== undefined && next.charCodeAt(0) > 0 && next.charCodeAt(0) <= 126) {
      url += next
      i += 2
      continue
    }
    url += s[i]
    i++
  }
  if (s[i] !== ')') fail(`Can't find end of a URL at byte offset ${byteOffset(s, start)}`)
  return [url, i + 1]
}

/** parseTelegramMarkdown parses legacy Markdown (*bold*, _italic_, `code`, ```pre```, [text](url)). */
export function parseTelegramMarkdown(source: string): ParsedText {
  let text = ''
  const entities: MessageEntity[] = []
  let i = 0
  while (i < source.length) {
    const ch = source[i]!
    if (ch === '\\' && '_*`['.includes(source[i + 1] ?? '\0')) {
      text += source[i + 1]
      i += 2
      continue
    }
    if (!'_*`['.includes(ch)) {
      text += ch
      i++
      continue
    }
    const begin = i
    const isPre = ch === '`' && source[i + 1] === '`' && source[i + 2] === '`'
    const endChar = ch === '[' ? ']' : ch
    i += isPre ? 3 : 1
    const offset = text.length
    while (i < source.length && (source[i] !== endChar || (isPre && !(source[i + 1] === '`' && source[i + 2] === '`')))) {
      text += source[i]
      i++
    }
    if (i >= source.length) fail(`Can't find end of the entity starting at byte offset ${byteOffset(source, begin)}`)
    const length = text.length - offset
    i++
    let url: string | undefined
    if (ch === '[') {
      if (source[i] === '(') {
        const close = source.indexOf(')', i)
        url = source.slice(i + 1, close < 0 ? source.length : close)
        i = close < 0 ? source.length : close + 1
      } else {
        url = text.slice(offset)
      }
    }
    if (isPre) i += 2
    if (length === 0) continue
    if (ch === '*') entities.push({ type: 'bold', offset, length })
    else if (ch === '_') entities.push({ type: 'italic', offset, length })
    else if (ch === '`') entities.push({ type: isPre ? 'pre' : 'code', offset, length })
    else {
      const checked = checkTelegramUrl(url ?? '')
      if (checked.ok) entities.push({ type: 'text_link', offset, length, url: checked.url })
    }
  }
  return finishEntities(text, entities)
}

/* ------------------------------------------------------------------------------------------ */
/* What happens after parsing, whatever the mode (TDLib's fix_formatted_text).                  */
/* ------------------------------------------------------------------------------------------ */

// Characters TDLib's is_empty_string() treats as showing nothing.
const INVISIBLE_ONLY = /^[ \t\n\r\v\f\u200b-\u200f\u202e\ufeff\u00a0]*$/

/** isEmptyText tells whether Telegram would call `text` empty ("text must be non-empty"). */
export function isEmptyText(text: string): boolean {
  return INVISIBLE_ONLY.test(text)
}

/** trimParsedText trims spaces and newlines the way Telegram does before it stores a message. */
export function trimParsedText(parsed: ParsedText): ParsedText {
  // Trailing ones always go (entities are cut to fit); leading ones only up to the first entity.
  let end = parsed.text.length
  while (end > 0 && (parsed.text[end - 1] === ' ' || parsed.text[end - 1] === '\n')) end--
  let entities = parsed.entities.filter((e) => e.offset < end).map((e) => (e.offset + e.length > end ? { ...e, length: end - e.offset } : e))
  const firstEntity = entities.length ? Math.min(...entities.map((e) => e.offset)) : end
  let start = 0
  while (start < firstEntity && (parsed.text[start] === ' ' || parsed.text[start] === '\n')) start++
  entities = entities.map((e) => (start ? { ...e, offset: e.offset - start } : e))
  return { text: parsed.text.slice(start, end), entities, expandableBlockquote: parsed.expandableBlockquote }
}

/** parseMessageText applies `parseMode` ('' or undefined = literal text) the way sendMessage does. */
export function parseMessageText(text: string, parseMode: string | undefined, options: ParseOptions = {}): ParsedText {
  const mode = (parseMode ?? '').toLowerCase()
  if (mode === '' || mode === 'none') return { text, entities: [], expandableBlockquote: false }
  if (mode === 'html') return parseTelegramHtml(text, options)
  if (mode === 'markdownv2') return parseTelegramMarkdownV2(text)
  if (mode === 'markdown') return parseTelegramMarkdown(text)
  throw new Error(`unsupported parse mode ${parseMode}`)
}
