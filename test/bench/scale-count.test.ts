import t from 'tap'
import { messagesNeeded, namingOf, paceBound } from '../../bench/scale-count.js'

const NAME = /\bh(\d+)\.scale\b/g

t.test('namingOf counts the messages that name an alert; an edit of the same message is not a second one', async (t) => {
  const naming = namingOf(
    [
      { chat: '-1', id: 1, texts: ['h1.scale and h2.scale', 'edited: h1.scale, h2.scale resolved'] },
      { chat: '-1', id: 2, texts: ['digest: h2.scale, h3.scale'] },
      { chat: '7', id: 1, texts: ['h4.scale'] },
      { chat: '7', id: 2, texts: ['h11.scale is not h1.scale... twice in one text: h11.scale'] },
    ],
    (text) => [...text.matchAll(NAME)].map((m) => m[1]!),
    (alert) => (Number(alert) < 4 ? '-1' : '7'),
  )
  t.same([...naming.messagesOf.get('1')!], ['-1/1', '7/2'])
  t.same(naming.namedTwice.sort(), ['1', '2'], 'h2 in two messages, h1 in two chats; h11 named twice in one text is one message')
  t.same(naming.wrongChat, ['1'], 'h1 showed up in a chat it is not routed to')
})

t.test('messagesNeeded: names and a separator each, 4,096 characters a message, at least one', async (t) => {
  t.equal(messagesNeeded([]), 1)
  t.equal(messagesNeeded(['a'.repeat(4095)]), 1)
  t.equal(messagesNeeded(['a'.repeat(4096)]), 2)
  t.equal(
    messagesNeeded(
      Array.from({ length: 100 }, () => 'x'.repeat(99)),
      4096,
    ),
    3,
    '10,000 characters',
  )
})

t.test('paceBound: one message per pace from the first webhook, and no earlier than the slot after the last', async (t) => {
  t.equal(paceBound(1000, 1, 3000), 1000, 'one message goes at once')
  t.equal(paceBound(1000, 3, 3000), 7000, 'the third two paces later')
  t.equal(paceBound(1000, 1, 3000, 5000), 7000, 'an alert arriving at 5 s waits for the slot at 7 s')
  t.equal(paceBound(1000, 4, 3000, 5000), 10_000, 'four messages take longer than the wait for the last alert')
})
