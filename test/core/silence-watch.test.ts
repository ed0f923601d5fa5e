import t from 'tap'
import {
  type AlertmanagerView,
  extendedEnd,
  planSilenceWatch,
  reminderKeyboard,
  reminderText,
  type SilenceFacts,
  type WatchedAlert,
  type WatchPlan,
} from '../../src/core/silence-watch.js'
import type { SilenceMark } from '../../src/core/incident.js'
import { parseHtml } from '../../src/core/html.js'

const NOW = Date.parse('2026-12-01T03:00:00Z')
const at = (minutes: number) => new Date(NOW + minutes * 60_000).toISOString()
const options = { nowMs: NOW, timeZone: 'UTC', remindBeforeMs: 10 * 60_000 }

const a1: WatchedAlert = { fingerprint: 'f1', status: 'firing', labels: { alertname: 'HighLatency', instance: 'web-1' } }
const a2: WatchedAlert = { fingerprint: 'f2', status: 'firing', labels: { alertname: 'HighLatency', instance: 'web-2' } }
const gone: WatchedAlert = { ...a2, status: 'resolved' }

const amtool: SilenceFacts = { id: 'x1', createdBy: 'carol', comment: 'maintenance <db>', endsAt: at(120) }
const amtool2: SilenceFacts = { id: 'x2', createdBy: 'dave', comment: 'longer', endsAt: at(240) }
const chat: SilenceFacts = { id: 'c1', createdBy: 'telegram:@alice (1)', comment: 'from Telegram', endsAt: at(8) }
const later: SilenceFacts = { ...chat, endsAt: at(60) }

function view(silencedBy: Record<string, string[]>, silences: SilenceFacts[]): AlertmanagerView {
  return { silencedBy: new Map(Object.entries(silencedBy)), silences: new Map(silences.map((s) => [s.id, s])) }
}

const external = (ids: string[], by: string, until: string, comment?: string): SilenceMark => ({
  ids,
  by,
  until,
  ack: false,
  external: true,
  ...(comment ? { comment } : {}),
})
const chatMark: SilenceMark = { ids: ['c1'], by: '@alice (1)', until: at(8), ack: false }

