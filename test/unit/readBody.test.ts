// readBody against a real HTTP server on loopback.
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { BodyTooLargeError, readBody } from '../../src/http/readBody.js'

let server: http.Server | null = null
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())))

/** A server whose handler waits `delayMs` before reading the body; answers what readBody did. */
function serve(delayMs: number, limit = 1024): Promise<{ port: number; outcome: Promise<string> }> {
  let report!: (s: string) => void
  const outcome = new Promise<string>((r) => (report = r))
  server = http.createServer(async (req, res) => {
    await new Promise((r) => setTimeout(r, delayMs))
    const settled = await Promise.race([
      readBody(req, limit).then(
        (b) => `read ${b.toString()}`,
        (e: Error) => `rejected: ${e instanceof BodyTooLargeError ? 'too large' : e.message}`,
      ),
      new Promise<string>((r) => setTimeout(() => r('still pending after 1 s'), 1000)),
    ])
    report(settled)
    if (!res.destroyed) res.end()
  })
  return new Promise((resolve) => server!.listen(0, '127.0.0.1', () => resolve({ port: (server!.address() as AddressInfo).port, outcome })))
}

describe('readBody', () => {
  it('reads a whole body', async () => {
    const { port, outcome } = await serve(0)
    await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'hello' })
    expect(await outcome).toBe('read hello')
  })

  it('refuses a body over the limit', async () => {
    const { port, outcome } = await serve(0, 10)
    // no content-length: the limit is found while reading
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => {})
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n${'y'.repeat(20)}\r\n0\r\n\r\n`)
    expect(await outcome).toBe('rejected: too large')
    socket.destroy()
  })

  it('rejects at once when the client went away before the body was read', async () => {
    const { port, outcome } = await serve(200)
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => {})
    // headers and part of a declared body, then gone while the handler is busy
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial')
    setTimeout(() => socket.destroy(), 50)
    expect(await outcome).toMatch(/^rejected: /)
  })
})
