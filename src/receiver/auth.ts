/**
 * Webhook authentication: Bearer token or basic auth, as Alertmanager's http_config sends them.
 * Compared in constant time (digests of equal length), so a wrong guess tells nothing about the secret.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

/** WebhookAuth: what the webhook accepts. */
export interface WebhookAuth {
  bearerToken?: string
  basicAuth?: { username: string; password: string }
  allowUnauthenticated: boolean
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** expectedDigests: the configured secrets' digests, worked out once per secret, not per request (a reload brings new ones; a few at most). */
const expectedDigests = new Map<string, Buffer>()
const MAX_EXPECTED = 16

function expectedDigest(expected: string): Buffer {
  let known = expectedDigests.get(expected)
  if (!known) {
    if (expectedDigests.size >= MAX_EXPECTED) expectedDigests.clear()
    known = digest(expected)
    expectedDigests.set(expected, known)
  }
  return known
}

/** safeEqual compares two secrets without leaking where they differ or how long they are. */
export function safeEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), expectedDigest(expected))
}

/** isAuthorized checks an Authorization header against the configured credentials. */
export function isAuthorized(header: string | undefined, auth: WebhookAuth): boolean {
  if (auth.allowUnauthenticated) return true
  if (!header) return false
  const [scheme = '', credentials = ''] = header.trim().split(/\s+/, 2)
  if (auth.bearerToken && scheme.toLowerCase() === 'bearer') {
    return safeEqual(credentials, auth.bearerToken)
  }
  if (auth.basicAuth && scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) return false
    // evaluate both, so timing does not tell which half was wrong
    const user = safeEqual(decoded.slice(0, colon), auth.basicAuth.username)
    const password = safeEqual(decoded.slice(colon + 1), auth.basicAuth.password)
    return user && password
  }
  return false
}
