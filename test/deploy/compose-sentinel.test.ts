/**
 * The Sentinel variant of the stack (deploy/docker-compose.sentinel.yml on top of the main file)
 * passes `docker-compose config`, runs a replica and three sentinels that monitor the stack's Redis
 * under the name alertwire is given, and the environment it gives alertwire makes a valid config
 * that reaches Redis through the sentinels, with a replica confirming every 2xx.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import YAML from 'yaml'
import { parseConfig } from '../../src/config/parse.js'
import { runCommand } from '../helpers/processes.js'

const DEPLOY = join(process.cwd(), 'deploy')

interface Service {
  command?: string[]
  environment?: Record<string, string>
  healthcheck?: { test: string[] }
  volumes?: (string | { source: string; target: string })[]
  depends_on?: Record<string, { condition: string }>
}

t.test('docker-compose config: the Sentinel variant of the stack', async (t) => {
  const files = ['-f', join(DEPLOY, 'docker-compose.yml'), '-f', join(DEPLOY, 'docker-compose.sentinel.yml'), '--env-file', join(DEPLOY, '.env.example')]
  const result = await runCommand('docker-compose', [...files, 'config'], 60_000)
  t.equal(result.code, 0, result.code === 0 ? 'valid' : result.output)
  const { services, volumes } = YAML.parse(result.output) as { services: Record<string, Service>; volumes: Record<string, unknown> }
  for (const name of ['redis', 'redis-replica', 'sentinel-1', 'sentinel-2', 'sentinel-3', 'alertwire']) {
    t.ok(services[name]?.healthcheck?.test?.length, `${name} runs, with a healthcheck`)
  }
  t.match(services['redis-replica']!.command!.join(' '), /--replicaof redis 6379/, 'the replica follows the stack Redis')
  t.ok(
    (services['redis-replica']!.volumes ?? []).some((v) => (typeof v === 'string' ? v.startsWith('redis-replica-data:') : v.source === 'redis-replica-data')) &&
      'redis-replica-data' in volumes,
    'the replica keeps its data on a volume',
  )
  const sentinel = services['sentinel-1']!.command!.join(' ')
  const env = services.alertwire!.environment!
  t.match(sentinel, new RegExp(`sentinel monitor ${env.REDIS_SENTINEL_NAME} redis 6379 2`), 'the sentinels watch the name alertwire asks for, quorum 2')
  t.match(sentinel, /resolve-hostnames yes/, 'service names, not container addresses that change on restart')
  t.same(Object.keys(services.alertwire!.depends_on ?? {}).sort(), ['redis', 'sentinel-1', 'sentinel-2', 'sentinel-3'])

  // what alertwire makes of the stack's config with this environment (the secret file stands in)
  const config = parseConfig(readFileSync(join(DEPLOY, 'alertwire/alertwire.yaml'), 'utf8'), { env, readSecret: () => 'token' })
  if (!config.ok) return t.fail(config.errors.join('\n'))
  t.equal(config.config.redis.url, undefined, "the sentinels replace the file's redis.url")
  t.same(
    config.config.redis.sentinel?.sentinels.map((s) => `${s.host}:${s.port}`),
    ['sentinel-1:26379', 'sentinel-2:26379', 'sentinel-3:26379'],
  )
  t.equal(config.config.redis.minReplicasAcked, 1, 'a 2xx waits for the replica')
})
