/**
 * Message wording as Handlebars templates, overridable from YAML (messages.templates). Every value
 * in a template's context is HTML-escaped before rendering, with exactly the entities Telegram
 * knows (so links stay intact and `{{{x}}}` cannot smuggle raw HTML in); helpers work on the
 * unescaped text. Every template is checked at config load by rendering it with hostile sample
 * values and parsing the result as Telegram would, so a bad template is a config error, not a
 * message Telegram refuses at 3 a.m.
 */
import Handlebars from 'handlebars'
import { cutText, escapeHtml, htmlToPlain, parseHtml } from './html.js'

/** TemplateName: the pieces messages are built from. */
export type TemplateName =
  | 'header'
  | 'alert'
  | 'footer'
  | 'resolved_reply'
  | 'repeat_reply'
  | 'digest_header'
  | 'digest_alert'
  | 'digest_footer'
  | 'silence_note'

export type CompiledTemplates = Record<TemplateName, (context: object) => string>

/** DEFAULT_TEMPLATES: the wording alertwire ships with (each documented in the example config). */
export const DEFAULT_TEMPLATES: Record<TemplateName, string> = {
  header: [
    '{{#if resolved}}✅ <b>RESOLVED</b> · {{else}}{{marker}} {{#if severity}}<b>{{upper (trunc severity 40)}}</b> · {{/if}}{{/if}}',
    '<b>{{trunc alertname 200}}</b>',
    '{{#if many}} · {{count}} alerts{{#if resolved_count}}{{#unless resolved}}, {{resolved_count}} resolved{{/unless}}{{/if}}{{/if}}',
    '{{#if parts}} · part {{part}}/{{parts}}{{/if}}',
    '{{#each common_labels}}{{#if @first}}\n{{else}} · {{/if}}{{trunc name 100}}: <code>{{trunc value 200}}</code>{{/each}}',
    '{{#if summary}}\n<b>{{trunc summary 300}}</b>{{/if}}{{#if description}}\n{{trunc description 300}}{{/if}}',
    '{{#each details}}\n{{trunc name 60}}: {{trunc value 100}}{{/each}}',
    '{{#each links}}{{#if @first}}\n🔗 {{else}} · {{/if}}{{#if linkable}}<a href="{{url}}">{{trunc title 60}}</a>{{else}}{{trunc title 60}}: {{trunc url 100}}{{/if}}{{/each}}',
  ].join(''),
  alert: [
    '{{#if heading}}▸ <b>{{trunc heading.name 200}}</b>{{#if heading.many}} · {{heading.count}} alerts{{/if}}\n{{/if}}',
    '{{#if many}}{{#if resolved}}✅{{else}}{{marker}}{{/if}} {{/if}}',
    '{{#if summary}}<b>{{trunc summary 500}}</b>',
    '{{else}}{{#if labels_first}}{{#each identifying}}{{#unless @first}} · {{/unless}}{{trunc name 100}}: <code>{{trunc value 200}}</code>{{/each}}',
    '{{else}}{{#if many}}<b>{{trunc alertname 200}}</b>{{/if}}{{/if}}{{/if}}',
    '{{#if description}}\n{{trunc description 1500}}{{/if}}',
    '{{#each details}}\n{{trunc name 100}}: {{trunc value 500}}{{/each}}',
    '{{#unless labels_first}}{{#each identifying}}{{#if @first}}\n{{else}} · {{/if}}{{trunc name 100}}: <code>{{trunc value 200}}</code>{{/each}}{{/unless}}',
    '{{#each values}}{{#if @first}}\n📈 {{else}} · {{/if}}{{trunc name 50}}={{trunc value 50}}{{/each}}{{#if values_text}}\n📈 {{trunc values_text 300}}{{/if}}',
    '\n{{#if resolved}}✅ resolved{{#if duration}} after {{duration}}{{/if}}{{#if starts_at}} (started {{starts_at}}){{/if}}',
    '{{else}}🕒 {{#if starts_at}}since {{starts_at}} ({{duration}}){{else}}firing, start unknown{{/if}}{{/if}}',
    '{{#if flaps}}\n🔁 flapping: {{flaps}} times in {{flap_window}}{{/if}}',
    '{{#each links}}{{#if @first}}\n🔗 {{else}} · {{/if}}{{#if linkable}}<a href="{{url}}">{{trunc title 100}}</a>{{else}}{{trunc title 100}}: {{trunc url 200}}{{/if}}{{/each}}',
  ].join(''),
  footer: [
    '{{#if truncated_alerts}}⚠️ {{truncated_alerts}} more alerts in this group were not sent by Alertmanager (max_alerts){{/if}}',
    '{{#if alertmanager_url}}{{#if truncated_alerts}}\n{{/if}}🔔 {{#if alertmanager_linkable}}<a href="{{alertmanager_url}}">{{alerts_page}}</a>{{else}}{{alerts_page}}: {{trunc alertmanager_url 200}}{{/if}}{{/if}}',
  ].join(''),
  resolved_reply: [
    '✅ <b>Resolved</b>: <b>{{trunc alertname 200}}</b>',
    '{{#if many}} · {{count}} alerts{{#each alerts}}\n• {{> reply_alert}}{{#if duration}} · after {{duration}}{{/if}}{{/each}}',
    '{{else}}{{#each alerts}}{{> reply_labels}}{{#if duration}} after {{duration}}{{/if}}{{/each}}{{/if}}',
    '{{#if more}}\n… and {{more}} more{{/if}}',
  ].join(''),
  repeat_reply: [
    '🔁 <b>Still firing</b>: <b>{{trunc alertname 200}}</b>',
    '{{#if many}} · {{count}} alerts{{#each alerts}}\n• {{> reply_alert}}{{#if duration}} · for {{duration}}{{/if}}{{/each}}',
    '{{else}}{{#each alerts}}{{> reply_labels}}{{#if duration}} for {{duration}}{{/if}}{{/each}}{{/if}}',
    '{{#if more}}\n… and {{more}} more{{/if}}',
  ].join(''),
  digest_header: [
    '{{#if resolved_round}}✅ <b>{{count}} alerts resolved</b>{{#if catch_up}} while alertwire could not reach Telegram{{/if}}',
    '{{else}}{{#if all_resolved}}✅ <b>{{#if catch_up}}Resolved: while alertwire could not reach Telegram{{else}}Storm resolved{{/if}}</b>',
    '{{else}}{{#if catch_up}}📡 <b>While alertwire could not reach Telegram</b>{{else}}🌩 <b>Alert storm</b>{{/if}}{{/if}} · {{count}} alerts{{/if}}',
    '{{#if parts}} · part {{part}}/{{parts}}{{/if}}',
    '{{#unless resolved_round}}{{#unless all_resolved}}{{#if resolved_count}} · {{resolved_count}} here resolved{{/if}}{{/unless}}{{/unless}}',
    '{{#if first}}{{#each by_severity}}{{#if @first}}\n{{else}} · {{/if}}{{marker}} {{trunc severity 40}} {{count}}{{/each}}',
    '{{#each by_alertname}}{{#if @first}}\n{{else}} · {{/if}}{{trunc name 60}} {{count}}{{/each}}{{#if more_alertnames}} · +{{more_alertnames}} more{{/if}}',
    '{{#if reminders}}\n🔁 {{reminders}} reminders of alerts still firing{{/if}}{{/if}}',
  ].join(''),
  // dense: the first alert of a run (same severity, alertname and identifying label names) heads it and says once what the
  // run's values share (instance ….example.com:9100, job node); each line is then only what tells its alert apart
  digest_alert: [
    '{{#if heading}}{{marker}} <b>{{trunc alertname 80}}</b>{{#each identifying}}{{#if @first}} · {{else}}, {{/if}}{{trunc name 80}}',
    '{{#if whole}} {{trunc value 80}}{{else}}{{#if shared}} {{trunc prefix 80}}…{{trunc suffix 80}}{{/if}}{{/if}}{{/each}}\n{{/if}}',
    '{{#if resolved}}✅ <s>{{/if}}{{#each differing}}{{#unless @first}} · {{/unless}}{{trunc part 80}}{{else}}{{trunc alertname 80}}{{/each}}{{#if resolved}}</s>{{/if}}',
  ].join(''),
  // a silence made elsewhere (Alertmanager's UI, amtool) says who made it and why, as its author wrote it
  silence_note: [
    '{{#if ack}}✋ Acknowledged by {{trunc by 100}}: silenced until it resolves',
    '{{else}}🔕 {{#if external}}silenced{{else}}Silenced{{/if}} by {{trunc by 100}} until {{until}}{{#if comment}} — {{trunc comment 200}}{{/if}}{{/if}}',
  ].join(''),
  digest_footer: [
    '{{#if unnamed}}… and {{unnamed}} more alerts not named here{{#if unnamed_resolved}} ({{unnamed_resolved}} resolved){{/if}}{{/if}}',
    '{{#if alertmanager_url}}{{#if unnamed}}\n{{/if}}🔔 {{#if alertmanager_linkable}}<a href="{{alertmanager_url}}">{{alerts_page}}</a>{{else}}{{alerts_page}}: {{trunc alertmanager_url 200}}{{/if}}{{/if}}',
  ].join(''),
}

