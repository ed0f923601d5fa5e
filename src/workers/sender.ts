/**
 * Sender: the per-chat delivery worker. Each lane repeatedly leases the chat that is due first
 * (shared across replicas through Redis), makes exactly one Telegram call for it, records the
 * result and schedules the chat's next turn by its pace. One call per turn is what keeps every
 * chat inside Telegram's limits and every chat's messages in order, whatever the number of replicas.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Config } from '../config/parse.js'
import type { Metrics } from '../metrics.js'
import { type Call, type Delivery, isStorm, planDeferredEdit, planDelivery, planStorm, spliceNotices } from '../core/batch.js'
import { backoffMs } from '../core/backoff.js'
import { paceOfChat } from '../core/pace.js'
import { MAX_ITEMS_PER_DELIVERY, batchOptions } from '../config/slices.js'
import { BotStore } from '../store/bot-store.js'
import type { OutboxItem } from '../core/dedup.js'
import type { ChatState, DeliveryStore, InFlight, Write } from '../store/delivery-store.js'
import type { TelegramPort } from '../telegram/client.js'
import { classifyTelegramError, type Failure } from '../telegram/errors.js'

/** outbox items read first; more only when one group runs past them (keeps a long outbox cheap per turn) */
const HEAD_WINDOW = 16
/** most outbox items one storm round folds (the digest names storms.digest_max_alerts of them, counts the rest) */
const MAX_ITEMS_PER_STORM_ROUND = 5000
/** how often an idle lane looks for work another replica queued */
const IDLE_POLL_MS = 200
const REDIS_ERROR_PAUSE_MS = 1000

/** SenderDeps: what the sender works with; config is read per turn so a reload takes effect. */
export interface SenderDeps {
  store: DeliveryStore
  telegram: TelegramPort
  metrics: Metrics
  log: Logger
  config: () => Config
}

type CallResult = { ok: true; messageId?: number; plain: boolean } | { ok: false; failure: Failure }

/** attempt runs pure planning and returns what it threw instead of throwing (planning does no I/O, so a throw is a rendering failure). */
function attempt<T>(plan: () => T): T | Error {
  try {
    return plan()
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error))
  }
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

/** Sender: see the file comment. */
export class Sender {
  private running = false
  private lanes: Promise<void>[] = []
  private sleepers = new Set<() => void>()
  private lastErrors = new Map<string, string>()

  constructor(private readonly deps: SenderDeps) {}

  /** start runs the configured number of lanes. */
  start(): void {
    if (this.running) return
    this.running = true
    const lanes = this.deps.config().delivery.concurrency
    this.lanes = Array.from({ length: lanes }, () => this.lane())
  }

  /** wake makes idle lanes look for work now (called when this process queued something). */
  wake(): void {
    for (const wake of this.sleepers) wake()
  }

