import t from 'tap'
import { compileTemplates } from '../../src/core/templates.js'
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
