/**
 * Just enough PromQL to find an alert rule's condition: a tokenizer that knows strings, comments,
 * label matchers, ranges and durations, and the binary operators' precedence at the top level, so
 * `sum(rate(x[5m])) / sum(rate(y[5m])) > 0.5 unless on() maintenance` can be cut into the curve to
 * draw and the line it crosses. Not a full parser: what it cannot read is drawn whole. Pure.
 */

/** Token: one lexical piece of an expression, with where it sits in the source. */
export interface Token {
  kind: 'num' | 'ident' | 'op' | 'open' | 'close' | 'group' | 'other'
  text: string
  start: number
  end: number
}

const DURATION = /^[0-9]+(ms|[smhdwy])([0-9]+(ms|[smhdwy]))*(?![A-Za-z0-9_:])/
const NUMBER = /^(0[xX][0-9a-fA-F]+|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)/
const IDENT = /^[A-Za-z_:][A-Za-z0-9_:]*/
const OPERATOR = /^(==|!=|>=|<=|=~|!~|[-+*/%^<>=,@])/

/** skipQuoted returns the index just past the string that starts at i (escapes honoured, backticks raw). */
function skipQuoted(src: string, i: number): number {
  const quote = src[i]
  let j = i + 1
  while (j < src.length && src[j] !== quote) j += quote !== '`' && src[j] === '\\' ? 2 : 1
  return Math.min(j + 1, src.length)
}

/** skipGroup returns the index just past the bracket group ({…} or […]) that starts at i. */
function skipGroup(src: string, i: number): number {
  const close = src[i] === '{' ? '}' : ']'
  let j = i + 1
  while (j < src.length && src[j] !== close) j = src[j] === '"' || src[j] === "'" || src[j] === '`' ? skipQuoted(src, j) : j + 1
  return Math.min(j + 1, src.length)
}

/** tokenize cuts an expression into tokens; label matchers and ranges are one token each, comments vanish. */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const push = (kind: Token['kind'], end: number) => {
    tokens.push({ kind, text: src.slice(i, end), start: i, end })
    i = end
  }
  while (i < src.length) {
    const c = src[i]!
    const rest = src.slice(i)
    if (/\s/.test(c)) i++
    else if (c === '#') i = src.indexOf('\n', i) < 0 ? src.length : src.indexOf('\n', i)
    else if (c === '"' || c === "'" || c === '`') push('other', skipQuoted(src, i))
    else if (c === '{' || c === '[') push('group', skipGroup(src, i))
    else if (c === '(') push('open', i + 1)
    else if (c === ')') push('close', i + 1)
    else if (DURATION.test(rest)) push('other', i + DURATION.exec(rest)![0].length)
    else if (NUMBER.test(rest)) push('num', i + NUMBER.exec(rest)![0].length)
    else if (IDENT.test(rest)) push(/^(inf|nan)$/i.test(IDENT.exec(rest)![0]) ? 'num' : 'ident', i + IDENT.exec(rest)![0].length)
    else if (OPERATOR.test(rest)) push('op', i + OPERATOR.exec(rest)![0].length)
    else push('other', i + 1)
  }
  return tokens
}

/** matchingClose returns the index of the ')' that closes the '(' at index open, or -1. */
export function matchingClose(tokens: readonly Token[], open: number, end = tokens.length): number {
  let depth = 0
  for (let k = open; k < end; k++) {
    if (tokens[k]!.kind === 'open') depth++
    else if (tokens[k]!.kind === 'close' && --depth === 0) return k
  }
  return -1
}

/** topLevel lists the indices in [from, to) that sit outside every parenthesis. */
export function topLevel(tokens: readonly Token[], from: number, to: number): number[] {
  const out: number[] = []
  let depth = 0
  for (let k = from; k < to; k++) {
    const kind = tokens[k]!.kind
    if (kind === 'open') depth++
    else if (kind === 'close') depth--
    else if (depth === 0) out.push(k)
  }
  return out
}

/** numericValue evaluates a range that holds only numbers, arithmetic and parentheses (`(1 - 0.9) * 100`); undefined otherwise. */
export function numericValue(tokens: readonly Token[], from: number, to: number): number | undefined {
  let k = from
  const peek = () => (k < to ? tokens[k] : undefined)
  const isOp = (...ops: string[]) => peek()?.kind === 'op' && ops.includes(peek()!.text)
  const unary = (): number | undefined => {
    if (isOp('-', '+')) {
      const sign = tokens[k++]!.text === '-' ? -1 : 1
      const v = unary()
      return v === undefined ? undefined : sign * v
    }
    return power()
  }
  const atom = (): number | undefined => {
    const t = peek()
    if (t?.kind === 'num') {
      k++
      return /^0x/i.test(t.text) ? Number.parseInt(t.text, 16) : Number(t.text.replace(/^inf$/i, 'Infinity').replace(/^nan$/i, 'NaN'))
    }
    if (t?.kind !== 'open') return undefined
    k++
    const v = sum()
    if (peek()?.kind !== 'close') return undefined
    k++
    return v
  }
  // ^ is right-associative and binds tighter than unary minus, as in PromQL
  const power = (): number | undefined => {
    const base = atom()
    if (base === undefined || !isOp('^')) return base
    k++
    const exp = unary()
    return exp === undefined ? undefined : base ** exp
  }
  const product = (): number | undefined => {
    let v = unary()
    while (v !== undefined && isOp('*', '/', '%')) {
      const op = tokens[k++]!.text
      const r = unary()
      if (r === undefined) return undefined
      v = op === '*' ? v * r : op === '/' ? v / r : v % r
    }
    return v
  }
  const sum = (): number | undefined => {
    let v = product()
    while (v !== undefined && isOp('+', '-')) {
      const op = tokens[k++]!.text
      const r = product()
      if (r === undefined) return undefined
      v = op === '+' ? v + r : v - r
    }
    return v
  }
  const value = sum()
  return k === to && value !== undefined && from < to ? value : undefined
}
