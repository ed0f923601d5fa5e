import t from 'tap'
import { postWebhook, queuedNotifications, startTestApp, webhook, WEBHOOK_TOKEN } from '../helpers/app.js'
import { startPrivateRedis } from '../helpers/redis.js'

/** stored counts the notifications in the queue (the apps here are not started: no planner takes them). */
async function stored(app: Awaited<ReturnType<typeof startTestApp>>['app']): Promise<number> {
  return (await queuedNotifications(app)).length
}

t.test('the webhook requires credentials and stores nothing without them', async (t) => {
  // not started: no planner takes the notification away, so the queue shows exactly what was stored
  const fresh = await startTestApp(t, { start: false })
  const inject = (headers: Record<string, string>) =>
    fresh.app.server.inject({ method: 'POST', url: '/alerts', headers: { 'content-type': 'application/json', ...headers }, payload: webhook() })
  for (const headers of [
    {} as Record<string, string>,
    { authorization: 'Bearer wrong' },
    { authorization: `Bearer ${WEBHOOK_TOKEN}x` },
    { authorization: WEBHOOK_TOKEN },
    { authorization: `Basic ${Buffer.from(`x:${WEBHOOK_TOKEN}`).toString('base64')}` },
  ]) {
    const response = await inject(headers)
    t.equal(response.statusCode, 401, JSON.stringify(headers))
    t.match(response.json(), { error: 'unauthorized', message: /credentials/ })
  }
  t.equal(await stored(fresh.app), 0, 'nothing stored from a refused request')
  const ok = await inject({ authorization: `Bearer ${WEBHOOK_TOKEN}` })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { status: 'accepted', alerts: 1 })
  t.equal(await stored(fresh.app), 1, '2xx only once the notification is in Redis')
})

t.test('basic auth works, and so does explicitly turning auth off', async (t) => {
  const basic = await startTestApp(t, {
    start: false,
    yaml: 'webhook: {basic_auth: {username: am, password: "s3cret pass"}}',
    env: { ALERTWIRE_WEBHOOK_TOKEN: undefined },
  })
  const send = (app: typeof basic.app, authorization?: string) =>
    app.server.inject({
      method: 'POST',
      url: '/alerts',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      payload: webhook(),
    })
  t.equal((await send(basic.app, `Basic ${Buffer.from('am:s3cret pass').toString('base64')}`)).statusCode, 200)
  t.equal((await send(basic.app, `Basic ${Buffer.from('am:wrong').toString('base64')}`)).statusCode, 401)
  t.equal((await send(basic.app, `Basic ${Buffer.from('eve:s3cret pass').toString('base64')}`)).statusCode, 401)
  t.equal((await send(basic.app, 'Basic !!!notbase64')).statusCode, 401)
  const open = await startTestApp(t, { start: false, yaml: 'webhook: {allow_unauthenticated: true}', env: { ALERTWIRE_WEBHOOK_TOKEN: undefined } })
  t.equal((await send(open.app)).statusCode, 200)
})

