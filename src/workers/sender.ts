/**
 * Sender: the per-chat delivery worker, a thin executor. Each lane leases the chat that is due
 * first (shared across replicas through Redis), asks the core what the chat's turn does
 * (core/turn.ts), reads what that needs, makes exactly one Telegram call, asks the core what the
 * answer means (core/answers.ts) and carries that out: store writes, metrics, logs. The policy is
 * in the core; what is here is I/O and its order.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'
import type { Call, MessageRecord } from '../core/delivery.js'
import { type Answer, type AnswerPlan, answerPlan } from '../core/answers.js'
import {
  type CallLetter,
  type ChatView,
  type GiveUp,
  HEAD_WINDOW,
  type InFlight,
  noticesInFlight,
  planCall,
  planTurn,
  planWorkSteps,
  type SetAside,
  type StartPlan,
} from '../core/turn.js'
import { MAX_ITEMS_PER_DELIVERY, type SenderConfig } from '../config/slices.js'
import { globalWaitMs } from '../core/pace.js'
import { type PhotoJob, photoTurn, type StoredPhoto } from '../core/photos.js'
import { Periodic } from '../runtime/periodic.js'
import { settle } from '../runtime/steps.js'
import { BotStore } from '../store/bot-store.js'
import type { DeliveryStore, Write } from '../store/delivery-store.js'
import type { TelegramPort } from '../telegram/client.js'
import { classifyTelegramError } from '../telegram/errors.js'

/** how often an idle lane looks for work another replica queued */
const IDLE_POLL_MS = 200
/** how long a lane pauses when Redis fails (the lease expires and the chat is picked up again, by us or another replica) */
const REDIS_ERROR_PAUSE_MS = 1000
/** RECORD_RETRY_MS: how often a turn tries again to record a message Telegram took while Redis does not answer */
const RECORD_RETRY_MS = 250

/** GraphHooks: what the graphs plugin gives the sender (plugins/graphs.ts): graphs asked for by sent calls, their pictures, and storms. */
export interface GraphHooks {
  /** afterCall: a call Telegram accepted (messageId: the new message's); queues the graphs it asks for, never throws */
  afterCall(chat: string, call: Call, messageId: number | undefined): void
  /** png: a drawn graph's picture, while it is kept */
  png(id: string): Promise<Buffer | undefined>
  /** storm: the chat folds alerts into digests: its waiting graphs are dropped and new ones not drawn for a while; returns how many were dropped */
  storm(chat: string): Promise<number>
}

/** EscalationHooks: what the escalation plugin gives the sender (plugins/escalation.ts). */
export interface EscalationHooks {
  /** scheduleWrites: the writes that start a newly sent alert message's escalation, saved with its record (none: no policy applies) */
  scheduleWrites(chat: string, record: MessageRecord): Write[]
}

/** SenderDeps: what the sender works with; config is read per turn so a reload takes effect. */
export interface SenderDeps {
  store: DeliveryStore
  telegram: TelegramPort
  metrics: Metrics
  log: Logger
  config: () => SenderConfig
  graphs?: GraphHooks
  escalation?: EscalationHooks
}

/** GRAPH_RETRY_MS: how soon a graph Telegram could not take (a network error, a 5xx) is tried again; it is skipped once stale. */
const GRAPH_RETRY_MS = 5_000

/** Sender: see the file comment. */
export class Sender {
  private lanes: Periodic[] = []

  constructor(private readonly deps: SenderDeps) {}

  /** start runs the configured number of lanes. */
  start(): void {
    if (this.lanes.length > 0) return
    const { log, config } = this.deps
    this.lanes = Array.from(
      { length: config().lanes },
      () =>
        new Periodic(() => this.lane(), {
          name: 'sender lane',
          log,
          intervalMs: () => IDLE_POLL_MS,
          immediate: true,
          retry: { initialMs: REDIS_ERROR_PAUSE_MS, maxMs: REDIS_ERROR_PAUSE_MS },
        }),
    )
    for (const lane of this.lanes) lane.start()
  }

