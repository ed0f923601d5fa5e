/**
 * Load generator, run as its own process so it never shares an event loop with the server it
 * measures. Posts Alertmanager webhooks (a distinct alert in each) and prints autocannon's figures
 * as one JSON line. Usage: load.ts '{"url":..., "token":..., "connections":..., "seconds":..., "rate"?:...}'
 */
import autocannon from 'autocannon'

interface LoadOptions {
  url: string
  token: string
  connections: number
  seconds: number
  /** requests per second overall; unset: as fast as the server answers */
  rate?: number
  tag: string
}

const options = JSON.parse(process.argv[2]!) as LoadOptions
let sequence = 0

/** body builds a notification with one alert no earlier request carried. */
function body(): string {
  const n = sequence++
  const fingerprint = `${options.tag}${n.toString(16).padStart(10, '0')}`
  return JSON.stringify({
    receiver: 'telegram',
    status: 'firing',
    version: '4',
    groupKey: `{}:{alertname="Bench",instance="i${n}"}`,
    truncatedAlerts: 0,
    groupLabels: { alertname: 'Bench', instance: `i${n}` },
    commonLabels: { alertname: 'Bench' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'Bench', severity: 'warning', instance: `host-${n}.example.com:9100`, job: 'node' },
        annotations: { summary: `bench alert ${n}`, description: 'load test' },
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example.com/graph',
        fingerprint,
      },
    ],
  })
}

const result = await autocannon({
  url: `${options.url}/alerts`,
  method: 'POST',
  connections: options.connections,
  duration: options.seconds,
  ...(options.rate ? { overallRate: options.rate } : {}),
  headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
  requests: [{ setupRequest: (request) => ({ ...request, body: body() }) }],
})
process.stdout.write(
  `${JSON.stringify({
    requestsPerSecond: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  })}\n`,
)
