import t from 'tap'
import type { Candidate } from '../../src/core/candidates.js'
import { decideEvent, EARLY_RESOLVE_TTL_MS, type EventChange, type EventPolicy, type EventState, repeatMarkerMs } from '../../src/core/events.js'
import { compileMuteWindow } from '../../src/core/mute.js'

// the injected clock: Tuesday 2026-11-24 23:00 UTC
const NOW = Date.UTC(2026, 10, 24, 23, 0)
const MIN = 60_000
const HOUR = 60 * MIN
const STARTS = '2026-11-24T22:50:00Z'
const POLICY: EventPolicy = { rememberMs: 24 * HOUR, flapping: { windowMs: 10 * MIN, threshold: 0 }, criticalWhenMuted: 'silent' }
const FLAPPING = { flapping: { windowMs: 10 * MIN, threshold: 3 } }
const NIGHT_HOLD = compileMuteWindow({ severities: ['warning'], times: '22:00-07:00', action: 'hold', time_zone: 'UTC' }, 'UTC')
const NIGHT_SILENT = compileMuteWindow({ severities: ['warning'], times: '22:00-07:00', action: 'silent', time_zone: 'UTC' }, 'UTC')
const SEVEN_AM = Date.UTC(2026, 10, 25, 7, 0)

const fresh: EventState = { firingSeen: false, resolvedSeen: false, reminded: false, flaps: [], mutedUntil: 0 }

function event(status: 'firing' | 'resolved', over: { severity?: string; seq?: number } & Partial<Omit<Candidate, 'item'>> = {}): Candidate {
  const { severity = 'warning', seq = 7, ...rest } = over
  return {
    chat: '-100',
    thread: '',
    fingerprint: 'fp1',
    status,
    startsAt: STARTS,
    requireFiringSeen: status === 'resolved',
    repeatIntervalMs: 0,
    muteWindows: [],
    level: severity,
    item: {
      id: `-100//fp1/${status}/${STARTS}`,
      groupKey: 'g',
      externalURL: '',
      truncatedAlerts: 0,
      silent: false,
      route: 'default',
      paceMs: 3000,
      receivedAt: NOW - 100,
      seq,
      alert: { fingerprint: 'fp1', status, labels: { alertname: 'DiskFull', severity }, annotations: {}, startsAt: STARTS },
    },
    ...rest,
  }
}

const seenFiring: EventChange = { kind: 'seen', status: 'firing', until: NOW + POLICY.rememberMs }
const seenResolved: EventChange = { kind: 'seen', status: 'resolved', until: NOW + POLICY.rememberMs }

interface Row {
  row: string
  state?: Partial<EventState>
  event: Candidate
  policy?: Partial<EventPolicy>
  kind: string
  result: string
  /** status/seq, then what the item carries: silent, repeat, flaps=N, held=ms */
  queue: string[]
  changes: EventChange[]
}

