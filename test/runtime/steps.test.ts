import t from 'tap'
import type { Steps } from '../../src/core/steps.js'
import { settle } from '../../src/runtime/steps.js'

/** busySteps: planning that holds the CPU for `ms` per step, `count` steps, and says which step ran last. */
function* busySteps(count: number, ms: number, done: { steps: number }): Steps<string> {
  for (let i = 0; i < count; i++) {
    const until = performance.now() + ms
    while (performance.now() < until) {
      // busy, as packing a storm round is
    }
    done.steps = i + 1
    yield
  }
  return 'planned'
}

t.test('settle answers what waits while long planning runs, and gives the planning its result', async (t) => {
  const done = { steps: 0 }
  let stepsWhenAnswered: number | undefined
  // a webhook's turn, queued as planning starts: it is answered long before the planning ends
  setTimeout(() => (stepsWhenAnswered = done.steps), 0)
  const result = await settle(busySteps(40, 2, done))
  t.equal(result, 'planned')
  t.equal(done.steps, 40)
  t.ok(stepsWhenAnswered !== undefined && stepsWhenAnswered < 20, `answered after ${stepsWhenAnswered} of 40 steps`)
})

t.test('settle throws what the planning throws', async (t) => {
  function* failing(): Steps<never> {
    yield
    throw new Error('cannot render')
  }
  await t.rejects(settle(failing()), { message: 'cannot render' })
})
