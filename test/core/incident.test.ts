import t from 'tap'
import { capTimeline, type IncidentState, patchIncident, TIMELINE_CAP, type TimelineEvent } from '../../src/core/incident.js'

const alice = { id: 1, name: 'Alice', username: 'alice' }
const mark = { ids: ['s1'], by: 'bob', until: '2026-12-01T04:00:00Z', ack: false }
const fired: TimelineEvent = { at: '2026-12-01T03:00:00Z', kind: 'fired' }

t.test('patchIncident: absent fields stay, null clears, events append; the rest of the record is kept', async (t) => {
  const record = { messageId: 7, silence: mark, timeline: [fired] }
  const taken = patchIncident(record, {
    taken: { by: alice, at: '2026-12-01T03:12:00Z' },
    events: [{ at: '2026-12-01T03:12:00Z', kind: 'taken', by: '@alice' }],
  })
  t.same(taken, {
    messageId: 7,
    silence: mark,
    taken: { by: alice, at: '2026-12-01T03:12:00Z' },
    timeline: [fired, { at: '2026-12-01T03:12:00Z', kind: 'taken', by: '@alice' }],
  })
  const released = patchIncident(taken, { taken: null, silence: null })
  t.same(released, { messageId: 7, timeline: taken.timeline }, 'release and unsilence clear; the timeline stays')
  const bare: { messageId: number } & IncidentState = { messageId: 7 }
  t.same(patchIncident(bare, {}), { messageId: 7 }, 'an empty patch changes nothing and adds no empty timeline')
})

t.test('capTimeline keeps the first event (fired) and the latest', async (t) => {
  const many = Array.from({ length: TIMELINE_CAP + 10 }, (_, i): TimelineEvent => ({ at: `t${i}`, kind: i === 0 ? 'fired' : 'escalated' }))
  const kept = capTimeline(many)
  t.equal(kept.length, TIMELINE_CAP)
  t.equal(kept[0]!.at, 't0')
  t.equal(kept.at(-1)!.at, `t${TIMELINE_CAP + 9}`)
})
