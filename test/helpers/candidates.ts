/** Candidate events for store and planner tests: one alert in chat -100, seq 0 unless given. */
import type { Candidate } from '../../src/core/candidates.js'
import type { EventResult } from '../../src/core/events.js'
import type { CommitPolicy, DeliveryStore } from '../../src/store/delivery-store.js'

/** candidate is an event of alert `fp` in chat -100 (a resolve requires its firing to have been seen), with `over` replacing fields. */
export function candidate(fp: string, status: 'firing' | 'resolved', over: Partial<Candidate> = {}, seq = 0): Candidate {
  return {
    chat: '-100',
    thread: '',
    fingerprint: fp,
    status,
    startsAt: '2026-11-24T23:00:00Z',
    requireFiringSeen: status === 'resolved',
    repeatIntervalMs: 0,
    muteWindows: [],
    level: '',
    item: {
      seq,
      id: `${fp}/${status}`,
      groupKey: 'g',
      externalURL: '',
      truncatedAlerts: 0,
      silent: false,
      route: 'default',
      paceMs: 1000,
      receivedAt: Date.now(),
      alert: { fingerprint: fp, status, labels: {}, annotations: {}, startsAt: '2026-11-24T23:00:00Z' },
    },
    ...over,
  }
}

/** commitResults commits candidates through the store and gives their results alone, one per candidate. */
export async function commitResults(store: DeliveryStore, candidates: readonly Candidate[], policy?: CommitPolicy): Promise<EventResult[]> {
  return (await store.commit(candidates, policy)).results
}
