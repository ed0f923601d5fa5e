import t from 'tap'
import { COMMANDS } from '../../src/core/commands.js'
import { parseCommand, parseSilenceArgs, splitWords, parseDashboardCommand } from '../../src/bot/commands.js'
import { RESERVED } from '../../src/config/dashboards.js'

t.test('a command is read as an admin types it, and only when it is meant for this bot', async (t) => {
  const rows: [string | undefined, string | undefined, ReturnType<typeof parseCommand>, string][] = [
    ['/alerts', 'AlertwireBot', { name: 'alerts', args: '' }, 'a bare command'],
    ['/alerts@AlertwireBot', 'AlertwireBot', { name: 'alerts', args: '' }, 'addressed to this bot, as group clients send it'],
    ['/alerts@alertwirebot', 'AlertwireBot', { name: 'alerts', args: '' }, 'usernames are compared without case'],
    ['/alerts@OtherBot', 'AlertwireBot', undefined, "another bot's command in the same group is left alone"],
    ['/mute 30m', 'AlertwireBot', { name: 'mute', args: '30m' }, 'arguments after a space'],
    ['/mute@AlertwireBot   30m  ', 'AlertwireBot', { name: 'mute', args: '30m' }, 'arguments are trimmed'],
    ['  /status  ', 'AlertwireBot', { name: 'status', args: '' }, 'spaces around the message'],
    ['/silence alertname=X 2h\nrolling deploy', 'AlertwireBot', { name: 'silence', args: 'alertname=X 2h\nrolling deploy' }, 'arguments may span lines'],
    ['/unsilence 3f2a-11', undefined, { name: 'unsilence', args: '3f2a-11' }, 'before the bot knows its username'],
    ['/launch', 'AlertwireBot', undefined, 'an unknown command is ignored'],
    ['/alertsplease', 'AlertwireBot', undefined, 'a longer word is not the command'],
    ['please /alerts', 'AlertwireBot', undefined, 'a command only counts at the start'],
    ['hello', 'AlertwireBot', undefined, 'ordinary chat'],
    ['', 'AlertwireBot', undefined, 'an empty message'],
    [undefined, 'AlertwireBot', undefined, 'a message without text (a photo, a sticker)'],
  ]
  for (const [text, bot, expected, why] of rows) t.same(parseCommand(text, bot), expected, why)
})

t.test('every command the bot registers with Telegram is one it understands, within setMyCommands limits', async (t) => {
  for (const { command, description } of COMMANDS) {
    t.match(command, /^[a-z0-9_]{1,32}$/, `/${command}: Telegram accepts the name`)
    t.ok(description.length >= 1 && description.length <= 256, `/${command}: description fits 256 characters`)
    t.same(parseCommand(`/${command}`, 'AlertwireBot'), { name: command, args: '' }, `/${command} is understood`)
  }
  t.same(
    COMMANDS.map((c) => c.command),
    [
      'alerts',
      'silences',
      'silence',
      'unsilence',
      'ack',
      'take',
      'release',
      'timeline',
      'mute',
      'unmute',
      'status',
      'graph',
      'dashboards',
      'dashboard',
      'metrics',
      'oncall',
      'help',
    ],
  )
})

t.test('arguments split on spaces, quoted values stay whole', async (t) => {
  const rows: [string, string[], string][] = [
    ['a b  c', ['a', 'b', 'c'], 'runs of spaces'],
    ['  a\tb\n', ['a', 'b'], 'tabs, newlines and edges'],
    ['instance=~"web 1.*" 2h', ['instance=~"web 1.*"', '2h'], 'a quoted value with a space'],
    ['job="say \\"hi\\" now" 1h', ['job="say \\"hi\\" now"', '1h'], 'escaped quotes inside a quoted value'],
    ['', [], 'nothing'],
  ]
  for (const [text, words, why] of rows) t.same(splitWords(text), words, why)
  t.throws(() => splitWords('job="unfinished 2h'), /a quote is not closed/, 'an open quote is refused, not guessed')
})

t.test('/silence reads matchers, then a duration, then an optional comment', async (t) => {
  const rows: [string, ReturnType<typeof parseSilenceArgs>, string][] = [
    [
      'alertname=HighLatency instance=~"web-.*" 2h deploy in progress',
      { matchers: 'alertname=HighLatency instance=~"web-.*"', durationMs: 7_200_000, comment: 'deploy in progress' },
      'the documented example',
    ],
    ['alertname=X 30m', { matchers: 'alertname=X', durationMs: 1_800_000 }, 'no comment: none is sent'],
    ['alertname=X 1h30m', { matchers: 'alertname=X', durationMs: 5_400_000 }, 'compound durations'],
    ['alertname="rollout 2h" 1h', { matchers: 'alertname="rollout 2h"', durationMs: 3_600_000 }, 'a duration inside a quoted value is part of the value'],
    [
      'alertname=X 2h back at 3h',
      { matchers: 'alertname=X', durationMs: 7_200_000, comment: 'back at 3h' },
      'the first duration ends the matchers; later ones are comment',
    ],
    ['alertname=X,job=node 15m', { matchers: 'alertname=X,job=node', durationMs: 900_000 }, 'comma-separated matchers pass through for the matcher parser'],
  ]
  for (const [args, expected, why] of rows) t.same(parseSilenceArgs(args), expected, why)
})

t.test('a /silence that cannot be read says what to type instead', async (t) => {
  const rows: [string, RegExp, string][] = [
    ['2h alertname=X', /matchers come first; usage: \/silence alertname=HighLatency/, 'duration before matchers'],
    ['alertname=X', /give a duration like 2h; usage: /, 'no duration'],
    ['alertname=X forever', /give a duration like 2h/, 'not a duration'],
    ['', /give a duration like 2h/, 'nothing at all'],
    ['alertname="X 2h', /a quote is not closed/, 'an open quote'],
  ]
  for (const [args, message, why] of rows) t.throws(() => parseSilenceArgs(args), message, why)
})

t.test('a dashboard named as a command reads as /dashboard <name>; /analytics lists them', async (t) => {
  const names = new Set(['performance', 'health'])
  const rows: [string, ReturnType<typeof parseDashboardCommand>, string][] = [
    ['/performance', { name: 'dashboard', args: 'performance' }, 'the name alone'],
    ['/health@AlertwireBot 24h', { name: 'dashboard', args: 'health 24h' }, 'with a range, addressed to this bot'],
    ['/health@OtherBot', undefined, "another bot's"],
    ['/revenue', undefined, 'not configured'],
    ['/analytics', { name: 'dashboards', args: '' }, "the seed's /analytics lists the dashboards"],
    ['performance', undefined, 'not a command'],
  ]
  for (const [text, want, why] of rows) t.same(parseDashboardCommand(text, 'AlertwireBot', names), want, why)
})

t.test('no dashboard can take the name of a command of the bot', async (t) => {
  for (const { command } of COMMANDS) t.ok(RESERVED.includes(command), `/${command} is reserved`)
})
