/**
 * The error table of the README, row by row: what each Telegram answer means for the delivery in
 * flight. Randomness is injected (0.5: the backoff's jitter is neutral), so waits are exact.
 */
import t, { type Test } from 'tap'
import { type Answer, type AnswerPlan, answerPlan, type Failure } from '../../src/core/answers.js'
import type { Call, MessageRecord } from '../../src/core/delivery.js'
import type { InFlight } from '../../src/core/turn.js'

const RETRY = { retryInitialMs: 1000, retryMaxMs: 60_000 }
const NEUTRAL = () => 0.5

const record: MessageRecord = {
  messageId: 0,
  silent: false,
  groupKey: 'g',
  threadId: 7,
  commonLabels: [],
  externalURL: 'http://am:9093',
  truncatedAlerts: 0,
  part: 1,
  parts: 1,
  alerts: [{ fingerprint: 'fp1', status: 'firing', labels: { alertname: 'DiskFull' }, annotations: {}, startsAt: '2026-11-24T23:00:00Z' }],
}
const announce: Call = { op: 'send', html: '<b>DiskFull</b>', plain: 'DiskFull', silent: false, threadId: 7, record, announce: true, fingerprints: ['fp1'] }
const edit: Call = {
  op: 'edit',
  html: '<b>DiskFull</b> resolved',
  plain: 'DiskFull resolved',
  silent: true,
  threadId: 7,
  messageId: 41,
  record: { ...record, messageId: 41 },
  fingerprints: ['fp1'],
}
const reply: Call = { op: 'send', html: 'Resolved', plain: 'Resolved', silent: true, threadId: 7, messageId: 41, fingerprints: ['fp1'] }

function inflight(calls: Call[], over: Partial<InFlight> = {}): InFlight {
  return { calls, next: 0, attempts: 0, paceMs: 3150, receivedAt: 1000, ...over }
}
const refused = (failure: Failure): Answer => ({ ok: false, failure })
const kept = (plan: AnswerPlan) => (plan.action === 'migrate' ? undefined : plan.end.inflight)

interface Row {
  /** the README's row */
  row: string
  answer: Answer
  delivery?: InFlight
  action: AnswerPlan['action']
  check: (plan: AnswerPlan, t: Test) => void
}