t.test('a body no alert can be read from gets 400 naming the field, and changes nothing', async (t) => {
  const { app } = await startTestApp(t, { start: false })
  const send = (payload: string | object) =>
    app.server.inject({ method: 'POST', url: '/alerts', headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` }, payload })
  const good = webhook()
  const alert = good.alerts[0] as Record<string, unknown>
  const cases: [string | object, RegExp][] = [
    ['{"receiver": ', /JSON/i],
    [{ ...good, alerts: [{ ...alert, labels: undefined }] }, /^alerts\[0\]\.labels: is missing$/],
    [{ ...good, alerts: [{ ...alert, labels: 'alertname=X' }] }, /^alerts\[0\]\.labels: must be object$/],
    [{ ...good, alerts: [{ ...alert, labels: { a: { b: 1 } } }] }, /^alerts\[0\]\.labels\.a: must be string, number, boolean or null$/],
    [{ ...good, alerts: [7, null] }, /^alerts\[0\]: must be object \(none of the 2 alerts can be read\)$/],
    [{ ...good, alerts: [] }, /^alerts: /],
    [{ ...good, alerts: undefined }, /^alerts: /],
    [{ ...good, groupKey: { a: 1 } }, /^groupKey: must be string, number, boolean or null$/],
    [{ ...good, commonLabels: [] }, /^commonLabels: must be object or null$/],
    [[1, 2], /^body: /],
  ]
  for (const [payload, message] of cases) {
    const response = await send(payload)
    t.equal(response.statusCode, 400, JSON.stringify(payload).slice(0, 80))
    t.match(response.json().message, message)
  }
  t.equal(await stored(app), 0)
  const extra = await send({ ...good, somethingNew: { nested: true }, alerts: [{ ...alert, newField: 1 }] })
  t.equal(extra.statusCode, 200, 'fields added by newer Alertmanagers are accepted')
  const wrongType = await app.server.inject({
    method: 'POST',
    url: '/alerts',
    headers: { 'content-type': 'text/plain', authorization: `Bearer ${WEBHOOK_TOKEN}` },
    payload: 'x',
  })
  t.equal(wrongType.statusCode, 400, 'a text body is not a notification')
  t.match(wrongType.json().message, /^body: must be object/)
})

t.test('what older senders and hand-made bodies leave out or write differently is accepted and stored', async (t) => {
  const { app } = await startTestApp(t, { start: false })
  const send = (payload: object) =>
    app.server.inject({ method: 'POST', url: '/alerts', headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` }, payload })
  const good = webhook()
  const alert = good.alerts[0] as Record<string, unknown>
  const bodies: [string, object][] = [
    ['no fingerprint', { ...good, alerts: [{ ...alert, fingerprint: undefined }] }],
    ['a fingerprint that cannot enter a key', { ...good, alerts: [{ ...alert, fingerprint: 'a:b' }] }],
    ['no alert status', { ...good, alerts: [{ ...alert, status: undefined }] }],
    ['a status word alertwire does not know', { ...good, alerts: [{ ...alert, status: 'burning' }] }],
    ['numbers: version, groupKey, a label', { ...good, version: 4, groupKey: 42, alerts: [{ ...alert, labels: { alertname: 'X', port: 9100 } }] }],
    ['no version, groupKey or receiver', { ...good, version: undefined, groupKey: undefined, receiver: undefined }],
    ['a startsAt that is not a date', { ...good, alerts: [{ ...alert, startsAt: 'yesterday' }] }],
    ['only alerts with labels', { alerts: [{ labels: { alertname: 'Bare' } }] }],
  ]
  for (const [name, payload] of bodies) {
    const response = await send(payload)
    t.equal(response.statusCode, 200, name)
    t.same(response.json(), { status: 'accepted', alerts: 1 }, name)
  }
  t.equal(await stored(app), bodies.length, 'each stored')
})

t.test('alerts that cannot be read are skipped and reported; the others are stored', async (t) => {
  const { app, logs } = await startTestApp(t, { start: false })
  const good = webhook()
  const alert = good.alerts[0] as Record<string, unknown>
  const response = await app.server.inject({
    method: 'POST',
    url: '/alerts',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
    payload: { ...good, alerts: [{ ...alert, labels: undefined }, alert, { ...alert, fingerprint: 'other', annotations: ['x'] }] },
  })
  t.equal(response.statusCode, 200)
  t.same(response.json(), {
    status: 'accepted',
    alerts: 1,
    unreadable: 2,
    problems: ['alerts[0].labels: is missing', 'alerts[2].annotations: must be object or null'],
  })
  t.equal(await stored(app), 1)
  const [queued] = await queuedNotifications(app)
  t.same(
    queued!.notification.alerts.map((a) => a.fingerprint),
    ['076ae3f4b12baf7a'],
  )
  const metrics = await app.server.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /alertwire_webhook_alerts_unreadable_total 2/)
  t.ok(
    logs.some((l) => l.includes('cannot be read were skipped') && l.includes('alerts[0].labels: is missing')),
    'logged with the reasons',
  )
})

