/**
 * A local fake of the Telegram Bot API that is as strict as Telegram.
 *
 * Behaviour and error texts follow the open-source Bot API server (tdlib/telegram-bot-api,
 * Client.cpp) and TDLib (MessageEntity.cpp, ReplyMarkup.cpp, LinkManager.cpp, BotCommand.cpp),
 * which are the code behind api.telegram.org. Where the fake is stricter than Telegram it says so
 * in a comment; `strictHtml: false` turns the HTML extras off.
 *
 * Only node built-ins are used. Start it with `startFakeTelegram()`, point the client at
 * `fake.url`, and assert on `fake.messages(chatId)`, `fake.calls` and `fake.stats`.
 */
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import {
  EntityParseError,
  checkTelegramUrl,
  codePointLength,
  isEmptyText,
  parseMessageText,
  trimParsedText,
  utf8ByteLength,
  type MessageEntity,
  type ParsedText,
} from './telegram-html.js'

/* ------------------------------------------------------------------------------------------ */
/* Public types                                                                                 */
/* ------------------------------------------------------------------------------------------ */

export type ChatType = 'private' | 'group' | 'supergroup' | 'channel'

/** A chat the fake knows; ids must look like Telegram's (private > 0, group < 0, -100… otherwise). */
export interface ChatSpec {
  id: number
  type: ChatType
  isForum?: boolean
  topics?: number[]
  title?: string
  username?: string
  firstName?: string
  blocked?: boolean
}

/** At most `max` message-producing calls in any sliding window of `windowMs`. */
export interface RateLimit {
  max: number
  windowMs: number
}

/** Telegram's limits; `null` switches one off. */
export interface RateLimits {
  group: RateLimit | null
  private: RateLimit | null
  global: RateLimit | null
}

export interface FakeTelegramOptions {
  token?: string
  limits?: Partial<RateLimits>
  chats?: ChatSpec[]
  port?: number
  botUsername?: string
  /** Refuse HTML the docs forbid but Telegram tolerates (bare & and >, bad links). Default true. */
  strictHtml?: boolean
  /** How the 4096 limit counts: 'utf16' (default, stricter) or 'codepoints' (what TDLib counts). */
  textLengthUnit?: 'utf16' | 'codepoints'
  /** Clock in ms, for rate limits and dates. */
  now?: () => number
  webhookRetries?: number
  webhookRetryDelayMs?: number
  webhookTimeoutMs?: number
}

export type FaultMode = '500' | '502' | 'hang' | 'reset' | 'slow' | 'drop-response'

export interface FaultOptions {
  /** Only calls of this method (case-insensitive) fail. */
  method?: string
  /** For 'slow': how long to wait before answering (default 1500 ms). */
  delayMs?: number
}

export interface TelegramUser {
  id: number
  is_bot: boolean
  first_name: string
  username?: string
}

export interface InlineButton {
  text: string
  callback_data?: string
  url?: string
}

export interface InlineKeyboard {
  inline_keyboard: InlineButton[][]
}

export interface MessageEdit {
  at: number
  text: string
  html: string
  parse_mode?: string
  entities: MessageEntity[]
  reply_markup?: InlineKeyboard
}

/** A message as the fake stores it: `text` is the parsed plain text, `html` the raw text sent. */
export interface FakeMessage {
  message_id: number
  chat_id: number
  date: number
  from: TelegramUser
  fromBot: boolean
  text: string
  html: string
  parse_mode?: string
  entities: MessageEntity[]
  reply_to_message_id?: number
  message_thread_id?: number
  disable_notification?: boolean
  link_preview_options?: unknown
  reply_markup?: InlineKeyboard
  /** a photo message: the picture as uploaded (text and html are then its caption) */
  photo?: FakePhoto
  edits: MessageEdit[]
  edit_date?: number
  deleted?: boolean
}

/** FakePhoto: an uploaded picture as the fake keeps it (dimensions read from the PNG header). */
export interface FakePhoto {
  width: number
  height: number
  bytes: number
  filename: string
  data: Buffer
}

export interface ApiCall {
  method: string
  params: Record<string, unknown>
  at: number
  /** HTTP status answered; 0 when no answer was given (reset, hang, dropped response). */
  status: number
  description?: string
  fault?: FaultMode
}

export interface FakeStats {
  total: number
  byMethod: Record<string, Record<string, number>>
  tooManyRequests: number
}

/** A user as tests describe one: an id, and optionally a username and a first name. */
export interface UserInput {
  id: number
  username?: string
  first_name?: string
}

export interface CallbackAnswer {
  text?: string
  show_alert?: boolean
  url?: string
}

export interface WebhookDelivery {
  update_id: number
  attempt: number
  at: number
  /** HTTP status of the webhook's answer, 0 on a network error or timeout. */
  status: number
}

export type MemberStatus = 'creator' | 'administrator' | 'member' | 'restricted' | 'left' | 'kicked'

export interface Update {
  update_id: number
  [kind: string]: unknown
}

const DEFAULT_LIMITS: RateLimits = {
  group: { max: 20, windowMs: 60_000 },
  private: { max: 1, windowMs: 1_000 },
  global: { max: 30, windowMs: 1_000 },
}

const MAX_TEXT_LENGTH = 4096
const MAX_CAPTION_LENGTH = 1024
const MAX_PHOTO_BYTES = 10 * 1024 * 1024
const MAX_PHOTO_SIDES = 10_000
const MAX_PHOTO_RATIO = 20
const MAX_RAW_TEXT_BYTES = 1 << 15
const MAX_CALLBACK_DATA_BYTES = 64
const MAX_CALLBACK_ANSWER_LENGTH = 200
const MAX_LONG_POLL_SECONDS = 50
// Updates a bot gets when allowed_updates is not given (Bot API docs: all but these three).
const NOT_DEFAULT_UPDATES = new Set(['chat_member', 'message_reaction', 'message_reaction_count'])
// Calls that produce or change a visible message, and so count against the rate limits.
const MESSAGE_PRODUCING = new Set(['sendmessage', 'sendphoto', 'editmessagetext', 'editmessagereplymarkup'])

/* ------------------------------------------------------------------------------------------ */
/* Errors and request arguments                                                                 */
/* ------------------------------------------------------------------------------------------ */

/** ApiError is a Bot API error answer: HTTP status = error_code. */
class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: Record<string, number>,
  ) {
    super(description)
  }
}

const badRequest = (what: string): ApiError => new ApiError(400, `Bad Request: ${what}`)

/**
 * Args reads parameters the way the Bot API does: every value arrives as a string (query string,
 * form field, or a JSON body flattened), and integers/booleans/JSON are decoded on use.
 */
class Args {
  constructor(
    readonly raw: Record<string, string>,
    readonly files: ReadonlyMap<string, UploadedFile> = new Map(),
  ) {}

  str(name: string): string {
    return this.raw[name] ?? ''
  }

  /** TDLib's to_integer: an optional sign and leading digits; anything else is 0. */
  int(name: string): number {
    const m = /^\s*([+-]?\d+)/.exec(this.str(name))
    return m ? Number(m[1]) : 0
  }

  /** The Bot API's to_bool: "true", "yes" or "1", case-insensitive. */
  bool(name: string): boolean {
    return ['true', 'yes', '1'].includes(this.str(name).trim().toLowerCase())
  }

  /** A JSON-encoded parameter, or undefined when absent; `what` names it in the error. */
  json(name: string, what: string): unknown {
    const value = this.str(name)
    if (value === '') return undefined
    try {
      return JSON.parse(value)
    } catch {
      throw badRequest(`can't parse ${what} JSON object`)
    }
  }
}

const JSON_PARAMS = new Set(['reply_markup', 'reply_parameters', 'link_preview_options', 'allowed_updates', 'commands', 'scope', 'entities'])
const INT_PARAMS = new Set(['message_id', 'message_thread_id', 'reply_to_message_id', 'offset', 'limit', 'timeout', 'user_id', 'cache_time', 'max_connections'])
const BOOL_PARAMS = new Set([
  'disable_notification',
  'protect_content',
  'show_alert',
  'drop_pending_updates',
  'allow_sending_without_reply',
  'disable_web_page_preview',
])

