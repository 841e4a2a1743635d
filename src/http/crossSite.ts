// A browser sends cached credentials (HTTP Basic) with a request another site's page makes it send, so a
// route that changes state behind them takes requests only from pages of this server. Fetch metadata and
// Origin are headers a page cannot set; a tool (curl) sends neither and is taken.
import type { IncomingMessage } from 'node:http'

const first = (header: string | string[] | undefined) => (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim()

/** The host a URL of `protocol` names for `host` (a default port dropped), or null when it is none. */
function hostOf(protocol: string, host: string): string | null {
  try {
    return new URL(`${protocol}//${host}`).host.toLowerCase()
  } catch {
    return null
  }
}

/**
 * Why the request comes from another site, in words, or null: `Sec-Fetch-Site: cross-site`, or an Origin
 * whose host is not this server's (the Host header, or X-Forwarded-Host behind a proxy; the scheme is not
 * compared, since a proxy may end TLS). `Origin: null` (a sandboxed or file page) is another site too.
 */
export function crossSiteReason(req: IncomingMessage): string | null {
  if (first(req.headers['sec-fetch-site'])?.toLowerCase() === 'cross-site') return 'the request comes from another site (Sec-Fetch-Site: cross-site)'
  const origin = first(req.headers.origin)
  if (origin === undefined) return null
  let url: URL | null = null
  try {
    url = new URL(origin)
  } catch {}
  const own = [first(req.headers.host), first(req.headers['x-forwarded-host'])]
  if (url && own.some((host) => host && hostOf(url.protocol, host) === url.host.toLowerCase())) return null
  return `the request comes from another origin (${origin.slice(0, 200)}), not from this server's pages`
}
