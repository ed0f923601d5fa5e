import t from 'tap'
import { routeAlert } from '../../src/core/route.js'
import { testConfig } from '../helpers/config.js'

const config = testConfig(`
telegram: {chat_id: -100}
routing:
  silent_severities: [info]
  routes:
    - name: db
      matchers: ['team="db"']
      chats: [{chat_id: -200, thread_id: 3}, {chat_id: 42}]
      silent_severities: [warning]
      continue: true
    - name: db-critical-oncall
      matchers: ['team="db"', 'severity="critical"']
      chats: [{chat_id: 43}]
    - name: web
      matchers: ['service=~"web|api"']
    - name: never
      matchers: ['service="web"']
      chats: [{chat_id: -999}]
`)

t.test('routes pick chats in order, continue when told, and fall back to the default chat', async (t) => {
  const route = (labels: Record<string, string>) =>
    routeAlert(config.routing, labels).map(
      (r) =>
        `${r.route}:${r.chat.chatId}${r.chat.threadId ? `#${r.chat.threadId}` : ''}${r.policy.silentSeverities.has(labels.severity ?? '') ? ':silent' : ''}`,
    )
  t.same(route({ team: 'db', severity: 'warning' }), ['db:-200#3:silent', 'db:42:silent'], 'a route with two chats, its own silent severities')
  t.same(route({ team: 'db', severity: 'critical' }), ['db:-200#3', 'db:42', 'db-critical-oncall:43'], 'continue: true goes on to the next match')
  t.same(route({ service: 'web', severity: 'info' }), ['web:-100:silent'], 'a route without chats uses the default chat; first match stops')
  t.same(route({ service: 'batch', severity: 'critical' }), ['default:-100'], 'nothing matched: the default chat')
  t.same(route({ service: 'batch', severity: 'info' }), ['default:-100:silent'])
  t.same(routeAlert(testConfig('').routing, { a: 'b' }), [], 'no default chat and no route: nowhere (counted as unrouted)')
})

t.test('chat kinds decide the pace class', async (t) => {
  const targets = routeAlert(config.routing, { team: 'db' })
  t.same(
    targets.map((r) => r.chat.kind),
    ['group', 'private'],
  )
})
