/** Running the core's planning steps (core/steps.ts) without holding the event loop for long. */
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { Steps } from '../core/steps.js'

/** SLICE_MS: the longest the steps run before other work (webhooks above all) gets the event loop. */
const SLICE_MS = 8

/** settle runs steps to their result, letting the event loop serve what waits every SLICE_MS. */
export async function settle<T>(steps: Steps<T>): Promise<T> {
  let sliceStart = performance.now()
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
    if (performance.now() - sliceStart >= SLICE_MS) {
      await nextTurn()
      sliceStart = performance.now()
    }
  }
}