const rows: Row[] = [
  {
    row: 'success',
    answer: { ok: true, messageId: 99 },
    delivery: inflight([announce, reply]),
    action: 'advance',
    check: (plan, t) => {
      t.same(
        plan.action === 'advance' && plan.save,
        { record: { ...record, messageId: 99 }, announce: true },
        'the announced message is saved under the id Telegram gave it',
      )
      t.same(kept(plan), { calls: [announce, reply], next: 1, attempts: 0, paceMs: 3150, receivedAt: 1000 }, 'on to the next call')
      t.same(plan.count, { message: 'sent' })
    },
  },
  {
    row: 'success (the last call)',
    answer: { ok: true },
    delivery: inflight([edit]),
    action: 'advance',
    check: (plan, t) => {
      t.equal(kept(plan), undefined, 'the delivery is done')
      t.same(plan.action === 'advance' && plan.save, { record: { ...record, messageId: 41 }, announce: false }, 'an edit saves the record as it now shows')
      t.same(plan.count, { message: 'edited' })
    },
  },
  {
    row: '400 message is not modified',
    answer: refused({ kind: 'not_modified', description: '400: Bad Request: message is not modified' }),
    delivery: inflight([edit]),
    action: 'advance',
    check: (plan, t) => {
      t.equal(kept(plan), undefined)
      t.same(plan.count, { message: 'edited' }, 'counted as done')
    },
  },
  {
    row: '429 Too Many Requests with retry_after',
    answer: refused({ kind: 'rate_limited', retryAfterMs: 7000, description: '429: Too Many Requests: retry after 7' }),
    delivery: inflight([announce], { attempts: 2 }),
    action: 'wait',
    check: (plan, t) => {
      t.same(
        plan.action === 'wait' && plan.end,
        { inflight: inflight([announce], { attempts: 2 }), paceMs: 7000, retryInMs: 0 },
        'waits exactly retry_after; no attempt spent',
      )
      t.same(plan.count, { retry: 'rate_limited', rateLimited: true })
    },
  },
  {
    row: '5xx, network error, timeout',
    answer: refused({ kind: 'transient', description: '502: Bad Gateway' }),
    delivery: inflight([announce], { attempts: 2 }),
    action: 'retry',
    check: (plan, t) => {
      t.same(
        plan.action === 'retry' && plan.end,
        { inflight: inflight([announce], { attempts: 3, lastError: '502: Bad Gateway' }), paceMs: 3150, retryInMs: 4000 },
        'third attempt: 1 s doubled twice',
      )
      t.same(plan.count, { retry: 'transient' })
      t.equal(plan.log.level, 'warn')
    },
  },
  {
    row: '5xx, network error, timeout (the same error again)',
    answer: refused({ kind: 'transient', description: '502: Bad Gateway' }),
    delivery: inflight([announce], { attempts: 9, lastError: '502: Bad Gateway' }),
    action: 'retry',
    check: (plan, t) => {
      t.equal(plan.action === 'retry' && plan.end.retryInMs, 60_000, 'the backoff is capped at retry_max')
      t.equal(plan.log.level, 'debug', 'logged when the error changes, not at every retry')
    },
  },
  {
    row: '401/404: wrong token or API URL',
    answer: refused({ kind: 'misconfigured', description: '401: Unauthorized' }),
    delivery: inflight([announce]),
    action: 'retry',
    check: (plan, t) => {
      t.same(
        plan.action === 'retry' && plan.end,
        { inflight: inflight([announce], { attempts: 1, lastError: '401: Unauthorized' }), paceMs: 3150, retryInMs: 1000 },
        'alerts wait',
      )
      t.same([plan.log.level, plan.log.message], ['error', 'Telegram refuses the bot token or API URL; messages wait until it is fixed'])
      t.equal(
        answerPlan(refused({ kind: 'misconfigured', description: '401: Unauthorized' }), kept(plan)!, RETRY, NEUTRAL).log.level,
        'debug',
        'logged once, as an error',
      )
    },
  },
  {
    row: "400 can't parse entities, message is too long",
    answer: refused({ kind: 'bad_format', description: "400: Bad Request: can't parse entities" }),
    delivery: inflight([announce, reply]),
    action: 'resend_plain',
    check: (plan, t) => {
      t.same(kept(plan)?.calls, [{ ...announce, plainOnly: true }, reply], 'the same call, as plain text')
      t.same(plan.count, { retry: 'bad_format' })
    },
  },
  {
    row: '400 message to edit not found (deleted)',
    answer: refused({ kind: 'edit_target_missing', description: '400: Bad Request: message to edit not found' }),
    delivery: inflight([edit, reply]),
    action: 'send_instead',
    check: (plan, t) => {
      const { messageId: _gone, ...send } = edit
      t.same(kept(plan)?.calls, [{ ...send, op: 'send', announce: true }, reply], 'a new message, announced so later edits find it')
    },
  },
  {
    row: '400 message thread not found',
    answer: refused({ kind: 'thread_missing', description: '400: Bad Request: message thread not found' }),
    delivery: inflight([announce, reply]),
    action: 'drop_topic',
    check: (plan, t) => {
      t.same(
        kept(plan)?.calls.map((c) => c.threadId),
        [undefined, undefined],
        'every call of the delivery goes to the chat itself',
      )
    },
  },
  {
    row: '400 group chat was upgraded, migrate_to_chat_id',
    answer: refused({ kind: 'migrated', migrateTo: -100777, description: '400: Bad Request: group chat was upgraded to a supergroup chat' }),
    delivery: inflight([announce]),
    action: 'migrate',
    check: (plan, t) => {
      t.equal(plan.action === 'migrate' && plan.migrateTo, '-100777')
      t.match(plan.log, { level: 'warn', fields: { newChat: -100777 } }, 'the operator is told the new id')
    },
  },
  {
    row: '403 bot was blocked/kicked, 400 chat not found',
    answer: refused({ kind: 'chat_unreachable', description: '403: Forbidden: bot was blocked by the user' }),
    delivery: inflight([announce, reply]),
    action: 'dead_letter',
    check: (plan, t) => {
      t.same(plan.action === 'dead_letter' && plan.letter, {
        reason: 'chat_unreachable',
        error: '403: Forbidden: bot was blocked by the user',
        op: 'send',
        fingerprints: ['fp1'],
        text: 'DiskFull',
        receivedAt: 1000,
        // kept so that `alertwire dead-letters retry` makes the same call again, buttons and all
        call: announce,
      })
      t.equal(kept(plan)?.next, 1, 'the rest of the delivery goes on')
      t.same(plan.count, { message: 'dead_letter', deadLetter: 'chat_unreachable' })
      t.equal(plan.log.level, 'error')
    },
  },
  {
    row: 'any other refusal',
    answer: refused({ kind: 'rejected', description: '400: Bad Request: BUTTON_DATA_INVALID' }),
    delivery: inflight([announce]),
    action: 'dead_letter',
    check: (plan, t) => t.same(plan.count, { message: 'dead_letter', deadLetter: 'rejected' }),
  },
  {
    row: 'any other refusal (409 on a send)',
    answer: refused({ kind: 'conflict', webhookSet: false, description: '409: Conflict' }),
    delivery: inflight([announce]),
    action: 'dead_letter',
    check: (plan, t) => t.same(plan.count, { message: 'dead_letter', deadLetter: 'rejected' }),
  },
  {
    row: 'a fallback refused too: plain text',
    answer: refused({ kind: 'bad_format', description: '400: Bad Request: message is too long' }),
    delivery: inflight([{ ...announce, plainOnly: true }]),
    action: 'dead_letter',
    check: (plan, t) => t.same(plan.count, { message: 'dead_letter', deadLetter: 'rejected' }, 'not resent forever'),
  },
  {
    row: 'a fallback refused too: no topic to drop',
    answer: refused({ kind: 'thread_missing', description: '400: Bad Request: message thread not found' }),
    delivery: inflight([{ ...reply, threadId: undefined }]),
    action: 'dead_letter',
    check: (plan, t) => t.same(plan.count, { message: 'dead_letter', deadLetter: 'rejected' }),
  },
  {
    row: 'a fallback refused too: a send is not an edit',
    answer: refused({ kind: 'edit_target_missing', description: '400: Bad Request: message to edit not found' }),
    delivery: inflight([reply]),
    action: 'dead_letter',
    check: (plan, t) => t.same(plan.count, { message: 'dead_letter', deadLetter: 'rejected' }),
  },
]

