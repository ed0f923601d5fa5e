/**
 * `alertwire dead-letters`: list, retry and drop what alertwire could not deliver, on the live
 * Redis, while replicas run (store/dead-letters.ts keeps every change atomic). It reads the same
 * config as the service to find Redis and the key prefix, and never starts a Redis of its own.
 */
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { DEFAULT_CONFIG_PATH, loadConfigFile } from '../config/load.js'
import { type DeadLetter, DeadLetterStore, type Selection } from '../store/dead-letters.js'
import { tcpPing } from '../store/embedded-redis.js'
import { closeRedis, describeTopology, fastFailRedis, topologyOf, whenReady } from '../store/redis.js'
import { parsedOrRaw } from '../core/turn.js'

/** DEAD_LETTERS_HELP: the usage of the command, also shown by `alertwire --help`. */
export const DEAD_LETTERS_HELP = `Usage:
  alertwire dead-letters list [--chat ID] [--json] [--config PATH]
                                       what could not be delivered: id, chat, why, since when
  alertwire dead-letters retry (--all | --chat ID | ID ...) [--config PATH]
                                       send again, in order (e.g. after the bot was re-added to a group)
  alertwire dead-letters drop (--all | --chat ID | ID ...) [--config PATH]
                                       forget them
An ID may be shortened to its first 4 or more characters.
`

/** Output: where the command writes (stdout and stderr in the service, buffers in tests). */
export interface Output {
  out: (text: string) => void
  err: (text: string) => void
}

interface Args {
  action: 'list' | 'retry' | 'drop'
  configPath: string
  selection: Selection
  json: boolean
}

/** parseDeadLetterArgs reads the command line after `dead-letters`; unknown options are errors. */
export function parseDeadLetterArgs(argv: readonly string[], env: Record<string, string | undefined>): Args | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help'
  let configPath = env.ALERTWIRE_CONFIG || DEFAULT_CONFIG_PATH
  const [action, ...rest] = argv
  if (action !== 'list' && action !== 'retry' && action !== 'drop') throw new Error(`expected list, retry or drop, got ${action ?? 'nothing'}`)
  const selection: { all?: boolean; chat?: string; ids: string[] } = { ids: [] }
  let json = false
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!
    const value = () => {
      const next = rest[++i]
      if (!next) throw new Error(`${arg} needs a value`)
      return next
    }
    if (arg === '--config' || arg === '-c') configPath = value()
    else if (arg.startsWith('--config=')) configPath = arg.slice('--config='.length)
    else if (arg === '--chat') selection.chat = value()
    else if (arg === '--all') selection.all = true
    else if (arg === '--json' && action === 'list') json = true
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`)
    else selection.ids.push(arg)
  }
  const ways = [selection.all, selection.chat !== undefined, selection.ids.length > 0].filter(Boolean).length
  if (action !== 'list' && ways !== 1) throw new Error(`${action} needs exactly one of --all, --chat ID or letter ids`)
  if (action === 'list' && selection.ids.length > 0) throw new Error(`list takes no ids (unexpected ${selection.ids[0]})`)
  return { action, configPath, selection: action === 'list' && ways === 0 ? { all: true } : selection, json }
}

/**
 * findRedis picks the Redis the service uses: redis.url (or REDIS_URL), else the one on
 * 127.0.0.1:6379, else the embedded redis-server a running alertwire started.
 */
async function findRedis(url: string | undefined, dataDir: string): Promise<string | undefined> {
  if (url) return url
  if (await tcpPing('127.0.0.1', 6379)) return 'redis://127.0.0.1:6379'
  const stateFile = resolve(dataDir, 'redis', 'embedded.json')
  if (!existsSync(stateFile)) return undefined
  const { port } = JSON.parse(readFileSync(stateFile, 'utf8')) as { port: number }
  return (await tcpPing('127.0.0.1', port)) ? `redis://127.0.0.1:${port}` : undefined
}

/** age says how long ago a time was, roughly, as an operator reads it. */
function age(at: string | undefined, now: number): string {
  const ms = at ? now - Date.parse(at) : Number.NaN
  if (!Number.isFinite(ms)) return 'unknown'
  const minutes = Math.floor(ms / 60_000)
  if (minutes < 1) return 'just now'
  if (minutes < 120) return `${minutes}m ago`
  const hours = Math.floor(minutes / 60)
  return hours < 48 ? `${hours}h ago` : `${Math.floor(hours / 24)}d ago`
}

