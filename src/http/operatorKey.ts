// The server operator's key (OPERATOR_KEY): server-wide, not a company's API key, since what it opens
// (metrics, the job dashboard) spans every company. Compared in constant time.
import crypto from 'node:crypto'
import type { IncomingMessage } from 'node:http'

const digest = (text: string) => crypto.createHash('sha256').update(text).digest()

/** The key a request carries: a Bearer token, or HTTP Basic's password (any user name: what a browser can send). */
function presentedKey(req: IncomingMessage): string | null {
  const header = req.headers.authorization ?? ''
  const basic = /^Basic\s+(.+)$/i.exec(header)
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon >= 0 ? decoded.slice(colon + 1) : null
  }
  const bearer = /^Bearer\s+(.+)$/i.exec(header)
  return bearer ? bearer[1]!.trim() : null
}

/** Whether the request carries the operator key (`Authorization: Bearer <key>`, or as Basic's password). */
export function hasOperatorKey(req: IncomingMessage, operatorKey: string): boolean {
  const key = presentedKey(req)
  // digests of equal length, so neither the comparison's time nor its length check tells how much matched
  return key !== null && crypto.timingSafeEqual(digest(key), digest(operatorKey))
}
