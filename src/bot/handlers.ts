/**
 * The bot: commands and button presses from the chat, turned into silences in Alertmanager and
 * updates of alert messages. Only admins change anything; everyone else gets a polite refusal and
 * nothing changes. Every action is logged with who, what and how it ended, and counted. Nothing
 * is left half-done: a silence created but not recorded is expired again.
 */
import type { Logger } from 'pino'
import { AlertmanagerError, type AlertmanagerClient, type GettableAlert, isNotFound, type Silence } from '../alertmanager/client.js'
import { formatSilenceMatcher, isMatchAll, parseSilenceMatchers, type SilenceMatcher } from '../alertmanager/matchers.js'
import { formatDuration, parseDuration } from '../core/duration.js'
import type { Metrics } from '../metrics.js'
import { parseButtonData } from '../core/keyboard.js'
import { formatTime, type SilenceMark } from '../core/render.js'
import { type AlertRef, BotStore, type ButtonTarget } from '../store/bot-store.js'
import type { DeliveryStore } from '../store/delivery-store.js'
import type { InlineButton } from '../core/keyboard.js'
import type { TelegramBotApi } from '../telegram/client.js'
import type { Rendered } from '../core/render.js'
import type { BotConfig } from '../config/slices.js'
import { type Command, parseCommand, parseDashboardCommand, parseSilenceArgs, type SilenceRequest } from './commands.js'
import type { ChatGraphs } from './graphs.js'
import { parseDashboardButton } from '../core/dashboard.js'
import { alertsPage, helpReply, plainReply, silencesPage, sortAlerts, type StatusReport, statusReply } from './replies.js'
import { silenceMatchers } from './silences.js'
import { isReminderAction, Reminders } from './reminders.js'
import { TAKE_USAGE, takeMessage, timelineAnswer } from './take.js'
import { personOf } from '../core/take.js'
import { personName } from '../core/timeline.js'
import { type BotMessage, type BotUpdate, type BotUser, who } from './update-schema.js'
import { onCallCommand } from './oncall.js'
import type { RotaStore } from '../store/rota-store.js'

/** LIST_TTL_MS: how long the buttons of a /alerts or /silences page keep working. */
const LIST_TTL_MS = 3_600_000
const ADMIN_STATUSES = new Set(['creator', 'administrator'])
// dashboards say themselves who may see them (dashboards.<name>.who)
// /oncall says itself who may do what: anyone reads, only admins change (bot/oncall.ts)
const READ_ONLY = new Set(['oncall', 'alerts', 'silences', 'status', 'help', 'dashboards', 'dashboard', 'metrics', 'timeline'])

/** BotDeps: what the bot works with; its config slice is read per update so a reload takes effect. */
export interface BotDeps {
  config: () => BotConfig
  api: TelegramBotApi
  delivery: DeliveryStore
  buttons: BotStore
  alertmanager: () => AlertmanagerClient
  metrics: Metrics
  log: Logger
  status: () => Promise<StatusReport>
  /** graphs and dashboards (bot/graphs.ts); absent: those commands say graphs are off */
  graphs?: ChatGraphs
  /** overrides of rotas made from the chat (/oncall) */
  rotas: RotaStore
}

type Outcome = 'ok' | 'refused' | 'failed' | 'invalid' | 'expired'
type Reply = (rendered: Rendered, keyboard?: InlineButton[][]) => Promise<void>

/** BotHandlers: see the file comment. */
export class BotHandlers {
  /** the bot's @username, to tell its commands from other bots' (/alerts@alertwire_bot) */
  username: string | undefined

  /** the buttons of silence reminders (bot/reminders.ts) */
  private readonly reminders: Reminders

  constructor(private readonly deps: BotDeps) {
    this.reminders = new Reminders(deps)
  }

