import t from 'tap'
import { breakdown, lastCallWait, overallBounds } from '../../bench/scale-breakdown.js'

t.test('overallBounds: one final call per chat after its last webhook, one per global interval, the earliest due first', async (t) => {
  const rows: [string, { lastAt: number; bound: number }[], number[]][] = [
    ['one chat: its pace bound', [{ lastAt: 0, bound: 1000 }], [1000]],
    [
      'chats far apart: each its pace bound',
      [
        { lastAt: 0, bound: 1000 },
        { lastAt: 5000, bound: 6000 },
      ],
      [1000, 6000],
    ],
    [
      'a hundred chats ending at once: the last served 99 intervals later',
      Array.from({ length: 100 }, () => ({ lastAt: 0, bound: 0 })),
      Array.from({ length: 100 }, (_, i) => i * 36),
    ],
    [
      'a private chat due first is served first, though it ended last',
      [
        { lastAt: 0, bound: 3150 },
        { lastAt: 0, bound: 3150 },
        { lastAt: 10, bound: 1050 },
      ],
      [3150, 3150, 1050],
    ],
    [
      'three chats due at once: the third 72 ms late',
      [
        { lastAt: 0, bound: 0 },
        { lastAt: 0, bound: 0 },
        { lastAt: 0, bound: 0 },
      ],
      [0, 36, 72],
    ],
  ]
  for (const [name, chats, expected] of rows) t.same(overallBounds(chats, 36), expected, name)
})

t.test("lastCallWait: the last call's wait after the last webhook, its own pace first, then the queue", async (t) => {
  t.same(lastCallWait({ lastAt: 1000, callsAt: [0, 1500], paceMs: 1000, doneAt: 1500 }), { pace: 0, queue: 500 }, 'free at once: half a second in the queue')
  t.same(
    lastCallWait({ lastAt: 1000, callsAt: [900, 1950], paceMs: 1000, doneAt: 1950 }),
    { pace: 900, queue: 50 },
    'a call just before: its pace holds the next',
  )
  t.same(
    lastCallWait({ lastAt: 1000, callsAt: [1100, 2100, 3100], paceMs: 1000, doneAt: 3100 }),
    { pace: 2100, queue: 0 },
    'calls after the webhook that did not name it: its own pace held the one that did',
  )
})

t.test('breakdown: a line per kind of chat, then the overall limit, the calls per window and the latest chat', async (t) => {
  const chat = (label: string, kind: string, paceMs: number, callsAt: number[]) => ({
    label,
    kind,
    paceMs,
    firstAt: 0,
    lastAt: 2000,
    callsAt,
    doneAt: callsAt.at(-1)!,
    bound: 2000,
  })
  const lines = breakdown([chat('c0', 'private', 1000, [0, 2100]), chat('c1', 'group', 3000, [0, 9000])], 36, 0)
  t.equal(lines.length, 5)
  t.match(lines[0], /^private ×1 \(pace 1\.0 s\): within pace 1/)
  t.match(lines[1], /^group ×1 \(pace 3\.0 s\): within pace 0/)
  t.match(lines[2], /2 final calls take ≥ 0\.1 s/)
  t.match(lines[3], /: 3 1$/)
  t.match(lines[4], /latest chat group c1: .*its calls at -2\.0 \+7\.0 s/)
})