/**
 * escapeDeep escapes every string in a template context (keys stay as they are), in one pass. A
 * list or object with nothing to escape is returned as it is, not copied: most values need none,
 * and a storm round renders thousands of lines whose labels and annotations would each be copied.
 */
function escapeDeep(value: unknown): unknown {
  if (typeof value === 'string') return escapeHtml(value)
  if (Array.isArray(value)) {
    const escaped = value.map(escapeDeep)
    return escaped.some((item, i) => item !== value[i]) ? escaped : value
  }
  if (typeof value !== 'object' || value === null) return value
  const source = value as Record<string, unknown>
  let copy: Record<string, unknown> | undefined
  for (const key of Object.keys(source)) {
    const escaped = escapeDeep(source[key])
    if (escaped === source[key]) continue
    copy ??= { ...source }
    copy[key] = escaped
  }
  return copy ?? value
}

/** MARKUP: what only an escaped value's entities or tags hold; a value without it is already its own plain text */
const MARKUP = /[&<]/

/** onText applies a text function to an escaped value: unescape, apply, escape again. */
const onText =
  (fn: (text: string, ...args: unknown[]) => string) =>
  (value: unknown, ...args: unknown[]) =>
    typeof value === 'string' ? escapeHtml(fn(MARKUP.test(value) ? htmlToPlain(value) : value, ...args.slice(0, -1))) : value