  /** handle acts on one update; failures are logged, never thrown (the next update must still come). */
  async handle(update: BotUpdate, via: 'polling' | 'webhook'): Promise<void> {
    try {
      if (update.callback_query) {
        this.deps.metrics.botUpdates.inc({ kind: 'button', via })
        await this.onButton(update.callback_query)
      } else if (update.message) {
        const command =
          parseCommand(update.message.text, this.username) ??
          parseDashboardCommand(update.message.text, this.username, new Set(this.deps.config().dashboards.keys()))
        this.deps.metrics.botUpdates.inc({ kind: command ? 'command' : 'other', via })
        if (command && update.message.from) await this.onCommand(command, update.message, update.message.from)
      } else this.deps.metrics.botUpdates.inc({ kind: 'other', via })
    } catch (error) {
      this.deps.log.error({ update: update.update_id, error: (error as Error).message }, 'handling a Telegram update failed')
    }
  }

  /** isAdmin: configured admins everywhere, chat admins in their chat, and optionally the chat's own administrators. */
  async isAdmin(user: number, chat: string): Promise<boolean> {
    const { access } = this.deps.config()
    if (access.admins.has(user) || access.chatAdmins.get(chat)?.has(user)) return true
    if (!access.chatAdministrators || Number(chat) > 0) return false
    try {
      return ADMIN_STATUSES.has(await this.deps.buttons.memberStatus(chat, user, () => this.deps.api.getChatMember(chat, user)))
    } catch (error) {
      this.deps.log.warn({ chat, user, error: (error as Error).message }, 'could not ask Telegram who administers the chat')
      return false
    }
  }

  private isAnyAdmin(user: number): boolean {
    const { access } = this.deps.config()
    return access.admins.has(user) || [...access.chatAdmins.values()].some((ids) => ids.has(user))
  }

  private record(action: string, outcome: Outcome, user: BotUser, chat: string, details: object = {}) {
    this.deps.metrics.adminActions.inc({ action, outcome })
    const level = outcome === 'ok' ? 'info' : outcome === 'failed' ? 'error' : 'warn'
    this.deps.log[level]({ action, outcome, user: who(user), chat, ...details }, `admin action ${action}: ${outcome}`)
  }

  // ---- commands ----

  private async onCommand(command: Command, message: BotMessage, user: BotUser): Promise<void> {
    const chat = String(message.chat.id)
    const known = this.deps.config().chats.has(chat)
    if (!known && !(message.chat.type === 'private' && this.isAnyAdmin(user.id))) {
      this.deps.log.info({ chat, user: who(user), command: command.name }, 'command ignored: not a chat alertwire serves')
      return
    }
    const reply: Reply = (rendered, keyboard) =>
      this.deps.delivery.pushNotice(chat, {
        kind: 'send',
        html: rendered.html,
        plain: rendered.plain,
        replyTo: message.message_id,
        ...(message.is_topic_message && message.message_thread_id ? { threadId: message.message_thread_id } : {}),
        ...(keyboard && keyboard.length > 0 ? { keyboard } : {}),
      })
    if (!READ_ONLY.has(command.name) && !(await this.isAdmin(user.id, chat))) {
      this.record(command.name, 'refused', user, chat)
      await reply(plainReply(`Sorry, only alertwire admins can use /${command.name} here.`))
      return
    }
    switch (command.name) {
      case 'help':
        return reply(helpReply())
      case 'status':
        return reply(statusReply(await this.deps.status(), this.renderOptions()))
      case 'alerts':
        return this.listAlerts(chat, reply)
      case 'silences':
        return this.listSilences(chat, reply)
      case 'silence':
        return reply(plainReply(await this.silenceCommand(command.args, user, chat)))
      case 'unsilence':
        return reply(plainReply(await this.unsilenceCommand(command.args, user, chat)))
      case 'ack':
        return reply(plainReply(await this.ackCommand(message, user, chat)))
      case 'mute':
        return reply(plainReply(await this.muteCommand(command.args, user, chat)))
      case 'unmute':
        return reply(plainReply(await this.unmuteCommand(user, chat)))
      case 'dashboards':
        return reply(this.deps.graphs?.dashboardsList() ?? plainReply('Graphs and dashboards are off here.'))
      case 'take':
      case 'release':
        return reply(plainReply(await this.takeCommand(command.name, message.reply_to_message?.message_id, user, chat)))
      case 'timeline':
        return reply(await timelineAnswer(this.takeDeps(), chat, message.reply_to_message?.message_id))
      case 'oncall':
        return this.oncallCommand(command.args, user, chat, reply)
      default:
        return this.graphCommands(command, message, user, chat, reply)
    }
  }

