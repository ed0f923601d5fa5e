/**
 * The round part of `npm run bench -- round`: how long planning one storm round takes (planStorm:
 * 5,000 waiting alerts folded into digests, 1,000 of them named and packed densely, the rest
 * counted). The sender plans on the event loop the webhook route shares, so this is how long a
 * storm round holds webhooks up; in the ingest bench (1,000 distinct alerts/s to one group chat)
 * one such round runs every slot. Each run plans fresh copies, as each turn reads its items anew.
 */
import { batchOptions } from '../src/config/slices.js'
import type { OutboxItem } from '../src/core/candidates.js'
import { planStorm } from '../src/core/delivery.js'
import { testConfig } from '../test/helpers/config.js'

const ITEMS = 5000
const RUNS = 12

/** RoundFigures: planning times of one storm round, in ms, after two warm-up runs. */
export interface RoundFigures {
  items: number
  named: number
  messages: number
  p50Ms: number
  maxMs: number
}

/** item n: one firing alert as the ingest bench sends it (bench/load.ts). */
function item(n: number, at: number): OutboxItem {
  return {
    id: `round-${n}`,
    alert: {
      fingerprint: `round${n.toString(16).padStart(10, '0')}`,
      status: 'firing',
      labels: { alertname: 'Bench', severity: 'warning', instance: `host-${n}.example.com:9100`, job: 'node' },
      annotations: { summary: `bench alert ${n}`, description: 'load test' },
      startsAt: new Date(at).toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.com/graph',
    },
    groupKey: `{}:{alertname="Bench",instance="i${n}"}`,
    externalURL: 'http://alertmanager.example.com',
    truncatedAlerts: 0,
    silent: false,
    route: 'default',
    paceMs: 3150,
    receivedAt: at,
    seq: n,
  }
}

/** stormRoundBench plans the same round RUNS times and reports the times of all but the first two. */
export function stormRoundBench(): RoundFigures {
  const at = Date.now()
  const items = Array.from({ length: ITEMS }, (_, n) => item(n, at))
  const config = testConfig()
  const times: number[] = []
  let messages = 0
  let named = 0
  for (let run = 0; run < RUNS; run++) {
    const fresh = structuredClone(items)
    const options = batchOptions(config, Date.now())
    const started = performance.now()
    const delivery = planStorm(fresh, { refs: new Map(), records: new Map() }, options)
    if (run >= 2) times.push(performance.now() - started)
    messages = delivery.calls.length
    named = delivery.calls.reduce((sum, call) => sum + (call.record?.alerts.length ?? 0), 0)
  }
  times.sort((a, b) => a - b)
  return { items: ITEMS, named, messages, p50Ms: Math.round(times[Math.floor(times.length / 2)]!), maxMs: Math.round(times.at(-1)!) }
}