  /** stop ends the lanes once their current call is done. */
  async stop(): Promise<void> {
    this.running = false
    this.wake()
    await Promise.all(this.lanes)
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.sleepers.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.sleepers.add(done)
    })
  }

  private async lane(): Promise<void> {
    const { store, log } = this.deps
    while (this.running) {
      let waitMs = IDLE_POLL_MS
      try {
        const config = this.deps.config()
        const token = randomUUID()
        const claim = await store.claim(token, config.telegram.requestTimeoutMs * 2 + 5000, config.telegram.pace.globalIntervalMs)
        if (claim.chat) {
          await this.turn(claim.chat, token)
          continue
        }
        if (claim.waitMs >= 0) waitMs = Math.min(claim.waitMs, IDLE_POLL_MS)
      } catch (error) {
        // Redis trouble, mostly: the lease expires and the chat is picked up again, by us or another replica
        this.logChange('turn', 'error', 'a sender turn failed; retrying', (error as Error).message)
        waitMs = REDIS_ERROR_PAUSE_MS
      }
      if (this.running) await this.sleep(Math.max(1, waitMs))
    }
    log.debug('sender lane stopped')
  }

  /** turn makes at most one Telegram call for a leased chat. */
  private async turn(chat: string, token: string): Promise<void> {
    const { store } = this.deps
    const config = this.deps.config()
    const state = await store.loadChat(chat, HEAD_WINDOW)
    const inflight = state.notices.length > 0
      ? await this.takeNotices(chat, token, state, config)
      : state.inflight ?? (await this.startWork(chat, token, state, config))
    if (!inflight) return
    if (Date.now() - inflight.receivedAt > config.delivery.giveUpAfterMs) {
      await this.giveUp(chat, token, inflight, 'expired', `undelivered for longer than give_up_after (last error: ${inflight.lastError ?? 'none'})`)
      return
    }
    const call = inflight.calls[inflight.next]!
    const result = await this.execute(chat, call)
    await this.record(chat, token, inflight, call, result)
  }

  /** takeNotices puts what the bot has to say before the rest of the chat's delivery. */
  private async takeNotices(chat: string, token: string, state: ChatState, config: Config): Promise<InFlight | undefined> {
    const { store } = this.deps
    const marked = state.notices.flatMap((n) => (n.kind === 'mark' ? [n.messageId] : []))
    const records = await store.records(chat, marked)
    const current = state.inflight ?? { calls: [], next: 0, attempts: 0, paceMs: this.chatPace(chat, config), receivedAt: Date.now() }
    const calls = spliceNotices(current.calls, current.next, state.notices, records, batchOptions(config, Date.now(), BotStore.newToken))
    const inflight: InFlight = { ...current, calls, next: 0, attempts: 0 }
    if (!(await store.takeNotices(chat, token, state.notices.length, inflight))) return undefined
    if (calls.length === 0) {
      await store.complete(chat, token, { paceMs: 0, inflight: undefined, writes: [], retryInMs: 0 })
      return undefined
    }
    return inflight
  }

  private chatPace(chat: string, config: Config): number {
    return paceOfChat(config.routing, config.telegram.pace, chat)
  }

  /**
   * startWork plans the chat's next delivery: a storm round when more waits than the chat can take
   * at its pace, else the head of the outbox, else a deferred edit; and moves it in flight.
   */
  private async startWork(chat: string, token: string, state: ChatState, config: Config): Promise<InFlight | undefined> {
    const { store, log, metrics } = this.deps
    const options = batchOptions(config, Date.now(), BotStore.newToken)
    const release = () => store.complete(chat, token, { paceMs: 0, inflight: undefined, writes: [], retryInMs: 0 })
    let items = state.items
    let delivery: Delivery | Error
    let popEdit = false
    if (state.poison) {
      await this.quarantine(chat, token, state.poison, false, new Error('not an outbox item alertwire can read'))
      return undefined
    }
    if (items.length > 0 && isStorm(items, state.waiting, items[0]!.paceMs, config.storms.maxDelayMs)) {
      items = state.waiting > items.length ? (await store.loadChat(chat, MAX_ITEMS_PER_STORM_ROUND)).items : items
      const lookups = await store.lookups(chat, items)
      delivery = attempt(() => planStorm(items, lookups, options))
      // a round that cannot be rendered must not hold the chat: go on one batch at a time
      if (delivery instanceof Error) delivery = attempt(() => planDelivery(items, lookups, options))
      else {
        metrics.storms.inc({ chat })
        log.info({ chat, alerts: delivery.take, messages: delivery.calls.length, waiting: state.waiting }, 'storm: folding what waits into digests')
      }
    } else if (items.length > 0) {
      const head = await store.lookups(chat, items)
      delivery = attempt(() => planDelivery(items, head, options))
      if (!(delivery instanceof Error) && delivery.take === HEAD_WINDOW) {
        // the head group may go on past the window: read the rest of it
        items = (await store.loadChat(chat, MAX_ITEMS_PER_DELIVERY)).items
        const lookups = await store.lookups(chat, items)
        delivery = attempt(() => planDelivery(items, lookups, options))
      }
    } else if (state.nextEdit) {
      const task = state.nextEdit
      const record = (await store.records(chat, [task.messageId])).get(task.messageId)
      const call = attempt(() => planDeferredEdit(task, record, options))
      delivery = call instanceof Error ? call : { take: 0, calls: call ? [call] : [], dropped: [], deferredEdits: [] }
      popEdit = true
    } else {
      await release()
      return undefined
    }
    if (delivery instanceof Error) {
      await this.quarantine(chat, token, items[0], popEdit, delivery)
      return undefined
    }
    for (const drop of delivery.dropped) {
      metrics.messages.inc({ chat, outcome: 'dropped' })
      log.info({ chat, fingerprint: drop.fingerprint }, `not sent: ${drop.reason}`)
    }
    const taken = items.slice(0, delivery.take)
    const inflight: InFlight = {
      calls: delivery.calls,
      next: 0,
      attempts: 0,
      paceMs: taken[0]?.paceMs ?? this.chatPace(chat, config),
      receivedAt: taken.length > 0 ? Math.min(...taken.map((i) => i.receivedAt)) : Date.now(),
    }
    if (!(await store.startDelivery(chat, token, { take: delivery.take, popEdit, deferredEdits: delivery.deferredEdits }, inflight))) return undefined
    if (delivery.calls.length === 0) {
      await release()
      return undefined
    }
    return inflight
  }

  /**
   * quarantine sets aside what alertwire could not render (a bug, or input no test foresaw) as a
   * dead letter, so the chat's other alerts go on instead of waiting behind it forever.
   */
  private async quarantine(chat: string, token: string, item: OutboxItem | string | undefined, popEdit: boolean, error: Error): Promise<void> {
    const { store, metrics, log } = this.deps
    metrics.deadLetters.inc({ reason: 'render_failed' })
    const fingerprint = typeof item === 'object' ? item.alert.fingerprint : undefined
    log.error({ chat, fingerprint, error: error.message, stack: error.stack?.split('\n').slice(0, 4).join(' | ') }, 'could not render a message; set aside as a dead letter')
    const empty: InFlight = { calls: [], next: 0, attempts: 0, paceMs: 0, receivedAt: Date.now() }
    if (!(await store.startDelivery(chat, token, { take: item && !popEdit ? 1 : 0, popEdit }, empty))) return
    const letter = store.deadLetterWrite({ chat, reason: 'render_failed', error: error.message, item: typeof item === 'string' ? safeJson(item) : item ?? null, at: new Date().toISOString() })
    await store.complete(chat, token, { paceMs: 0, inflight: undefined, writes: [letter], retryInMs: 0 })
  }

  private async execute(chat: string, call: Call): Promise<CallResult> {
    const { telegram } = this.deps
    const html = !call.plainOnly
    const text = html ? call.html : call.plain
    try {
      const keyboard = call.keyboard ? { keyboard: call.keyboard } : {}
      if (call.op === 'edit') {
        await telegram.editMessageText({ chatId: chat, messageId: call.messageId!, text, html, ...keyboard })
        return { ok: true, plain: !html }
      }
      const sent = await telegram.sendMessage({
        chatId: chat, text, html, silent: call.silent, ...keyboard,
        ...(call.threadId ? { threadId: call.threadId } : {}),
        ...(call.messageId ? { replyTo: call.messageId } : {}),
      })
      return { ok: true, messageId: sent.messageId, plain: !html }
    } catch (error) {
      return { ok: false, failure: classifyTelegramError(error) }
    }
  }

  /** record ends the turn: what the call changed, what the chat does next. */
  private async record(chat: string, token: string, inflight: InFlight, call: Call, result: CallResult): Promise<void> {
    const { store, metrics, log, config } = this.deps
    const retryConfig = config().delivery
    const advance = (writes: Write[]) => {
      const next = inflight.next + 1
      const rest = next < inflight.calls.length ? { ...inflight, next, attempts: 0, lastError: undefined } : undefined
      return store.complete(chat, token, { paceMs: inflight.paceMs, inflight: rest, writes, retryInMs: 0 })
    }
    const retry = (changed: Partial<InFlight>, paceMs: number, retryInMs: number) =>
      store.complete(chat, token, { paceMs, inflight: { ...inflight, ...changed }, writes: [], retryInMs })

    if (result.ok || result.failure.kind === 'not_modified') {
      const writes: Write[] = []
      if (call.record) {
        const messageId = call.announce && result.ok && result.messageId ? result.messageId : call.record.messageId
        writes.push(...store.recordWrites(chat, { ...call.record, messageId }, call.announce === true))
      }
      const outcome = call.op === 'edit' ? 'edited' : result.ok && result.plain ? 'sent_plain' : 'sent'
      metrics.messages.inc({ chat, outcome })
      this.lastErrors.delete(chat)
      log.debug({ chat, fingerprints: call.fingerprints, op: call.op }, 'telegram call done')
      await advance(writes)
      return
    }
    const failure = result.failure
    const fields = { chat, fingerprints: call.fingerprints, op: call.op, error: failure.description }
    switch (failure.kind) {
      case 'rate_limited':
        metrics.telegramRateLimited.inc({ chat })
        metrics.telegramRetries.inc({ reason: 'rate_limited' })
        log.warn({ ...fields, retryAfterMs: failure.retryAfterMs }, 'Telegram asked to slow down; waiting exactly retry_after')
        await retry({}, failure.retryAfterMs, 0)
        return
      case 'transient':
      case 'misconfigured': {
        const attempts = inflight.attempts + 1
        const wait = backoffMs(attempts, retryConfig.retryInitialMs, retryConfig.retryMaxMs)
        metrics.telegramRetries.inc({ reason: failure.kind })
        this.logChange(chat, failure.kind === 'misconfigured' ? 'error' : 'warn', failure.kind === 'misconfigured'
          ? 'Telegram refuses the bot token or API URL; messages wait until it is fixed'
          : 'Telegram call failed; retrying with backoff', failure.description, { ...fields, attempts, retryInMs: wait })
        await retry({ attempts, lastError: failure.description }, inflight.paceMs, wait)
        return
      }
      case 'bad_format':
        metrics.telegramRetries.inc({ reason: 'bad_format' })
        log.warn(fields, 'Telegram refused the HTML; resending as plain text')
        await retry({ calls: replaceCall(inflight, { ...call, plainOnly: true }) }, inflight.paceMs, 0)
        return
      case 'edit_target_missing':
        metrics.telegramRetries.inc({ reason: 'edit_target_missing' })
        log.info(fields, 'the message to edit is gone; sending a new one')
        await retry({ calls: replaceCall(inflight, { ...call, op: 'send', messageId: undefined, announce: true }) }, inflight.paceMs, 0)
        return
      case 'thread_missing':
        metrics.telegramRetries.inc({ reason: 'thread_missing' })
        log.warn(fields, 'the forum topic is gone; sending to the chat itself')
        await retry({ calls: inflight.calls.map(({ threadId: _gone, ...rest }) => rest) }, inflight.paceMs, 0)
        return
      case 'migrated':
        metrics.telegramRetries.inc({ reason: 'migrated' })
        log.warn({ ...fields, newChat: failure.migrateTo }, 'the group became a supergroup; moving its alerts there (update the chat id in the config)')
        await store.migrate(chat, String(failure.migrateTo), token)
        return
      case 'chat_unreachable':
      case 'rejected':
        await this.deadLetter(chat, inflight, call, failure.kind, failure.description, advance)
        return
    }
  }

  private async deadLetter(chat: string, inflight: InFlight, call: Call, reason: string, description: string, advance: (writes: Write[]) => Promise<boolean>) {
    const { store, metrics, log } = this.deps
    metrics.deadLetters.inc({ reason })
    metrics.messages.inc({ chat, outcome: 'dead_letter' })
    log.error({ chat, fingerprints: call.fingerprints, op: call.op, error: description, reason }, 'message given up on (dead letter)')
    await advance([
      store.deadLetterWrite({ chat, reason, error: description, op: call.op, fingerprints: call.fingerprints, text: call.plain, receivedAt: inflight.receivedAt, at: new Date().toISOString() }),
      store.chatErrorWrite(chat, description),
    ])
  }

  private async giveUp(chat: string, token: string, inflight: InFlight, reason: string, description: string) {
    const { store, metrics, log } = this.deps
    const rest = inflight.calls.slice(inflight.next)
    metrics.deadLetters.inc({ reason }, rest.length)
    metrics.messages.inc({ chat, outcome: 'dead_letter' }, rest.length)
    log.error({ chat, calls: rest.length, error: description }, 'messages given up on (dead letters)')
    const writes = rest.map((call) => store.deadLetterWrite({ chat, reason, error: description, op: call.op, fingerprints: call.fingerprints, text: call.plain, receivedAt: inflight.receivedAt, at: new Date().toISOString() }))
    await store.complete(chat, token, { paceMs: 0, inflight: undefined, writes: [...writes, store.chatErrorWrite(chat, description)], retryInMs: 0 })
  }

  /** logChange logs a repeating error only when it changes, so a long outage is one line, not thousands. */
  private logChange(key: string, level: 'warn' | 'error', message: string, error: string, fields: object = {}) {
    if (this.lastErrors.get(key) === error) {
      this.deps.log.debug({ ...fields, error }, message)
      return
    }
    this.lastErrors.set(key, error)
    this.deps.log[level]({ ...fields, error }, message)
  }
}

function replaceCall(inflight: InFlight, call: Call): Call[] {
  return inflight.calls.map((c, i) => (i === inflight.next ? call : c))
}
