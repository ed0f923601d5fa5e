// The alert rules shipped in deploy/prometheus/rules, read from the files, so a test over all of
// them fails when a new rule is added and not accounted for.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import YAML from 'yaml'

/** RULES_DIR: where the shipped rule files are. */
export const RULES_DIR = join(new URL('.', import.meta.url).pathname, '../../deploy/prometheus/rules')

/** shippedAlertRules reads every alert rule (not recording rules) in deploy/prometheus/rules. */
export function shippedAlertRules(): { alert: string; expr: string; file: string }[] {
  const rules: { alert: string; expr: string; file: string }[] = []
  for (const file of readdirSync(RULES_DIR).filter((f) => /\.ya?ml$/.test(f))) {
    const doc = YAML.parse(readFileSync(join(RULES_DIR, file), 'utf8')) as { groups: { rules: { alert?: string; expr: string }[] }[] }
    for (const group of doc.groups) for (const rule of group.rules) if (rule.alert) rules.push({ alert: rule.alert, expr: String(rule.expr), file })
  }
  return rules
}
