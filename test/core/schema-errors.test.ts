/** Where a schema error is, in the words an operator reads: one table for the config, the webhook and Alertmanager's answers. */
import t from 'tap'
import { issueFields, pathText } from '../../src/core/schema-errors.js'

t.test('pathText: JSON pointers and path parts as operators write them', async (t) => {
  const rows: [Parameters<typeof pathText>[0], string][] = [
    ['', ''],
    ['/routes/2/per', 'routes[2].per'],
    ['/0/status/state', '[0].status.state'],
    ['/labels/a~1b~0c', 'labels.a/b~c'],
    [['routing', 'routes', 0, 'chats', 1], 'routing.routes[0].chats[1]'],
  ]
  for (const [pointer, text] of rows) t.equal(pathText(pointer), text, JSON.stringify(pointer))
})

t.test('issueFields: the field at the path, or the missing ones as Ajv and TypeBox name them', async (t) => {
  const rows: [string, Parameters<typeof issueFields>[0], string[]][] = [
    ['a wrong value', { instancePath: '/alerts/0/status', params: { allowedValues: ['firing', 'resolved'] } }, ['alerts[0].status']],
    ['the whole document', { instancePath: '', params: { type: 'object' } }, ['']],
    ['Ajv: one missing property', { instancePath: '/alerts/0', keyword: 'required', params: { missingProperty: 'fingerprint' } }, ['alerts[0].fingerprint']],
    ['Ajv: missing at the top', { instancePath: '', keyword: 'required', params: { missingProperty: 'groupKey' } }, ['groupKey']],
    [
      'TypeBox: several missing',
      { instancePath: '/0', keyword: 'required', params: { requiredProperties: ['createdBy', 'comment'] } },
      ['[0].createdBy', '[0].comment'],
    ],
  ]
  for (const [name, issue, fields] of rows) t.same(issueFields(issue), fields, name)
})
