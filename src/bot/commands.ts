/**
 * Reading admin commands as people type them in a chat: `/silence alertname=X instance=~"web-.*" 2h
 * deploy in progress`, `/mute 30m`, `/unsilence <id>`. Pure; errors say what to type instead.
 */
import { COMMANDS, type CommandName } from '../core/commands.js'
import { parseDuration } from '../core/duration.js'

/** Command: a recognised command with its argument text. */
export interface Command {
  name: CommandName
  args: string
}

/** parseCommand reads "/name@bot args" at the start of a message; other bots' commands and unknown ones are ignored. */
export function parseCommand(text: string | undefined, botUsername: string | undefined): Command | undefined {
  const match = /^\/([a-z_]+)(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/.exec((text ?? '').trim())
  if (!match) return undefined
  if (match[2] && botUsername && match[2].toLowerCase() !== botUsername.toLowerCase()) return undefined
  const name = COMMANDS.find((c) => c.command === match[1])?.command
  return name ? { name, args: (match[3] ?? '').trim() } : undefined
}

/**
 * parseDashboardCommand reads a dashboard named as a command (`/performance 24h`) as `/dashboard
 * performance 24h`, and the seed's /analytics as /dashboards; undefined for anything else.
 */
export function parseDashboardCommand(text: string | undefined, botUsername: string | undefined, names: ReadonlySet<string>): Command | undefined {
  const match = /^\/([a-z][a-z0-9_]*)(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/.exec((text ?? '').trim())
  if (!match || (match[2] && botUsername && match[2].toLowerCase() !== botUsername.toLowerCase())) return undefined
  if (match[1] === 'analytics') return { name: 'dashboards', args: '' }
  return names.has(match[1]!) ? { name: 'dashboard', args: `${match[1]} ${(match[3] ?? '').trim()}`.trim() } : undefined
}

/** splitWords splits arguments on spaces, keeping "quoted strings" (with \\" escapes) together. */
export function splitWords(text: string): string[] {
  const words: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '\\' && quoted && i + 1 < text.length) {
      current += c + text[++i]
    } else if (c === '"') {
      quoted = !quoted
      current += c
    } else if (/\s/.test(c) && !quoted) {
      if (current) words.push(current)
      current = ''
    } else current += c
  }
  if (quoted) throw new Error('a quote is not closed')
  if (current) words.push(current)
  return words
}

/** SilenceRequest: what /silence asks for. */
export interface SilenceRequest {
  matchers: string
  durationMs: number
  comment?: string
}

/** parseSilenceArgs reads `<matchers> <duration> [comment]`: matchers until the first word that is a duration. */
export function parseSilenceArgs(args: string): SilenceRequest {
  const usage = 'usage: /silence alertname=HighLatency instance=~"web-.*" 2h [comment]'
  const words = splitWords(args)
  const at = words.findIndex((w) => parseDuration(w) !== undefined)
  if (at <= 0) throw new Error(at === 0 ? `matchers come first; ${usage}` : `give a duration like 2h; ${usage}`)
  const comment = words.slice(at + 1).join(' ')
  return { matchers: words.slice(0, at).join(' '), durationMs: parseDuration(words[at]!)!, ...(comment ? { comment } : {}) }
}
