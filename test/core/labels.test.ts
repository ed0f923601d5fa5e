import t from 'tap'
import {
  compileLabelDisplay,
  DEFAULT_HIDDEN_ANNOTATIONS,
  DEFAULT_HIDDEN_LABELS,
  distinguishingLabels,
  extraAnnotations,
  headerLabels,
  isHidden,
  sharedLabels,
} from '../../src/core/labels.js'
import { isUrl } from '../../src/core/links.js'
import { kubeStateLabels } from '../helpers/kube.js'

const { display, errors } = compileLabelDisplay(DEFAULT_HIDDEN_LABELS, DEFAULT_HIDDEN_ANNOTATIONS)

const crashLooping = (pod: string) => kubeStateLabels(pod)

t.test('the default list hides well-known noise, and only where it is noise', async (t) => {
  t.same(errors, [])
  const rows: [string, Record<string, string>, boolean][] = [
    ['prometheus', { prometheus: 'monitoring/k8s' }, true],
    ['endpoint', {}, true],
    ['id', {}, true],
    ['image_id', {}, true],
    ['__alert_rule_uid__', {}, true],
    ['instance', { job: 'kube-state-metrics' }, true],
    ['service', { job: 'kube-state-metrics' }, true],
    ['instance', { job: 'node' }, false],
    ['service', { job: 'blackbox' }, false],
    ['name', { job: 'kubelet' }, true],
    ['name', { job: 'node' }, false],
    ['pod', { job: 'kube-state-metrics' }, false],
    ['namespace', {}, false],
  ]
  for (const [name, labels, hidden] of rows) t.equal(isHidden(name, labels, display), hidden, `${name} ${JSON.stringify(labels)}`)
})

t.test('shared labels are said once; each alert shows only what tells it apart', async (t) => {
  const a = crashLooping('api-1')
  const b = crashLooping('api-2')
  const shared = sharedLabels([a, b])
  t.same(headerLabels(shared, a, display), [
    { name: 'container', value: 'api' },
    { name: 'namespace', value: 'payments' },
    { name: 'reason', value: 'CrashLoopBackOff' },
  ])
  t.same(distinguishingLabels(a, shared, display, true), [{ name: 'pod', value: 'api-1' }], 'of 11 labels, the pod')
  t.same(sharedLabels([a]), [], 'a single alert says its labels itself')
  t.same(
    distinguishingLabels(a, [], display, false).map((l) => l.name),
    ['container', 'namespace', 'pod', 'reason'],
    'alone, it shows everything but noise',
  )
})

t.test('a hidden label is shown when it alone tells alerts apart', async (t) => {
  const a = { alertname: 'TargetDown', job: 'kube-state-metrics', instance: '10.0.0.1:8080' }
  const b = { alertname: 'TargetDown', job: 'kube-state-metrics', instance: '10.0.0.2:8080' }
  const shared = sharedLabels([a, b])
  t.same(distinguishingLabels(a, shared, display, true), [{ name: 'instance', value: '10.0.0.1:8080' }])
})

t.test('annotations: everything beyond title and text is shown, except links and hidden ones', async (t) => {
  const annotations = {
    summary: 's',
    description: 'd',
    impact: 'checkout fails',
    runbook_url: 'https://runbooks.example/x',
    __dashboardUid__: 'abc',
    empty: ' ',
    note: 'see https://example.com/x for more',
  }
  t.same(extraAnnotations(annotations, ['summary', 'description'], display, isUrl), [
    { name: 'impact', value: 'checkout fails' },
    { name: 'note', value: 'see https://example.com/x for more' },
  ])
})

t.test('the YAML may hide by glob and by condition; a bad condition names its place', async (t) => {
  const custom = compileLabelDisplay(['team_*', { labels: ['pod'], when: ['namespace=~"kube-.*"'] }], [])
  t.same(custom.errors, [])
  t.ok(isHidden('team_owner', {}, custom.display))
  t.notOk(isHidden('team', {}, custom.display))
  t.ok(isHidden('pod', { namespace: 'kube-system' }, custom.display))
  t.notOk(isHidden('pod', { namespace: 'payments' }, custom.display))
  t.notOk(isHidden('prometheus', {}, custom.display), 'the list replaces the default')
  const bad = compileLabelDisplay([{ labels: ['x'], when: ['not a matcher'] }], [])
  t.match(bad.errors, [/^messages\.hide_labels\[0\]\.when\[0\]: expected a matcher/])
})