for (const { row, answer, delivery, action, check } of rows) {
  t.test(row, async (t) => {
    const plan = answerPlan(answer, delivery ?? inflight([announce]), RETRY, NEUTRAL)
    t.equal(plan.action, action)
    check(plan, t)
  })
}

t.test('the backoff is jittered, so replicas do not retry in step', async (t) => {
  const wait = (random: number) => {
    const plan = answerPlan(refused({ kind: 'transient', description: 'reset' }), inflight([announce]), RETRY, () => random)
    return plan.action === 'retry' ? plan.end.retryInMs : -1
  }
  t.same([wait(0), wait(0.5), wait(1)], [800, 1000, 1200])
})

t.test('which refs a saved message moves: all it announces when sent, only the flapping ones when a flap edits it', async (t) => {
  const two: MessageRecord = {
    ...record,
    messageId: 41,
    alerts: [...record.alerts, { fingerprint: 'fp2', status: 'firing', labels: { alertname: 'NodeDown' }, annotations: {}, startsAt: '2026-11-24T23:05:00Z' }],
  }
  const flap: Call = { ...edit, record: two, announce: true, fingerprints: ['fp2'] }
  const cases: [string, Call, { announce: boolean; only?: string[] }][] = [
    ['a new message: every alert it announces points at it', { ...announce, record: two, fingerprints: ['fp1', 'fp2'] }, { announce: true }],
    // fp1 may have fired anew in a later message since: its ref stays there, or its resolve is dropped
    ['a flap folded into the message: only the flapping alert points at it again', flap, { announce: true, only: ['fp2'] }],
    ['a resolve edit: no ref moves', { ...edit, record: two }, { announce: false }],
  ]
  for (const [what, call, save] of cases) {
    const plan = answerPlan({ ok: true, messageId: 99 }, inflight([call]), RETRY, NEUTRAL)
    const saved = plan.action === 'migrate' ? undefined : plan.save
    t.same(saved && { announce: saved.announce, ...(saved.only ? { only: saved.only } : {}) }, save, what)
  }
})
