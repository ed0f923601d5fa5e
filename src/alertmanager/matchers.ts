/**
 * Silence matchers as an admin types them in a Telegram command, amtool-style:
 * `alertname=HighLatency instance=~"web-.*" job!="x y"`. One matcher's syntax is the routing
 * parser's (core/matchers.ts); this file splits a line into matchers, tells what Alertmanager
 * would refuse, and writes matchers back in the form its `filter` parameter and amtool read.
 */
import { parseMatcher, type MatchOp } from '../core/matchers.js'
import Type from 'typebox'

/** SilenceMatcherSchema: one matcher of a silence, as Alertmanager takes and returns it. */
export const SilenceMatcherSchema = Type.Object({
  name: Type.String(),
  value: Type.String(),
  isRegex: Type.Boolean(),
  // Alertmanager before 0.22 omits isEqual; true is what it meant.
  isEqual: Type.Boolean({ default: true }),
})

/** SilenceMatcher: `{name, value, isRegex, isEqual}`, as Alertmanager takes it. */
export type SilenceMatcher = Type.Static<typeof SilenceMatcherSchema>

const EXAMPLE = 'alertname="X"'
const HEAD = /^([^=!~]*)(=~|!~|!=|=)/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const CURLY_QUOTES = /[“”„‟″]/g

/** parseSilenceMatchers reads matchers separated by spaces or commas, or throws an Error saying what is wrong. */
export function parseSilenceMatchers(text: string): SilenceMatcher[] {
  const pieces = splitMatchers(stripBraces(straightenQuotes(text).trim()))
  if (pieces.length === 0) throw new Error(`expected at least one matcher like ${EXAMPLE}, got nothing`)
  return pieces.map((piece, i) => toSilenceMatcher(piece, pieces[i + 1]))
}

/** isMatchAll tells whether every matcher matches the empty string: such a silence mutes nearly everything, and Alertmanager refuses it. */
export function isMatchAll(matchers: readonly SilenceMatcher[]): boolean {
  return matchers.every(matchesEmpty)
}

/** formatSilenceMatcher writes a matcher as Alertmanager's filter parameter reads it: name, operator, Go-quoted value. */
export function formatSilenceMatcher(matcher: SilenceMatcher): string {
  return `${matcher.name}${operatorOf(matcher)}"${goQuote(matcher.value)}"`
}

function operatorOf(matcher: SilenceMatcher): MatchOp {
  if (matcher.isRegex) return matcher.isEqual ? '=~' : '!~'
  return matcher.isEqual ? '=' : '!='
}

// Alertmanager's matcher parser unescapes exactly \" \\ and \n inside a quoted value.
function goQuote(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))
}

// Telegram clients with "smart punctuation" turn every " into a curly quote as the admin types;
// a line that also has straight quotes means its curly ones are part of a value.
function straightenQuotes(text: string): string {
  return text.includes('"') ? text : text.replace(CURLY_QUOTES, '"')
}

function stripBraces(text: string): string {
  return text.startsWith('{') && text.endsWith('}') ? text.slice(1, -1) : text
}

/**
 * Splits on spaces and commas outside double quotes. Inside quotes it rewrites what JSON.parse
 * (the routing parser's unquoting) would reject but Alertmanager accepts: a backslash before
 * anything but " \ n is a literal backslash (`web-1\.example`), and raw control characters.
 */
function splitMatchers(text: string): string[] {
  const pieces: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (!quoted && (c === ',' || /\s/.test(c))) {
      if (current) pieces.push(current)
      current = ''
    } else if (quoted && c === '\\') {
      const next = text[i + 1]
      if (next === '"' || next === '\\' || next === 'n') {
        current += c + next
        i++
      } else {
        current += '\\\\'
      }
    } else if (quoted && c < ' ') {
      current += `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
    } else {
      if (c === '"') quoted = !quoted
      current += c
    }
  }
  if (quoted) throw new Error(`the quote in ${JSON.stringify(current)} is never closed: add the closing "`)
  if (current) pieces.push(current)
  return pieces
}

function toSilenceMatcher(piece: string, next: string | undefined): SilenceMatcher {
  const head = HEAD.exec(piece)
  if (!head || head[1] === '') {
    const spaced = next !== undefined && HEAD.exec(next)?.[1] === ''
    const hint = spaced ? ' (write it without spaces around the operator)' : ''
    throw new Error(`expected a matcher like ${EXAMPLE}, got ${JSON.stringify(piece)}${hint}`)
  }
  const [, name, op] = head as unknown as [string, string, MatchOp]
  if (!LABEL_NAME.test(name)) {
    throw new Error(`${JSON.stringify(name)} in ${JSON.stringify(piece)} is not a label name: use letters, digits and _, not starting with a digit`)
  }
  const value = parseValue(piece, op)
  return { name, value, isRegex: op.includes('~'), isEqual: !op.startsWith('!') }
}

// Alertmanager runs regexes with Go's RE2, which reads syntax JavaScript refuses (`(?i)web`):
// a regex only JavaScript rejects goes to Alertmanager, which names the problem if there is one.
function parseValue(piece: string, op: MatchOp): string {
  try {
    return parseMatcher(piece).value
  } catch (error) {
    if (!op.includes('~') || !/invalid regex/.test((error as Error).message)) throw error
    return parseMatcher(piece.replace(op, op === '=~' ? '=' : '!=')).value
  }
}

function matchesEmpty(matcher: SilenceMatcher): boolean {
  if (!matcher.isRegex) return (matcher.value === '') === matcher.isEqual
  const regex = goRegex(matcher.value)
  // A regex JavaScript cannot read: not provably match-all, so let Alertmanager judge it.
  if (!regex) return false
  return regex.test('') === matcher.isEqual
}

// Good enough to test the empty string: Go's leading flag group `(?i)` becomes a JavaScript flag.
function goRegex(source: string): RegExp | undefined {
  const flags = /^\(\?([ims]+)\)/.exec(source)
  const body = flags ? source.slice(flags[0].length) : source
  try {
    return new RegExp(`^(?:${body})$`, flags?.[1] ?? '')
  } catch {
    return undefined
  }
}
