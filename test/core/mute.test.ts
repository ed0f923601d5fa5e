import t from 'tap'
import { compileMuteWindow, muteDecision } from '../../src/core/mute.js'

const night = compileMuteWindow({ severities: ['warning'], times: '22:00-07:00', action: 'silent' }, 'UTC')
const holdNight = compileMuteWindow({ severities: ['warning', 'info'], times: '22:00-07:00', action: 'hold' }, 'UTC')
const weekdayLunch = compileMuteWindow(
  { severities: ['info'], times: '12:00-13:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'], action: 'silent', time_zone: 'Europe/Berlin' },
  'UTC',
)
const at = (iso: string) => Date.parse(iso)

t.test('a window that crosses midnight applies on both sides of it', async (t) => {
  t.same(muteDecision([night], 'warning', at('2026-11-24T23:30:00Z')), { action: 'silent' })
  t.same(muteDecision([night], 'warning', at('2026-11-25T06:59:00Z')), { action: 'silent' })
  t.same(muteDecision([night], 'warning', at('2026-11-25T07:00:00Z')), { action: 'none' })
  t.same(muteDecision([night], 'warning', at('2026-11-25T21:59:59Z')), { action: 'none' })
  t.same(muteDecision([night], 'critical', at('2026-11-24T23:30:00Z')), { action: 'none' }, 'critical is always loud')
})

t.test('hold lasts until the window ends, and wins over silent', async (t) => {
  t.same(muteDecision([night, holdNight], 'warning', at('2026-11-24T23:30:20Z')), { action: 'hold', until: at('2026-11-25T07:00:00Z') })
  t.same(muteDecision([holdNight], 'info', at('2026-11-25T03:00:00Z')), { action: 'hold', until: at('2026-11-25T07:00:00Z') })
})

t.test("days and time zones are the window's own", async (t) => {
  t.same(muteDecision([weekdayLunch], 'info', at('2026-11-24T11:30:00Z')), { action: 'silent' }, 'Tuesday 12:30 in Berlin')
  t.same(muteDecision([weekdayLunch], 'info', at('2026-11-29T11:30:00Z')), { action: 'none' }, 'Sunday')
  t.same(muteDecision([weekdayLunch], 'info', at('2026-11-24T12:30:00Z')), { action: 'none' }, '13:30 in Berlin')
  const fridayNight = compileMuteWindow({ severities: ['warning'], times: '22:00-07:00', days: ['fri'], action: 'silent' }, 'UTC')
  t.same(muteDecision([fridayNight], 'warning', at('2026-11-28T05:00:00Z')), { action: 'silent' }, 'Saturday morning belongs to the window that started Friday')
  t.same(muteDecision([fridayNight], 'warning', at('2026-11-29T05:00:00Z')), { action: 'none' }, 'Sunday morning does not')
})