const handlebars = Handlebars.create()
// pieces the replies share: one alert of a list (its name when the list holds several, what tells it apart, else its summary), and one alert's labels in brackets
handlebars.registerPartial(
  'reply_alert',
  '{{#if name}}<b>{{trunc name 100}}</b>{{#if identifying}} · {{/if}}{{/if}}{{#each identifying}}{{#unless @first}} · {{/unless}}{{trunc name 100}}: {{trunc value 100}}{{/each}}{{#if summary}}{{#if name}} · {{/if}}{{trunc summary 200}}{{/if}}',
)
handlebars.registerPartial(
  'reply_labels',
  '{{#each identifying}}{{#if @first}} ({{else}}, {{/if}}{{trunc name 100}}: {{trunc value 100}}{{#if @last}}){{/if}}{{/each}}',
)
handlebars.registerHelper(
  'trunc',
  onText((text, max) => (typeof max === 'number' ? cutText(text, max) : text)),
)
handlebars.registerHelper(
  'upper',
  onText((text) => text.toUpperCase()),
)
handlebars.registerHelper(
  'lower',
  onText((text) => text.toLowerCase()),
)
handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b)

/** HOSTILE_SAMPLE: values full of HTML metacharacters used to prove a template escapes them. */
const HOSTILE = '<b>&amp; "quoted" \'x\' `y` =z < > & </b>'
const HOSTILE_LABELS = [{ name: 'instance', value: HOSTILE }]
const SAMPLE_CONTEXTS: Record<TemplateName, object> = {
  header: {
    resolved: false,
    marker: '🔴',
    severity: 'critical',
    alertname: HOSTILE,
    many: true,
    count: 2,
    resolved_count: 1,
    part: 1,
    parts: 2,
    common_labels: HOSTILE_LABELS,
    summary: HOSTILE,
    description: HOSTILE,
    details: HOSTILE_LABELS,
    links: [{ title: HOSTILE, url: 'http://example.com/?a=1&b=<2>', linkable: true }],
  },
  alert: {
    many: true,
    resolved: false,
    marker: '🔴',
    severity: 'critical',
    alertname: HOSTILE,
    summary: HOSTILE,
    description: HOSTILE,
    identifying: HOSTILE_LABELS,
    labels_first: false,
    heading: { name: HOSTILE, count: 2, many: true },
    details: HOSTILE_LABELS,
    values: HOSTILE_LABELS,
    values_text: HOSTILE,
    labels: { instance: HOSTILE },
    annotations: { summary: HOSTILE },
    starts_at: '2026-01-01 00:00 UTC',
    duration: '5m',
    flaps: 4,
    flap_window: '10m',
    links: [
      { title: 'Source', url: 'http://example.com/?a=1&b=<2>', linkable: true },
      { title: HOSTILE, url: 'http://prometheus:9090/?a=<b>', linkable: false },
    ],
  },
  footer: { truncated_alerts: 3, alertmanager_url: 'http://example.com/#/alerts?filter={a="<b>"}', alertmanager_linkable: true, alerts_page: 'Alertmanager' },
  resolved_reply: {
    alertname: HOSTILE,
    many: true,
    count: 2,
    more: 1,
    alerts: [
      { name: HOSTILE, identifying: HOSTILE_LABELS, summary: HOSTILE, duration: '5m' },
      { name: '', identifying: [], summary: HOSTILE, duration: '1h' },
    ],
  },
  repeat_reply: {
    alertname: HOSTILE,
    many: true,
    count: 2,
    more: 1,
    alerts: [
      { name: HOSTILE, identifying: HOSTILE_LABELS, summary: HOSTILE, duration: '5m' },
      { name: '', identifying: [], summary: HOSTILE, duration: '1h' },
    ],
  },
  digest_header: {
    resolved_round: false,
    all_resolved: false,
    count: 3,
    part: 1,
    parts: 2,
    resolved_count: 1,
    first: true,
    by_severity: [{ marker: '🔴', severity: HOSTILE, count: 2 }],
    by_alertname: [{ name: HOSTILE, count: 2 }],
    more_alertnames: 1,
    reminders: 1,
  },
  digest_alert: {
    heading: true,
    resolved: true,
    marker: '🔴',
    severity: HOSTILE,
    alertname: HOSTILE,
    identifying: [
      { name: 'instance', value: HOSTILE, part: HOSTILE, prefix: HOSTILE, suffix: HOSTILE, shared: true, whole: false },
      { name: HOSTILE, value: HOSTILE, part: HOSTILE, prefix: '', suffix: '', shared: false, whole: true },
    ],
    differing: [{ name: 'instance', value: HOSTILE, part: HOSTILE, prefix: HOSTILE, suffix: HOSTILE, shared: true, whole: false }],
    labels: { instance: HOSTILE },
  },
  silence_note: { by: HOSTILE, until: '2026-01-01 00:00 UTC', ack: false, external: true, comment: HOSTILE },
  digest_footer: {
    unnamed: 5,
    unnamed_resolved: 1,
    alertmanager_url: 'http://example.com/#/alerts?filter={a="<b>"}',
    alertmanager_linkable: true,
    alerts_page: 'Alertmanager',
  },
}

