#!/usr/bin/env node
// @ts-check
/**
 * Run by `npm start` (as prestart): compiles src/ into dist/ only when dist/ was not built from the
 * files as they are now, so a restart does not pay for a tsc run (8–14 s). "As they are now" is
 * judged by content, not by modification times, which checkouts, copies and clock changes get
 * wrong: a hash of everything the build reads (src/, tsconfig.json, package.json,
 * package-lock.json) is written to dist/.build-inputs after each successful build.
 * Plain JavaScript on purpose: it runs before anything is compiled, in ~50 ms.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const INPUTS = ['src', 'tsconfig.json', 'package.json', 'package-lock.json']
const ENTRY = join(root, 'dist', 'main.js')
const STAMP = join(root, 'dist', '.build-inputs')

/**
 * filesUnder lists a file, or every file under a folder, in a stable order.
 * @param {string} path
 * @returns {string[]}
 */
function filesUnder(path) {
  if (!statSync(path).isDirectory()) return [path]
  const names = readdirSync(path).sort()
  return names.flatMap((name) => filesUnder(join(path, name)))
}

/** inputsHash hashes the path and content of every file the build reads. */
function inputsHash() {
  const hash = createHash('sha256')
  for (const file of INPUTS.flatMap((input) => filesUnder(join(root, input)))) {
    hash.update(`${relative(root, file)}\0`)
    hash.update(readFileSync(file))
    hash.update('\0')
  }
  return hash.digest('hex')
}

const wanted = inputsHash()
const built = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : ''
if (existsSync(ENTRY) && built === wanted) process.exit(0)

process.stderr.write(`alertwire: building dist/ (${existsSync(ENTRY) ? 'src/ or package files changed since the last build' : 'not built yet'})\n`)
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' })
if (tsc.status !== 0) {
  // no stamp: the next start tries again instead of running what failed to compile
  process.stderr.write('alertwire: the build failed, see above\n')
  process.exit(tsc.status ?? 1)
}
// the hash from before the build: a file saved during the build makes the next start build again
writeFileSync(STAMP, `${wanted}\n`)
