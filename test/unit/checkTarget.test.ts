import { describe, expect, it } from 'vitest'
import { checkTarget, isPublicAddress } from '../../src/delivery/checkTarget.js'
import { createOutboundHttp } from '../../src/delivery/http/outboundHttp.js'
import { parseAllowedTargets } from '../../src/core/addresses.js'

// a fake DNS: never a real lookup
const fakeDns = (records: Record<string, string[]>) => {
  const asked: string[] = []
  const resolve = async (host: string) => {
    asked.push(host)
    if (!(host in records)) throw new Error(`getaddrinfo ENOTFOUND ${host}`)
    return records[host]!
  }
  return { resolve, asked }
}
const noDns = async (host: string): Promise<string[]> => {
  throw new Error(`unexpected lookup of ${host}`)
}

describe('isPublicAddress', () => {
  it('accepts public IPv4 and IPv6 addresses', () => {
    for (const ip of [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.216.34',
      '172.32.0.1',
      '100.128.0.1',
      '192.169.0.1',
      '2606:4700:4700::1111',
      '2001:4860:4860::8888',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
    ]) {
      expect(isPublicAddress(ip), ip).toBe(true)
    }
  })

  it('refuses private, loopback, link-local, CGNAT, multicast, unspecified, reserved and broadcast IPv4', () => {
    for (const ip of [
      '10.0.0.1',
      '10.255.255.255',
      '172.16.0.1',
      '172.31.255.254',
      '192.168.1.1', // private
      '127.0.0.1',
      '127.0.0.2',
      '127.255.255.254', // loopback
      '169.254.169.254', // link-local (cloud metadata)
      '100.64.0.1',
      '100.127.255.254', // carrier-grade NAT
      '224.0.0.1',
      '239.255.255.250', // multicast
      '0.0.0.0',
      '0.1.2.3', // unspecified
      '192.0.2.1',
      '198.51.100.7',
      '203.0.113.9',
      '198.18.0.1',
      '240.0.0.1', // reserved, documentation, benchmarking
      '255.255.255.255',
    ]) {
      expect(isPublicAddress(ip), ip).toBe(false)
    }
  })

  it('refuses loopback, link-local, unique-local, multicast, unspecified and documentation IPv6', () => {
    for (const ip of ['::1', '::', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456:789a::1', 'ff02::1', '2001:db8::1', 'fec0::1', '::7f00:1', '100::1']) {
      expect(isPublicAddress(ip), ip).toBe(false)
    }
  })

  it('judges IPv4-mapped and NAT64 addresses by the IPv4 address they carry', () => {
    for (const ip of [
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
      '::ffff:169.254.169.254',
      '::ffff:192.168.0.1',
      '64:ff9b::7f00:1',
      '64:ff9b::a00:1',
    ]) {
      expect(isPublicAddress(ip), ip).toBe(false)
    }
  })

  it('refuses tunnelling prefixes that hide an IPv4 address (6to4, Teredo)', () => {
    expect(isPublicAddress('2002:7f00:1::1')).toBe(false)
    expect(isPublicAddress('2001:0:4136:e378:8000:63bf:3fff:fdd2')).toBe(false)
  })

  it('refuses text that is not an IP address, and the loose spellings inet_aton would read', () => {
    for (const ip of ['', 'localhost', 'example.com', '1.2.3.4.5', '::g', '127.1', '2130706433', '010.0.0.1']) expect(isPublicAddress(ip), ip).toBe(false)
  })
})

describe('parseAllowedTargets', () => {
  it('reads a comma-separated list of IPs and CIDRs', () => {
    const allowed = parseAllowedTargets(' 127.0.0.1, 10.0.0.0/8 ,::1,,fd00::/8 ')
    expect(allowed.map((a) => a.text)).toEqual(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8'])
    expect(allowed.map((a) => a.range[1])).toEqual([32, 8, 128, 8])
  })

  it('reads an empty list as nothing allowed', () => {
    expect(parseAllowedTargets('')).toEqual([])
    expect(parseAllowedTargets(' , ')).toEqual([])
  })

  it('throws naming the entry that is neither an IP nor a CIDR', () => {
    expect(() => parseAllowedTargets('127.0.0.1,localhost')).toThrow(/"localhost"/)
    expect(() => parseAllowedTargets('10.0.0.0/33')).toThrow(/"10.0.0.0\/33"/)
    expect(() => parseAllowedTargets('10.0.0.0/x')).toThrow(/not an IP address or CIDR/)
    expect(() => parseAllowedTargets('010.0.0.0/8')).toThrow(/"010.0.0.0\/8"/)
    expect(() => parseAllowedTargets('127.1')).toThrow(/"127.1"/)
  })
})

describe('checkTarget', () => {
  const none = parseAllowedTargets('')

  it('accepts a hostname resolving only to public addresses, and returns them to connect to', async () => {
    const dns = fakeDns({ 'buyer.example': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'] })
    expect(await checkTarget(new URL('https://buyer.example/ping?n=1'), none, dns.resolve)).toEqual({
      ok: true,
      addresses: ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    })
    expect(dns.asked).toEqual(['buyer.example'])
  })

  it('refuses a hostname when any one of its addresses is private', async () => {
    const dns = fakeDns({ 'rebind.example': ['93.184.216.34', '10.1.2.3'] })
    expect(await checkTarget(new URL('http://rebind.example/'), none, dns.resolve)).toEqual({
      ok: false,
      reason: '10.1.2.3 (resolved from rebind.example) is private and not in ALLOWED_TARGETS',
    })
  })

  it('refuses a loopback IP literal without a lookup, naming the address and why', async () => {
    expect(await checkTarget(new URL('http://127.0.0.2:8080/x'), none, noDns)).toEqual({
      ok: false,
      reason: '127.0.0.2 is loopback and not in ALLOWED_TARGETS',
    })
    expect(await checkTarget(new URL('http://[::1]/'), none, noDns)).toEqual({ ok: false, reason: '::1 is loopback and not in ALLOWED_TARGETS' })
    expect(await checkTarget(new URL('http://169.254.169.254/latest/meta-data/'), none, noDns)).toEqual({
      ok: false,
      reason: '169.254.169.254 is link-local and not in ALLOWED_TARGETS',
    })
  })

  it('sees through the other spellings of an IPv4 literal', async () => {
    for (const url of ['http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://[::ffff:127.0.0.1]/']) {
      const r = await checkTarget(new URL(url), none, noDns)
      expect(r.ok, url).toBe(false)
      expect(!r.ok && r.reason, url).toMatch(/loopback/)
    }
  })

  it('names the IPv4 address inside a mapped IPv6 one', async () => {
    const dns = fakeDns({ 'mapped.example': ['::ffff:10.0.0.5'] })
    expect(await checkTarget(new URL('http://mapped.example/'), none, dns.resolve)).toEqual({
      ok: false,
      reason: '::ffff:10.0.0.5 (resolved from mapped.example) is private (IPv4-mapped 10.0.0.5) and not in ALLOWED_TARGETS',
    })
  })

  it('accepts addresses in ALLOWED_TARGETS, by IP or CIDR, IPv4 or IPv6', async () => {
    const allowed = parseAllowedTargets('127.0.0.1,10.0.0.0/8,::1')
    expect(await checkTarget(new URL('http://127.0.0.1:4000/hook'), allowed, noDns)).toEqual({ ok: true, addresses: ['127.0.0.1'] })
    expect(await checkTarget(new URL('http://[::1]:4000/hook'), allowed, noDns)).toEqual({ ok: true, addresses: ['::1'] })
    const dns = fakeDns({ 'internal.example': ['10.20.30.40', '8.8.8.8'], 'lo.example': ['127.0.0.2'] })
    expect(await checkTarget(new URL('http://internal.example/'), allowed, dns.resolve)).toEqual({ ok: true, addresses: ['10.20.30.40', '8.8.8.8'] })
    // 127.0.0.1 is allowed, not the whole of 127.0.0.0/8
    expect(await checkTarget(new URL('http://lo.example/'), allowed, dns.resolve)).toEqual({
      ok: false,
      reason: '127.0.0.2 (resolved from lo.example) is loopback and not in ALLOWED_TARGETS',
    })
    expect(await checkTarget(new URL('http://192.168.0.10/'), allowed, noDns)).toEqual({
      ok: false,
      reason: '192.168.0.10 is private and not in ALLOWED_TARGETS',
    })
  })

  it('lets an IPv4 entry allow the IPv4-mapped form of the address, and the other way round', async () => {
    expect((await checkTarget(new URL('http://[::ffff:10.1.1.1]/'), parseAllowedTargets('10.0.0.0/8'), noDns)).ok).toBe(true)
    expect((await checkTarget(new URL('http://10.1.1.1/'), parseAllowedTargets('::ffff:10.1.1.1'), noDns)).ok).toBe(true)
    expect((await checkTarget(new URL('http://10.1.1.2/'), parseAllowedTargets('::ffff:10.1.1.1'), noDns)).ok).toBe(false)
  })

  it('refuses a scheme other than http and https', async () => {
    expect(await checkTarget(new URL('ftp://93.184.216.34/'), none, noDns)).toEqual({ ok: false, reason: 'scheme "ftp:" is not http or https' })
    expect(await checkTarget(new URL('file:///etc/passwd'), none, noDns)).toMatchObject({ ok: false })
  })

  it('refuses a host that does not resolve, resolves to nothing, or to something that is not an address', async () => {
    const dns = fakeDns({ 'empty.example': [], 'odd.example': ['not-an-ip'] })
    expect(await checkTarget(new URL('https://missing.example/'), none, dns.resolve)).toEqual({
      ok: false,
      reason: 'could not resolve missing.example: getaddrinfo ENOTFOUND missing.example',
    })
    expect(await checkTarget(new URL('https://empty.example/'), none, dns.resolve)).toEqual({ ok: false, reason: 'empty.example resolves to no address' })
    expect(await checkTarget(new URL('https://odd.example/'), none, dns.resolve)).toEqual({
      ok: false,
      reason: '"not-an-ip" (resolved from odd.example) is not an IP address',
    })
  })

  it('resolves localhost like any name and refuses its loopback address', async () => {
    const dns = fakeDns({ localhost: ['127.0.0.1', '::1'] })
    const r = await checkTarget(new URL('http://localhost:4000/'), none, dns.resolve)
    expect(r).toEqual({ ok: false, reason: '127.0.0.1 (resolved from localhost) is loopback and not in ALLOWED_TARGETS' })
  })
})

describe('the delivery client judges each IP literal once', () => {
  it('answers the same verdict again for an address seen before, and judges a new one on its own', async () => {
    const http = createOutboundHttp('127.0.0.1')
    try {
      for (let round = 0; round < 2; round++) {
        expect(await http.check(new URL('http://127.0.0.1:9/a'))).toEqual({ ok: true })
        expect(await http.check(new URL('http://127.0.0.2:9/b'))).toEqual({ ok: false, reason: expect.stringContaining('loopback') })
        expect(await http.check(new URL('http://[::1]:9/c'))).toEqual({ ok: false, reason: expect.stringContaining('loopback') })
        expect(await http.check(new URL('http://10.1.2.3/d'))).toEqual({ ok: false, reason: expect.stringContaining('private') })
      }
      // another client with another allow list judges afresh
      const other = createOutboundHttp('127.0.0.2')
      expect(await other.check(new URL('http://127.0.0.2:9/b'))).toEqual({ ok: true })
      expect(await other.check(new URL('http://127.0.0.1:9/a'))).toEqual({ ok: false, reason: expect.stringContaining('loopback') })
      await other.close()
    } finally {
      await http.close()
    }
  })
})