/** formatList renders letters as a table a terminal shows well, with a count by chat and reason. */
export function formatList(letters: readonly DeadLetter[], now: number): string {
  if (letters.length === 0) return 'no dead letters\n'
  const rows = letters.map((l) => [l.id, l.chat, l.reason, `${l.at ?? '?'} (${age(l.at, now)})`, l.what])
  const header = ['ID', 'CHAT', 'REASON', 'SINCE', 'WHAT']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]!) : c))
      .join('  ')
      .trimEnd()
  const detail = letters.flatMap((l) => [
    ...(l.error ? [`  ${l.id}  error: ${l.error}`] : []),
    ...(l.retry.kind === 'none' ? [`  ${l.id}  cannot be retried: ${l.retry.why}`] : []),
  ])
  const chats = new Set(letters.map((l) => l.chat)).size
  const summary = `${letters.length} dead letter${letters.length === 1 ? '' : 's'} in ${chats} chat${chats === 1 ? '' : 's'}`
  return `${[line(header), ...rows.map(line)].join('\n')}\n${detail.length > 0 ? `\n${detail.join('\n')}\n` : ''}\n${summary}\n`
}

async function act(store: DeadLetterStore, args: Args, io: Output): Promise<number> {
  const { letters, unknownIds } = await store.select(args.selection)
  for (const id of unknownIds) io.err(`alertwire: no dead letter ${id}\n`)
  if (args.action === 'list') {
    if (args.json) io.out(`${JSON.stringify(letters.map(({ raw, ...rest }) => ({ ...rest, letter: parsedOrRaw(raw) })))}\n`)
    else io.out(formatList(letters, Date.now()))
    return 0
  }
  if (args.action === 'drop') {
    const dropped = await store.drop(letters)
    io.out(`dropped ${dropped} dead letter${dropped === 1 ? '' : 's'}\n`)
    return unknownIds.length > 0 ? 1 : 0
  }
  const { retried, gone, kept } = await store.retry(letters)
  const chats = [...new Set(retried.map((l) => l.chat))]
  io.out(`retried ${retried.length} dead letter${retried.length === 1 ? '' : 's'}${chats.length > 0 ? ` (chat ${chats.join(', ')})` : ''}\n`)
  if (gone.length > 0) io.out(`${gone.length} already retried or dropped by someone else\n`)
  for (const letter of kept) io.err(`alertwire: ${letter.id} kept: ${letter.retry.kind === 'none' ? letter.retry.why : ''}\n`)
  return unknownIds.length > 0 || kept.length > 0 ? 1 : 0
}

/** deadLettersCommand runs `alertwire dead-letters ...` and returns the exit code (2: usage, 1: failed or partly done). */
export async function deadLettersCommand(argv: readonly string[], env: Record<string, string | undefined>, io: Output): Promise<number> {
  let args: Args | 'help'
  try {
    args = parseDeadLetterArgs(argv, env)
  } catch (error) {
    io.err(`alertwire dead-letters: ${(error as Error).message}\n${DEAD_LETTERS_HELP}`)
    return 2
  }
  if (args === 'help') {
    io.out(DEAD_LETTERS_HELP)
    return 0
  }
  const loaded = loadConfigFile(args.configPath, env)
  if (!loaded.ok) {
    io.err(`alertwire: invalid config ${args.configPath}:\n${loaded.errors.map((e) => `  ${e}`).join('\n')}\n`)
    return 1
  }
  const { config } = loaded
  // Sentinel and Cluster are always configured, never looked for
  const configured = !!(config.redis.sentinel || config.redis.clusterNodes)
  const url = configured ? undefined : await findRedis(config.redis.url, config.dataDir)
  if (!configured && !url) {
    io.err('alertwire: no Redis to read dead letters from (set REDIS_URL or redis.url, or start alertwire)\n')
    return 1
  }
  const topology = topologyOf(config.redis, url)
  const redis = fastFailRedis(topology, 'alertwire-dead-letters')
  redis.on('error', () => {})
  try {
    if (!(await whenReady(redis, 3000))) {
      io.err(`alertwire: Redis at ${topology.kind === 'single' ? new URL(topology.url).host : describeTopology(topology)} does not answer\n`)
      return 1
    }
    return await act(new DeadLetterStore(redis, config.redis.prefix), args, io)
  } finally {
    await closeRedis(redis)
  }
}

/** deadLettersMain runs the command as a process: stdout, stderr, and the exit code. */
export async function deadLettersMain(argv: readonly string[]): Promise<never> {
  const code = await deadLettersCommand(argv, process.env, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) })
  process.exit(code)
}
