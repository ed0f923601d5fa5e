/**
 * The scale benchmark's breakdown, apart from its processes so a test can check it: per kind of
 * chat, how many messages went, when the webhooks came and the messages went, and where the time
 * of each chat's last message went (its own pace, or the queue Telegram's overall limit makes).
 * Also the bound the overall limit itself sets: every chat needs a message after its last webhook,
 * and one call per globalIntervalMs serves them one at a time.
 */

/** ChatRun: what one chat of the run saw. */
export interface ChatRun {
  label: string
  kind: string
  paceMs: number
  /** its first and last webhook (the relay's clock) */
  firstAt: number
  lastAt: number
  /** when Telegram accepted each of its calls (sends and edits), in order */
  callsAt: readonly number[]
  /** when its last alert was first named */
  doneAt: number
  /** the earliest its pace allows that (scale-count.ts paceBound) */
  bound: number
}

/**
 * overallBounds: the earliest each chat's last alert can be named when Telegram's overall limit is
 * counted too. Each chat needs one call after its last webhook (released then, due at its pace
 * bound); one call per globalIntervalMs serves them, the earliest due first (which, for calls of
 * equal length, leaves the latest chat as little late as any order can). The result is the later
 * of the pace bound and that call. A lower bound: calls during the burst come on top of it.
 */
export function overallBounds(chats: readonly Pick<ChatRun, 'lastAt' | 'bound'>[], globalIntervalMs: number): number[] {
  const order = chats.map((chat, i) => ({ i, release: chat.lastAt, due: chat.bound })).sort((a, b) => a.release - b.release)
  const result = new Array<number>(chats.length)
  const ready: { i: number; due: number }[] = []
  let at = -Infinity
  let next = 0
  while (next < order.length || ready.length > 0) {
    if (ready.length === 0) at = Math.max(at, order[next]!.release)
    while (next < order.length && order[next]!.release <= at) ready.push(order[next++]!)
    ready.sort((a, b) => a.due - b.due)
    const job = ready.shift()!
    result[job.i] = Math.max(chats[job.i]!.bound, at)
    at += globalIntervalMs
  }
  return result
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)]!
}
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** lastCallWait: how the chat's last call was held after its last webhook: by its own pace (its call before was too recent), then by the queue. */
export function lastCallWait(chat: Pick<ChatRun, 'lastAt' | 'callsAt' | 'paceMs' | 'doneAt'>): { pace: number; queue: number } {
  const before = chat.callsAt.filter((at) => at < chat.doneAt).at(-1)
  const free = Math.max(chat.lastAt, before === undefined ? -Infinity : before + chat.paceMs)
  return { pace: Math.max(0, free - chat.lastAt), queue: Math.max(0, chat.doneAt - free) }
}

/** breakdown prints, per kind of chat, the run's figures (see the file comment); one line a kind, then the overall limit's share. */
export function breakdown(chats: readonly ChatRun[], globalIntervalMs: number, startedAt: number): string[] {
  const lines: string[] = []
  const overall = overallBounds(chats, globalIntervalMs)
  const kinds = [...new Set(chats.map((c) => c.kind))]
  for (const kind of kinds) {
    const mine = chats.map((c, i) => ({ c, overall: overall[i]! })).filter(({ c }) => c.kind === kind)
    const within = mine.filter(({ c }) => c.doneAt - c.bound <= c.paceMs).length
    const withinOverall = mine.filter(({ c, overall }) => c.doneAt - overall <= c.paceMs).length
    const waits = mine.map(({ c }) => lastCallWait(c))
    const during = mine.map(({ c }) => c.callsAt.filter((at) => at <= c.lastAt).length)
    const gaps = mine.flatMap(({ c }) => c.callsAt.slice(1).map((at, k) => at - c.callsAt[k]! - c.paceMs))
    lines.push(
      `${kind} ×${mine.length} (pace ${s(mine[0]!.c.paceMs)}): within pace ${within}, within overall ${withinOverall}; ` +
        `calls ${median(mine.map(({ c }) => c.callsAt.length))} a chat (${median(during)} by its last webhook); ` +
        `webhooks ${s(median(mine.map(({ c }) => c.firstAt - startedAt)))}–${s(median(mine.map(({ c }) => c.lastAt - startedAt)))}; ` +
        `last named ${s(median(mine.map(({ c }) => c.doneAt - c.lastAt)))} after its last webhook (worst ${s(Math.max(...mine.map(({ c }) => c.doneAt - c.lastAt)))}), ` +
        `held by pace ${s(median(waits.map((w) => w.pace)))} + queue ${s(median(waits.map((w) => w.queue)))}; ` +
        `calls came ${s(median(gaps))} later than pace (median)`,
    )
  }
  const late = chats.map((c, i) => overall[i]! - c.bound).filter((d) => d > 0)
  const lastWebhooks = chats.map((c) => c.lastAt)
  lines.push(
    `overall limit: ${chats.length} chats' last webhooks within ${s(Math.max(...lastWebhooks) - Math.min(...lastWebhooks))}, ` +
      `${chats.length} final calls take ≥ ${s(chats.length * globalIntervalMs)} at one per ${globalIntervalMs} ms; ` +
      `${late.length} chats' bound moves later for it (by up to ${s(Math.max(0, ...late))}); ` +
      `the paces add up to ${chats.reduce((sum, c) => sum + 1000 / c.paceMs, 0).toFixed(0)} calls/s against ${(1000 / globalIntervalMs).toFixed(1)}/s`,
  )
  lines.push(`calls accepted per 5 s from the first webhook: ${perWindow(chats, startedAt, 5000).join(' ')}`)
  const worst = [...chats].sort((a, b) => b.doneAt - b.bound - (a.doneAt - a.bound))[0]
  if (worst) {
    const from = (at: number) => `${at >= worst.lastAt ? '+' : ''}${((at - worst.lastAt) / 1000).toFixed(1)}`
    lines.push(
      `latest chat ${worst.kind} ${worst.label}: webhooks ${s(worst.firstAt - startedAt)}–${s(worst.lastAt - startedAt)}; ` +
        `its calls at ${worst.callsAt.map(from).join(' ')} s from its last webhook; last alert named at ${from(worst.doneAt)} s, bound ${from(worst.bound)} s`,
    )
  }
  return lines
}

/** perWindow counts the accepted calls of all chats in each window from startedAt. */
function perWindow(chats: readonly ChatRun[], startedAt: number, windowMs: number): number[] {
  const counts: number[] = []
  for (const at of chats.flatMap((c) => c.callsAt)) {
    const k = Math.max(0, Math.floor((at - startedAt) / windowMs))
    while (counts.length <= k) counts.push(0)
    counts[k]!++
  }
  return counts
}
