// The server operator's key (OPERATOR_KEY): server-wide, not a company's API key, since what it opens
// (metrics, the job dashboard) spans every company. Compared in constant time.
import crypto from 'node:crypto'
import type { IncomingMessage } from 'node:http'

const digest = (text: string) => crypto.createHash('sha256').update(text).digest()

/** Whether the request carries `Authorization: Bearer <operatorKey>`. */
export function hasOperatorKey(req: IncomingMessage, operatorKey: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')
  // digests of equal length, so neither the comparison's time nor its length check tells how much matched
  return match !== null && crypto.timingSafeEqual(digest(match[1]!.trim()), digest(operatorKey))
}