  /** oncallCommand shows who is on call, or lets an admin override it (bot/oncall.ts); a change, refused or not, is recorded. */
  private async oncallCommand(args: string, user: BotUser, chat: string, reply: Reply): Promise<void> {
    const oncall = { oncall: this.deps.config().oncall, store: this.deps.rotas, now: Date.now }
    const done = await onCallCommand(oncall, args, chat, user, () => this.isAdmin(user.id, chat))
    if (done.outcome) this.record('oncall', done.outcome, user, chat, done.details)
    return reply(done.answer)
  }

  /** graphCommands answers /graph and a dashboard (/dashboard, /metrics, /<name>); graphs reply to the command. */
  private async graphCommands(command: Command, message: BotMessage, user: BotUser, chat: string, reply: Reply): Promise<void> {
    const { graphs } = this.deps
    if (!graphs) return reply(plainReply('Graphs and dashboards are off here.'))
    const where = {
      chat,
      replyTo: message.message_id,
      ...(message.is_topic_message && message.message_thread_id ? { threadId: message.message_thread_id } : {}),
    }
    if (command.name === 'graph') {
      const done = await graphs.graphCommand(command.args, where)
      this.record('graph', done.outcome, user, chat, { args: command.args.slice(0, 200) })
      return done.answer ? reply(done.answer) : undefined
    }
    const found = graphs.findDashboard(command.args)
    if ('answer' in found) return reply(found.answer)
    const { dashboard, rangeMs } = found
    if (dashboard.who === 'admins' && !(await this.isAdmin(user.id, chat))) {
      this.record('dashboard', 'refused', user, chat, { dashboard: dashboard.name })
      return reply(plainReply(`Sorry, only alertwire admins can see the ${dashboard.name} dashboard here.`))
    }
    const answer = await graphs.dashboardAnswer(dashboard, rangeMs)
    await reply(answer, answer.keyboard)
    const drawn = await graphs.dashboardGraphs(dashboard, rangeMs, where)
    this.record('dashboard', 'ok', user, chat, { dashboard: dashboard.name, range: rangeMs, graphs: drawn })
  }

  private renderOptions() {
    return this.deps.config().display(Date.now())
  }

  private takeDeps() {
    return { delivery: this.deps.delivery, log: this.deps.log, display: (now: number) => this.deps.config().display(now) }
  }

  /** takeCommand takes or releases the alert message a command replies to (bot/take.ts); the button does the same. */
  private async takeCommand(action: 'take' | 'release', messageId: number | undefined, user: BotUser, chat: string): Promise<string> {
    if (!messageId) {
      this.record(action, 'invalid', user, chat)
      return TAKE_USAGE
    }
    const done = await takeMessage(this.takeDeps(), chat, messageId, action, user)
    this.record(action, done.outcome, user, chat, done.details)
    return done.text
  }

  private async listAlerts(chat: string, reply: Reply) {
    let alerts: GettableAlert[]
    try {
      alerts = await this.deps.alertmanager().listAlerts({ active: true, silenced: false, inhibited: false })
    } catch (error) {
      return reply(plainReply(`Could not list alerts: ${(error as Error).message}`))
    }
    const options = this.renderOptions()
    const rows = sortAlerts(
      alerts.map((a) => ({ fingerprint: a.fingerprint, labels: a.labels, annotations: a.annotations, startsAt: a.startsAt })),
      options,
    )
    const token = await this.saveList({
      kind: 'alerts',
      chat,
      alerts: rows.map((r) => ({ fingerprint: r.fingerprint, startsAt: r.startsAt, labels: r.labels })),
      page: 0,
    })
    const page = alertsPage(rows, 0, token, this.deps.config().silences.durationsMs[0]!, options)
    return reply(page, page.keyboard)
  }