/** TemplateError: every template that does not compile or renders HTML Telegram would refuse, one problem each, starting with its name. */
export class TemplateError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'))
  }
}

/** HandlebarsFailure: what Handlebars attaches to its own errors when it knows where they happened. */
type HandlebarsFailure = Error & { lineNumber?: number; column?: number }

/** sourceExcerpt is the template's line with a caret under the column (0-based), as an operator reads it in the YAML. */
function sourceExcerpt(source: string, line: number, column: number): string {
  const text = source.split('\n')[line - 1] ?? ''
  return `\n${text}\n${' '.repeat(Math.min(column, text.length))}^`
}

/**
 * syntaxProblem parses a template and, when it does not parse, says where: Handlebars' own words
 * with the line and column (1-based) and the line itself. A parse error's location is read from the
 * parser's lexer, which Handlebars' message leaves out ("Parse error on line 1:" and an excerpt
 * with the line breaks removed).
 */
function syntaxProblem(source: string): string | undefined {
  try {
    handlebars.parse(source)
    return undefined
  } catch (thrown) {
    const error = thrown as HandlebarsFailure
    if (error.lineNumber !== undefined && error.column !== undefined) {
      const message = error.message.replace(/ - \d+:\d+$/, '')
      return `line ${error.lineNumber}, column ${error.column + 1}: ${message}${sourceExcerpt(source, error.lineNumber, error.column)}`
    }
    const where = (handlebars as unknown as { Parser?: { lexer?: { yylloc?: { first_line: number; first_column: number } } } }).Parser?.lexer?.yylloc
    const lines = error.message.split('\n')
    const said = lines.at(-1) ?? error.message
    if (!where || lines.length < 2) return error.message
    const kind = /^Lexical error/.test(error.message) ? 'Lexical error' : 'Parse error'
    return `${kind} on line ${where.first_line}, column ${where.first_column + 1}: ${said}${sourceExcerpt(source, where.first_line, where.first_column)}`
  }
}

