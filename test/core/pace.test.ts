import t from 'tap'
import { globalWaitMs } from '../../src/core/pace.js'

t.test("how much later a chat's next call comes because Telegram's overall limit is shared", async (t) => {
  // telegram.pace.global 30/s with 10% headroom: one call overall every 37 ms
  const rows: [string, number, number, number, number][] = [
    ['no other chat is due before its next call: its own pace decides', 0, 37, 3150, 0],
    ['84 other groups due before it: they take 3.1 s of the overall limit, within its 3.15 s pace', 84, 37, 3150, 0],
    ['99 other chats due before it (the scale benchmark): 3.7 s before it comes again, 550 ms past its pace', 99, 37, 3150, 550],
    ['a private chat (1 s pace) behind 99 others', 99, 37, 1000, 2700],
    ['a count that cannot be (a chat claimed while not due) is read as none', -1, 37, 1000, 0],
  ]
  for (const [what, others, globalMs, paceMs, wait] of rows) t.equal(globalWaitMs(others, globalMs, paceMs), wait, what)
})
