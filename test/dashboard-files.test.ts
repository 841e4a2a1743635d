// The dashboard's file route, by plain HTTP requests sent as written (node:http: fetch would resolve `%2e%2e`
// before sending): against the app with its real build, and against a build of the test's own for the
// cases the real one has no file for.
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDashboardRoutes } from '../src/http/dashboard.js'
import { startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'

interface RawAnswer {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** GET `urlPath` exactly as written. */
function rawGet(origin: string, urlPath: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve, reject) => {
    const req = http.get({ hostname, port, path: urlPath, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
  })
}

describe(`the dashboard's files (${testProvider} pass)`, () => {
  let t: TestApp
  let asset: string
  beforeAll(async () => {
    t = await startTestApp()
    asset = /src="\/assets\/([^"]+\.js)"/.exec((await rawGet(t.app.url, '/')).body)![1]!
  })
  afterAll(async () => t?.close())

  it('caches an asset as immutable by where the file is, however the URL spells it', async () => {
    for (const spelling of [`/assets/${asset}`, `/%61ssets/${asset}`, `/assets//${asset}`]) {
      const res = await rawGet(t.app.url, spelling, { 'accept-encoding': 'gzip' })
      expect(res.status, spelling).toBe(200)
      expect(res.headers['cache-control'], spelling).toContain('immutable')
      expect(res.headers['content-encoding'], spelling).toBe('gzip')
    }
    const icon = await rawGet(t.app.url, '/favicon.svg')
    expect(icon.status).toBe(200)
    expect(icon.headers['cache-control']).toBe('no-cache')
  })

  it('answers 404 to a path that names a parent, even one that stays inside the build', async () => {
    for (const sneaky of [
      '/assets/../index.html',
      '/assets/%2e%2e/index.html',
      `/assets/%2E%2E/assets/${asset}`,
      '/%2e%2e/package.json',
      '/..%2fpackage.json',
    ]) {
      const res = await rawGet(t.app.url, sneaky)
      expect(res.status, sneaky).toBe(404)
      expect(JSON.parse(res.body).error, sneaky).toMatch(/^no file/)
    }
    // a page's URL may hold dots: it is still a page
    const page = await rawGet(t.app.url, '/calls/CA..1')
    expect(page.status).toBe(200)
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'")
  })
})

describe('an HTML file anywhere in the build', () => {
  let dist: string
  let origin: string
  let server: http.Server
  beforeAll(async () => {
    dist = fs.mkdtempSync(path.join(os.tmpdir(), 'ringhook-dist-'))
    fs.mkdirSync(path.join(dist, 'assets'))
    fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>index</title>')
    fs.writeFileSync(path.join(dist, 'help.html'), '<!doctype html><title>help</title>')
    fs.writeFileSync(path.join(dist, 'assets', 'frame-1a2b.html'), '<!doctype html><title>frame</title>')
    const routes = createDashboardRoutes(dist)
    server = http.createServer((req, res) => void routes.handle(req, res, req.url ?? '/'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve))
    fs.rmSync(dist, { recursive: true, force: true })
  })

  it('is sent with the page headers: its CSP, framing refused', async () => {
    for (const page of ['/', '/index.html', '/help.html', '/assets/frame-1a2b.html']) {
      const res = await rawGet(origin, page)
      expect(res.status, page).toBe(200)
      expect(res.headers['content-type'], page).toBe('text/html; charset=utf-8')
      expect(res.headers['content-security-policy'], page).toContain("frame-ancestors 'none'")
      expect(res.headers['x-frame-options'], page).toBe('DENY')
    }
    expect((await rawGet(origin, '/assets/frame-1a2b.html')).headers['cache-control']).toContain('immutable')
  })
})
