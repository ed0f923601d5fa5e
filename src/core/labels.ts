/**
 * Which labels and annotations a message shows. Labels every alert of a message shares are said
 * once, in its header; each alert shows only what tells it apart. Well-known noise (which
 * Prometheus scraped it, the ServiceMonitor's port, cgroup paths, image digests, the exporter's own
 * instance and job on kube-state-metrics alerts) is hidden by rules the YAML can change; a hidden
 * label is still shown when it alone tells two alerts apart. Annotations other than the summary and
 * description are shown too, as links when they are URLs. Pure.
 */
import { type Labels, type Matcher, matchesAll, parseMatcher } from './matchers.js'

/** HideRule: label names (globs: `*` is any text) hidden from messages, for alerts that match `when` (all alerts if empty). */
export interface HideRule {
  names: RegExp
  when: readonly Matcher[]
}

/** LabelDisplay: the operator's choice of what not to show. */
export interface LabelDisplay {
  hideLabels: readonly HideRule[]
  /** annotation names (globs) never shown */
  hideAnnotations: RegExp
}

/** RawHideRule: a hide_labels entry as the YAML writes it: a name, or names with a condition. */
export type RawHideRule = string | { labels: readonly string[]; when?: readonly string[] }

/** DEFAULT_HIDDEN_LABELS: noise every kube-prometheus-stack or cAdvisor alert carries. */
export const DEFAULT_HIDDEN_LABELS: readonly RawHideRule[] = [
  '__*',
  'prometheus',
  'prometheus_replica',
  'endpoint',
  'metrics_path',
  'id',
  'uid',
  'container_id',
  'image_id',
  { labels: ['instance', 'job', 'service'], when: ['job="kube-state-metrics"'] },
  // alerts on deployments and jobs carry kube-state-metrics' own pod and container
  { labels: ['pod', 'container'], when: ['job="kube-state-metrics"', 'container="kube-state-metrics"'] },
  { labels: ['job', 'service', 'name'], when: ['job="kubelet"'] },
]

/** DEFAULT_HIDDEN_ANNOTATIONS: Grafana's internal annotations. */
export const DEFAULT_HIDDEN_ANNOTATIONS: readonly string[] = ['__*']

/** SHOWN_ELSEWHERE: labels the message shows in its own way (marker, heading). */
const SHOWN_ELSEWHERE = new Set(['alertname', 'severity'])
/** TEXT_ANNOTATIONS: annotations shown as the alert's title and text, in order of preference. */
export const TITLE_ANNOTATIONS = ['summary', 'title'] as const
export const TEXT_ANNOTATIONS = ['description', 'message'] as const

/** globPattern turns names with `*` into one anchored regex. */
export function globPattern(names: readonly string[]): RegExp {
  const escaped = names.map((n) => n.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*'))
  return new RegExp(escaped.length > 0 ? `^(?:${escaped.join('|')})$` : '(?!)')
}

/** isHidden: the label is not worth showing for this alert. */
export function isHidden(name: string, labels: Labels, display: LabelDisplay): boolean {
  return display.hideLabels.some((rule) => rule.names.test(name) && matchesAll(rule.when, labels))
}

/** Label: a label as a message shows it. */
export interface Label {
  name: string
  value: string
}

/** sharedLabels: the labels every alert has with the same value (none for a single alert: it says them itself). */
export function sharedLabels(alerts: readonly Labels[]): string[] {
  return sharedKeys(alerts).filter((name) => !SHOWN_ELSEWHERE.has(name))
}

/** sharedAnnotations: the annotations every alert has with the same text (19 pods not ready need the summary once). */
export function sharedAnnotations(alerts: readonly Labels[]): string[] {
  return sharedKeys(alerts).filter((name) => alerts[0]![name]!.trim() !== '')
}

function sharedKeys(records: readonly Labels[]): string[] {
  if (records.length < 2) return []
  const first = records[0]!
  return Object.keys(first)
    .filter((name) => records.every((r) => r[name] === first[name]))
    .sort()
}

/** pick: only some keys of a record. */
export function pick(record: Labels, names: readonly string[]): Labels {
  return Object.fromEntries(names.filter((name) => record[name] !== undefined).map((name) => [name, record[name]!]))
}

/** without: a record less some of its keys. */
export function without(record: Labels, names: readonly string[]): Labels {
  if (names.length === 0) return record
  return Object.fromEntries(Object.entries(record).filter(([name]) => !names.includes(name)))
}

/** headerLabels: the shared labels worth saying once, in a message's header (not the hidden ones). */
export function headerLabels(shared: readonly string[], first: Labels, display: LabelDisplay): Label[] {
  return shared.filter((name) => first[name] !== undefined && !isHidden(name, first, display)).map((name) => ({ name, value: first[name]! }))
}

/**
 * distinguishingLabels: what an alert shows of its labels, in a stable order: neither shown
 * elsewhere, nor shared (said in the header), nor hidden; when hiding would leave nothing, the
 * hidden ones that are not shared (they are what tells this alert from its neighbours).
 */
export function distinguishingLabels(labels: Labels, shared: readonly string[], display: LabelDisplay, many: boolean): Label[] {
  const own = Object.keys(labels)
    .filter((name) => !SHOWN_ELSEWHERE.has(name) && !shared.includes(name))
    .sort()
  const visible = own.filter((name) => !isHidden(name, labels, display))
  return (visible.length > 0 || !many ? visible : own).map((name) => ({ name, value: labels[name]! }))
}

/** firstAnnotation: the first of these annotations the alert has, non-empty ('' names none). */
export function firstAnnotation(annotations: Labels, names: readonly string[]): Label {
  for (const name of names) if (annotations[name]?.trim()) return { name, value: annotations[name]! }
  return { name: '', value: '' }
}

/** extraAnnotations: the annotations shown as "name: value" lines: not already used as title or text, not hidden, not a link. */
export function extraAnnotations(annotations: Labels, used: readonly string[], display: LabelDisplay, isLink: (value: string) => boolean): Label[] {
  return Object.keys(annotations)
    .filter((name) => !used.includes(name) && !display.hideAnnotations.test(name) && annotations[name]!.trim() !== '' && !isLink(annotations[name]!))
    .sort()
    .map((name) => ({ name, value: annotations[name]! }))
}

/** compileLabelDisplay reads hide_labels and hide_annotations; a bad `when` matcher is an error naming its place. */
export function compileLabelDisplay(rules: readonly RawHideRule[], hideAnnotations: readonly string[]): { display: LabelDisplay; errors: string[] } {
  const errors: string[] = []
  const hideLabels = rules.map((rule, i): HideRule => {
    if (typeof rule === 'string') return { names: globPattern([rule]), when: [] }
    const when: Matcher[] = []
    for (const [j, text] of (rule.when ?? []).entries()) {
      try {
        when.push(parseMatcher(text))
      } catch (error) {
        errors.push(`messages.hide_labels[${i}].when[${j}]: ${(error as Error).message}`)
      }
    }
    return { names: globPattern(rule.labels), when }
  })
  return { display: { hideLabels, hideAnnotations: globPattern(hideAnnotations) }, errors }
}
