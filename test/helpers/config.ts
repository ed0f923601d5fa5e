/** Builds compiled configs for tests from YAML snippets, failing loudly on config errors. */
import YAML from 'yaml'
import { type Config, parseConfig } from '../../src/config/parse.js'

/** testConfig parses YAML (and env overrides) into a Config, throwing with the errors if it is invalid. */
export function testConfig(yaml = '', env: Record<string, string | undefined> = {}): Config {
  const result = parseConfig(yaml, {
    env,
    readSecret: () => {
      throw new Error('no secret files in tests')
    },
  })
  if (!result.ok) throw new Error(`test config invalid:\n${result.errors.join('\n')}`)
  return result.config
}

function merge(a: unknown, b: unknown): unknown {
  if (typeof a === 'object' && a && !Array.isArray(a) && typeof b === 'object' && b && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) }
    for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v)
    return out
  }
  return b === undefined ? a : b
}

/** mergeYaml deep-merges YAML documents (later ones win), so tests can layer settings. */
export function mergeYaml(...texts: string[]): string {
  return YAML.stringify(texts.map((text) => YAML.parse(text) ?? {}).reduce(merge, {}))
}