  private async listSilences(chat: string, reply: Reply) {
    let silences: Silence[]
    try {
      silences = (await this.deps.alertmanager().listSilences()).filter((s) => s.status.state === 'active')
    } catch (error) {
      return reply(plainReply(`Could not list silences: ${(error as Error).message}`))
    }
    silences.sort((a, b) => a.endsAt.localeCompare(b.endsAt))
    const rows = silences.map((s) => ({
      id: s.id,
      matchers: s.matchers.map(formatSilenceMatcher).join(', '),
      endsAt: s.endsAt,
      createdBy: s.createdBy,
      comment: s.comment,
    }))
    const token = await this.saveList({ kind: 'silences', chat, silences: rows.map((r) => ({ id: r.id, text: r.matchers })), page: 0 })
    const page = silencesPage(rows, 0, token, this.renderOptions())
    return reply(page, page.keyboard)
  }

  private async saveList(target: ButtonTarget): Promise<string> {
    const token = BotStore.newToken()
    await this.deps.buttons.saveTarget(token, target, LIST_TTL_MS)
    return token
  }

  private async silenceCommand(args: string, user: BotUser, chat: string): Promise<string> {
    let request: SilenceRequest
    let matchers: SilenceMatcher[]
    try {
      request = parseSilenceArgs(args)
      matchers = parseSilenceMatchers(request.matchers)
      if (isMatchAll(matchers)) throw new Error('these matchers would silence everything; name at least one label value')
    } catch (error) {
      this.record('silence', 'invalid', user, chat, { args })
      return `Not silenced: ${(error as Error).message}`
    }
    try {
      const id = await this.deps.alertmanager().createSilence({
        matchers,
        endsAt: new Date(Date.now() + request.durationMs),
        createdBy: `telegram:${who(user)}`,
        comment: request.comment ?? this.deps.config().silences.comment,
      })
      this.record('silence', 'ok', user, chat, { silence: id, matchers: request.matchers, duration: formatDuration(request.durationMs) })
      return `🔕 Silenced ${matchers.map(formatSilenceMatcher).join(', ')} for ${formatDuration(request.durationMs)} (id ${id}).`
    } catch (error) {
      this.record('silence', 'failed', user, chat, { error: (error as Error).message })
      return `Not silenced: ${(error as Error).message}`
    }
  }

  private async unsilenceCommand(args: string, user: BotUser, chat: string): Promise<string> {
    const id = args.trim()
    if (!/^[A-Za-z0-9-]{8,64}$/.test(id)) {
      this.record('unsilence', 'invalid', user, chat, { args })
      return 'usage: /unsilence <silence id> (the ids are in /silences)'
    }
    try {
      await this.deps.alertmanager().expireSilence(id)
      this.record('unsilence', 'ok', user, chat, { silence: id })
      return `🔔 Silence ${id} expired.`
    } catch (error) {
      this.record('unsilence', 'failed', user, chat, { silence: id, error: (error as Error).message })
      return `Silence ${id} not expired: ${(error as Error).message}`
    }
  }

  private async ackCommand(message: BotMessage, user: BotUser, chat: string): Promise<string> {
    const replied = message.reply_to_message?.message_id
    const record = replied ? (await this.deps.delivery.records(chat, [replied])).get(replied) : undefined
    const target = record?.token ? await this.deps.buttons.target(record.token) : undefined
    if (!record?.token || target?.kind !== 'message') {
      this.record('ack', 'invalid', user, chat)
      return 'Reply to an alert message with /ack to silence it until it resolves.'
    }
    return (await this.silenceMessage(target, record.token, user, this.deps.config().silences.ackMaxMs, true)).text
  }

