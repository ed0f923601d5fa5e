/**
 * The shipped alertmanager.yml, on the real Alertmanager, in front of alertwire with the shipped
 * alertwire.yaml and the strict Telegram fake: inhibition keeps the chat to what is news, and
 * warnings arrive without a sound while critical alerts ring.
 */
import t from 'tap'
import { GROUP } from '../helpers/app.js'
import { startAlertPath } from './stack.js'

const bot = (alertname: string, instance: string, severity: string, component = 'downloads') => ({
  alertname,
  instance,
  severity,
  component,
  job: 'doradura',
  service: 'doradura',
})
const own = (alertname: string, instance: string, severity: string) => ({
  alertname,
  instance,
  severity,
  component: 'telegram',
  job: 'alertwire',
  service: 'alertwire',
})

t.test("inhibition: BotDown hides the bot's other alerts on its instance; a critical alert hides the warnings about the same part", async (t) => {
  const { alertwire, alertmanager } = await startAlertPath(t)
  const { fake } = alertwire
  const alerts = [
    bot('BotDown', 'bot-1:9090', 'critical', 'availability'),
    bot('QueueBackup', 'bot-1:9090', 'critical', 'queue'), // inhibited: its bot is down
    bot('QueueBackup', 'bot-2:9090', 'critical', 'queue'), // not: another instance
    bot('HighErrorRate', 'bot-2:9090', 'critical'),
    bot('LowSuccessRate', 'bot-2:9090', 'warning'), // inhibited: HighErrorRate is about downloads too
    bot('SlowDownloads', 'bot-2:9090', 'warning', 'performance'), // not: another component
    own('AlertwireTelegramFailing', 'aw-1:8080', 'critical'),
    own('AlertwireDeadLetters', 'aw-1:8080', 'warning'), // inhibited: Telegram fails on this instance
    own('AlertwireDeadLetters', 'aw-2:8080', 'warning'), // not: another instance
    { alertname: 'DiskFull', instance: 'db-1:9100', severity: 'critical', job: 'node' },
    { alertname: 'DiskFull', instance: 'db-1:9100', severity: 'warning', job: 'node' }, // not: no component, not ours to judge
  ]
  const post = (list: typeof alerts) =>
    alertmanager.postAlerts(list.map((labels) => ({ labels, annotations: { summary: `${labels.alertname} on ${labels.instance}` } })))
  // the inhibiting alerts first: with the test's group_wait of 0s a group can leave before
  // Alertmanager's inhibitor has seen an alert posted with it (the shipped 10s and 1m leave time)
  const inhibited = new Set([1, 4, 7])
  await post(alerts.filter((_, i) => !inhibited.has(i)))
  await new Promise((r) => setTimeout(r, 1000))
  await post(alerts.filter((_, i) => inhibited.has(i)))
  const key = (l: Record<string, string>) => `${l.alertname} ${l.instance} ${l.severity}`
  const states = Object.fromEntries((await alertmanager.getAlerts()).map((a) => [key(a.labels), a.status.inhibitedBy.length > 0]))
  t.same(states, {
    'BotDown bot-1:9090 critical': false,
    'QueueBackup bot-1:9090 critical': true,
    'QueueBackup bot-2:9090 critical': false,
    'HighErrorRate bot-2:9090 critical': false,
    'LowSuccessRate bot-2:9090 warning': true,
    'SlowDownloads bot-2:9090 warning': false,
    'AlertwireTelegramFailing aw-1:8080 critical': false,
    'AlertwireDeadLetters aw-1:8080 warning': true,
    'AlertwireDeadLetters aw-2:8080 warning': false,
    'DiskFull db-1:9100 critical': false,
    'DiskFull db-1:9100 warning': false,
  })

  // one message per alert name and job within a severity (critical and warning are separate routes)
  const expected = [
    '🔴 CRITICAL · AlertwireTelegramFailing',
    '🔴 CRITICAL · BotDown',
    '🔴 CRITICAL · DiskFull',
    '🔴 CRITICAL · HighErrorRate',
    '🔴 CRITICAL · QueueBackup',
    '🟠 WARNING · AlertwireDeadLetters',
    '🟠 WARNING · DiskFull',
    '🟠 WARNING · SlowDownloads',
  ]
  await fake.waitFor(() => fake.messages(GROUP).length >= expected.length, 15_000, 'eight messages')
  await new Promise((r) => setTimeout(r, 2500)) // Alertmanager's next group_interval brings nothing new
  const headers = fake
    .messages(GROUP)
    .map((m) => m.text.split('\n')[0])
    .sort()
  t.same(headers, expected, 'LowSuccessRate stays out while HighErrorRate fires')
  const about = (header: string) => fake.messages(GROUP).find((m) => m.text.startsWith(header))!
  t.notMatch(about('🔴 CRITICAL · QueueBackup').text, 'bot-1:9090', "the down bot's queue alert is not shown")
  t.match(about('🔴 CRITICAL · QueueBackup').text, 'bot-2:9090', "the other bot's is")
  t.match(about('🟠 WARNING · AlertwireDeadLetters').text, 'aw-2:8080', 'dead letters of an instance whose Telegram calls work are shown')
  t.notMatch(about('🟠 WARNING · AlertwireDeadLetters').text, 'aw-1:8080', 'those beside a critical about Telegram on the same instance are not')
  t.match(about('🟠 WARNING · DiskFull').text, 'db-1:9100', "other rule files' alerts are not inhibited by name")
  t.not(about('🔴 CRITICAL · BotDown').disable_notification, true, 'critical alerts ring')
  t.equal(about('🟠 WARNING · DiskFull').disable_notification, true, 'warnings arrive silently')
})

t.test('a warning on its own arrives silently', async (t) => {
  const { alertwire, alertmanager } = await startAlertPath(t)
  await alertmanager.postAlerts([{ labels: bot('SlowDownloads', 'bot-1:9090', 'warning'), annotations: { summary: 'slow' } }])
  const [message] = await alertwire.fake.waitFor(() => alertwire.fake.messages(GROUP).length > 0 && alertwire.fake.messages(GROUP), 15_000, 'the warning')
  t.match(message!.text, /^🟠 WARNING · SlowDownloads/)
  t.equal(message!.disable_notification, true, 'routing.silent_severities: [warning, info]')
})
