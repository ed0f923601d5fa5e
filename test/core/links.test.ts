import t from 'tap'
import { alertLinks, alertsPageLink, isUrl } from '../../src/core/links.js'

const notHidden = () => false

t.test('an alert links its source, runbook first, dashboards next, then any URL annotation', async (t) => {
  const links = alertLinks(
    {
      generatorURL: 'http://prometheus.example.com/graph?g0.expr=up',
      annotations: {
        wiki: 'https://wiki.example.com/x',
        dashboard_url: 'https://grafana.example.com/d/1',
        runbook_url: 'https://runbooks.example.com/x',
        summary: 'not a link',
        logs_link: 'https://logs.example.com/?q=1',
        runbook: 'https://runbooks.example.com/x',
      },
    },
    notHidden,
  )
  t.same(
    links.map((l) => l.title),
    ['Source', 'Runbook', 'Dashboard', 'Logs', 'Wiki'],
    'the same URL twice is one link',
  )
})

t.test("Grafana's links: dashboard, panel, silence, image", async (t) => {
  const links = alertLinks(
    {
      annotations: {},
      grafana: {
        dashboardURL: 'https://grafana.example.com/d/abc',
        panelURL: 'https://grafana.example.com/d/abc?viewPanel=2',
        silenceURL: 'https://grafana.example.com/alerting/silence/new',
        imageURL: 'https://grafana.example.com/img/x.png',
      },
    },
    notHidden,
  )
  t.same(
    links.map((l) => l.title),
    ['Dashboard', 'Panel', 'Silence', 'Image'],
  )
})

t.test('what Telegram would not link is marked, what is no URL is no link', async (t) => {
  const [internal] = alertLinks({ generatorURL: 'http://prometheus:9090/graph', annotations: {} }, notHidden)
  t.equal(internal!.linkable, false)
  t.same(alertLinks({ generatorURL: 'javascript:alert(1)', annotations: { runbook_url: 'ftp://x.example.com' } }, notHidden), [])
  t.ok(isUrl(' https://x.example.com/a '))
  t.notOk(isUrl('see https://x.example.com/a'))
})

t.test("the footer links the alerts where they live: Alertmanager's filtered list, or Grafana's alert list", async (t) => {
  t.equal(alertsPageLink('https://am.example.com/', 'alertmanager', ['A'])!.url, 'https://am.example.com/#/alerts?filter=%7Balertname%3D%22A%22%7D')
  t.equal(alertsPageLink('https://am.example.com', 'alertmanager', ['A', 'B'])!.url, 'https://am.example.com/#/alerts')
  t.same(alertsPageLink('https://grafana.example.com/', 'grafana', ['A']), {
    title: 'Grafana',
    url: 'https://grafana.example.com/alerting/list',
    linkable: true,
  })
  t.equal(alertsPageLink('http://alertmanager:9093', 'alertmanager', ['A'])!.linkable, false)
  t.equal(alertsPageLink('', 'alertmanager', []), undefined)
})
