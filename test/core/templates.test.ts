import t from 'tap'
import { compileTemplates, TemplateError } from '../../src/core/templates.js'
import { packAlerts, renderMessage } from '../../src/core/render.js'
import { parseHtml } from '../../src/core/html.js'
import { batchOptions } from '../../src/config/slices.js'
import { testConfig } from '../helpers/config.js'

t.test('operators reword messages from YAML, and values stay escaped even in {{{triple}}} braces', async (t) => {
  const config = testConfig(`
messages:
  templates:
    header: '{{marker}} {{upper alertname}} ({{count}})'
    alert: '{{{summary}}} on <code>{{labels.instance}}</code> · {{trunc description 5}}'
    footer: ''
`)
  const options = batchOptions(config, Date.parse('2026-11-24T23:10:00Z'))
  const [content] = packAlerts(
    {
      alerts: [
        {
          fingerprint: 'f',
          status: 'firing',
          labels: { alertname: 'a<b', severity: 'critical', instance: '<i>' },
          annotations: { summary: '<b>boom</b>', description: '&&&&&&&&' },
          startsAt: '2026-11-24T23:00:00Z',
        },
      ],
      externalURL: '',
      truncatedAlerts: 0,
    },
    options,
  )
  const { html, plain } = renderMessage(content!, options)
  t.ok(parseHtml(html).ok, html)
  t.equal(plain, '🔴 A<B (1)\n\n<b>boom</b> on <i> · &&&&…')
})

t.test('a template that does not compile or renders refused HTML is a config error', async (t) => {
  t.throws(() => compileTemplates({ alert: '<b>{{summary}}' }), /^alert: renders HTML Telegram would refuse/)
  t.throws(() => compileTemplates({ footer: '{{#each}}' }), /^footer: /)
  t.doesNotThrow(() => compileTemplates({}))
})

t.test('every bad template is reported, each with the whole message and, for syntax, the line and column', async (t) => {
  let error: unknown
  try {
    compileTemplates({
      header: 'first line\n  {{#if resolved}}open',
      alert: '{{#if a}}x{{/unless}}',
      footer: '{{> no_such_partial}}',
      digest_alert: '<b>{{alertname}}',
      silence_note: 'by {{by}',
    })
  } catch (thrown) {
    error = thrown
  }
  if (!(error instanceof TemplateError)) return t.fail('a TemplateError')
  t.same(error.problems, [
    "header: Parse error on line 2, column 23: Expecting 'OPEN_INVERSE_CHAIN', 'INVERSE', 'OPEN_ENDBLOCK', got 'EOF'\n  {{#if resolved}}open\n                      ^",
    "alert: line 1, column 4: if doesn't match unless\n{{#if a}}x{{/unless}}\n   ^",
    'footer: The partial no_such_partial could not be found',
    'digest_alert: renders HTML Telegram would refuse: tag "b" is never closed',
    "silence_note: Parse error on line 1, column 8: Expecting 'CLOSE_RAW_BLOCK', 'CLOSE', 'CLOSE_UNESCAPED', 'OPEN_SEXPR', 'CLOSE_SEXPR', 'ID', 'OPEN_BLOCK_PARAMS', 'STRING', 'NUMBER', 'BOOLEAN', 'UNDEFINED', 'NULL', 'DATA', 'SEP', got 'INVALID'\nby {{by}\n       ^",
  ])
  t.match(error.message, /^header: Parse error on line 2/, 'the message lists them too')
})