  private async muteCommand(args: string, user: BotUser, chat: string): Promise<string> {
    const ms = parseDuration(args.trim())
    if (!ms) {
      this.record('mute', 'invalid', user, chat, { args })
      return "usage: /mute 30m (a duration: how long to pause this chat's notifications)"
    }
    const until = Date.now() + ms
    await this.deps.delivery.muteChat(chat, until)
    this.record('mute', 'ok', user, chat, { until: new Date(until).toISOString() })
    const critical = { silent: 'critical alerts still come, silently', loud: 'critical alerts still come', hold: 'critical alerts wait too' }[
      this.deps.config().criticalWhenMuted
    ]
    return `🔇 Notifications paused here until ${formatTime(new Date(until).toISOString(), this.renderOptions().timeZone)} (${critical}). /unmute resumes them.`
  }

  private async unmuteCommand(user: BotUser, chat: string): Promise<string> {
    const released = await this.deps.delivery.unmuteChat(chat)
    this.record('unmute', 'ok', user, chat, { released })
    return `🔔 Notifications resumed${released > 0 ? `; ${released} held alert events follow` : ''}.`
  }

  // ---- buttons ----

  private async onButton(query: NonNullable<BotUpdate['callback_query']>): Promise<void> {
    const answer = (text: string, alert = false) => this.deps.api.answerCallbackQuery(query.id, text.slice(0, 200), alert)
    const chat = query.message ? String(query.message.chat.id) : ''
    const range = parseDashboardButton(query.data)
    if (range && query.message) return this.dashboardButton(range, query.message.message_id, query.from, chat, answer)
    const parsed = parseButtonData(query.data)
    if (!parsed || !query.message) {
      this.record('button', 'invalid', query.from, chat, { data: query.data?.slice(0, 64) })
      return answer('This button is not valid.')
    }
    const target = await this.deps.buttons.target(parsed.token)
    if (!target || target.chat !== chat) {
      this.record('button', 'expired', query.from, chat)
      return answer('This button has expired.')
    }
    if (parsed.action.startsWith('pg')) return this.turnPage(target, Number(parsed.action.slice(2)), parsed.token, query.message.message_id, answer)
    // a graph is for reading, as a list's pages are: anyone in the chat may ask for it
    if (parsed.action === 'gr' && target.kind === 'message') return answer(await this.graphButton(target, query.from))
    if (!(await this.isAdmin(query.from.id, chat))) {
      this.record(parsed.action, 'refused', query.from, chat)
      return answer('Sorry, only alertwire admins can do this here.', true)
    }
    const { silences } = this.deps.config()
    if (target.kind === 'message') {
      if (isReminderAction(parsed.action))
        return answer(await this.reminders.press(parsed.action, target, parsed.token, query.message.message_id, query.from), true)
      if (parsed.action === 'tk' || parsed.action === 'rl')
        return answer(await this.takeCommand(parsed.action === 'tk' ? 'take' : 'release', target.messageId, query.from, chat))
      if (parsed.action === 'uns') return answer((await this.unsilenceMessage(target, parsed.token, query.from)).text, true)
      const ack = parsed.action === 'ack'
      const ms = ack ? silences.ackMaxMs : silences.durationsMs[Number(parsed.action.slice(1))]
      if (!ms) return answer('This button is not valid.')
      const outcome = await this.silenceMessage(target, parsed.token, query.from, ms, ack)
      return answer(outcome.text, !outcome.ok)
    }
    const index = Number(parsed.action.slice(2))
    if (!parsed.action.startsWith('it')) return answer('This button is not valid.')
    if (target.kind === 'alerts' && target.alerts[index]) {
      return answer((await this.silenceAlerts([target.alerts[index]!], query.from, chat, silences.durationsMs[0]!)).text, true)
    }
    if (target.kind === 'silences' && target.silences[index]) {
      return answer(await this.unsilenceCommand(target.silences[index]!.id, query.from, chat), true)
    }
    return answer('This button is not valid.')
  }