  /** wake makes idle lanes look for work now (called when this process queued something). */
  wake(): void {
    for (const lane of this.lanes) lane.wake()
  }

  /** stop ends the lanes once their current call is done. */
  async stop(): Promise<void> {
    const lanes = this.lanes
    this.lanes = []
    await Promise.all(lanes.map((lane) => lane.stop()))
  }

  /** lane runs one turn of the chat due first; returns how long to wait before looking again (0: at once). */
  private async lane(): Promise<number> {
    // Redis away: the Redis plugin says so once; eight lanes failing on it would say it eight times more
    if (!this.deps.store.answering()) return IDLE_POLL_MS
    const { leaseMs, globalIntervalMs, classPace } = this.deps.config()
    const token = randomUUID()
    const leaseUntil = Date.now() + leaseMs
    const claim = await this.deps.store.claim(token, leaseMs, globalIntervalMs, classPace)
    if (!claim.chat) return Math.max(1, claim.waitMs >= 0 ? Math.min(claim.waitMs, IDLE_POLL_MS) : IDLE_POLL_MS)
    await this.turn(claim.chat, token, leaseUntil)
    return 0
  }

  /** turn makes at most one Telegram call for a leased chat. */
  private async turn(chat: string, token: string, leaseUntil: number): Promise<void> {
    const config = this.deps.config()
    const paceMs = config.chatPaceMs(chat)
    // the chats due before this one's next call share Telegram's overall limit with it
    const [state, othersDue] = await Promise.all([this.deps.store.loadChat(chat, HEAD_WINDOW), this.deps.store.dueWithin(paceMs)])
    const globalWait = globalWaitMs(othersDue, config.globalIntervalMs, paceMs)
    const policy = {
      maxDelayMs: config.storms.maxDelayMs,
      maxItems: MAX_ITEMS_PER_DELIVERY,
      catchUpAfterMs: config.catchUpAfterMs,
      globalWaitMs: globalWait,
      othersDue,
    }
    const plan = planTurn(state, policy, Date.now())
    const inflight =
      plan.kind === 'continue'
        ? plan.inflight
        : plan.kind === 'notices'
          ? await this.takeNotices(chat, token, state, plan.records, config)
          : plan.kind === 'set_aside'
            ? await this.setAside(chat, token, plan)
            : plan.kind === 'release'
              ? await this.release(chat, token)
              : plan.kind === 'photo'
                ? await this.photo(chat, token, plan.photo, config, leaseUntil)
                : await this.startWork(chat, token, state, plan, config)
    if (inflight) await this.call(chat, token, inflight, config, leaseUntil)
  }

  /** takeNotices moves the bot's notices into the chat's delivery, ahead of the rest. */
  private async takeNotices(chat: string, token: string, state: ChatView, marked: number[], config: SenderConfig): Promise<InFlight | undefined> {
    const { store } = this.deps
    const now = Date.now()
    const records = await store.records(chat, marked)
    const inflight = noticesInFlight(state, records, config.batch(now, BotStore.newToken), config.chatPaceMs(chat), now)
    if (!(await store.takeNotices(chat, token, state.notices.length, inflight))) return undefined
    return inflight.calls.length > 0 ? inflight : this.release(chat, token)
  }

