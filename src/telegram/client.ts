/**
 * The Telegram edge: the one interface the sender and the bot use, a real client over
 * node-telegram-bot-api (its own retries off: the outbox owns retries and pacing), and a dry-run
 * client that writes every message to the log in full (and, for a person at a terminal, as the chat
 * would show it). The token is only ever inside the library's request URL, which is never logged;
 * a proxy, when one is set, comes in as the fetch the library calls (src/telegram/proxy.ts).
 */
import { Api, InputFile } from 'node-telegram-bot-api'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'
import type { InlineButton } from '../core/keyboard.js'
import { type DryRunFields, dryRunBlock, dryRunFields, type Style } from './dry-run.js'
import { classifyTelegramError } from './errors.js'

/** OutgoingMessage: a message to send. */
export interface OutgoingMessage {
  chatId: string
  text: string
  html: boolean
  threadId?: number
  silent: boolean
  replyTo?: number
  keyboard?: InlineButton[][]
  /** a URL Telegram previews under the text (otherwise previews are off) */
  preview?: string
}

/** MessageEdit: new text for a message alertwire sent. */
export interface MessageEdit {
  chatId: string
  messageId: number
  text: string
  html: boolean
  keyboard?: InlineButton[][]
  preview?: string
}

/** OutgoingPhoto: a picture to send (PNG bytes), with a caption (HTML when html is set). */
export interface OutgoingPhoto {
  chatId: string
  png: Buffer
  caption: string
  html: boolean
  threadId?: number
  silent: boolean
  replyTo?: number
  keyboard?: InlineButton[][]
}

/** TelegramPort: what alertwire needs from Telegram. Errors are the client library's; classify them with classifyTelegramError. */
export interface TelegramPort {
  readonly dryRun: boolean
  sendMessage(message: OutgoingMessage): Promise<{ messageId: number }>
  editMessageText(edit: MessageEdit): Promise<void>
  sendPhoto(photo: OutgoingPhoto): Promise<{ messageId: number }>
}

/** wireChatId: numeric ids go as numbers, "@channel" names as strings. */
function wireChatId(chatId: string): number | string {
  return /^-?[0-9]+$/.test(chatId) ? Number(chatId) : chatId
}

/** linkPreview: previews stay off (an alert's links would otherwise preview Prometheus), except for a picture the message asks for. */
function linkPreview(preview: string | undefined) {
  return preview ? { url: preview, prefer_large_media: true } : { is_disabled: true }
}

/** TelegramConnection: how to reach the Bot API; fetch goes through a proxy when one is set (src/telegram/proxy.ts). */
export interface TelegramConnection {
  token: string
  apiUrl: string
  timeoutMs: number
  fetch?: typeof fetch
}

/** apiFor: the library's client with its own retries off (the outbox owns retries and pacing). */
function apiFor(options: TelegramConnection): Api {
  return new Api(options.token, { apiRoot: options.apiUrl, timeoutMs: options.timeoutMs, maxRetries: 0, ...(options.fetch ? { fetch: options.fetch } : {}) })
}

/** createTelegramClient talks to the real Bot API (or any server at apiUrl, such as the test fake). */
export function createTelegramClient(options: TelegramConnection): TelegramPort {
  const api = apiFor(options)
  return {
    dryRun: false,
    async sendMessage(message) {
      const sent = await api.sendMessage({
        chat_id: wireChatId(message.chatId),
        text: message.text,
        ...(message.html ? { parse_mode: 'HTML' as const } : {}),
        ...(message.threadId ? { message_thread_id: message.threadId } : {}),
        disable_notification: message.silent,
        link_preview_options: linkPreview(message.preview),
        ...(message.replyTo ? { reply_parameters: { message_id: message.replyTo, allow_sending_without_reply: true } } : {}),
        ...(message.keyboard ? { reply_markup: { inline_keyboard: message.keyboard } } : {}),
      })
      return { messageId: sent.message_id }
    },
    async editMessageText(edit) {
      await api.editMessageText({
        chat_id: wireChatId(edit.chatId),
        message_id: edit.messageId,
        text: edit.text,
        ...(edit.html ? { parse_mode: 'HTML' as const } : {}),
        link_preview_options: linkPreview(edit.preview),
        ...(edit.keyboard ? { reply_markup: { inline_keyboard: edit.keyboard } } : {}),
      })
    },
    async sendPhoto(photo) {
      // an InputFile makes the library send multipart/form-data (field photo) through the same fetch, so a proxy carries it too
      const sent = await api.sendPhoto({
        chat_id: wireChatId(photo.chatId),
        photo: new InputFile(new Uint8Array(photo.png), { filename: 'graph.png', contentType: 'image/png' }),
        caption: photo.caption,
        ...(photo.html ? { parse_mode: 'HTML' as const } : {}),
        ...(photo.threadId ? { message_thread_id: photo.threadId } : {}),
        disable_notification: photo.silent,
        ...(photo.replyTo ? { reply_parameters: { message_id: photo.replyTo, allow_sending_without_reply: true } } : {}),
        ...(photo.keyboard ? { reply_markup: { inline_keyboard: photo.keyboard } } : {}),
      })
      return { messageId: sent.message_id }
    },
  }
}