  /** graphButton asks for the graph of an alert message (the 📈 button), replying to it. */
  private async graphButton(target: Extract<ButtonTarget, { kind: 'message' }>, user: BotUser): Promise<string> {
    if (!this.deps.graphs) return 'Graphs are off here.'
    const record = (await this.deps.delivery.records(target.chat, [target.messageId])).get(target.messageId)
    const where = { chat: target.chat, replyTo: target.messageId, ...(target.threadId ? { threadId: target.threadId } : {}) }
    const text = await this.deps.graphs.graphButton(record, where)
    this.record('graph', text.startsWith('📈') ? 'ok' : 'invalid', user, target.chat, { message: target.messageId })
    return text
  }

  /** dashboardButton shows a dashboard over another range, by editing its message. */
  private async dashboardButton(
    range: { name: string; rangeMs: number; range: string },
    messageId: number,
    user: BotUser,
    chat: string,
    answer: (text: string, alert?: boolean) => Promise<void>,
  ) {
    const dashboard = this.deps.config().dashboards.get(range.name)
    if (!this.deps.graphs || !dashboard) return answer('This dashboard is no longer configured.')
    if (dashboard.who === 'admins' && !(await this.isAdmin(user.id, chat))) {
      this.record('dashboard', 'refused', user, chat, { dashboard: dashboard.name })
      return answer('Sorry, only alertwire admins can see this dashboard here.', true)
    }
    const shown = await this.deps.graphs.dashboardAnswer(dashboard, range.rangeMs)
    await this.deps.delivery.pushNotice(chat, {
      kind: 'edit',
      messageId,
      html: shown.html,
      plain: shown.plain,
      ...(shown.keyboard ? { keyboard: shown.keyboard } : {}),
    })
    this.record('dashboard', 'ok', user, chat, { dashboard: dashboard.name, range: range.range })
    return answer(`Last ${range.range}`)
  }

  private async turnPage(target: ButtonTarget, page: number, token: string, messageId: number, answer: (text: string) => Promise<void>) {
    const options = this.renderOptions()
    if (target.kind === 'alerts') {
      const rendered = alertsPage(
        target.alerts.map((a) => ({ ...a, annotations: {} })),
        page,
        token,
        this.deps.config().silences.durationsMs[0]!,
        options,
      )
      await this.deps.delivery.pushNotice(target.chat, { kind: 'edit', messageId, html: rendered.html, plain: rendered.plain, keyboard: rendered.keyboard })
    } else if (target.kind === 'silences') {
      const rendered = silencesPage(
        target.silences.map((s) => ({ id: s.id, matchers: s.text, endsAt: new Date().toISOString(), createdBy: '', comment: '' })),
        page,
        token,
        options,
      )
      await this.deps.delivery.pushNotice(target.chat, { kind: 'edit', messageId, html: rendered.html, plain: rendered.plain, keyboard: rendered.keyboard })
    }
    return answer(`Page ${page + 1}`)
  }

  /** silenceAlerts creates one silence for these alerts in Alertmanager. */
  private async silenceAlerts(
    alerts: readonly AlertRef[],
    user: BotUser,
    chat: string,
    ms: number,
    ack = false,
  ): Promise<{ ok: boolean; id?: string; text: string }> {
    const action = ack ? 'ack' : 'silence'
    try {
      const matchers = silenceMatchers(alerts, this.deps.config().silences.matchLabels)
      const id = await this.deps.alertmanager().createSilence({
        matchers,
        endsAt: new Date(Date.now() + ms),
        createdBy: `telegram:${who(user)}`,
        comment: ack ? `${this.deps.config().silences.comment} (acknowledged until resolved)` : this.deps.config().silences.comment,
      })
      this.record(action, 'ok', user, chat, { silence: id, fingerprints: alerts.map((a) => a.fingerprint), duration: formatDuration(ms) })
      return { ok: true, id, text: ack ? 'Acknowledged: silenced until it resolves.' : `Silenced for ${formatDuration(ms)}.` }
    } catch (error) {
      this.record(action, 'failed', user, chat, { error: (error as Error).message })
      const reason = error instanceof AlertmanagerError ? error.message : `not silenced: ${(error as Error).message}`
      return { ok: false, text: reason.startsWith('not silenced') ? reason : `Not silenced: ${reason}` }
    }
  }

