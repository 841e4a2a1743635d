// IP addresses and ranges as ALLOWED_TARGETS writes them: strict forms only, the same reading for the
// configuration check and the outbound target check (src/delivery/checkTarget.ts).
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

export type Address = ipaddr.IPv4 | ipaddr.IPv6

export interface AllowedTarget {
  /** the entry as written in ALLOWED_TARGETS */
  text: string
  range: [Address, number]
}

// strict forms only (as node:net reads them): ipaddr.js would read `010.0.0.1` as octal 8.0.0.1
export function parseAddress(ip: string): Address | null {
  return isIP(ip.trim()) ? ipaddr.parse(ip.trim()) : null
}

/** `127.0.0.1,10.0.0.0/8,::1` -> the allowed ranges; throws naming the entry that is neither an IP nor a CIDR. */
export function parseAllowedTargets(spec: string): AllowedTarget[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((text) => {
      if (text.includes('/')) {
        if (!isIP(text.split('/')[0]!) || !ipaddr.isValidCIDR(text)) throw new Error(`ALLOWED_TARGETS: "${text}" is not an IP address or CIDR range`)
        return { text, range: ipaddr.parseCIDR(text) }
      }
      const address = parseAddress(text)
      if (!address) throw new Error(`ALLOWED_TARGETS: "${text}" is not an IP address or CIDR range`)
      return { text, range: [address, address.kind() === 'ipv4' ? 32 : 128] }
    })
}
