/**
 * The house in floors, enforced: a room imports only from the floors below it, the core imports
 * no adapter, and nothing imports in a circle. `npm run lint` runs it; CI fails on any violation.
 *
 *   floor 6  src/main.ts
 *   floor 5  src/app.ts
 *   floor 4  src/plugins/
 *   floor 3  src/workers/ src/bot/ src/receiver/ src/cli/   (executors; cli: operator commands)
 *   floor 2  src/store/ src/telegram/ src/alertmanager/ src/runtime/ src/prometheus/ src/charts/   (adapters)
 *   floor 1  src/config/ src/metrics.ts src/log.ts
 *   floor 0  src/core/   (pure: no adapter, no I/O library)
 */
const floors = [
  ['^src/core/'],
  ['^src/config/', '^src/metrics[.]ts$', '^src/log[.]ts$'],
  ['^src/store/', '^src/telegram/', '^src/alertmanager/', '^src/runtime/', '^src/prometheus/', '^src/charts/'],
  ['^src/workers/', '^src/bot/', '^src/receiver/', '^src/cli/'],
  ['^src/plugins/'],
  ['^src/app[.]ts$'],
  ['^src/main[.]ts$'],
]

/** each floor may not import any floor above it */
const noUpward = floors.slice(0, -1).map((paths, i) => ({
  name: `floor-${i}-imports-no-floor-above`,
  comment: `${paths.join(', ')} is on floor ${i}: it may import only from floors 0..${i}`,
  severity: 'error',
  from: { path: paths },
  to: { path: floors.slice(i + 1).flat() },
}))

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import circle ties rooms that should stand apart',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-no-adapter',
      comment: 'the core is pure: it decides, adapters at the edges do the I/O',
      severity: 'error',
      from: { path: '^src/core/' },
      to: {
        path: [
          '^src/(?!core/)',
          'node_modules/(fastify|@fastify|fastify-plugin|ioredis|bullmq|node-telegram-bot-api|pino|prom-client|close-with-grace)/',
        ],
      },
    },
    {
      name: 'core-does-no-io',
      comment: 'the core takes its clock and randomness as parameters and touches no file, network or process',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(fs|net|http|https|child_process|dgram|dns|tls|worker_threads|cluster)(/|$)' },
    },
    ...noUpward,
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.d.ts'] },
  },
}