/** decodeParams turns wire strings into what a test wants to assert on (numbers, objects). */
function decodeParams(raw: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw)) {
    if (JSON_PARAMS.has(key)) out[key] = tryJson(value)
    else if (INT_PARAMS.has(key) && /^-?\d+$/.test(value)) out[key] = Number(value)
    else if (key === 'chat_id' && /^-?\d+$/.test(value)) out[key] = Number(value)
    else if (BOOL_PARAMS.has(key)) out[key] = ['true', 'yes', '1'].includes(value.toLowerCase())
    else out[key] = value
  }
  return out
}

function tryJson(value: string): unknown {
  try {
    return JSON.parse(value)
  } catch {
    return value
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Request bodies                                                                               */
/* ------------------------------------------------------------------------------------------ */

// the Bot API server takes uploads up to 50 MB; a photo is further held to 10 MB (MAX_PHOTO_BYTES)
const MAX_BODY_BYTES = 50 * 1024 * 1024

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'Request Entity Too Large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** parseRequestParams merges query-string and body parameters into Bot API wire strings (and keeps uploaded files apart). */
function parseRequestParams(url: URL, contentType: string, body: Buffer): RequestInput {
  const params: Record<string, string> = {}
  const files = new Map<string, UploadedFile>()
  for (const [k, v] of url.searchParams) params[k] = v
  if (body.length === 0) return { params, files }
  const type = contentType.toLowerCase()
  if (type.includes('application/json')) Object.assign(params, flattenJsonBody(body))
  else if (type.includes('multipart/form-data')) {
    const parsed = parseMultipart(body, contentType)
    Object.assign(params, parsed.params)
    return { params, files: parsed.files }
  } else for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params[k] = v
  return { params, files }
}

/** A JSON body is flattened like the Bot API does: nested objects become JSON strings. */
function flattenJsonBody(body: Buffer): Record<string, string> {
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch {
    throw badRequest('JSON object expected')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('JSON object expected')
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue
    out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v)
  }
  return out
}

/** UploadedFile: a file part of a multipart/form-data body, as the fake received it. */
export interface UploadedFile {
  filename: string
  contentType: string
  data: Buffer
}

/** Request: the parameters of a call as wire strings, and the files a multipart body carried. */
interface RequestInput {
  params: Record<string, string>
  files: Map<string, UploadedFile>
}

/** parseMultipart reads a multipart/form-data body byte-safely: text fields as strings, file parts (with a filename) kept as bytes. */
function parseMultipart(body: Buffer, contentType: string): RequestInput {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  if (!m) throw badRequest('boundary not found')
  const delimiter = Buffer.from(`--${m[1] ?? m[2]}`)
  const params: Record<string, string> = {}
  const files = new Map<string, UploadedFile>()
  let at = body.indexOf(delimiter)
  while (at >= 0) {
    const start = at + delimiter.length
    if (body.subarray(start, start + 2).toString('latin1') === '--') break
    const next = body.indexOf(delimiter, start)
    if (next < 0) throw badRequest('unexpected end of request content')
    const part = body.subarray(start + 2, next - 2) // after the CRLF that ends the delimiter line, before the CRLF that precedes the next
    const headerEnd = part.indexOf('\r\n\r\n')
    const headers = headerEnd < 0 ? '' : part.subarray(0, headerEnd).toString('utf8')
    const name = /name="([^"]*)"/i.exec(headers)
    if (headerEnd < 0 || !name) throw badRequest("can't parse form data headers")
    const data = part.subarray(headerEnd + 4)
    const filename = /filename="([^"]*)"/i.exec(headers)
    if (filename) {
      const type = /content-type:\s*([^\r\n]+)/i.exec(headers)
      files.set(name[1]!, { filename: filename[1]!, contentType: type?.[1]?.trim() ?? 'application/octet-stream', data: Buffer.from(data) })
    } else params[name[1]!] = data.toString('utf8')
    at = next
  }
  return { params, files }
}

/* ------------------------------------------------------------------------------------------ */
/* Rate limits                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/** SlidingWindow remembers accepted calls and says how long until one more would fit. */
class SlidingWindow {
  private stamps: number[] = []

  /** Milliseconds to wait before one more call fits under `limit` (0 = fits now). */
  waitMs(now: number, limit: RateLimit): number {
    this.stamps = this.stamps.filter((t) => t > now - limit.windowMs)
    if (this.stamps.length < limit.max) return 0
    return this.stamps[this.stamps.length - limit.max]! + limit.windowMs - now
  }

  record(now: number): void {
    this.stamps.push(now)
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Internal state shapes                                                                        */
/* ------------------------------------------------------------------------------------------ */

interface ChatState extends ChatSpec {
  blocked: boolean
  migratedTo?: number
  members: Map<number, MemberStatus>
  window: SlidingWindow
  nextMessageId: number
  messages: FakeMessage[]
}

interface Fault {
  mode: FaultMode
  method?: string
  delayMs: number
  remaining?: number
  until?: number
}

interface PendingPoll {
  finish: (outcome: Outcome) => void
}

interface PendingCallback {
  answered: boolean
  expired: boolean
  resolve: (answer: CallbackAnswer) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

interface Webhook {
  url: string
  secretToken: string
  maxConnections: number
  lastErrorDate?: number
  lastErrorMessage?: string
}

type Outcome = { ok: true; result: unknown; description?: string } | ApiError

interface EditInput {
  text: string
  html: string
  entities: MessageEntity[]
  parseMode: string
  keyboard: InlineKeyboard | undefined
}

type Handler = (args: Args, method: string, res: http.ServerResponse) => Outcome | Promise<Outcome>

const ok = (result: unknown, description?: string): Outcome => ({ ok: true, result, ...(description ? { description } : {}) })

const NGINX_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
  '<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n'

/* ------------------------------------------------------------------------------------------ */
/* The fake                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** FakeTelegram is one running fake Bot API server; create it with startFakeTelegram(). */
export class FakeTelegram {
  readonly token: string
  url = ''
  readonly calls: ApiCall[] = []
  readonly stats: FakeStats = { total: 0, byMethod: {}, tooManyRequests: 0 }
  readonly webhookDeliveries: WebhookDelivery[] = []
  readonly bot: TelegramUser

  private readonly server: http.Server
  private readonly sockets = new Set<Socket>()
  private readonly limits: RateLimits
  private readonly now: () => number
  private readonly strictHtml: boolean
  private readonly lengthUnit: 'utf16' | 'codepoints'
  private readonly webhookRetries: number
  private readonly webhookRetryDelayMs: number
  private readonly webhookTimeoutMs: number
  private readonly chats = new Map<number, ChatState>()
  private readonly users = new Map<number, TelegramUser>()
  private readonly globalWindow = new SlidingWindow()
  private readonly callbacks = new Map<string, PendingCallback>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly hungSockets = new Map<Socket, number>()
  private faults: Fault[] = []
  private updates: Update[] = []
  private nextUpdateId = 100_000
  private allowedUpdates: string[] | undefined
  private pendingPoll: PendingPoll | undefined
  private webhook: Webhook | undefined
  private delivering = false
  private readonly deliveryAbort = new AbortController()
  private commands = new Map<string, { command: string; description: string }[]>()
  private nextCallbackId = 5_000_000_000_000n
  private closed = false

  constructor(options: FakeTelegramOptions = {}) {
    this.token = options.token ?? '123456:TEST-token'
    this.limits = { ...DEFAULT_LIMITS, ...options.limits }
    this.now = options.now ?? Date.now
    this.strictHtml = options.strictHtml ?? true
    this.lengthUnit = options.textLengthUnit ?? 'utf16'
    this.webhookRetries = options.webhookRetries ?? 3
    this.webhookRetryDelayMs = options.webhookRetryDelayMs ?? 50
    this.webhookTimeoutMs = options.webhookTimeoutMs ?? 5_000
    const botId = Number(this.token.split(':')[0]) || 123456
    this.bot = { id: botId, is_bot: true, first_name: 'alertwire test bot', username: options.botUsername ?? 'alertwire_test_bot' }
    for (const chat of options.chats ?? []) this.addChat(chat)
    this.server = http.createServer((req, res) => void this.handle(req, res))
    this.server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
  }

