import t from 'tap'
import { labelsFingerprint } from '../../src/core/fingerprint.js'

/** hex writes prometheus/common's decimal test values as Alertmanager prints fingerprints (%016x). */
const hex = (decimal: string) => BigInt(decimal).toString(16).padStart(16, '0')

t.test("prometheus/common's own test values (model/signature_test.go: labelSetToFingerprint)", async (t) => {
  const rows: [Record<string, string>, string][] = [
    [{}, hex('14695981039346656037')],
    [{ name: 'garland, briggs', fear: 'love is not enough' }, hex('5799056148416392346')],
    [{ 'first-label': 'first-label-value' }, hex('5146282821936882169')],
    [{ 'first-label': 'first-label-value', 'second-label': 'second-label-value' }, hex('3195800080984914717')],
    [{ 'first-label': 'first-label-value', 'second-label': 'second-label-value', 'third-label': 'third-label-value' }, hex('13843036195897128121')],
  ]
  for (const [labels, fingerprint] of rows) t.equal(labelsFingerprint(labels), fingerprint, JSON.stringify(labels))
  t.equal(hex('14695981039346656037'), 'cbf29ce484222325', 'the empty set is the FNV-1a offset basis')
})

t.test('fingerprints a real Alertmanager computed (prometheus-alertmanager 0.25, GET /api/v2/alerts)', async (t) => {
  // recorded by posting these label sets to a real Alertmanager; test/integration/intake.test.ts checks live ones
  const rows: [Record<string, string>, string][] = [
    [{ alertname: 'HighLatency', instance: 'web-1:9100', severity: 'critical' }, '8a4c4b3e2317bf4f'],
    [
      { alertname: 'KubePodCrashLooping', namespace: 'payments', pod: 'api-7d9c4f-x2ktp', container: 'api', job: 'kube-state-metrics', severity: 'warning' },
      'f654d472c0814d9e',
    ],
    [{ alertname: 'Watchdog', severity: 'none' }, '448881ef475b9b26'],
    // UTF-8 values: bytes are hashed, not UTF-16 units (the emoji is outside the BMP)
    [{ alertname: 'Unicode', summary_fr: 'disque plein à 95 %', emoji: '🔥 fire', cjk: '磁盘已满', rtl: 'שלום' }, 'cc587ad50ee058c3'],
    // names in byte order: upper case, digits and _ before lower case
    [{ B: 'upper', a: 'lower', _x: 'underscore', Z9: 'digit', alertname: 'Order' }, '43d0077393a1de61'],
    [{ alertname: 'Quotes', q: 'say "hi" \\ back', nl: 'line\nbreak' }, '2446818d57c2ae66'],
    [{ alertname: 'Empty' }, '84b8408c04466701'],
  ]
  for (const [labels, fingerprint] of rows) t.equal(labelsFingerprint(labels), fingerprint, JSON.stringify(labels))
})

t.test('the order labels arrive in does not matter; every name and value does', async (t) => {
  const a = labelsFingerprint({ alertname: 'X', instance: 'a', job: 'b' })
  t.equal(labelsFingerprint({ job: 'b', instance: 'a', alertname: 'X' }), a)
  t.not(labelsFingerprint({ alertname: 'X', instance: 'a', job: 'c' }), a)
  // the separator keeps "ab"+"c" apart from "a"+"bc"
  t.not(labelsFingerprint({ ab: 'c' }), labelsFingerprint({ a: 'bc' }))
  t.match(labelsFingerprint({ big: 'x'.repeat(200_000) }), /^[0-9a-f]{16}$/, 'a 200 KB value hashes to 16 hex digits')
})