t.test('an unknown payload version is accepted, logged once per version and counted', async (t) => {
  const { app, logs } = await startTestApp(t, { start: false })
  const send = (version: unknown, extra: object = {}) =>
    app.server.inject({
      method: 'POST',
      url: '/alerts',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
      payload: { ...webhook(), version, ...extra },
    })
  for (const version of ['3', '3', 'v9', undefined, undefined, '4', '1']) t.equal((await send(version)).statusCode, 200, `version ${version}`)
  t.equal((await send('1', { orgId: 1 })).statusCode, 200, 'Grafana')
  for (let i = 0; i < 20; i++) await send(`x${i}`)
  const metrics = (await app.server.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /alertwire_webhook_unknown_versions_total\{version="3"\} 2/)
  t.match(metrics, /alertwire_webhook_unknown_versions_total\{version="none"\} 2/)
  t.match(metrics, /alertwire_webhook_unknown_versions_total\{version="1"\} 1/, '"1" without orgId is not Grafana')
  t.notMatch(metrics, /version="4"/, "Alertmanager's own version is not counted")
  const series = metrics.split('\n').filter((l) => l.startsWith('alertwire_webhook_unknown_versions_total{'))
  t.ok(series.length <= 12, `the series stay bounded (${series.length}: ten versions, none, other)`)
  t.match(metrics, /alertwire_webhook_unknown_versions_total\{version="other"\} \d+/)
  const logged = logs.filter((l) => l.includes('payload version alertwire does not know'))
  t.equal(logged.filter((l) => l.includes('"version":"3"')).length, 1, 'logged once')
  t.equal(logged.filter((l) => l.includes('"version":null')).length, 1, 'no version: logged once too')
})

t.test('a body over the limit gets 413', async (t) => {
  const { app } = await startTestApp(t, { start: false, yaml: 'server: {body_limit: 2KiB}' })
  const big = webhook({ alerts: [{ ...webhook().alerts[0], annotations: { description: 'x'.repeat(4096) } }] })
  const response = await app.server.inject({
    method: 'POST',
    url: '/alerts',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
    payload: big,
  })
  t.equal(response.statusCode, 413)
  t.match(response.json(), { error: 'too large' })
  t.equal(await stored(app), 0)
})

t.test('Redis down: 503 within 2 s, never a hang or a crash; back to 200 when it returns', async (t) => {
  const redis = await startPrivateRedis()
  t.teardown(() => redis.close())
  const { url } = await startTestApp(t, { redisUrl: redis.url })
  t.equal((await postWebhook(url, webhook())).status, 200)
  await redis.stop()
  for (let i = 0; i < 3; i++) {
    const started = Date.now()
    const response = await postWebhook(url, webhook({ groupKey: `down-${i}` }))
    const took = Date.now() - started
    t.equal(response.status, 503)
    t.match(response.body, { error: 'unavailable' })
    t.ok(took < 2000, `answered in ${took} ms`)
  }
  const ready = await fetch(`${url}/readyz`)
  t.equal(ready.status, 503, '/readyz says Redis is unreachable')
  t.equal((await fetch(`${url}/healthz`)).status, 200, '/healthz: the process itself is alive')
  await redis.restart()
  const deadline = Date.now() + 10_000
  let status = 0
  while (Date.now() < deadline && status !== 200) {
    status = (await postWebhook(url, webhook({ groupKey: 'back' }))).status
    if (status !== 200) await new Promise((r) => setTimeout(r, 200))
  }
  t.equal(status, 200, 'accepted again once Redis is back')
  const metrics = await (await fetch(`${url}/metrics`)).text()
  t.match(metrics, /alertwire_webhooks_received_total\{result="unavailable"\} 3/)
})

t.test('Redis lost and back: the log says so once each, not once per reconnect attempt', async (t) => {
  const redis = await startPrivateRedis()
  t.teardown(() => redis.close())
  const { url, logs } = await startTestApp(t, { redisUrl: redis.url })
  const lines = () => logs.map((line) => JSON.parse(line) as { level: number; msg: string; error?: string })
  await redis.stop()
  // several reconnect attempts of every connection, the planner's blocking worker among them
  await new Promise((r) => setTimeout(r, 4000))
  await redis.restart()
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline && !lines().some((l) => l.msg.startsWith('Redis answers again'))) await new Promise((r) => setTimeout(r, 100))
  t.equal((await postWebhook(url, webhook())).status, 200, 'webhooks stored again')
  const lost = lines().filter((l) => l.msg.startsWith('Redis lost'))
  t.equal(lost.length, 1, 'one line when Redis is lost')
  t.equal(lost[0]?.level, 40, 'a warning')
  t.match(lost[0]?.msg, /^Redis lost \(.+\): webhooks are answered 503 and Alertmanager retries them/, 'saying why, and what it means for Alertmanager')
  const back = lines().filter((l) => l.msg.startsWith('Redis answers again'))
  t.equal(back.length, 1, 'one line when it answers again')
  t.match(back[0]?.msg, /after \d+ s$/, 'saying how long it was away')
  const laneWarnings = lines().filter((l) => l.msg.startsWith('sender lane') && l.level >= 40)
  t.ok(
    laneWarnings.length <= 2,
    `the sender's lanes wait for Redis instead of each failing on it (${laneWarnings.length} warnings; only a lane caught mid-call may)`,
  )
  // a warning for each kind of error (closed, then refused), not for each attempt
  const plannerErrors = lines().filter((l) => l.msg === 'planner worker error')
  const kinds = new Set(plannerErrors.map((l) => l.error?.replace(/\d+/g, 'N')))
  const warned = plannerErrors.filter((l) => l.level >= 40).length
  t.ok(
    warned <= kinds.size,
    `the planner's reconnect attempts are not a warning each: ${plannerErrors.length} errors of ${kinds.size} kinds, ${warned} at warn`,
  )
})

