/**
 * `alertwire dead-letters`: an operator lists what could not be delivered, retries it once the bot
 * is back in the group (two operators at once send nothing twice), and drops what is not wanted,
 * on the Redis a running app uses; /status counts them the same way.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { gatherStatus } from '../../src/bot/status.js'
import { statusReply } from '../../src/bot/replies.js'
import { deadLettersCommand } from '../../src/cli/dead-letters.js'
import { batchOptions } from '../../src/config/slices.js'
import { DeadLetterStore } from '../../src/store/dead-letters.js'
import { GROUP, postWebhook, startWithFake, webhook } from '../helpers/app.js'
import { testRedisUrl, uniquePrefix } from '../helpers/redis.js'

function alert(fingerprint: string) {
  return {
    status: 'firing',
    labels: { alertname: `Alert_${fingerprint}`, severity: 'critical', instance: `${fingerprint}.example.com` },
    annotations: { summary: `summary of ${fingerprint}` },
    startsAt: '2026-11-24T23:01:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    fingerprint,
  }
}

/** cli runs the command as an operator would, against a config naming the app's Redis and prefix. */
function cliFor(t: Test, redisUrl: string, prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), 'aw-letters-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const configPath = join(dir, 'alertwire.yaml')
  writeFileSync(configPath, `redis: {url: "${redisUrl}", prefix: "${prefix}"}\ndata_dir: ${JSON.stringify(dir)}\n`)
  const env = { PATH: process.env.PATH }
  return {
    configPath,
    env,
    run: async (...args: string[]) => {
      let out = ''
      let err = ''
      const code = await deadLettersCommand([...args, '--config', configPath], env, { out: (s) => (out += s), err: (s) => (err += s) })
      return { code, out, err }
    },
  }
}

t.test('dead letters: list, retry once the bot is back (two operators at once), drop', async (t) => {
  const { url, fake, redisUrl, prefix, app, config } = await startWithFake(t)
  const cli = cliFor(t, redisUrl, prefix)
  fake.blockChat(GROUP)
  for (const fp of ['dl1', 'dl2', 'dl3']) await postWebhook(url, webhook({ groupKey: fp, alerts: [alert(fp)] }))
  const redis = new Redis(redisUrl)
  t.teardown(() => redis.quit())
  const store = new DeadLetterStore(redis, prefix)
  const deadline = Date.now() + 8000
  while (Date.now() < deadline && (await store.list()).length < 3) await new Promise((r) => setTimeout(r, 50))

  const listed = await cli.run('list')
  t.equal(listed.code, 0)
  const lines = listed.out.split('\n')
  t.match(lines[0], /^ID\s+CHAT\s+REASON\s+SINCE\s+WHAT$/, 'a table a terminal shows')
  for (const fp of ['dl1', 'dl2', 'dl3'])
    t.match(
      listed.out,
      new RegExp(`[0-9a-f]{12}\\s+${GROUP}\\s+chat_unreachable\\s+\\S+ \\((just now|\\dm ago)\\)\\s+send: .*Alert_${fp}`),
      `${fp}: chat, why, since when, what`,
    )
  t.match(listed.out, /error: .*bot was kicked/, 'what Telegram said')
  t.match(listed.out, /3 dead letters in 1 chat/)

  const report = statusReply(
    await gatherStatus({
      dryRun: false,
      redisAnswers: async () => true,
      webhooksWaiting: async () => ({ batches: 0 }),
      deadLetters: async () => 3,
      deadLetterCounts: () => store.counts(),
      alertmanager: app.server.alertmanager,
      chats: () => [{ chat: String(GROUP), paceMs: 100 }],
      waiting: async () => 0,
      mutedUntil: async () => undefined,
      lastErrors: async () => ({}),
    }),
    batchOptions(config, Date.now()),
  )
  t.match(report.plain, /3 dead letters \(3 chat_unreachable\)/, '/status counts them as the list does')
  t.match(report.plain, new RegExp(`chat ${GROUP}: .* · 3 dead letters`), 'and per chat')

  // the bot is added back to the group: two operators retry at the same time
  fake.blockChat(GROUP, false)
  const [a, b] = await Promise.all([cli.run('retry', '--chat', String(GROUP)), cli.run('retry', '--chat', String(GROUP))])
  const retried = [a, b].map((r) => Number(/retried (\d+)/.exec(r.out)?.[1]))
  t.equal(retried[0]! + retried[1]!, 3, `each letter retried once in all (${retried.join(' + ')})`)
  await fake.waitFor(() => fake.messages(GROUP).length >= 3, 8000, 'the three alerts delivered')
  await new Promise((r) => setTimeout(r, 600))
  t.same(
    fake.messages(GROUP).map((m) => /Alert_(dl\d)/.exec(m.text)?.[1]),
    ['dl1', 'dl2', 'dl3'],
    'exactly once each, in the order they failed',
  )
  t.match(fake.messages(GROUP)[0]!.reply_markup, { inline_keyboard: [] }, 'with their buttons')
  t.match((await cli.run('list')).out, /^no dead letters/)

  // a resolve now finds the message the retry sent, so the chat's story goes on
  await postWebhook(url, webhook({ status: 'resolved', groupKey: 'dl1', alerts: [{ ...alert('dl1'), status: 'resolved', endsAt: '2026-11-24T23:30:00Z' }] }))
  await fake.waitFor(() => fake.messages(GROUP)[0]!.text.includes('RESOLVED'), 5000, 'the retried message is edited on resolve')
  await fake.waitFor(() => fake.messages(GROUP).length === 4, 5000, 'and replied to')

  fake.blockChat(GROUP)
  await postWebhook(url, webhook({ groupKey: 'dl4', alerts: [alert('dl4')] }))
  while ((await store.list()).length < 1) await new Promise((r) => setTimeout(r, 50))
  const [letter] = await store.list()
  t.equal((await cli.run('retry', 'ffffffff')).code, 1, 'an unknown id is an error')
  const dropped = await cli.run('drop', letter!.id.slice(0, 6))
  t.match(dropped.out, /dropped 1 dead letter\n/, 'dropped by a short id')
  t.same(await store.list(), [])
})

t.test('usage: --help lists the command; bad arguments say what is expected', async (t) => {
  const help = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '--help'], { encoding: 'utf8' })
  t.match(help.stdout, /alertwire dead-letters list\|retry\|drop/)
  const cli = cliFor(t, await testRedisUrl(), uniquePrefix('letters-usage'))
  t.equal((await cli.run('retry')).code, 2, 'retry needs a selection')
  t.match((await cli.run('frobnicate')).err, /expected list, retry or drop/)
  const own = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'dead-letters', 'list', '--config', cli.configPath], { encoding: 'utf8' })
  t.equal(own.status, 0, own.stderr)
  t.match(own.stdout, /no dead letters/, 'runs as the alertwire command')
})