  /** startWork reads what the plan needs, asks delivery.ts for the calls and moves them in flight. */
  private async startWork(chat: string, token: string, state: ChatView, plan: StartPlan, config: SenderConfig): Promise<InFlight | undefined> {
    const { store, metrics, log } = this.deps
    const now = Date.now()
    const outbox = plan.kind === 'edit' ? [] : plan.readUpTo > 0 ? await store.readOutbox(chat, plan.readUpTo) : state.items
    // a delivery held up by an outage is folded back in first: its items were the outbox's head
    const items = plan.kind === 'storm' && plan.fold?.items ? [...plan.fold.items, ...outbox] : outbox
    const lookups = await store.lookups(chat, items)
    const records = plan.kind === 'edit' ? await store.records(chat, [plan.edit.messageId]) : new Map()
    // a storm round is long work: planned in steps, webhooks are answered between them
    const work = await settle(planWorkSteps(plan, { items, lookups, records }, config.batch(now, BotStore.newToken), config.chatPaceMs(chat), now))
    if (work.kind === 'set_aside') return this.setAside(chat, token, work)
    const { delivery } = work
    if (work.storm) {
      metrics.storms.inc({ chat })
      const skipped = (await this.deps.graphs?.storm(chat)) ?? 0
      if (skipped > 0) metrics.graphs.inc({ outcome: 'skipped_storm' }, skipped)
      const what = work.inflight.catchUp ? 'catching up after an outage: folding what piled up into a digest' : 'storm: folding what waits into digests'
      log.info({ chat, alerts: work.inflight.items?.length ?? delivery.take, messages: delivery.calls.length, waiting: state.waiting }, what)
    }
    for (const drop of delivery.dropped) {
      metrics.messages.inc({ chat, outcome: 'dropped' })
      log.info({ chat, fingerprint: drop.fingerprint }, `not sent: ${drop.reason}`)
    }
    const started = { take: delivery.take, popEdit: work.popEdit, deferredEdits: delivery.deferredEdits, ...(work.last ? { last: work.last } : {}) }
    // not started: the lease is lost (then releasing does nothing) or the outbox changed under the plan (then the next turn plans again)
    if (!(await store.startDelivery(chat, token, started, work.inflight))) return this.release(chat, token)
    return delivery.calls.length > 0 ? work.inflight : this.release(chat, token)
  }

  /** setAside keeps what alertwire could not render (a bug, or input no test foresaw) as a dead letter, so the chat's other alerts go on. */
  private async setAside(chat: string, token: string, what: SetAside): Promise<undefined> {
    const { store, metrics, log } = this.deps
    const { error } = what
    metrics.deadLetters.inc({ reason: 'render_failed' })
    log.error(
      { chat, fingerprint: what.fingerprint, error: error.message, stack: error.stack?.split('\n').slice(0, 4).join(' | ') },
      'could not render a message; set aside as a dead letter',
    )
    const empty: InFlight = { calls: [], next: 0, attempts: 0, paceMs: 0, receivedAt: Date.now() }
    if (!(await store.startDelivery(chat, token, { take: what.take, popEdit: what.popEdit, ...(what.last ? { last: what.last } : {}) }, empty)))
      return this.release(chat, token)
    const letter = store.deadLetterWrite({ chat, reason: 'render_failed', error: error.message, item: what.item, at: new Date().toISOString() })
    await store.complete(chat, token, { paceMs: 0, inflight: undefined, writes: [letter], retryInMs: 0 })
    return undefined
  }

  /** release ends a turn that made no call. */
  private async release(chat: string, token: string): Promise<undefined> {
    await this.deps.store.complete(chat, token, { paceMs: 0, inflight: undefined, writes: [], retryInMs: 0 })
    return undefined
  }

  /** call makes the delivery's next call (or gives the delivery up) and carries out what the answer means. */
  private async call(chat: string, token: string, inflight: InFlight, config: SenderConfig, leaseUntil: number): Promise<void> {
    const plan = planCall(inflight, config.retry.giveUpAfterMs, Date.now())
    if (plan.kind === 'give_up') return this.giveUp(chat, token, plan)
    const answer = await this.execute(chat, plan.call)
    await this.apply(chat, token, answerPlan(answer, inflight, config.retry, Math.random), plan.call, answer.ok ? leaseUntil : 0)
    if (answer.ok) this.deps.graphs?.afterCall(chat, plan.call, answer.messageId)
  }

