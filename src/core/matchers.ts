/**
 * Label matchers with Alertmanager's syntax and semantics: `name="value"`, `name!="value"`,
 * `name=~"regex"`, `name!~"regex"`; regexes are anchored at both ends; quotes are optional for
 * simple values. A missing label matches as the empty string, as in Alertmanager.
 */

export type MatchOp = '=' | '!=' | '=~' | '!~'

export interface Matcher {
  name: string
  op: MatchOp
  value: string
  regex?: RegExp
}

export type Labels = Record<string, string>

// dotAll: a quoted value may hold line separators (U+2028 is a legal character in a label value)
const MATCHER_RE = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s

function unquote(raw: string): string {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) {
    return JSON.parse(raw) as string
  }
  if (/["\s,{}]/.test(raw)) throw new Error(`value ${raw} must be quoted`)
  return raw
}

/** parseMatcher reads one matcher like `instance=~"web-.*"`, or throws an Error saying why not. */
export function parseMatcher(text: string): Matcher {
  const match = MATCHER_RE.exec(text)
  if (!match) throw new Error(`expected a matcher like severity="critical", got ${JSON.stringify(text)}`)
  const [, name, op, rawValue] = match as unknown as [string, string, MatchOp, string]
  let value: string
  try {
    value = unquote(rawValue)
  } catch (error) {
    throw new Error(`in matcher ${JSON.stringify(text)}: ${(error as Error).message}`)
  }
  const matcher: Matcher = { name, op, value }
  if (op === '=~' || op === '!~') {
    try {
      matcher.regex = new RegExp(`^(?:${value})$`)
    } catch (error) {
      throw new Error(`in matcher ${JSON.stringify(text)}: invalid regex: ${(error as Error).message}`)
    }
  }
  return matcher
}

/** matcherMatches tells whether labels satisfy one matcher. */
export function matcherMatches(matcher: Matcher, labels: Labels): boolean {
  const value = labels[matcher.name] ?? ''
  switch (matcher.op) {
    case '=':
      return value === matcher.value
    case '!=':
      return value !== matcher.value
    case '=~':
      return matcher.regex!.test(value)
    case '!~':
      return !matcher.regex!.test(value)
  }
}

/** matchesAll tells whether labels satisfy every matcher (an empty list matches everything). */
export function matchesAll(matchers: readonly Matcher[], labels: Labels): boolean {
  return matchers.every((m) => matcherMatches(m, labels))
}

/** formatMatcher writes a matcher back in the syntax parseMatcher reads. */
export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`
}
