/**
 * What a dry run shows: each message as the chat would see it. For machines, structured fields for
 * the JSON log line: the text as sent (HTML) and as shown (what Telegram makes of it), its links,
 * its buttons in Telegram's own shape, and where it goes (chat, topic, reply, silent, preview). For
 * people at a terminal, a readable block: a header naming the chat, the text as shown with each
 * link's address after it, and the buttons as a row of [ labels ].
 */
import { htmlToPlain, plainLength } from '../core/html.js'
import type { InlineButton } from '../core/keyboard.js'

/** DryRunMessage: what a dry run is given, a message to send or an edit (the client's OutgoingMessage and MessageEdit fit it). */
export interface DryRunMessage {
  chatId: string
  text: string
  html: boolean
  threadId?: number
  silent?: boolean
  replyTo?: number
  keyboard?: InlineButton[][]
  preview?: string
}

/** DryRunFields: the structured fields of a dry-run log line. */
export interface DryRunFields {
  dryRun: true
  action: 'send' | 'edit'
  chat: string
  thread?: number
  messageId: number
  replyTo?: number
  silent?: boolean
  /** the text as sent: HTML when parseMode is HTML */
  text: string
  parseMode?: 'HTML'
  /** the text as the chat shows it, after Telegram parses the HTML */
  shown: string
  /** characters Telegram counts against its 4096 limit */
  length: number
  links: { text: string; url: string }[]
  keyboard?: InlineButton[][]
  preview?: string
}

const ANCHOR = /<a\s+href="([^"]*)"\s*>(.*?)<\/a>/gis

function decodeAttribute(value: string): string {
  return htmlToPlain(value)
}

/** linksOf lists the links of a message: their text as shown and where they go. */
function linksOf(text: string, html: boolean): { text: string; url: string }[] {
  if (!html) return []
  return [...text.matchAll(ANCHOR)].map(([, href, inner]) => ({ text: htmlToPlain(inner ?? ''), url: decodeAttribute(href ?? '') }))
}

/** dryRunFields describes a message to send, or an edit, for the JSON log line. */
export function dryRunFields(message: DryRunMessage, action: 'send' | 'edit', messageId: number): DryRunFields {
  const isEdit = action === 'edit'
  const shown = message.html ? htmlToPlain(message.text) : message.text
  let length = shown.length
  try {
    if (message.html) length = plainLength(message.text)
  } catch {
    // malformed HTML: Telegram would refuse it, and the sender falls back to plain text
  }
  return {
    dryRun: true,
    action,
    chat: message.chatId,
    ...(!isEdit && message.threadId ? { thread: message.threadId } : {}),
    messageId,
    ...(!isEdit && message.replyTo ? { replyTo: message.replyTo } : {}),
    ...(!isEdit ? { silent: message.silent ?? false } : {}),
    text: message.text,
    ...(message.html ? { parseMode: 'HTML' as const } : {}),
    shown,
    length,
    links: linksOf(message.text, message.html),
    ...(message.keyboard ? { keyboard: message.keyboard } : {}),
    ...(message.preview ? { preview: message.preview } : {}),
  }
}

/** Style: how the block marks emphasis (ANSI on a colour terminal, nothing otherwise). */
export interface Style {
  dim(text: string): string
  bold(text: string): string
}

/** PLAIN: no escape codes, for files and pipes. */
export const PLAIN: Style = { dim: (t) => t, bold: (t) => t }

/** ANSI: dim and bold for a colour terminal. */
export const ANSI: Style = { dim: (t) => `\x1b[2m${t}\x1b[22m`, bold: (t) => `\x1b[1m${t}\x1b[22m` }

/** shownWithAddresses is the text as shown, each link followed by its address (unless the text already is it). */
function shownWithAddresses(fields: DryRunFields, style: Style): string {
  if (fields.parseMode !== 'HTML' || fields.links.length === 0) return fields.shown
  const marked = fields.text.replace(ANCHOR, (whole, href: string, inner: string) => {
    const url = decodeAttribute(href)
    // the attribute is already escaped HTML, so it stays well-formed as text
    return htmlToPlain(inner) === url ? whole : `${whole}\u0000${href}\u0001`
  })
  return htmlToPlain(marked).replace(/\u0000([^\u0001]*)\u0001/g, (_, url: string) => ` ${style.dim(`<${url}>`)}`)
}

function buttonLabel(button: InlineButton, style: Style): string {
  return 'url' in button ? `[ ${button.text} ${style.dim(`↗ ${button.url}`)} ]` : `[ ${button.text} ]`
}

/** dryRunBlock renders the fields as a person reads them at a terminal. */
export function dryRunBlock(fields: DryRunFields, style: Style = PLAIN): string {
  const where = [
    `chat ${fields.chat}`,
    ...(fields.thread ? [`topic ${fields.thread}`] : []),
    fields.action === 'edit' ? `edits message #${fields.messageId}` : `message #${fields.messageId}`,
    ...(fields.replyTo ? [`reply to #${fields.replyTo}`] : []),
    ...(fields.silent === undefined ? [] : [fields.silent ? 'silent' : 'with sound']),
  ].join(' · ')
  const lines = [style.bold(`── dry run: ${fields.action === 'edit' ? 'would edit' : 'would send'} · ${where}`), shownWithAddresses(fields, style)]
  for (const row of fields.keyboard ?? []) lines.push(row.map((button) => buttonLabel(button, style)).join(' '))
  const footer = [`${fields.length}/4096 characters`, ...(fields.preview ? [`preview ${fields.preview}`] : ['no link preview'])]
  lines.push(style.dim(`── ${footer.join(' · ')}`), '')
  return lines.join('\n')
}
