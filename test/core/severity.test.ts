import t from 'tap'
import { compileSeverities, DEFAULT_HEARTBEATS, DEFAULT_LEVELS, levelOf, mostSevere, severityOf } from '../../src/core/severity.js'

const { scheme, errors } = compileSeverities(DEFAULT_LEVELS, { 'sev-a': 'Critical' }, DEFAULT_HEARTBEATS)

t.test('the default levels: severity as people write it', async (t) => {
  t.same(errors, [])
  // [labels, level, written, marker]
  const rows: [Record<string, string>, string, string, string][] = [
    [{ severity: 'critical' }, 'critical', 'critical', '🔴'],
    [{ severity: 'Critical' }, 'critical', 'Critical', '🔴'],
    [{ severity: 'CRITICAL' }, 'critical', 'CRITICAL', '🔴'],
    [{ severity: ' critical ' }, 'critical', 'critical', '🔴'],
    [{ severity: 'P1' }, 'critical', 'P1', '🔴'],
    [{ severity: 'page' }, 'critical', 'page', '🔴'],
    [{ severity: 'sev-a' }, 'critical', 'sev-a', '🔴'],
    [{ severity: 'P2' }, 'error', 'P2', '🔴'],
    [{ severity: 'Error' }, 'error', 'Error', '🔴'],
    [{ severity: 'WARNING' }, 'warning', 'WARNING', '🟠'],
    [{ severity: 'warn' }, 'warning', 'warn', '🟠'],
    [{ severity: 'p3' }, 'warning', 'p3', '🟠'],
    [{ severity: 'Info' }, 'info', 'Info', '🔵'],
    [{ severity: 'P4' }, 'info', 'P4', '🔵'],
    [{ severity: 'P5' }, 'info', 'P5', '🔵'],
    [{ severity: 'none' }, 'none', 'none', '⚪'],
    [{ alertname: 'Watchdog', severity: 'none' }, 'none', 'none', '⚪'],
    [{ alertname: 'Watchdog', severity: 'critical' }, 'none', 'critical', '⚪'],
    [{ alertname: 'DeadMansSnitch' }, 'none', '', '⚪'],
    [{ alertname: 'watchdog', severity: 'critical' }, 'critical', 'critical', '🔴'],
    [{ severity: 'whatever' }, 'whatever', 'whatever', '⚪'],
    [{ severity: 'constructor' }, 'constructor', 'constructor', '⚪'],
    [{ severity: '__proto__' }, '__proto__', '__proto__', '⚪'],
    [{}, '', '', '⚪'],
    [{ severity: '' }, '', '', '⚪'],
  ]
  for (const [labels, level, written, marker] of rows) {
    const severity = severityOf(labels, scheme)
    t.same([severity.level, severity.written, severity.marker], [level, written, marker], JSON.stringify(labels))
  }
})

t.test('unknown and missing severities sort after every level', async (t) => {
  t.ok(severityOf({ severity: 'none' }, scheme).rank < severityOf({ severity: 'whatever' }, scheme).rank)
  t.equal(severityOf({}, scheme).rank, severityOf({ severity: 'whatever' }, scheme).rank)
  t.equal(mostSevere([{ severity: 'info' }, { severity: 'P1' }, {}], scheme).written, 'P1')
  t.equal(mostSevere([], scheme).level, '')
})

t.test('configured values are read as levels, so policy matches however the alert writes it', async (t) => {
  t.equal(levelOf('Warning', scheme), 'warning')
  t.equal(levelOf('P1', scheme), 'critical')
  t.equal(levelOf('Custom', scheme), 'custom', 'a value no level knows still matches itself, in any case')
})

t.test('the YAML can add levels and aliases; ambiguity and unknown targets are errors', async (t) => {
  const custom = compileSeverities({ disaster: { marker: '💥', rank: 0, aliases: ['DISASTER-1'] }, low: { marker: '🟢', rank: 5 } }, { minor: 'low' }, [])
  t.same(custom.errors, [])
  t.equal(severityOf({ severity: 'disaster-1' }, custom.scheme).marker, '💥')
  t.equal(severityOf({ severity: 'MINOR' }, custom.scheme).level, 'low')
  t.equal(severityOf({ alertname: 'Watchdog' }, custom.scheme).level, '', 'no heartbeats configured: an ordinary alert')
  const bad = compileSeverities({ a: { marker: 'a', rank: 0, aliases: ['x'] }, b: { marker: 'b', rank: 1, aliases: ['X'] } }, { y: 'nope' }, [])
  t.same(bad.errors, ['severities.b.aliases: "X" already means a', 'severity_aliases.y: no severity level "nope" (levels: a, b)'])
})