/** compileOne compiles one template and renders it with hostile sample values: the template, or what is wrong with it. */
function compileOne(name: TemplateName, source: string): ((context: object) => string) | { problem: string } {
  const syntax = syntaxProblem(source)
  if (syntax) return { problem: syntax }
  let template: (context: object) => string
  let sample: string
  try {
    const render = handlebars.compile(source, { noEscape: true, strict: false, preventIndent: true })
    template = (context) => render(escapeDeep(context))
    sample = template(SAMPLE_CONTEXTS[name])
  } catch (error) {
    // what fails only when rendering: a missing partial or helper, #each without a list
    return { problem: (error as Error).message }
  }
  const parsed = parseHtml(sample)
  if (!parsed.ok) return { problem: `renders HTML Telegram would refuse: ${parsed.error}` }
  return template
}

/**
 * compileTemplates compiles the default templates with the operator's overrides, or throws a
 * TemplateError naming every template that does not compile or renders HTML Telegram would refuse.
 */
export function compileTemplates(overrides: Partial<Record<TemplateName, string>>): CompiledTemplates {
  const compiled = {} as CompiledTemplates
  const problems: string[] = []
  for (const name of Object.keys(DEFAULT_TEMPLATES) as TemplateName[]) {
    const result = compileOne(name, overrides[name] ?? DEFAULT_TEMPLATES[name])
    if (typeof result === 'function') compiled[name] = result
    else problems.push(`${name}: ${result.problem}`)
  }
  if (problems.length > 0) throw new TemplateError(problems)
  return compiled
}