const cases: { name: string; alerts: WatchedAlert[]; shown?: SilenceMark; view: AlertmanagerView; remindBeforeMs?: number; want: WatchPlan }[] = [
  {
    name: 'a silence made with amtool newly covers the message: marked, with who, until and the comment',
    alerts: [a1],
    view: view({ f1: ['x1'] }, [amtool]),
    want: {
      kind: 'mark',
      silence: external(['x1'], 'carol', at(120), 'maintenance <db>'),
      events: [{ at: at(0), kind: 'silenced', by: 'carol', detail: 'maintenance <db>' }],
      outcome: 'marked',
    },
  },
  {
    name: 'two silences cover two alerts: until the first alert they stop covering; by and comment of the longest',
    alerts: [a1, a2],
    view: view({ f1: ['x1'], f2: ['x2'] }, [amtool, amtool2]),
    want: {
      kind: 'mark',
      silence: external(['x1', 'x2'], 'dave', at(120), 'longer'),
      events: [{ at: at(0), kind: 'silenced', by: 'dave', detail: 'longer' }],
      outcome: 'marked',
    },
  },
  {
    name: 'only one of two firing alerts is silenced: the message is not silenced',
    alerts: [a1, a2],
    view: view({ f1: ['x1'], f2: [] }, [amtool]),
    want: { kind: 'none' },
  },
  {
    name: 'an alert of the message resolved: the firing one decides',
    alerts: [a1, gone],
    view: view({ f1: ['x1'] }, [amtool]),
    want: {
      kind: 'mark',
      silence: external(['x1'], 'carol', at(120), 'maintenance <db>'),
      events: [{ at: at(0), kind: 'silenced', by: 'carol', detail: 'maintenance <db>' }],
      outcome: 'marked',
    },
  },
  {
    name: 'already shown as it is: nothing',
    alerts: [a1],
    shown: external(['x1'], 'carol', at(120), 'maintenance <db>'),
    view: view({ f1: ['x1'] }, [amtool]),
    want: { kind: 'none' },
  },
  {
    name: 'the external silence was extended elsewhere: the mark follows quietly',
    alerts: [a1],
    shown: external(['x1'], 'carol', at(60), 'maintenance <db>'),
    view: view({ f1: ['x1'] }, [amtool]),
    want: { kind: 'mark', silence: external(['x1'], 'carol', at(120), 'maintenance <db>'), events: [], outcome: 'updated' },
  },
  {
    name: 'the external silence expired while the alert fires: cleared, and the message says so',
    alerts: [a1],
    shown: external(['x1'], 'carol', at(-1)),
    view: view({ f1: [] }, [amtool]),
    want: { kind: 'mark', silence: null, events: [{ at: at(0), kind: 'silence_expired', detail: 'made by carol' }], outcome: 'expired' },
  },
  {
    name: "the chat's silence ended while the alert fires: cleared too",
    alerts: [a1],
    shown: chatMark,
    view: view({ f1: [] }, [chat]),
    want: { kind: 'mark', silence: null, events: [{ at: at(0), kind: 'silence_expired', detail: 'made by @alice (1)' }], outcome: 'expired' },
  },
  {
    name: 'the shown silence ended but another one made elsewhere covers: marked with that one',
    alerts: [a1],
    shown: external(['x1'], 'carol', at(-1)),
    view: view({ f1: ['x2'] }, [amtool, amtool2]),
    want: {
      kind: 'mark',
      silence: external(['x2'], 'dave', at(240), 'longer'),
      events: [{ at: at(0), kind: 'silenced', by: 'dave', detail: 'longer' }],
      outcome: 'marked',
    },
  },
  { name: 'a silence the chat made and has not shown yet: the chat marks it itself', alerts: [a1], view: view({ f1: ['c1'] }, [chat]), want: { kind: 'none' } },
  {
    name: 'the chat is replacing its silence (the old one expired, the new one not shown yet): nothing',
    alerts: [a1],
    shown: chatMark,
    view: view({ f1: ['c2'] }, [{ ...chat, id: 'c2' }]),
    want: { kind: 'none' },
  },
  { name: 'an acknowledgement: left to the ack watcher', alerts: [a1], shown: { ...chatMark, ack: true }, view: view({ f1: [] }, []), want: { kind: 'none' } },
  { name: 'no alert of the message left in Alertmanager: gone', alerts: [a1], view: view({}, []), want: { kind: 'gone' } },
  { name: 'every alert of the message resolved: gone', alerts: [gone], view: view({ f2: [] }, []), want: { kind: 'gone' } },
  {
    name: 'a silence Alertmanager lists on an alert but not among silences (read between): ask again',
    alerts: [a1],
    view: view({ f1: ['x9'] }, []),
    want: { kind: 'none' },
  },
  {
    name: "the chat's silence ends within remind_before while the alert fires: a reminder",
    alerts: [a1, a2],
    shown: chatMark,
    view: view({ f1: ['c1'], f2: ['c1'] }, [chat]),
    want: {
      kind: 'remind',
      silenceId: 'c1',
      until: at(8),
      firing: ['HighLatency'],
      events: [{ at: at(0), kind: 'reminded', detail: 'ends at 03:08' }],
    },
  },
  {
    name: "the chat's silence ends later than remind_before: nothing yet",
    alerts: [a1],
    shown: chatMark,
    view: view({ f1: ['c1'] }, [later]),
    want: { kind: 'none' },
  },
  {
    name: 'reminders off (remind_before 0)',
    alerts: [a1],
    shown: chatMark,
    view: view({ f1: ['c1'] }, [chat]),
    remindBeforeMs: 0,
    want: { kind: 'none' },
  },
  {
    name: 'an external silence is not reminded of (the chat did not make it)',
    alerts: [a1],
    shown: external(['x1'], 'carol', at(5)),
    view: view({ f1: ['x1'] }, [{ ...amtool, endsAt: at(5) }]),
    want: { kind: 'mark', silence: external(['x1'], 'carol', at(5), 'maintenance <db>'), events: [], outcome: 'updated' },
  },
]

t.test('planSilenceWatch decides per message', async (t) => {
  for (const c of cases) {
    const plan = planSilenceWatch({ alerts: c.alerts, ...(c.shown ? { shown: c.shown } : {}) }, c.view, {
      ...options,
      remindBeforeMs: c.remindBeforeMs ?? options.remindBeforeMs,
    })
    t.same(plan, c.want, c.name)
  }
})

t.test('a long comment is cut in the mark', async (t) => {
  const plan = planSilenceWatch({ alerts: [a1] }, view({ f1: ['x1'] }, [{ ...amtool, comment: 'w'.repeat(500) }]), options)
  t.ok(plan.kind === 'mark' && (plan.silence?.comment?.length ?? 0) <= 200)
})

t.test('the reminder says when and what still fires, as HTML Telegram accepts, with the buttons', async (t) => {
  const html = reminderText(at(60), ['<Disk> & co'], 'Europe/Berlin')
  t.equal(html, '🔕 The silence ends at 05:00 while <b>&lt;Disk&gt; &amp; co</b> still fires.')
  t.ok(parseHtml(html).ok)
  t.match(reminderText(at(60), ['a', 'b', 'c', 'd', 'e'], 'UTC'), /<b>a<\/b>, <b>b<\/b>, <b>c<\/b> and 2 more still fire\./)
  const token = 'T'.repeat(22)
  t.same(reminderKeyboard(token, [3_600_000, 4 * 3_600_000]), [
    [
      { text: 'Extend 1h', callback_data: `ex0.${token}` },
      { text: 'Extend 4h', callback_data: `ex1.${token}` },
    ],
    [{ text: 'Let it lapse', callback_data: `lp.${token}` }],
  ])
})

t.test('extendedEnd moves the end later, from now when it already passed', async (t) => {
  t.equal(extendedEnd(at(8), 3_600_000, NOW), at(68))
  t.equal(extendedEnd(at(-5), 3_600_000, NOW), at(60))
})
