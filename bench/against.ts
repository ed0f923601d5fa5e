/**
 * The against part of `npm run bench -- against` (BENCH_AGAINST=<git ref>): another commit of
 * alertwire, built in a git worktree of its own (npm ci, tsc) so it can run beside the working
 * tree's service in one bench run. An absolute latency goal measured on a quieter day cannot say
 * whether a change made the service worse; the same load on both, alternating, can.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Redis } from 'ioredis'

const root = new URL('..', import.meta.url).pathname

/** BuiltRef: a commit's compiled service (dist/ under root) and how to remove its worktree. */
export interface BuiltRef {
  root: string
  commit: string
  remove: () => void
}

/** buildRef checks a git ref out into a temporary worktree and builds it as `npm ci && npm run build` would. */
export function buildRef(ref: string): BuiltRef {
  const commit = execFileSync('git', ['rev-parse', '--short', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' }).trim()
  const dir = mkdtempSync(join(tmpdir(), 'aw-against-'))
  execFileSync('git', ['worktree', 'add', '--detach', dir, commit], { cwd: root, stdio: 'ignore' })
  const remove = () => execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: root, stdio: 'ignore' })
  try {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, stdio: 'ignore' })
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: dir, stdio: 'ignore' })
  } catch (error) {
    remove()
    throw new Error(`could not build ${ref} (${commit}): ${(error as Error).message}`)
  }
  return { root: dir, commit, remove }
}

/** redisCalls: how many commands Redis has run since it started, scripts counted once and the commands they run inside counted too (INFO commandstats). */
export async function redisCalls(redis: Redis): Promise<{ all: number; scripts: number }> {
  const stats = [...((await redis.info('commandstats')) as string).matchAll(/^cmdstat_(\S+):calls=(\d+)/gm)]
  const calls = (name: string) => Number(stats.find((m) => m[1] === name)?.[2] ?? 0)
  return { all: stats.reduce((sum, m) => sum + Number(m[2]), 0), scripts: calls('evalsha') + calls('eval') }
}
