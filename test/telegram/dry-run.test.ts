/**
 * The dry run shows what the chat would see: on a terminal a readable block (the text as Telegram
 * shows it, links with their addresses, the buttons, chat, topic, silent or not), and in the JSON
 * log line the same as structured fields a machine can check.
 */
import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '../../src/log.js'
import { createDryRunTelegram } from '../../src/telegram/client.js'
import { ANSI, dryRunBlock, dryRunFields, PLAIN } from '../../src/telegram/dry-run.js'
import { postWebhook, startTestApp, webhook } from '../helpers/app.js'

const HTML =
  '🔴 <b>CRITICAL</b> · <b>HighLatency</b>\np99 &gt; 1s on <code>web-1</code> &amp; web-2\n' +
  '<a href="http://prom:9090/graph?g0.expr=up&amp;g0.tab=1">graph</a> · <a href="https://runbooks.example/x">https://runbooks.example/x</a>'

const KEYBOARD = [
  [
    { text: '🔕 1h', callback_data: 's:1h:abc' },
    { text: '✅ Ack', callback_data: 'a::abc' },
  ],
  [{ text: 'Runbook', url: 'https://runbooks.example/x' }],
]

t.test('the fields: as sent, as shown, links, buttons, where it goes', async (t) => {
  const fields = dryRunFields({ chatId: '-100123', threadId: 7, text: HTML, html: true, silent: true, replyTo: 41, keyboard: KEYBOARD }, 'send', 42)
  t.equal(fields.text, HTML, 'the HTML as it would be sent')
  t.equal(fields.parseMode, 'HTML')
  t.equal(fields.shown, '🔴 CRITICAL · HighLatency\np99 > 1s on web-1 & web-2\ngraph · https://runbooks.example/x', 'the text as the chat shows it')
  t.equal(fields.length, fields.shown.length)
  t.same(fields.links, [
    { text: 'graph', url: 'http://prom:9090/graph?g0.expr=up&g0.tab=1' },
    { text: 'https://runbooks.example/x', url: 'https://runbooks.example/x' },
  ])
  t.same(fields.keyboard, KEYBOARD, "the buttons in Telegram's own shape")
  t.match(fields, { action: 'send', chat: '-100123', thread: 7, messageId: 42, replyTo: 41, silent: true })
  const edit = dryRunFields({ chatId: '-100123', text: 'plain <not html>', html: false }, 'edit', 42)
  t.same(
    { action: edit.action, shown: edit.shown, links: edit.links, silent: edit.silent, parseMode: edit.parseMode },
    { action: 'edit', shown: 'plain <not html>', links: [], silent: undefined, parseMode: undefined },
  )
})

t.test('the block: what a person at a terminal reads', async (t) => {
  const fields = dryRunFields(
    { chatId: '-100123', threadId: 7, text: HTML, html: true, silent: true, replyTo: 41, keyboard: KEYBOARD, preview: 'https://grafana/x.png' },
    'send',
    42,
  )
  t.equal(
    dryRunBlock(fields, PLAIN),
    [
      '── dry run: would send · chat -100123 · topic 7 · message #42 · reply to #41 · silent',
      '🔴 CRITICAL · HighLatency',
      'p99 > 1s on web-1 & web-2',
      'graph <http://prom:9090/graph?g0.expr=up&g0.tab=1> · https://runbooks.example/x',
      '[ 🔕 1h ] [ ✅ Ack ]',
      '[ Runbook ↗ https://runbooks.example/x ]',
      `── ${fields.length}/4096 characters · preview https://grafana/x.png`,
      '',
    ].join('\n'),
  )
  const coloured = dryRunBlock(fields, ANSI)
  t.match(coloured, /\x1b\[1m── dry run/, 'the header stands out on a colour terminal')
  t.equal(coloured.replace(/\x1b\[[0-9;]*m/g, ''), dryRunBlock(fields, PLAIN), 'and says the same')
  const edit = dryRunBlock(dryRunFields({ chatId: '@alerts', text: '✅ RESOLVED', html: true }, 'edit', 9))
  t.match(edit, /^── dry run: would edit · chat @alerts · edits message #9\n✅ RESOLVED\n── 10\/4096 characters · no link preview\n$/)
})

t.test('the dry-run client writes the JSON line always, and the block only where a view is given', async (t) => {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const blocks: string[] = []
  let id = 0
  const viewed = createDryRunTelegram(createLogger({ level: 'info', destination }), async () => ++id, { write: (b) => blocks.push(b), style: PLAIN })
  await viewed.sendMessage({ chatId: '-100123', text: HTML, html: true, silent: false, keyboard: KEYBOARD })
  await viewed.editMessageText({ chatId: '-100123', messageId: 1, text: '<b>resolved</b>', html: true })
  t.equal(lines.length, 2, 'one JSON line per message')
  const sent = JSON.parse(lines[0]!)
  t.match(sent, { msg: 'dry run: would send message', dryRun: true, action: 'send', chat: '-100123', messageId: 1, silent: false, shown: /^🔴 CRITICAL/ })
  t.same(sent.keyboard, KEYBOARD)
  t.match(JSON.parse(lines[1]!), { msg: 'dry run: would edit message', action: 'edit', messageId: 1, shown: 'resolved' })
  t.equal(blocks.length, 2)
  t.match(blocks[0], /would send · chat -100123 · message #1 · with sound\n/)
  const quiet = createDryRunTelegram(createLogger({ level: 'info', destination }), async () => ++id)
  await quiet.sendMessage({ chatId: '-100123', text: 'x', html: false, silent: false })
  t.equal(blocks.length, 2, 'no view: the log line only')
})

t.test("a dry-run photo: the caption as the chat shows it and the picture's size, never its bytes", async (t) => {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const png = Buffer.alloc(5000, 7)
  const dry = createDryRunTelegram(createLogger({ level: 'info', destination }), async () => 9)
  t.same(await dry.sendPhoto({ chatId: '-100123', png, caption: '📈 <b>HighLatency</b>', html: true, silent: true, replyTo: 8 }), { messageId: 9 })
  const line = JSON.parse(lines[0]!)
  t.match(line, { msg: 'dry run: would send photo', action: 'send', chat: '-100123', replyTo: 8, shown: '📈 HighLatency', photoBytes: 5000 })
  t.notMatch(lines[0], /BwcHBwcH|"png"/, 'the picture itself is not logged')
})

t.test('a dry run of the whole service logs what the chat would see', async (t) => {
  const { url, logs } = await startTestApp(t, { yaml: 'telegram: {chat_id: -100123, thread_id: 7, dry_run_view: never}' })
  const alert = {
    status: 'firing',
    labels: { alertname: 'HighLatency', severity: 'critical', instance: 'dv11:9100' },
    annotations: { summary: 'p99 > 1s' },
    startsAt: '2026-11-24T23:01:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.example.com/graph?g0.expr=up',
    fingerprint: 'dv11',
  }
  await postWebhook(url, webhook({ alerts: [alert] }))
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && !logs.some((l) => l.includes('would send'))) await new Promise((r) => setTimeout(r, 50))
  const line = JSON.parse(logs.find((l) => l.includes('would send'))!)
  t.match(line, { chat: '-100123', thread: 7, silent: false, parseMode: 'HTML' })
  t.match(line.shown, /^🔴 CRITICAL · HighLatency/m, 'the text as shown, without tags')
  t.match(line.shown, /p99 > 1s/, 'and with its entities decoded')
  t.ok(Array.isArray(line.keyboard) && line.keyboard.flat().some((b: { text: string }) => /1h/.test(b.text)), 'the silence buttons')
})