  /** photo sends the graph at the head of the chat's list (nothing else waits), or drops it: stale, unreadable, or refused. */
  private async photo(chat: string, token: string, stored: StoredPhoto, config: SenderConfig, leaseUntil: number): Promise<undefined> {
    const { store, metrics, log } = this.deps
    const shift: Write = { op: 'shift', key: store.keys.photos(chat), value: stored.raw }
    const turn = photoTurn(stored, Date.now())
    const png = turn.kind === 'send' && turn.job.png ? await this.deps.graphs?.png(turn.job.id) : undefined
    if (turn.kind === 'skip' || (turn.job.png && !png)) {
      // a picture no longer kept waited longer than it is kept: stale as well
      const reason = turn.kind === 'skip' ? turn.reason : 'stale'
      if (reason === 'stale') metrics.graphs.inc({ outcome: 'skipped_stale' })
      log.info({ chat, reason }, 'graph not sent: it waited too long for the chat, or cannot be read')
      await store.complete(chat, token, { paceMs: 0, inflight: undefined, writes: [shift], retryInMs: 0 })
      return undefined
    }
    const { job } = turn
    const answer = await this.sendGraph(chat, job, png)
    const paceMs = config.chatPaceMs(chat)
    if (answer.ok) {
      metrics.graphs.inc({ outcome: 'sent' })
      metrics.messages.inc({ chat, outcome: 'sent' })
      await this.completeSent(chat, token, { paceMs, inflight: undefined, writes: [shift], retryInMs: 0 }, leaseUntil)
      return undefined
    }
    const { failure } = answer
    if (failure.kind === 'rate_limited' || failure.kind === 'transient' || failure.kind === 'misconfigured') {
      if (failure.kind === 'rate_limited') metrics.telegramRateLimited.inc({ chat })
      const retryInMs = failure.kind === 'rate_limited' ? failure.retryAfterMs : GRAPH_RETRY_MS
      log.warn({ chat, error: failure.description, retryInMs }, 'graph not sent yet: Telegram did not take it; trying again')
      await store.complete(chat, token, { paceMs: failure.kind === 'rate_limited' ? 0 : paceMs, inflight: undefined, writes: [], retryInMs })
      return undefined
    }
    metrics.graphs.inc({ outcome: 'failed' })
    log.warn({ chat, error: failure.description }, 'graph not sent: Telegram refused it')
    await store.complete(chat, token, { paceMs, inflight: undefined, writes: [shift], retryInMs: 0 })
    return undefined
  }

  /** sendGraph makes the one call of a graph: the picture with its caption, or the caption alone (why there is no picture). */
  private async sendGraph(chat: string, job: PhotoJob, png: Buffer | undefined): Promise<Answer> {
    const where = {
      chatId: chat,
      html: true,
      silent: job.silent,
      ...(job.threadId ? { threadId: job.threadId } : {}),
      ...(job.replyTo ? { replyTo: job.replyTo } : {}),
    }
    try {
      const sent = png
        ? await this.deps.telegram.sendPhoto({ ...where, png, caption: job.caption })
        : await this.deps.telegram.sendMessage({ ...where, text: job.caption })
      return { ok: true, messageId: sent.messageId }
    } catch (error) {
      return { ok: false, failure: classifyTelegramError(error) }
    }
  }

  private async execute(chat: string, call: Call): Promise<Answer> {
    const { telegram } = this.deps
    const html = !call.plainOnly
    const text = html ? call.html : call.plain
    const extras = { ...(call.keyboard ? { keyboard: call.keyboard } : {}), ...(call.preview ? { preview: call.preview } : {}) }
    if (call.unchanged) return { ok: true }
    try {
      if (call.op === 'edit') {
        await telegram.editMessageText({ chatId: chat, messageId: call.messageId!, text, html, ...extras })
        return { ok: true }
      }
      const sent = await telegram.sendMessage({
        chatId: chat,
        text,
        html,
        silent: call.silent,
        ...extras,
        ...(call.threadId ? { threadId: call.threadId } : {}),
        ...(call.messageId ? { replyTo: call.messageId } : {}),
      })
      return { ok: true, messageId: sent.messageId }
    } catch (error) {
      return { ok: false, failure: classifyTelegramError(error) }
    }
  }