// the rows follow the README ("Nothing doubled", "Repeats", "Flapping", quiet hours, /mute)
const rows: Row[] = [
  { row: 'a new firing is queued and remembered', event: event('firing'), kind: 'new', result: 'queued', queue: ['firing/7'], changes: [seenFiring] },
  {
    row: 'the same event again (HA twin, webhook retry, group re-sent) is a duplicate',
    state: { firingSeen: true },
    event: event('firing'),
    kind: 'duplicate',
    result: 'duplicate',
    queue: [],
    changes: [],
  },
  {
    row: 'the same alert in a new instance (startsAt) is new: its state starts fresh',
    event: event('firing', { startsAt: '2026-11-24T22:59:00Z' }),
    kind: 'new',
    result: 'queued',
    queue: ['firing/7'],
    changes: [seenFiring],
  },
  {
    row: 'a new firing with a repeat interval starts the interval',
    event: event('firing', { repeatIntervalMs: 4 * HOUR }),
    kind: 'new',
    result: 'queued',
    queue: ['firing/7'],
    changes: [seenFiring, { kind: 'reminded', until: NOW + repeatMarkerMs(4 * HOUR) }],
  },
  {
    row: 'repeat: still firing after repeat_interval is re-announced as a reminder',
    state: { firingSeen: true },
    event: event('firing', { repeatIntervalMs: 4 * HOUR }),
    kind: 'repeat',
    result: 'repeated',
    queue: ['firing/7 repeat'],
    changes: [{ kind: 'reminded', until: NOW + repeatMarkerMs(4 * HOUR) }],
  },
  {
    row: 'no reminder before the interval has passed',
    state: { firingSeen: true, reminded: true },
    event: event('firing', { repeatIntervalMs: 4 * HOUR }),
    kind: 'duplicate',
    result: 'duplicate',
    queue: [],
    changes: [],
  },
  {
    row: 'no reminders once it resolved',
    state: { firingSeen: true, resolvedSeen: true },
    event: event('firing', { repeatIntervalMs: 4 * HOUR }),
    kind: 'duplicate',
    result: 'duplicate',
    queue: [],
    changes: [],
  },
  {
    row: 'a resolve after its firing is queued',
    state: { firingSeen: true },
    event: event('resolved'),
    kind: 'new',
    result: 'queued',
    queue: ['resolved/7'],
    changes: [seenResolved],
  },
  {
    row: 'stale: a firing after its resolve was already sent says nothing',
    state: { resolvedSeen: true },
    event: event('firing'),
    kind: 'stale',
    result: 'stale',
    queue: [],
    changes: [seenFiring],
  },
  {
    row: 'early resolve: a resolve before its firing waits for it',
    event: event('resolved', { seq: 6 }),
    kind: 'early_resolve',
    result: 'unannounced',
    queue: [],
    changes: [seenResolved, { kind: 'wait', item: event('resolved', { seq: 6 }).item, until: NOW + EARLY_RESOLVE_TTL_MS }],
  },
  {
    row: 'resolved_unannounced: a resolve is queued even if its firing was never seen',
    event: event('resolved', { requireFiringSeen: false }),
    kind: 'new',
    result: 'queued',
    queue: ['resolved/7'],
    changes: [seenResolved],
  },
  {
    row: "release: the firing a resolve waited for brings it along, firing first (in the firing's place)",
    state: { resolvedSeen: true, waitingResolve: event('resolved', { seq: 6 }).item },
    event: event('firing', { seq: 8 }),
    kind: 'release',
    result: 'queued',
    queue: ['firing/8', 'resolved/8'],
    changes: [seenFiring, { kind: 'released' }],
  },
  {
    policy: FLAPPING,
    row: 'flapping: below the threshold a firing is just new',
    state: { flaps: [{ startsAt: '2026-11-24T22:40:00Z', at: NOW - 5 * MIN }] },
    event: event('firing'),
    kind: 'new',
    result: 'queued',
    queue: ['firing/7'],
    changes: [
      seenFiring,
      {
        kind: 'flaps',
        flaps: [
          { startsAt: '2026-11-24T22:40:00Z', at: NOW - 5 * MIN },
          { startsAt: STARTS, at: NOW },
        ],
        until: NOW + 10 * MIN,
      },
    ],
  },
  {
    policy: FLAPPING,
    row: 'flapping: the third firing within the window says how often it flapped',
    state: {
      flaps: [
        { startsAt: 'a', at: NOW - 8 * MIN },
        { startsAt: 'b', at: NOW - 4 * MIN },
      ],
    },
    event: event('firing'),
    kind: 'new',
    result: 'queued',
    queue: ['firing/7 flaps=3'],
    changes: [
      seenFiring,
      {
        kind: 'flaps',
        flaps: [
          { startsAt: 'a', at: NOW - 8 * MIN },
          { startsAt: 'b', at: NOW - 4 * MIN },
          { startsAt: STARTS, at: NOW },
        ],
        until: NOW + 10 * MIN,
      },
    ],
  },
  {
    policy: FLAPPING,
    row: 'flapping: firings before the window do not count',
    state: {
      flaps: [
        { startsAt: 'a', at: NOW - 11 * MIN },
        { startsAt: 'b', at: NOW - 4 * MIN },
      ],
    },
    event: event('firing'),
    kind: 'new',
    result: 'queued',
    queue: ['firing/7'],
    changes: [
      seenFiring,
      {
        kind: 'flaps',
        flaps: [
          { startsAt: 'b', at: NOW - 4 * MIN },
          { startsAt: STARTS, at: NOW },
        ],
        until: NOW + 10 * MIN,
      },
    ],
  },
  {
    policy: FLAPPING,
    row: 'flapping: the resolve of a flapping alert says so too (its message is updated in place)',
    state: {
      firingSeen: true,
      flaps: [
        { startsAt: 'a', at: NOW - 8 * MIN },
        { startsAt: 'b', at: NOW - 4 * MIN },
        { startsAt: STARTS, at: NOW - MIN },
      ],
    },
    event: event('resolved'),
    kind: 'new',
    result: 'queued',
    queue: ['resolved/7 flaps=3'],
    changes: [seenResolved],
  },
  {
    row: 'flapping off (threshold 0): nothing counted',
    state: {
      flaps: [
        { startsAt: 'a', at: NOW - 8 * MIN },
        { startsAt: 'b', at: NOW - 4 * MIN },
      ],
    },
    event: event('firing'),
    kind: 'new',
    result: 'queued',
    queue: ['firing/7'],
    changes: [seenFiring],
  },
  {
    row: '/mute holds what comes until the mute ends',
    state: { mutedUntil: NOW + 30 * MIN },
    event: event('firing'),
    kind: 'new',
    result: 'held',
    queue: [`firing/7 held=${NOW + 30 * MIN}`],
    changes: [seenFiring],
  },
  {
    row: 'a /mute that ended holds nothing',
    state: { mutedUntil: NOW - 1 },
    event: event('firing'),
    kind: 'new',
    result: 'queued',
    queue: ['firing/7'],
    changes: [seenFiring],
  },
  {
    row: '/mute holds reminders too',
    state: { firingSeen: true, mutedUntil: NOW + 30 * MIN },
    event: event('firing', { repeatIntervalMs: 4 * HOUR }),
    kind: 'repeat',
    result: 'held',
    queue: [`firing/7 repeat held=${NOW + 30 * MIN}`],
    changes: [{ kind: 'reminded', until: NOW + repeatMarkerMs(4 * HOUR) }],
  },
  {
    row: 'critical while muted (mute.critical: silent) comes, silently',
    state: { mutedUntil: NOW + 30 * MIN },
    event: event('firing', { severity: 'critical' }),
    kind: 'new',
    result: 'queued',
    queue: ['firing/7 silent'],
    changes: [seenFiring],
  },
  {
    row: 'critical while muted (mute.critical: loud) comes as usual',
    policy: { criticalWhenMuted: 'loud' },
    state: { mutedUntil: NOW + 30 * MIN },
    event: event('firing', { severity: 'critical' }),
    kind: 'new',
    result: 'queued',
    queue: ['firing/7'],
    changes: [seenFiring],
  },
  {
    row: 'critical while muted (mute.critical: hold) waits too',
    policy: { criticalWhenMuted: 'hold' },
    state: { mutedUntil: NOW + 30 * MIN },
    event: event('firing', { severity: 'critical' }),
    kind: 'new',
    result: 'held',
    queue: [`firing/7 held=${NOW + 30 * MIN}`],
    changes: [seenFiring],
  },
  {
    row: 'a mute window (hold) keeps a warning until the window ends, then silently',
    event: event('firing', { muteWindows: [NIGHT_HOLD] }),
    kind: 'new',
    result: 'held',
    queue: [`firing/7 silent held=${SEVEN_AM}`],
    changes: [seenFiring],
  },
  {
    row: 'a mute window (silent) delivers it silently',
    event: event('firing', { muteWindows: [NIGHT_SILENT] }),
    kind: 'new',
    result: 'queued',
    queue: ['firing/7 silent'],
    changes: [seenFiring],
  },
  {
    row: 'a mute window is for its severities only',
    event: event('firing', { severity: 'critical', muteWindows: [NIGHT_HOLD] }),
    kind: 'new',
    result: 'queued',
    queue: ['firing/7'],
    changes: [seenFiring],
  },
  {
    row: 'a mute window and /mute: the later end wins',
    state: { mutedUntil: NOW + 30 * MIN },
    event: event('firing', { muteWindows: [NIGHT_HOLD] }),
    kind: 'new',
    result: 'held',
    queue: [`firing/7 silent held=${SEVEN_AM}`],
    changes: [seenFiring],
  },
]

t.test('what an arriving event is: one row per kind', async (t) => {
  for (const r of rows) {
    const decision = decideEvent({ ...POLICY, ...r.policy }, { ...fresh, ...r.state }, r.event, NOW)
    const queue = decision.queue.map(({ item, holdUntil }) =>
      [
        `${item.alert.status}/${item.seq}`,
        item.silent ? 'silent' : '',
        item.repeat ? 'repeat' : '',
        item.flaps ? `flaps=${item.flaps}` : '',
        holdUntil ? `held=${holdUntil}` : '',
      ]
        .filter(Boolean)
        .join(' '),
    )
    t.same(
      { kind: decision.kind, result: decision.result, queue, changes: decision.changes },
      { kind: r.kind, result: r.result, queue: r.queue, changes: r.changes },
      r.row,
    )
  }
})

t.test("a reminder marker lives a little under the interval, so Alertmanager's own repeat is never a moment early", async (t) => {
  t.equal(repeatMarkerMs(0), 0, 'no interval, no reminders')
  t.equal(repeatMarkerMs(4 * HOUR), 4 * HOUR - MIN, 'a minute under a long interval')
  t.equal(repeatMarkerMs(1000), 900, 'a tenth under a short one')
})
