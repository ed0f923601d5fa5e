/**
 * The part of a Telegram update alertwire reads, as a TypeBox schema: commands in messages and
 * button presses. Everything else in an update is accepted and ignored.
 */
import Type from 'typebox'

const User = Type.Object({ id: Type.Integer(), username: Type.Optional(Type.String()), first_name: Type.Optional(Type.String()) })
const Chat = Type.Object({ id: Type.Integer(), type: Type.String(), title: Type.Optional(Type.String()) })

/** BotMessageSchema: a message that may carry a command. */
export const BotMessageSchema = Type.Object({
  message_id: Type.Integer(),
  chat: Chat,
  from: Type.Optional(User),
  text: Type.Optional(Type.String()),
  entities: Type.Optional(Type.Array(Type.Object({ type: Type.String(), offset: Type.Integer(), length: Type.Integer() }))),
  reply_to_message: Type.Optional(Type.Object({ message_id: Type.Integer() })),
  message_thread_id: Type.Optional(Type.Integer()),
  is_topic_message: Type.Optional(Type.Boolean()),
})

/** BotUpdateSchema: one update from getUpdates or the webhook. */
export const BotUpdateSchema = Type.Object({
  update_id: Type.Integer(),
  message: Type.Optional(BotMessageSchema),
  callback_query: Type.Optional(
    Type.Object({
      id: Type.String(),
      from: User,
      data: Type.Optional(Type.String()),
      message: Type.Optional(Type.Object({ message_id: Type.Integer(), chat: Chat, message_thread_id: Type.Optional(Type.Integer()) })),
    }),
  ),
})

export type BotUpdate = Type.Static<typeof BotUpdateSchema>
export type BotMessage = Type.Static<typeof BotMessageSchema>
export type BotUser = Type.Static<typeof User>

/** ALLOWED_UPDATES: the update kinds alertwire asks Telegram for. */
export const ALLOWED_UPDATES = ['message', 'callback_query']

/** who names a Telegram user the way logs and createdBy do: "@alice (123456789)". */
export function who(user: BotUser): string {
  return `${user.username ? `@${user.username}` : (user.first_name ?? 'user')} (${user.id})`
}
