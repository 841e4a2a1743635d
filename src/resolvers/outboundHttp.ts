// The HTTP client that delivers pixels: undici's pooled dispatcher (keep-alive, a connection cap per
// endpoint), with the target check done on the address actually connected to, so DNS rebinding cannot
// slip a private address past it.
import dns from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import { Agent } from 'undici'
import { checkTarget, parseAllowedTargets, type AllowedTarget } from './checkTarget.js'

export class RefusedTargetError extends Error {
  readonly code = 'REFUSED_TARGET'
}

export interface OutboundHttp {
  dispatcher: Agent
  allowed: AllowedTarget[]
  /** the same check the dispatcher makes, for a URL before it is sent (IP literals are never looked up) */
  check(url: URL): Promise<{ ok: true } | { ok: false; reason: string }>
  close(): Promise<void>
}

const resolveAll = async (host: string) => (await dns.promises.lookup(host, { all: true })).map((a) => a.address)

export function createOutboundHttp(allowedTargets: string, connectionsPerEndpoint = 32): OutboundHttp {
  const allowed = parseAllowedTargets(allowedTargets)
  const lookup: LookupFunction = (hostname, options, callback) => {
    const url = new URL(`http://${isIP(hostname) === 6 ? `[${hostname}]` : hostname}`)
    checkTarget(url, allowed, resolveAll).then(
      (result) => {
        if (!result.ok) return callback(new RefusedTargetError(result.reason), '', 4)
        const list = result.addresses.map((address) => ({ address, family: isIP(address) }))
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, l: typeof list) => void)(null, list)
        callback(null, list[0]!.address, list[0]!.family)
      },
      (e: Error) => callback(e, '', 4),
    )
  }
  const dispatcher = new Agent({ connections: connectionsPerEndpoint, keepAliveTimeout: 30_000, connect: { lookup } })
  return {
    dispatcher,
    allowed,
    check: async (url) => {
      const result = await checkTarget(url, allowed, resolveAll)
      return result.ok ? { ok: true } : result
    },
    close: () => dispatcher.close(),
  }
}