t.test('too few Redis replicas confirm (redis.min_replicas_acked): 503 that says so, not that Redis is down', async (t) => {
  // a Redis without replicas: nothing can confirm
  const { app, logs } = await startTestApp(t, { start: false, yaml: 'redis: {min_replicas_acked: 1}\nwebhook: {store_timeout: 1s}' })
  const response = await app.server.inject({
    method: 'POST',
    url: '/alerts',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
    payload: webhook({ groupKey: 'unconfirmed' }),
  })
  t.equal(response.statusCode, 503, 'Alertmanager keeps it and retries')
  t.match(response.json(), {
    error: 'unavailable',
    message: 'stored on the Redis primary, but only 0 of the 1 replicas redis.min_replicas_acked requires confirmed it in time; retry',
  })
  t.equal(await stored(app), 1, 'it is on the primary: the planner takes it, and the retry is a duplicate it drops')
  t.notOk(
    logs.some((line) => /Redis unavailable/.test(line)),
    'nothing says Redis is unavailable',
  )
  t.equal(logs.filter((line) => /only 0 of 1 Redis replicas confirm/.test(line)).length, 1, 'the shortfall is logged, once')
})

t.test('/metrics exposes the service metrics and never a secret', async (t) => {
  const { url, logs } = await startTestApp(t, {
    env: { TELEGRAM_BOT_TOKEN: '123456:SECRET-bot-token', TELEGRAM_CHAT_ID: '-1001' },
    yaml: 'telegram: {api_url: "http://127.0.0.1:9"}',
  })
  await postWebhook(url, webhook(), { authorization: 'Bearer nope' })
  await postWebhook(url, webhook())
  const text = await (await fetch(`${url}/metrics`)).text()
  for (const name of [
    'alertwire_webhooks_received_total',
    'alertwire_queue_depth',
    'alertwire_queue_oldest_age_seconds',
    'alertwire_dead_letters',
    'alertwire_process_resident_memory_bytes',
    'alertwire_telegram_request_duration_seconds',
  ]) {
    t.match(text, name)
  }
  t.match(text, /alertwire_webhooks_received_total\{result="unauthorized"\} 1/)
  t.notMatch(text, /SECRET-bot-token|test-webhook-token/)
  await new Promise((r) => setTimeout(r, 300))
  t.notMatch(logs.join('\n'), /SECRET-bot-token|test-webhook-token/, 'nor in the logs')
})

t.test('what is stored is cleaned: unknown fields dropped (however deep), strings made well-formed', async (t) => {
  const { app } = await startTestApp(t, { start: false })
  const body = `${JSON.stringify(webhook()).slice(0, -1)},"fromTheFuture":${'['.repeat(5000)}${']'.repeat(5000)}}`
  const lone = { ...webhook({ groupKey: 'lone' }), alerts: [{ ...webhook().alerts[0], labels: { alertname: 'Disk\ud800Full', ['bad\udfffname']: 'x\ud800' } }] }
  const send = (payload: string | object) =>
    app.server.inject({ method: 'POST', url: '/alerts', headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` }, payload })
  const [deep, surrogate] = await Promise.all([send(body), send(lone)])
  t.same([deep.statusCode, surrogate.statusCode], [200, 200], 'both accepted, neither spoils the other')
  const queued = await queuedNotifications(app)
  t.equal(queued.length, 2)
  t.notOk(
    queued.some(({ notification }) => 'fromTheFuture' in (notification as object)),
    'the unknown field is not stored',
  )
  const labels = queued.find(({ notification }) => notification.groupKey === 'lone')!.notification.alerts[0]!.labels
  t.same(labels, { alertname: 'Disk\ufffdFull', 'bad\ufffdname': 'x\ufffd' })
})
