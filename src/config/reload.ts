/**
 * Live reload: SIGHUP or a change to the config file loads it again. The file's folder is watched
 * (editors and Kubernetes replace files rather than write them in place), and changes are debounced.
 */
import { type FSWatcher, watch } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import type { Config } from './parse.js'

/** RELOAD_DEBOUNCE_MS: a save often arrives as several events; reload once they settle. */
const RELOAD_DEBOUNCE_MS = 200

/** watchConfigFile calls reload when the file changes or the process gets SIGHUP; returns a stop function. */
export function watchConfigFile(path: string, reload: () => void): () => void {
  const file = basename(path)
  let timer: NodeJS.Timeout | undefined
  const schedule = () => {
    clearTimeout(timer)
    timer = setTimeout(reload, RELOAD_DEBOUNCE_MS)
  }
  let watcher: FSWatcher | undefined
  try {
    watcher = watch(dirname(resolve(path)), (_event, name) => {
      if (!name || name.toString() === file) schedule()
    })
  } catch {
    // no watching here (some container filesystems): SIGHUP still works
  }
  process.on('SIGHUP', schedule)
  return () => {
    clearTimeout(timer)
    watcher?.close()
    process.off('SIGHUP', schedule)
  }
}

const RESTART_ONLY: [string, (c: Config) => unknown][] = [
  ['server.host', (c) => c.server.host],
  ['server.port', (c) => c.server.port],
  ['server.body_limit', (c) => c.server.bodyLimit],
  ['redis', (c) => JSON.stringify(c.redis)],
  ['telegram.bot_token', (c) => c.telegram.botToken],
  ['telegram.api_url', (c) => c.telegram.apiUrl],
  ['telegram.request_timeout', (c) => c.telegram.requestTimeoutMs],
  ['delivery.concurrency', (c) => c.delivery.concurrency],
  ['data_dir', (c) => c.dataDir],
]

/** restartOnlyChanges names the settings that differ but only take effect after a restart. */
export function restartOnlyChanges(running: Config, next: Config): string[] {
  return RESTART_ONLY.filter(([, read]) => read(running) !== read(next)).map(([name]) => name)
}
