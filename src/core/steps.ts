/**
 * Steps: pure planning in pieces. A storm round (5,000 waiting alerts, 1,000 of them measured in
 * every look their line can take) is 60-150 ms of work; planned in one piece it holds up every
 * webhook that arrives meanwhile, since the sender plans on the event loop the webhook route
 * shares. Written as a generator, the planning says where it may pause (`yield`), and the executor
 * lets other work run there (runtime/steps.ts); tests and other callers run it through at once.
 */
export type Steps<T> = Generator<void, T, void>

/** runThrough runs steps through to their result without pausing. */
export function runThrough<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
  }
}
