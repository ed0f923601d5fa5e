/**
 * The scale benchmark's load balancer, in a process of its own so that forwarding 10,000 webhooks
 * never delays the Telegram fake's answers (they share no event loop). Passes each webhook to the
 * replicas in turn and notes when each chat (the alerts' `chat` label) had its first and last
 * webhook. Usage: scale-relay.ts '["http://replica-a", "http://replica-b"]'; prints its URL as
 * the first line; GET /stats answers {webhooks, refused, firstAt, lastAt}.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const targets = JSON.parse(process.argv[2]!) as string[]
const firstAt: Record<string, number> = {}
const lastAt: Record<string, number> = {}
let next = 0
let webhooks = 0
let refused = 0

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ webhooks, refused, firstAt, lastAt }))
    return
  }
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const at = Date.now()
    const body = Buffer.concat(chunks)
    webhooks++
    for (const alert of (JSON.parse(body.toString()) as { alerts: { labels: Record<string, string> }[] }).alerts) {
      const chat = alert.labels.chat!
      firstAt[chat] ??= at
      lastAt[chat] = at
    }
    const target = targets[next++ % targets.length]!
    const headers = { 'content-type': String(req.headers['content-type']), authorization: String(req.headers.authorization) }
    fetch(`${target}${req.url}`, { method: req.method!, headers, body })
      .then(async (answer) => {
        if (answer.status >= 300) refused++
        res.writeHead(answer.status).end(await answer.text())
      })
      .catch(() => {
        refused++
        res.writeHead(502).end()
      })
  })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`))