  /** silenceMessage silences an alert message's alerts and shows it on the message, or changes nothing. */
  private async silenceMessage(
    target: Extract<ButtonTarget, { kind: 'message' }>,
    token: string,
    user: BotUser,
    ms: number,
    ack: boolean,
  ): Promise<{ ok: boolean; text: string }> {
    const created = await this.silenceAlerts(target.alerts, user, target.chat, ms, ack)
    if (!created.ok || !created.id) return created
    const mark: SilenceMark = { ids: [created.id], by: who(user), until: new Date(Date.now() + ms).toISOString(), ack }
    try {
      await this.deps.buttons.saveTarget(token, { ...target, silence: mark })
      if (ack)
        await this.deps.buttons.addAck({
          silenceId: created.id,
          chat: target.chat,
          messageId: target.messageId,
          token,
          fingerprints: target.alerts.map((a) => a.fingerprint),
        })
      const event = {
        at: new Date().toISOString(),
        kind: ack ? ('acknowledged' as const) : ('silenced' as const),
        by: personName(personOf(user)),
        chat: true as const,
      }
      const detail = ack ? {} : { detail: `for ${formatDuration(ms)}` }
      await this.deps.delivery.pushNotice(target.chat, { kind: 'mark', messageId: target.messageId, silence: mark, events: [{ ...event, ...detail }] })
    } catch (error) {
      // recorded nowhere: take the silence back rather than leave one nobody can see from the chat
      await this.deps
        .alertmanager()
        .expireSilence(created.id)
        .catch(() => undefined)
      this.record(ack ? 'ack' : 'silence', 'failed', user, target.chat, { error: (error as Error).message })
      return { ok: false, text: 'Not silenced: alertwire could not record it (Redis); nothing was changed.' }
    }
    // the silence this one replaces, if any
    for (const old of target.silence?.ids ?? [])
      await this.deps
        .alertmanager()
        .expireSilence(old)
        .catch(() => undefined)
    if (target.silence?.ack) await this.deps.buttons.removeAcks(target.silence.ids).catch(() => undefined)
    return created
  }

  /** unsilenceMessage expires a message's silence and takes the note off the message. */
  private async unsilenceMessage(target: Extract<ButtonTarget, { kind: 'message' }>, token: string, user: BotUser): Promise<{ ok: boolean; text: string }> {
    const ids = target.silence?.ids ?? []
    try {
      for (const id of ids) {
        await this.deps
          .alertmanager()
          .expireSilence(id)
          .catch((error: unknown) => {
            if (!isNotFound(error)) throw error
          })
      }
    } catch (error) {
      this.record('unsilence', 'failed', user, target.chat, { error: (error as Error).message })
      return { ok: false, text: `Still silenced: ${(error as Error).message}` }
    }
    const { silence: _gone, ...rest } = target
    await this.deps.buttons.saveTarget(token, rest)
    await this.deps.buttons.removeAcks(ids)
    const event = { at: new Date().toISOString(), kind: 'unsilenced' as const, by: personName(personOf(user)), chat: true as const }
    await this.deps.delivery.pushNotice(target.chat, { kind: 'mark', messageId: target.messageId, silence: null, events: [event] })
    this.record('unsilence', 'ok', user, target.chat, { silences: ids })
    return { ok: true, text: 'Unsilenced.' }
  }
}