  /** listen binds the server on 127.0.0.1 and sets `url`. */
  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => resolve())
    })
    const address = this.server.address() as AddressInfo
    this.url = `http://127.0.0.1:${address.port}`
  }

  /** close stops the server, cuts every open connection (hung ones too) and cancels timers. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.deliveryAbort.abort()
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    for (const cb of this.callbacks.values()) {
      clearTimeout(cb.timer)
      if (!cb.answered && !cb.expired) cb.reject(new Error('fake Telegram closed before answerCallbackQuery'))
    }
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const socket of this.sockets) socket.destroy()
    await stopped
  }

  /* -------------------------------- test-side setup ---------------------------------------- */

  /** addChat makes a chat known to the fake (ids must have Telegram's shape for the type). */
  addChat(spec: ChatSpec): void {
    assertChatIdShape(spec)
    this.chats.set(spec.id, {
      ...spec,
      blocked: spec.blocked ?? false,
      members: new Map(),
      window: new SlidingWindow(),
      nextMessageId: 1,
      messages: [],
    })
  }

  /** blockChat makes the bot blocked by the user (private) or kicked from the chat (others). */
  blockChat(chatId: number, blocked = true): void {
    this.chatOrThrow(chatId).blocked = blocked
  }

  /** migrateChat upgrades a group to a new supergroup and returns the supergroup's id. */
  migrateChat(groupId: number, supergroupId = -1_000_000_000_000 + groupId): number {
    const group = this.chatOrThrow(groupId)
    if (group.type !== 'group') throw new Error(`migrateChat: chat ${groupId} is a ${group.type}, not a group`)
    group.migratedTo = supergroupId
    this.addChat({ id: supergroupId, type: 'supergroup', ...(group.title ? { title: group.title } : {}) })
    const target = this.chatOrThrow(supergroupId)
    for (const [user, status] of group.members) target.members.set(user, status)
    return supergroupId
  }

  /** setChatMember fixes what getChatMember answers for that user in that chat. */
  setChatMember(chatId: number, userId: number, status: MemberStatus): void {
    this.chatOrThrow(chatId).members.set(userId, status)
  }

  /** failNext makes the next `n` matching calls fail in `mode`. */
  failNext(n: number, mode: FaultMode, options: FaultOptions = {}): void {
    this.faults.push({ mode, remaining: n, delayMs: options.delayMs ?? 1_500, ...(options.method ? { method: options.method.toLowerCase() } : {}) })
  }

  /** failFor makes every matching call fail in `mode` for the next `ms` milliseconds (of the fake's clock). */
  failFor(ms: number, mode: FaultMode, options: FaultOptions = {}): void {
    const until = this.now() + ms
    this.faults.push({ mode, until, delayMs: options.delayMs ?? 1_500, ...(options.method ? { method: options.method.toLowerCase() } : {}) })
    // Requests hung during the window are cut when it ends: they were never processed.
    if (mode === 'hang') this.later(ms, () => this.releaseHung(until))
  }

  /** clearFaults cancels every pending fault injection. */
  clearFaults(): void {
    this.faults = []
  }

  /* -------------------------------- test-side users ---------------------------------------- */

  /** sendCommand delivers a user's "/command ..." message to the bot as an update; returns it. */
  sendCommand(input: { chatId: number; from: UserInput; text: string; replyTo?: number; threadId?: number }): Record<string, unknown> {
    const chat = this.chatOrThrow(input.chatId)
    if (chat.type === 'channel') throw new Error('sendCommand: users cannot send commands in a channel')
    if (!input.text.startsWith('/')) throw new Error(`sendCommand: "${input.text}" is not a command`)
    const from = this.rememberUser(input.from)
    if (!chat.members.has(from.id)) chat.members.set(from.id, 'member')
    const replied = input.replyTo === undefined ? undefined : this.liveMessage(chat, input.replyTo)
    if (input.replyTo !== undefined && !replied) throw new Error(`sendCommand: message ${input.replyTo} is not in chat ${chat.id}`)
    const commandLength = input.text.split(/\s/, 1)[0]!.length
    const message = this.storeMessage(chat, {
      from,
      fromBot: false,
      text: input.text,
      html: input.text,
      entities: [{ type: 'bot_command', offset: 0, length: commandLength }],
      ...(replied ? { reply_to_message_id: replied.message_id } : {}),
      ...(input.threadId !== undefined ? { message_thread_id: input.threadId } : {}),
    })
    const json = this.messageJson(message)
    this.injectUpdate({ message: json })
    return json
  }

  /** pressButton presses a callback button; resolves with the bot's answerCallbackQuery, rejects after `timeoutMs`. */
  pressButton(input: { chatId: number; messageId: number; from: UserInput; data: string; timeoutMs?: number }): Promise<CallbackAnswer> {
    const chat = this.chatOrThrow(input.chatId)
    const message = this.liveMessage(chat, input.messageId)
    if (!message) throw new Error(`pressButton: message ${input.messageId} is not in chat ${chat.id}`)
    const buttons = message.reply_markup?.inline_keyboard.flat() ?? []
    if (!buttons.some((b) => b.callback_data === input.data)) {
      throw new Error(`pressButton: message ${input.messageId} has no button with callback_data ${JSON.stringify(input.data)}`)
    }
    const from = this.rememberUser(input.from)
    const id = String(this.nextCallbackId++)
    const timeoutMs = input.timeoutMs ?? 3_000
    // Like a real client, an unanswered query expires: a late answerCallbackQuery is refused.
    const promise = new Promise<CallbackAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        const pending = this.callbacks.get(id)!
        pending.expired = true
        reject(new Error(`pressButton: no answerCallbackQuery for query ${id} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.callbacks.set(id, { answered: false, expired: false, resolve, reject, timer })
    })
    // A test that ignores the promise must not crash the run with an unhandled rejection.
    promise.catch(() => undefined)
    this.injectUpdate({
      callback_query: { id, from, message: this.messageJson(message), chat_instance: String(Math.abs(chat.id)), data: input.data },
    })
    return promise
  }

  /** injectUpdate queues any update (an update_id is assigned) for getUpdates or the webhook. */
  injectUpdate(update: Record<string, unknown>): Update {
    const full: Update = { update_id: this.nextUpdateId++, ...update }
    const kind = Object.keys(update)[0] ?? ''
    const allowed = this.allowedUpdates ? this.allowedUpdates.includes(kind) : !NOT_DEFAULT_UPDATES.has(kind)
    if (!allowed) return full
    this.updates.push(full)
    this.answerPendingPoll()
    void this.deliverWebhook()
    return full
  }

  /* -------------------------------- inspection --------------------------------------------- */

  /** messages returns copies of what the bot posted in the chat, in order (options add deleted and users' messages). */
  messages(chatId: number, options: { includeDeleted?: boolean; includeUsers?: boolean } = {}): FakeMessage[] {
    const chat = this.chats.get(chatId)
    if (!chat) return []
    const wanted = chat.messages.filter((m) => (options.includeDeleted || !m.deleted) && (options.includeUsers || m.fromBot))
    return wanted.map(copyMessage)
  }

  /** message returns a copy of one message of the chat (deleted or not), if it exists. */
  message(chatId: number, messageId: number): FakeMessage | undefined {
    const found = this.chats.get(chatId)?.messages.find((m) => m.message_id === messageId)
    return found && copyMessage(found)
  }

  /** pendingUpdates returns the updates not yet confirmed by getUpdates or delivered. */
  pendingUpdates(): Update[] {
    return [...this.updates]
  }

  /** webhookInfo returns the webhook the bot set, if any. */
  webhookInfo(): { url: string; secretToken: string } | undefined {
    return this.webhook ? { url: this.webhook.url, secretToken: this.webhook.secretToken } : undefined
  }

  /** myCommands returns the commands set for the default scope and language. */
  myCommands(scope = 'default', languageCode = ''): { command: string; description: string }[] {
    return this.commands.get(`${scope}|${languageCode}`) ?? []
  }

  /** waitFor resolves with the predicate's first truthy value, or rejects naming `label` and what the fake saw. */
  waitFor<T>(predicate: () => T | false | undefined | null, timeoutMs = 2_000, label = 'condition'): Promise<T> {
    const started = Date.now()
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        let value: T | false | undefined | null
        try {
          value = predicate()
        } catch (err) {
          reject(err as Error)
          return
        }
        if (value) resolve(value as T)
        else if (Date.now() - started >= timeoutMs) reject(new Error(`waitFor(${label}) timed out after ${timeoutMs} ms; ${this.summary()}`))
        else setTimeout(check, 5)
      }
      check()
    })
  }

  /** summary describes what the fake saw, for failure messages. */
  summary(): string {
    const recent = this.calls.slice(-15).map((c) => `${c.method}→${c.status}${c.description ? ` (${c.description})` : ''}${c.fault ? ` [${c.fault}]` : ''}`)
    const chats = [...this.chats.values()].map((c) => `${c.id}: ${c.messages.filter((m) => m.fromBot && !m.deleted).length} bot message(s)`)
    return `the fake saw ${this.calls.length} call(s), last: [${recent.join(', ')}]; chats: {${chats.join('; ')}}; pending updates: ${this.updates.length}`
  }

  /* -------------------------------- HTTP layer --------------------------------------------- */

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      await this.handleApiCall(req, res)
    } catch (err) {
      // A bug in the fake must show up as a loud answer, not as a hung client.
      this.send(res, 500, { ok: false, error_code: 500, description: `Internal Server Error: fake Telegram bug: ${(err as Error).stack ?? String(err)}` })
    }
  }

  private async handleApiCall(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    const path = /^\/bot([^/]*)\/([^/]*)$/.exec(url.pathname)
    if (!path) return this.send(res, 404, { ok: false, error_code: 404, description: 'Not Found' })
    const [, token, methodName] = path as unknown as [string, string, string]
    let raw: Record<string, string>
    let files: Map<string, UploadedFile>
    try {
      ;({ params: raw, files } = parseRequestParams(url, req.headers['content-type'] ?? '', await readBody(req)))
    } catch (err) {
      const e = err instanceof ApiError ? err : badRequest('unexpected end of request content')
      return this.send(res, e.code, { ok: false, error_code: e.code, description: e.description })
    }
    const uploads = Object.fromEntries(
      [...files].map(([name, file]) => [name, { filename: file.filename, contentType: file.contentType, bytes: file.data.length }]),
    )
    const call: ApiCall = { method: methodName, params: { ...decodeParams(raw), ...uploads }, at: this.now(), status: 0 }
    this.calls.push(call)
    const fault = this.takeFault(methodName)
    if (fault && (await this.applyFault(fault, call, req, res))) return
    const outcome = await this.dispatch(token, methodName, new Args(raw, files), res)
    if (this.closed || res.destroyed) return this.count(call, 0, 'closed before answering')
    this.answer(res, call, outcome, fault?.mode === 'drop-response')
  }

  /** Run the method, turning thrown ApiErrors into error outcomes. */
  private async dispatch(token: string, methodName: string, args: Args, res: http.ServerResponse): Promise<Outcome> {
    try {
      if (token !== this.token) {
        const malformed = token.startsWith('0') || token.length > 80 || !token.includes(':')
        return new ApiError(401, malformed ? 'Unauthorized: invalid token specified' : 'Unauthorized')
      }
      const method = methodName.toLowerCase()
      const handler = this.handlers[method]
      if (!handler) return new ApiError(404, 'Not Found: method not found')
      return await handler(args, method, res)
    } catch (err) {
      if (err instanceof ApiError) return err
      throw err
    }
  }

  private answer(res: http.ServerResponse, call: ApiCall, outcome: Outcome, dropResponse: boolean): void {
    if (outcome instanceof ApiError) {
      this.count(call, outcome.code, outcome.description)
      if (outcome.code === 429) this.stats.tooManyRequests++
      if (dropResponse) return void res.socket?.destroy()
      const body = { ok: false, error_code: outcome.code, description: outcome.description, ...(outcome.parameters ? { parameters: outcome.parameters } : {}) }
      // Like the real server, a 429 also carries the wait in a Retry-After header.
      const headers: Record<string, string> = outcome.parameters?.retry_after ? { 'retry-after': String(outcome.parameters.retry_after) } : {}
      this.send(res, outcome.code, body, headers)
      return
    }
    this.count(call, 200)
    if (dropResponse) return void res.socket?.destroy()
    this.send(res, 200, outcome)
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.destroyed || res.headersSent) return
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
    res.end(text)
  }

  private count(call: ApiCall, status: number, description?: string): void {
    call.status = status
    if (description) call.description = description
    this.stats.total++
    // A slow answer is still an answer; every other fault is what the client saw instead of one.
    const outcome = call.fault && call.fault !== 'slow' ? `fault:${call.fault}` : status === 200 ? 'ok' : String(status)
    const byMethod = this.stats.byMethod[call.method] ?? {}
    this.stats.byMethod[call.method] = byMethod
    byMethod[outcome] = (byMethod[outcome] ?? 0) + 1
  }

  /* -------------------------------- fault injection ---------------------------------------- */

  private takeFault(method: string): Fault | undefined {
    const now = this.now()
    this.faults = this.faults.filter((f) => (f.remaining === undefined || f.remaining > 0) && (f.until === undefined || f.until > now))
    const fault = this.faults.find((f) => !f.method || f.method === method.toLowerCase())
    if (fault?.remaining !== undefined) fault.remaining--
    return fault
  }

  /** Apply a fault; true when the request is finished (no normal processing). */
  private async applyFault(fault: Fault, call: ApiCall, req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    call.fault = fault.mode
    switch (fault.mode) {
      case '500':
        this.count(call, 500, 'Internal Server Error')
        this.send(res, 500, { ok: false, error_code: 500, description: 'Internal Server Error' })
        return true
      case '502':
        this.count(call, 502, 'Bad Gateway')
        if (!res.destroyed) {
          res.writeHead(502, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(NGINX_502) })
          res.end(NGINX_502)
        }
        return true
      case 'reset':
        this.count(call, 0, 'connection reset')
        req.socket.destroy()
        return true
      case 'hang':
        this.count(call, 0, 'hung')
        this.hungSockets.set(req.socket, fault.until ?? Infinity)
        return true
      case 'slow':
        await this.sleep(fault.delayMs)
        return false
      case 'drop-response':
        return false
    }
  }

  private releaseHung(until: number): void {
    for (const [socket, hungUntil] of this.hungSockets) {
      if (hungUntil !== until) continue
      socket.destroy()
      this.hungSockets.delete(socket)
    }
  }

  private cancel(timer: NodeJS.Timeout): void {
    clearTimeout(timer)
    this.timers.delete(timer)
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.later(ms, resolve))
  }

  /** A timer that close() cancels, so nothing of the fake outlives it. */
  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      fn()
    }, ms)
    this.timers.add(timer)
    return timer
  }

  /* -------------------------------- methods ------------------------------------------------ */

  private readonly handlers: Record<string, Handler> = {
    getme: () =>
      ok({
        ...this.bot,
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
        can_connect_to_business: false,
        has_main_web_app: false,
      }),
    sendmessage: (args, method) => this.sendMessage(args, method),
    sendphoto: (args, method) => this.sendPhoto(args, method),
    editmessagetext: (args, method) => this.editMessageText(args, method),
    editmessagereplymarkup: (args, method) => this.editMessageReplyMarkup(args, method),
    deletemessage: (args) => this.deleteMessage(args),
    sendchataction: (args) => {
      this.resolveChat(args.str('chat_id'), 'write')
      return ok(true)
    },
    answercallbackquery: (args) => this.answerCallbackQuery(args),
    setmycommands: (args) => this.setMyCommands(args),
    getmycommands: (args) => ok(this.commands.get(this.commandsKey(args)) ?? []),
    deletemycommands: (args) => {
      this.commands.delete(this.commandsKey(args))
      return ok(true)
    },
    getchat: (args) => ok(this.chatFullInfo(this.resolveChat(args.str('chat_id'), 'read'))),
    getchatmember: (args) => this.getChatMember(args),
    getchatadministrators: (args) => this.getChatAdministrators(args),
    getupdates: (args, _method, res) => this.getUpdates(args, res),
    setwebhook: (args) => this.setWebhook(args),
    deletewebhook: (args) => this.deleteWebhook(args),
    getwebhookinfo: () => ok(this.webhookInfoJson()),
  }

  /* sendMessage: checks run in the Bot API's order (text, markup, chat, topic, reply), then TDLib's. */
  private sendMessage(args: Args, method: string): Outcome {
    const parsed = this.parseText(args)
    const markup = parseReplyMarkup(args)
    const linkPreview = args.json('link_preview_options', 'link preview options')
    const replyTo = parseReplyParameters(args)
    const chat = this.resolveChat(args.str('chat_id'), 'write')
    const threadId = this.checkThread(chat, args.int('message_thread_id'))
    const reply = this.checkReply(chat, replyTo)
    const content = this.finishText(parsed)
    const keyboard = validateInlineKeyboard(markup)
    this.enforceRateLimit(chat, method)
    const message = this.storeMessage(chat, {
      from: this.bot,
      fromBot: true,
      text: content.text,
      html: args.str('text'),
      entities: content.entities,
      ...(args.str('parse_mode') ? { parse_mode: args.str('parse_mode') } : {}),
      ...(reply ? { reply_to_message_id: reply.message_id } : {}),
      ...(threadId ? { message_thread_id: threadId } : {}),
      ...(args.str('disable_notification') ? { disable_notification: args.bool('disable_notification') } : {}),
      ...(linkPreview !== undefined ? { link_preview_options: linkPreview } : {}),
      ...(keyboard ? { reply_markup: keyboard } : {}),
    })
    return ok(this.messageJson(message))
  }

  /* sendPhoto: an uploaded picture (field photo), checked as Telegram does, then a caption parsed with the same rules as text. */
  private sendPhoto(args: Args, method: string): Outcome {
    const upload = readPhoto(args)
    const caption = this.parseCaption(args)
    const markup = parseReplyMarkup(args)
    const replyTo = parseReplyParameters(args)
    const chat = this.resolveChat(args.str('chat_id'), 'write')
    const threadId = this.checkThread(chat, args.int('message_thread_id'))
    const reply = this.checkReply(chat, replyTo)
    const keyboard = validateInlineKeyboard(markup)
    this.enforceRateLimit(chat, method)
    const message = this.storeMessage(chat, {
      from: this.bot,
      fromBot: true,
      text: caption.text,
      html: args.str('caption'),
      entities: caption.entities,
      photo: upload,
      ...(args.str('parse_mode') ? { parse_mode: args.str('parse_mode') } : {}),
      ...(reply ? { reply_to_message_id: reply.message_id } : {}),
      ...(threadId ? { message_thread_id: threadId } : {}),
      ...(args.str('disable_notification') ? { disable_notification: args.bool('disable_notification') } : {}),
      ...(keyboard ? { reply_markup: keyboard } : {}),
    })
    return ok(this.messageJson(message))
  }

  /** parseCaption: a caption may be empty; else the same entity rules as text, and at most 1024 characters after parsing. */
  private parseCaption(args: Args): ParsedText {
    const caption = args.str('caption')
    if (caption === '') return { text: '', entities: [], expandableBlockquote: false }
    const mode = args.str('parse_mode').toLowerCase()
    if (!['', 'none', 'html', 'markdown', 'markdownv2'].includes(mode)) throw badRequest('unsupported parse_mode')
    let parsed: ParsedText
    try {
      parsed = trimParsedText(parseMessageText(caption, mode, { strict: this.strictHtml }))
    } catch (err) {
      if (err instanceof EntityParseError) throw badRequest(err.description)
      throw err
    }
    const length = this.lengthUnit === 'utf16' ? parsed.text.length : codePointLength(parsed.text)
    if (length > MAX_CAPTION_LENGTH) throw badRequest('message caption is too long')
    return parsed
  }

  private editMessageText(args: Args, method: string): Outcome {
    const parsed = this.parseText(args)
    const markup = parseReplyMarkup(args)
    const message = this.messageToEdit(args)
    // a photo has a caption, not a text: editMessageText cannot change it (nor turn it into text)
    if (message.photo) throw badRequest('there is no text in the message to edit')
    const content = this.finishText(parsed)
    const keyboard = validateInlineKeyboard(markup, { inlineOnly: true })
    // Telegram drops the keyboard when the edit does not repeat it.
    const same = message.text === content.text && sameJson(message.entities, content.entities) && sameJson(message.reply_markup, keyboard)
    if (same) throw badRequest(NOT_MODIFIED)
    this.enforceRateLimit(this.chatOrThrow(message.chat_id), method)
    return ok(this.applyEdit(message, { text: content.text, html: args.str('text'), entities: content.entities, parseMode: args.str('parse_mode'), keyboard }))
  }

  private editMessageReplyMarkup(args: Args, method: string): Outcome {
    const markup = parseReplyMarkup(args)
    const message = this.messageToEdit(args)
    const keyboard = validateInlineKeyboard(markup, { inlineOnly: true })
    if (sameJson(message.reply_markup, keyboard)) throw badRequest(NOT_MODIFIED)
    this.enforceRateLimit(this.chatOrThrow(message.chat_id), method)
    return ok(this.applyEdit(message, { text: message.text, html: message.html, entities: message.entities, parseMode: message.parse_mode ?? '', keyboard }))
  }

  private messageToEdit(args: Args): FakeMessage {
    if (args.str('chat_id') === '' && args.int('message_id') === 0) {
      // Only inline messages are edited without chat_id; the fake sends none.
      if (args.str('inline_message_id') === '') throw badRequest('message identifier is not specified')
      throw badRequest('MESSAGE_ID_INVALID')
    }
    const chat = this.resolveChat(args.str('chat_id'), 'write')
    const message = this.liveMessage(chat, args.int('message_id'))
    if (!message) throw badRequest('message to edit not found')
    if (!message.fromBot) throw badRequest("message can't be edited")
    return message
  }

  private applyEdit(message: FakeMessage, edit: EditInput): unknown {
    const at = this.now()
    message.text = edit.text
    message.html = edit.html
    message.entities = edit.entities
    if (edit.parseMode) message.parse_mode = edit.parseMode
    else delete message.parse_mode
    if (edit.keyboard) message.reply_markup = edit.keyboard
    else delete message.reply_markup
    message.edit_date = Math.floor(at / 1000)
    message.edits.push({
      at,
      text: edit.text,
      html: edit.html,
      entities: edit.entities,
      ...(edit.parseMode ? { parse_mode: edit.parseMode } : {}),
      ...(edit.keyboard ? { reply_markup: edit.keyboard } : {}),
    })
    return this.messageJson(message)
  }

  private deleteMessage(args: Args): Outcome {
    if (args.str('chat_id') === '') throw badRequest('chat identifier is not specified')
    if (args.int('message_id') === 0) throw badRequest('message identifier is not specified')
    const chat = this.resolveChat(args.str('chat_id'), 'write')
    const message = this.liveMessage(chat, args.int('message_id'))
    if (!message) throw badRequest('message to delete not found')
    message.deleted = true
    return ok(true)
  }

  private answerCallbackQuery(args: Args): Outcome {
    const id = args.str('callback_query_id')
    const pending = this.callbacks.get(id)
    if (!pending || pending.answered || pending.expired) throw badRequest('query is too old and response timeout expired or query ID is invalid')
    const text = args.str('text')
    if (codePointLength(text) > MAX_CALLBACK_ANSWER_LENGTH) throw badRequest('MESSAGE_TOO_LONG')
    pending.answered = true
    clearTimeout(pending.timer)
    pending.resolve({
      ...(text ? { text } : {}),
      ...(args.str('show_alert') ? { show_alert: args.bool('show_alert') } : {}),
      ...(args.str('url') ? { url: args.str('url') } : {}),
    })
    return ok(true)
  }

  /* setMyCommands: Bot API shape checks, then TDLib's (trim, lengths), then the server's charset. */
  private setMyCommands(args: Args): Outcome {
    const value = args.json('commands', 'commands') ?? []
    if (!Array.isArray(value)) throw badRequest('expected an Array of BotCommand')
    const commands = value.map((item) => readBotCommand(item))
    if (commands.length > 100) throw badRequest('BOT_COMMANDS_TOO_MUCH')
    for (const c of commands) {
      if (!/^[a-z0-9_]+$/.test(c.command)) throw badRequest('BOT_COMMAND_INVALID')
    }
    this.commands.set(this.commandsKey(args), commands)
    return ok(true)
  }

  private commandsKey(args: Args): string {
    const scope = args.json('scope', 'bot command scope') as { type?: string } | undefined
    return `${scope?.type ?? 'default'}|${args.str('language_code')}`
  }

  private getChatMember(args: Args): Outcome {
    const chat = this.resolveChat(args.str('chat_id'), 'read')
    const userId = Math.max(args.int('user_id'), 0)
    if (userId === 0) throw badRequest('invalid user_id specified')
    return ok(this.memberJson(chat, userId))
  }

  private getChatAdministrators(args: Args): Outcome {
    const chat = this.resolveChat(args.str('chat_id'), 'read')
    if (chat.type === 'private') throw badRequest('there are no administrators in the private chat')
    const admins = [...chat.members].filter(([, s]) => s === 'creator' || s === 'administrator').map(([id]) => this.memberJson(chat, id))
    return ok(admins)
  }

  /* -------------------------------- updates: polling --------------------------------------- */

  private getUpdates(args: Args, res: http.ServerResponse): Promise<Outcome> | Outcome {
    if (this.webhook) {
      return new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
    }
    // The newest poller wins; the one it replaces learns that another instance is running.
    this.pendingPoll?.finish(new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'))
    const allowed = args.json('allowed_updates', 'allowed updates')
    if (Array.isArray(allowed)) this.allowedUpdates = allowed.length ? allowed.map(String) : undefined
    this.confirmUpdates(args.int('offset'))
    const limit = clamp(args.int('limit') || 100, 1, 100)
    const timeout = clamp(args.int('timeout'), 0, MAX_LONG_POLL_SECONDS)
    if (this.updates.length > 0 || timeout === 0) return ok(this.updates.slice(0, limit))
    return new Promise<Outcome>((resolve) => {
      const finish = (outcome: Outcome): void => {
        if (this.pendingPoll !== poll) return
        this.pendingPoll = undefined
        this.cancel(timer)
        resolve(outcome)
      }
      const poll: PendingPoll = { finish }
      const timer = this.later(timeout * 1000, () => finish(ok(this.updates.slice(0, limit))))
      this.pendingPoll = poll
      // A client that gives up (abort, timeout) is no longer polling.
      res.on('close', () => finish(ok([])))
    }).then((outcome) => (outcome instanceof ApiError ? outcome : ok(this.updates.slice(0, limit))))
  }

  /** Updates below `offset` are confirmed and forgotten; a negative offset keeps the last -offset. */
  private confirmUpdates(offset: number): void {
    if (offset > 0) this.updates = this.updates.filter((u) => u.update_id >= offset)
    else if (offset < 0) this.updates = this.updates.slice(offset)
  }

  private answerPendingPoll(): void {
    this.pendingPoll?.finish(ok(null))
  }

  /* -------------------------------- updates: webhook --------------------------------------- */

  private setWebhook(args: Args): Outcome {
    if (args.bool('drop_pending_updates')) this.updates = []
    const url = args.str('url')
    if (url === '') return this.deleteWebhook(args)
    // Real Telegram wants HTTPS on ports 443/80/88/8443; a local fake has to accept http://127.0.0.1.
    if (!/^https?:\/\/[^\s/]+/i.test(url)) throw badRequest('invalid webhook URL specified')
    const secretToken = args.str('secret_token')
    if (secretToken.length > 256) throw badRequest('secret token is too long')
    if (!/^[A-Za-z0-9_-]*$/.test(secretToken)) throw badRequest('secret token contains unallowed characters')
    this.pendingPoll?.finish(new ApiError(409, 'Conflict: terminated by setWebhook request'))
    const allowed = args.json('allowed_updates', 'allowed updates')
    if (Array.isArray(allowed)) this.allowedUpdates = allowed.length ? allowed.map(String) : undefined
    const maxConnections = clamp(args.int('max_connections') || 40, 1, 100)
    if (this.webhook && this.webhook.url === url && this.webhook.secretToken === secretToken) return ok(true, 'Webhook is already set')
    this.webhook = { url, secretToken, maxConnections }
    void this.deliverWebhook()
    return ok(true, 'Webhook was set')
  }

  private deleteWebhook(args: Args): Outcome {
    if (args.bool('drop_pending_updates')) this.updates = []
    const had = this.webhook !== undefined
    this.webhook = undefined
    return ok(true, had ? 'Webhook was deleted' : 'Webhook is already deleted')
  }

  private webhookInfoJson(): Record<string, unknown> {
    const hook = this.webhook
    if (!hook) return { url: '', has_custom_certificate: false, pending_update_count: this.updates.length }
    return {
      url: hook.url,
      has_custom_certificate: false,
      pending_update_count: this.updates.length,
      max_connections: hook.maxConnections,
      ...(hook.lastErrorDate ? { last_error_date: hook.lastErrorDate, last_error_message: hook.lastErrorMessage } : {}),
      ...(this.allowedUpdates ? { allowed_updates: this.allowedUpdates } : {}),
    }
  }

  /** Deliver queued updates one at a time, in order, while a webhook is set. */
  private async deliverWebhook(): Promise<void> {
    if (this.delivering) return
    this.delivering = true
    try {
      while (this.webhook && !this.closed && this.updates.length > 0) {
        const update = this.updates[0]!
        await this.postUpdate(this.webhook, update)
        // Delivered, or given up after the retries: either way it leaves the queue.
        if (this.updates[0] === update) this.updates.shift()
      }
    } finally {
      this.delivering = false
    }
  }

  private async postUpdate(hook: Webhook, update: Update): Promise<void> {
    for (let attempt = 1; attempt <= this.webhookRetries + 1 && !this.closed; attempt++) {
      const status = await this.postOnce(hook, update)
      this.webhookDeliveries.push({ update_id: update.update_id, attempt, at: this.now(), status })
      if (status >= 200 && status < 300) return
      hook.lastErrorDate = Math.floor(this.now() / 1000)
      hook.lastErrorMessage = status ? `Wrong response from the webhook: ${status} ${http.STATUS_CODES[status] ?? ''}`.trim() : 'Connection refused'
      if (attempt <= this.webhookRetries) await this.sleep(this.webhookRetryDelayMs * attempt)
    }
  }

  private async postOnce(hook: Webhook, update: Update): Promise<number> {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (hook.secretToken) headers['X-Telegram-Bot-Api-Secret-Token'] = hook.secretToken
    try {
      const signal = AbortSignal.any([this.deliveryAbort.signal, AbortSignal.timeout(this.webhookTimeoutMs)])
      const response = await fetch(hook.url, { method: 'POST', headers, body: JSON.stringify(update), signal })
      await response.arrayBuffer()
      return response.status
    } catch {
      return 0
    }
  }

  /* -------------------------------- chats and messages ------------------------------------- */

  private chatOrThrow(chatId: number): ChatState {
    const chat = this.chats.get(chatId)
    if (!chat) throw new Error(`fake Telegram: no chat ${chatId} (add it with addChat or the chats option)`)
    return chat
  }

  /** resolveChat finds the chat a call names; 'write' access also refuses blocked and migrated chats. */
  private resolveChat(chatIdText: string, access: 'read' | 'write'): ChatState {
    if (chatIdText === '') throw badRequest('chat_id is empty')
    const numeric = /^-?\d+$/.test(chatIdText.trim()) ? Number(chatIdText.trim()) : NaN
    const chat = chatIdText.startsWith('@') ? this.chatByUsername(chatIdText.slice(1)) : this.chats.get(numeric)
    if (!chat) throw badRequest('chat not found')
    if (access === 'write' && chat.migratedTo !== undefined) {
      throw new ApiError(400, 'Bad Request: group chat was upgraded to a supergroup chat', { migrate_to_chat_id: chat.migratedTo })
    }
    if (chat.blocked) {
      // A blocked private chat or a group the bot was kicked from can still be read; a kicked
      // supergroup or channel cannot (Client.cpp check_chat_access).
      if (chat.type === 'private' && access === 'write') throw new ApiError(403, 'Forbidden: bot was blocked by the user')
      if (chat.type !== 'private' && (access === 'write' || chat.type !== 'group')) {
        throw new ApiError(403, `Forbidden: bot was kicked from the ${chat.type} chat`)
      }
    }
    return chat
  }

  // Bots can address only public supergroups and channels by @username.
  private chatByUsername(username: string): ChatState | undefined {
    return [...this.chats.values()].find((c) => (c.type === 'supergroup' || c.type === 'channel') && c.username?.toLowerCase() === username.toLowerCase())
  }

  /** A forum needs an existing topic; the fake also refuses a thread id for a non-forum chat. */
  private checkThread(chat: ChatState, threadId: number): number | undefined {
    if (threadId === 0) return undefined
    // Stricter than Telegram, which ignores message_thread_id outside forums: that is a config bug.
    if (!chat.isForum) throw badRequest('message thread not found')
    // Topic 1 is "General": Telegram wants no message_thread_id for it.
    if (threadId === 1 || !(chat.topics ?? []).includes(threadId)) throw badRequest('message thread not found')
    return threadId
  }

  /** The message to reply to; a missing one is an error unless allow_sending_without_reply. */
  private checkReply(chat: ChatState, reply: { messageId: number; allowWithout: boolean } | undefined): FakeMessage | undefined {
    if (!reply || reply.messageId <= 0) return undefined
    const message = this.liveMessage(chat, reply.messageId)
    if (message || reply.allowWithout) return message
    throw badRequest('message to be replied not found')
  }

  private liveMessage(chat: ChatState, messageId: number): FakeMessage | undefined {
    return chat.messages.find((m) => m.message_id === messageId && !m.deleted)
  }

  private storeMessage(chat: ChatState, fields: Omit<FakeMessage, 'message_id' | 'chat_id' | 'date' | 'edits'>): FakeMessage {
    const message: FakeMessage = { message_id: chat.nextMessageId++, chat_id: chat.id, date: Math.floor(this.now() / 1000), edits: [], ...fields }
    chat.messages.push(message)
    return message
  }

  private rememberUser(input: UserInput): TelegramUser {
    const first_name = input.first_name ?? input.username ?? `User ${input.id}`
    const user: TelegramUser = { id: input.id, is_bot: false, first_name, ...(input.username ? { username: input.username } : {}) }
    this.users.set(user.id, user)
    return user
  }

  /* -------------------------------- text --------------------------------------------------- */

  /** First half of text handling (Bot API side): emptiness, raw size, parse mode, entities. */
  private parseText(args: Args): ParsedText {
    const text = args.str('text')
    if (text === '') throw badRequest('message text is empty')
    if (utf8ByteLength(text) > MAX_RAW_TEXT_BYTES) throw badRequest('text is too long')
    const mode = args.str('parse_mode').toLowerCase()
    if (!['', 'none', 'html', 'markdown', 'markdownv2'].includes(mode)) throw badRequest('unsupported parse_mode')
    try {
      return parseMessageText(text, mode, { strict: this.strictHtml })
    } catch (err) {
      if (err instanceof EntityParseError) throw badRequest(err.description)
      throw err
    }
  }

  /** Second half (TDLib side, after the chat checks): trim, then emptiness and length. */
  private finishText(parsed: ParsedText): ParsedText {
    const trimmed = trimParsedText(parsed)
    if (isEmptyText(trimmed.text)) throw badRequest('text must be non-empty')
    const length = this.lengthUnit === 'utf16' ? trimmed.text.length : codePointLength(trimmed.text)
    if (length > MAX_TEXT_LENGTH) throw badRequest('message is too long')
    return trimmed
  }

  /* -------------------------------- rate limits -------------------------------------------- */

  /** Refuse with 429 when any window is full; only an accepted call is recorded. */
  private enforceRateLimit(chat: ChatState, method: string): void {
    if (!MESSAGE_PRODUCING.has(method)) return
    const now = this.now()
    const chatLimit = chat.type === 'private' ? this.limits.private : this.limits.group
    const waits = [chatLimit ? chat.window.waitMs(now, chatLimit) : 0, this.limits.global ? this.globalWindow.waitMs(now, this.limits.global) : 0]
    const waitMs = Math.max(...waits)
    if (waitMs > 0) {
      const retryAfter = Math.max(1, Math.ceil(waitMs / 1000))
      throw new ApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter })
    }
    chat.window.record(now)
    this.globalWindow.record(now)
  }

  /* -------------------------------- JSON shapes -------------------------------------------- */

  private chatJson(chat: ChatState): Record<string, unknown> {
    if (chat.type === 'private') {
      const first_name = chat.firstName ?? chat.username ?? `User ${chat.id}`
      return { id: chat.id, first_name, ...(chat.username ? { username: chat.username } : {}), type: 'private' }
    }
    return {
      id: chat.id,
      title: chat.title ?? `Chat ${chat.id}`,
      ...(chat.username ? { username: chat.username } : {}),
      type: chat.type,
      ...(chat.isForum ? { is_forum: true } : {}),
    }
  }

  private chatFullInfo(chat: ChatState): Record<string, unknown> {
    const accepted_gift_types = { unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false }
    return { ...this.chatJson(chat), accent_color_id: 0, max_reaction_count: 11, accepted_gift_types }
  }

  private messageJson(m: FakeMessage, withReply = true): Record<string, unknown> {
    const chat = this.chatOrThrow(m.chat_id)
    const sender = chat.type === 'channel' ? { sender_chat: this.chatJson(chat) } : { from: m.from }
    const replied = withReply && m.reply_to_message_id !== undefined ? chat.messages.find((x) => x.message_id === m.reply_to_message_id) : undefined
    return {
      message_id: m.message_id,
      ...(m.message_thread_id ? { message_thread_id: m.message_thread_id, is_topic_message: true } : {}),
      ...sender,
      chat: this.chatJson(chat),
      date: m.date,
      ...(m.edit_date ? { edit_date: m.edit_date } : {}),
      ...(replied ? { reply_to_message: this.messageJson(replied, false) } : {}),
      ...(m.photo ? photoJson(m) : { text: m.text, ...(m.entities.length ? { entities: m.entities } : {}) }),
      ...(m.link_preview_options !== undefined ? { link_preview_options: m.link_preview_options } : {}),
      ...(m.reply_markup ? { reply_markup: m.reply_markup } : {}),
    }
  }

  private memberJson(chat: ChatState, userId: number): Record<string, unknown> {
    const user = userId === this.bot.id ? this.bot : (this.users.get(userId) ?? { id: userId, is_bot: false, first_name: `User ${userId}` })
    const known = chat.members.get(userId)
    const status: MemberStatus = known ?? (chat.type === 'private' && chat.id === userId ? 'member' : 'left')
    switch (status) {
      case 'creator':
        return { status, user, is_anonymous: false }
      case 'administrator':
        return {
          status,
          user,
          can_be_edited: false,
          is_anonymous: false,
          can_manage_chat: true,
          can_delete_messages: true,
          can_manage_video_chats: true,
          can_restrict_members: true,
          can_promote_members: false,
          can_change_info: true,
          can_invite_users: true,
          can_post_stories: false,
          can_edit_stories: false,
          can_delete_stories: false,
        }
      case 'restricted':
        return { status, user, is_member: true, can_send_messages: false, until_date: 0 }
      case 'kicked':
        return { status, user, until_date: 0 }
      default:
        return { status, user }
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Pure helpers: markup, reply parameters, commands, ids                                       */
/* ------------------------------------------------------------------------------------------ */

const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message'

type ParsedMarkup = { kind: 'inline'; rows: InlineButton[][] } | { kind: 'other' } | undefined

/** parseReplyMarkup checks reply_markup's shape with the Bot API's own error texts. */
function parseReplyMarkup(args: Args): ParsedMarkup {
  const value = args.json('reply_markup', 'reply keyboard markup')
  if (value === undefined) return undefined
  if (!isObject(value)) throw badRequest('object expected as reply markup')
  if ('inline_keyboard' in value) {
    const rows = value['inline_keyboard']
    if (!Array.isArray(rows)) throw badRequest('field "inline_keyboard" must be of type Array')
    const parsed = rows.map((row) => {
      if (!Array.isArray(row)) throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
      return row.map((button) => parseInlineButton(button))
    })
    return parsed.length ? { kind: 'inline', rows: parsed } : undefined
  }
  return value['keyboard'] || value['remove_keyboard'] || value['force_reply'] ? { kind: 'other' } : undefined
}

function parseInlineButton(button: unknown): InlineButton {
  const fail = (why: string): never => {
    throw badRequest(`can't parse inline keyboard button: ${why}`)
  }
  if (!isObject(button)) return fail('InlineKeyboardButton must be an Object')
  const text = stringField(button, 'text', fail, true)!
  const url = stringField(button, 'url', fail, false)
  const data = stringField(button, 'callback_data', fail, false)
  // Stricter than Telegram, which silently prefers url: a button that is both is a bug.
  if (url && data) fail('only one of the fields "url" and "callback_data" may be used')
  if (url) return { text, url }
  if (data) return { text, callback_data: data }
  const other = [
    'callback_game',
    'pay',
    'switch_inline_query',
    'switch_inline_query_chosen_chat',
    'switch_inline_query_current_chat',
    'login_url',
    'web_app',
    'copy_text',
  ]
  if (other.some((k) => k in button)) fail('the fake Telegram supports only url and callback_data buttons')
  return fail('Text buttons are unallowed in the inline keyboard')
}

/** A JSON string field the way TDLib reads one: strings, and numbers as their text. */
function stringField(obj: Record<string, unknown>, name: string, fail: (why: string) => never, required: boolean): string | undefined {
  const value = obj[name]
  if (value === undefined) return required ? fail(`Can't find field "${name}"`) : undefined
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  return fail(`Field "${name}" must be of type String`)
}

/** validateInlineKeyboard applies TDLib's and the server's checks, returning what Telegram stores. */
function validateInlineKeyboard(markup: ParsedMarkup, options: { inlineOnly?: boolean } = {}): InlineKeyboard | undefined {
  if (!markup) return undefined
  if (markup.kind === 'other') {
    if (options.inlineOnly) throw badRequest('inline keyboard expected')
    return undefined
  }
  const rows = markup.rows.map((row) =>
    row.map((button) => {
      if (button.text === '') throw badRequest('inline keyboard button text must be non-empty')
      if (button.url !== undefined) {
        const checked = checkTelegramUrl(button.url)
        if (!checked.ok) throw badRequest(`inline keyboard button URL '${button.url}' is invalid: ${checked.reason}`)
        return { text: button.text, url: checked.url }
      }
      if (utf8ByteLength(button.callback_data ?? '') > MAX_CALLBACK_DATA_BYTES) throw badRequest('BUTTON_DATA_INVALID')
      return button
    }),
  )
  return { inline_keyboard: rows }
}

/** copyMessage: a copy a test may change freely (structuredClone makes a Buffer a Uint8Array: the photo's bytes stay a Buffer). */
function copyMessage(message: FakeMessage): FakeMessage {
  const copy = structuredClone(message)
  if (copy.photo) copy.photo.data = Buffer.from(copy.photo.data)
  return copy
}

/** readPhoto takes the uploaded photo the way Telegram checks it: present, at most 10 MB, a picture it can read, sides ≤ 10000 in all, ratio ≤ 20. */
function readPhoto(args: Args): FakePhoto {
  const file = args.files.get('photo')
  if (!file) {
    // a string is a file_id or a URL: the fake knows no files and fetches nothing (stricter than Telegram)
    if (args.str('photo') !== '') throw badRequest('wrong remote file identifier specified: the fake Telegram takes uploads only')
    throw badRequest('there is no photo in the request')
  }
  if (file.data.length === 0) throw badRequest('file must be non-empty')
  if (file.data.length > MAX_PHOTO_BYTES) throw badRequest('file is too big')
  const size = pngSize(file.data)
  // stricter than Telegram, which also takes JPEG and WebP: alertwire sends PNG only
  if (!size) throw badRequest('IMAGE_PROCESS_FAILED')
  const { width, height } = size
  if (width + height > MAX_PHOTO_SIDES || Math.max(width, height) / Math.min(width, height) > MAX_PHOTO_RATIO) throw badRequest('PHOTO_INVALID_DIMENSIONS')
  return { width, height, bytes: file.data.length, filename: file.filename, data: file.data }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** pngSize reads width and height from a PNG's IHDR chunk (the first chunk, right after the signature). */
export function pngSize(data: Buffer): { width: number; height: number } | undefined {
  if (data.length < 24 || !data.subarray(0, 8).equals(PNG_SIGNATURE) || data.subarray(12, 16).toString('latin1') !== 'IHDR') return undefined
  const width = data.readUInt32BE(16)
  const height = data.readUInt32BE(20)
  return width > 0 && height > 0 ? { width, height } : undefined
}

/** photoJson is a photo message's content as the Bot API shows it: sizes, then the caption and its entities. */
function photoJson(m: FakeMessage): Record<string, unknown> {
  const photo = m.photo!
  const id = `fake-photo-${m.chat_id}-${m.message_id}`
  return {
    photo: [{ file_id: id, file_unique_id: id, width: photo.width, height: photo.height, file_size: photo.bytes }],
    ...(m.text ? { caption: m.text } : {}),
    ...(m.entities.length ? { caption_entities: m.entities } : {}),
  }
}

/** parseReplyParameters reads reply_parameters (JSON) or the legacy reply_to_message_id. */
function parseReplyParameters(args: Args): { messageId: number; allowWithout: boolean } | undefined {
  const value = args.json('reply_parameters', 'reply parameters')
  if (value === undefined) {
    const legacy = args.int('reply_to_message_id')
    return legacy ? { messageId: legacy, allowWithout: args.bool('allow_sending_without_reply') } : undefined
  }
  if (!isObject(value)) throw badRequest('object expected as reply parameters')
  const id = value['message_id']
  if (id === undefined) throw badRequest(`can't find field "message_id"`)
  const messageId = typeof id === 'number' ? id : Number(id)
  if (!Number.isInteger(messageId)) throw badRequest('field "message_id" must be a valid Number')
  return { messageId, allowWithout: value['allow_sending_without_reply'] === true }
}

/** readBotCommand applies the Bot API's shape checks and TDLib's trimming and length limits. */
function readBotCommand(item: unknown): { command: string; description: string } {
  const fail = (why: string): never => {
    throw badRequest(`can't parse BotCommand: ${why}`)
  }
  if (!isObject(item)) return fail('expected an Object')
  const rawCommand = stringField(item, 'command', fail, true)!
  const rawDescription = stringField(item, 'description', fail, true)!
  let command = rawCommand.trim()
  if (command.startsWith('/')) command = command.slice(1)
  if (command === '') throw badRequest('command must be non-empty')
  if (codePointLength(command) > 32) throw badRequest('command length must not exceed 32')
  const description = rawDescription.trim()
  if (description === '') throw badRequest('command description must be non-empty')
  if (codePointLength(description) > 256) throw badRequest('command description length must not exceed 256')
  return { command, description }
}

function assertChatIdShape(spec: ChatSpec): void {
  const ok = spec.type === 'private' ? spec.id > 0 : spec.type === 'group' ? spec.id < 0 && spec.id > -1_000_000_000_000 : spec.id <= -1_000_000_000_000
  if (!ok || !Number.isSafeInteger(spec.id)) {
    throw new Error(`fake Telegram: ${spec.id} is not a valid ${spec.type} chat id (private > 0, group < 0, supergroup/channel -100…)`)
  }
  if (spec.isForum && spec.type !== 'supergroup') throw new Error('fake Telegram: only a supergroup can be a forum')
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, n))

/** startFakeTelegram starts a fake Bot API on 127.0.0.1 (a free port unless `port` is given). */
export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const fake = new FakeTelegram(options)
  await fake.listen(options.port ?? 0)
  return fake
}
