import t from 'tap'
import { formatDuration, parseDuration, parseSize } from '../../src/core/duration.js'

t.test('parseDuration reads Prometheus-style durations', async (t) => {
  const cases: [string, number | undefined][] = [
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['4h', 14_400_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['fast', undefined],
    ['10', undefined],
    ['-1s', undefined],
    ['', undefined],
    ['1 m', undefined],
  ]
  for (const [text, ms] of cases) t.equal(parseDuration(text), ms, text)
})

t.test('formatDuration reads like a person would say it', async (t) => {
  const cases: [number, string][] = [
    [0, '0ms'],
    [800, '800ms'],
    [65_000, '1m 5s'],
    [3_600_000, '1h'],
    [90_061_000, '1d 1h'],
    [-5, '0ms'],
  ]
  for (const [ms, text] of cases) t.equal(formatDuration(ms), text, String(ms))
})

t.test('parseSize reads byte sizes', async (t) => {
  const cases: [string, number | undefined][] = [
    ['10MiB', 10_485_760],
    ['512KiB', 524_288],
    ['1MB', 1_000_000],
    ['1048576', 1_048_576],
    ['10 MiB', 10_485_760],
    ['big', undefined],
    ['10XB', undefined],
  ]
  for (const [text, bytes] of cases) t.equal(parseSize(text), bytes, text)
})