/** DryRunView: where a person reads each dry-run message as the chat would show it (a terminal), besides the log. */
export interface DryRunView {
  write(block: string): void
  style: Style
}

/** createDryRunTelegram logs every message in full instead of sending it (and shows it on view); ids come from nextId so edits line up across replicas. */
export function createDryRunTelegram(log: Logger, nextId: () => Promise<number>, view?: DryRunView): TelegramPort {
  const report = (fields: DryRunFields, message: string) => {
    log.info(fields, message)
    view?.write(dryRunBlock(fields, view.style))
  }
  return {
    dryRun: true,
    async sendMessage(message) {
      const messageId = await nextId()
      report(dryRunFields(message, 'send', messageId), 'dry run: would send message')
      return { messageId }
    },
    async editMessageText(edit) {
      report(dryRunFields(edit, 'edit', edit.messageId), 'dry run: would edit message')
    },
    async sendPhoto(photo) {
      const messageId = await nextId()
      const { png, caption, ...rest } = photo
      // the picture itself is not logged: its size says it was drawn
      report({ ...dryRunFields({ ...rest, text: caption }, 'send', messageId), photoBytes: png.length } as DryRunFields, 'dry run: would send photo')
      return { messageId }
    },
  }
}

/** withMetrics times every call and counts its outcome. */
export function withMetrics(port: TelegramPort, metrics: Metrics): TelegramPort {
  const timed = async <T>(method: string, call: () => Promise<T>): Promise<T> => {
    const stop = metrics.telegramDuration.startTimer({ method })
    try {
      const result = await call()
      stop({ outcome: 'ok' })
      return result
    } catch (error) {
      stop({ outcome: classifyTelegramError(error).kind })
      throw error
    }
  }
  return {
    dryRun: port.dryRun,
    sendMessage: (message) => timed('sendMessage', () => port.sendMessage(message)),
    editMessageText: (edit) => timed('editMessageText', () => port.editMessageText(edit)),
    sendPhoto: (photo) => timed('sendPhoto', () => port.sendPhoto(photo)),
  }
}

/** TelegramBotApi: what the bot needs beyond sending: updates, button answers, setup, membership. */
export interface TelegramBotApi {
  getMe(): Promise<{ id: number; username?: string }>
  /** long-polls for updates after offset; the raw updates are validated by the caller */
  getUpdates(offset: number | undefined, timeoutSeconds: number, signal?: AbortSignal): Promise<unknown[]>
  answerCallbackQuery(id: string, text?: string, showAlert?: boolean): Promise<void>
  setWebhook(url: string, secret: string, allowedUpdates: string[]): Promise<void>
  deleteWebhook(): Promise<void>
  setMyCommands(commands: readonly { command: string; description: string }[]): Promise<void>
  /** a member's status in a chat: creator, administrator, member, restricted, left, kicked */
  getChatMember(chatId: string, userId: number): Promise<string>
}

/** createTelegramBotApi talks to the Bot API for the bot (its own retries off: callers decide). */
export function createTelegramBotApi(options: TelegramConnection): TelegramBotApi {
  const api = apiFor(options)
  return {
    getMe: async () => {
      const me = await api.getMe()
      return { id: me.id, ...(me.username ? { username: me.username } : {}) }
    },
    getUpdates: async (offset, timeout, signal) =>
      (await api.getUpdates({ ...(offset !== undefined ? { offset } : {}), timeout, allowed_updates: ['message', 'callback_query'] }, signal)) as unknown[],
    answerCallbackQuery: async (id, text, showAlert) => {
      await api.answerCallbackQuery({ callback_query_id: id, ...(text ? { text } : {}), ...(showAlert ? { show_alert: true } : {}) })
    },
    setWebhook: async (url, secret, allowedUpdates) => {
      await api.setWebhook({ url, secret_token: secret, allowed_updates: allowedUpdates })
    },
    deleteWebhook: async () => {
      await api.deleteWebhook({})
    },
    setMyCommands: async (commands) => {
      await api.setMyCommands({ commands: [...commands] })
    },
    getChatMember: async (chatId, userId) => (await api.getChatMember({ chat_id: wireChatId(chatId), user_id: userId })).status,
  }
}