  /** apply carries out what an answer means: counts, logs, and ends the turn (or moves the chat); sentUntil: Telegram took the call, record it until then (completeSent). */
  private async apply(chat: string, token: string, plan: AnswerPlan, call: Call, sentUntil: number): Promise<void> {
    const { store, metrics, log } = this.deps
    const { count } = plan
    if (count.message) metrics.messages.inc({ chat, outcome: count.message })
    if (count.rateLimited) metrics.telegramRateLimited.inc({ chat })
    if (count.retry) metrics.telegramRetries.inc({ reason: count.retry })
    if (count.deadLetter) metrics.deadLetters.inc({ reason: count.deadLetter })
    for (const { metric, seconds, ...labels } of count.observe ?? []) {
      if (metric === 'acknowledge') metrics.timeToAcknowledge.observe(labels, seconds)
      else if (metric === 'resolve') metrics.timeToResolve.observe(labels, seconds)
      else metrics.resolvedUntaken.inc(labels)
    }
    log[plan.log.level]({ chat, ...plan.log.fields }, plan.log.message)
    if (plan.action === 'migrate') {
      await store.migrate(chat, plan.migrateTo, token)
      return
    }
    const saved = plan.save ? store.recordWrites(chat, plan.save.record, plan.save.announce, plan.save.only) : []
    // a new alert message (not an edit of one) starts its escalation in the same script that saves it
    const escalation = plan.save?.announce && call.op === 'send' ? (this.deps.escalation?.scheduleWrites(chat, plan.save.record) ?? []) : []
    const writes = [...saved, ...escalation, ...(plan.letter ? this.letterWrites(chat, [plan.letter]) : [])]
    await this.completeSent(chat, token, { ...plan.end, writes }, sentUntil)
  }

  /**
   * completeSent ends a turn whose call Telegram took. The chat already has the message: if Redis
   * cannot be reached to record it (a failover: the primary died while the call was out), giving up
   * would let the next turn send it again once the lease expires. So it tries again until the lease
   * ends; the new primary then records it, or says the lease is gone (and nothing is written twice).
   */
  private async completeSent(chat: string, token: string, turn: Parameters<DeliveryStore['complete']>[2], leaseUntil: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.store.complete(chat, token, turn)
        if (attempt > 1) this.deps.log.info({ chat, attempts: attempt }, 'recorded a message Telegram took once Redis answered again')
        return
      } catch (error) {
        if (Date.now() + RECORD_RETRY_MS >= leaseUntil) throw error
        if (attempt === 1) this.deps.log.warn({ chat, error: (error as Error).message }, 'could not record a sent message; trying until the lease ends')
        await new Promise((resolve) => setTimeout(resolve, RECORD_RETRY_MS))
      }
    }
  }

  /** giveUp makes every call left of an expired delivery a dead letter. */
  private async giveUp(chat: string, token: string, { reason, error, letters }: GiveUp): Promise<void> {
    const { store, metrics, log } = this.deps
    metrics.deadLetters.inc({ reason }, letters.length)
    metrics.messages.inc({ chat, outcome: 'dead_letter' }, letters.length)
    log.error({ chat, calls: letters.length, error }, 'messages given up on (dead letters)')
    await store.complete(chat, token, { paceMs: 0, inflight: undefined, writes: this.letterWrites(chat, letters), retryInMs: 0 })
  }

  /** letterWrites keep the calls given up on for inspection, and the chat's last error for /status. */
  private letterWrites(chat: string, letters: CallLetter[]): Write[] {
    const { store } = this.deps
    const at = new Date().toISOString()
    const kept = letters.map((letter) => store.deadLetterWrite({ chat, ...letter, at }))
    return letters.length > 0 ? [...kept, store.chatErrorWrite(chat, letters[0]!.error)] : kept
  }
}
