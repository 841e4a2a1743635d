import ipaddr from 'ipaddr.js'
import { parseAddress, type Address, type AllowedTarget } from '../core/addresses.js'

export type TargetCheck = { ok: true; addresses: string[] } | { ok: false; reason: string }

// ipaddr.js range names -> words for the reason; ranges not listed keep their own name
const RANGE_WORDS: Record<string, string> = {
  private: 'private',
  loopback: 'loopback',
  linkLocal: 'link-local',
  uniqueLocal: 'unique-local',
  multicast: 'multicast',
  unspecified: 'unspecified',
  reserved: 'reserved',
  carrierGradeNat: 'carrier-grade NAT',
  broadcast: 'broadcast',
  benchmarking: 'for benchmarking',
  deprecatedSiteLocal: 'site-local',
  discard: 'discard-only',
  rfc6145: 'IPv4-translated',
  rfc6052: 'local-use NAT64',
  '6to4': '6to4',
  teredo: 'Teredo',
  orchid2: 'ORCHID',
  deprecatedOrchid: 'ORCHID',
  droneRemoteIdProtocolEntityTags: 'reserved',
  segmentRouting: 'segment routing (SRv6)',
}
// special ranges that are nevertheless globally reachable (IANA special-purpose registries)
const PUBLIC_RANGES = new Set(['unicast', 'as112', 'as112v6', 'amt'])
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96')
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3')

/** Why an address is not public (`loopback`, `private`, …), or null when it is public. */
export function nonPublicRange(address: Address): string | null {
  if (address.kind() === 'ipv6') {
    const v6 = address as ipaddr.IPv6
    // these carry an IPv4 address; judge that one
    if (v6.isIPv4MappedAddress()) return embedded('IPv4-mapped', v6.toIPv4Address())
    if (v6.match(NAT64_WELL_KNOWN)) return embedded('NAT64', ipaddr.fromByteArray(v6.toByteArray().slice(12)))
    const range = v6.range()
    if (PUBLIC_RANGES.has(range)) return v6.match(GLOBAL_UNICAST) ? null : 'outside global unicast (2000::/3)'
    return RANGE_WORDS[range] ?? range
  }
  const range = (address as ipaddr.IPv4).range()
  return PUBLIC_RANGES.has(range) ? null : (RANGE_WORDS[range] ?? range)
}

function embedded(how: string, v4: Address): string | null {
  const why = nonPublicRange(v4)
  return why === null ? null : `${why} (${how} ${v4.toString()})`
}

/** False for anything but a public unicast address, and for text that is not an IP address. */
export function isPublicAddress(ip: string): boolean {
  const address = parseAddress(ip)
  return address !== null && nonPublicRange(address) === null
}

function isAllowed(address: Address, allowed: AllowedTarget[]): boolean {
  // an IPv4-mapped IPv6 address reaches the IPv4 one, so an IPv4 entry allows it too (and the other way round)
  const forms: Address[] = [address]
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) forms.push((address as ipaddr.IPv6).toIPv4Address())
  if (address.kind() === 'ipv4') forms.push((address as ipaddr.IPv4).toIPv4MappedAddress())
  return allowed.some(({ range }) => forms.some((a) => a.kind() === range[0].kind() && a.match(range)))
}

export async function checkTarget(url: URL, allowed: AllowedTarget[], resolve: (host: string) => Promise<string[]>): Promise<TargetCheck> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `scheme "${url.protocol}" is not http or https` }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const literal = parseAddress(host) !== null
  let addresses: string[]
  if (literal) addresses = [host]
  else {
    try {
      addresses = await resolve(host)
    } catch (e) {
      return { ok: false, reason: `could not resolve ${host}: ${(e as Error).message}` }
    }
    if (addresses.length === 0) return { ok: false, reason: `${host} resolves to no address` }
  }
  const from = literal ? '' : ` (resolved from ${host})`
  for (const ip of addresses) {
    const address = parseAddress(ip)
    if (!address) return { ok: false, reason: `"${ip}"${from} is not an IP address` }
    if (isAllowed(address, allowed)) continue
    const why = nonPublicRange(address)
    if (why !== null) return { ok: false, reason: `${ip}${from} is ${why} and not in ALLOWED_TARGETS` }
  }
  return { ok: true, addresses }
}
