// Benchmark: the dashboard's live tail under a stream of events. Ringhook (a child process, as `npm start`,
// embedded SQLite) and Debian's chromium (playwright-core) with the live tail open; this process sends RATE
// postbacks a second (each a postbackReceived event on the tail) for DURATION seconds. Beside it, in the
// same run, the same page for the same time with no events. Measured in the page: long tasks (over 50 ms,
// PerformanceObserver), the gaps between animation frames, how long a click on Pause takes to show (click
// to the next frame after the button changed), and how many events the page counted.
//   npm run bench:live-tail        (RATE=100 DURATION=20 to change)
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { launchChromium } from '../test/helpers/chromium.js'
import { request } from 'undici'
import { startRinghook, stopProcess } from './process.js'

const rate = Number(process.env.RATE ?? 100)
const duration = Number(process.env.DURATION ?? 20) * 1000
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : Number.NaN
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringhook-bench-'))
const app = await startRinghook({
  PORT: '0',
  HOST: '127.0.0.1',
  DATABASE_URL: `file:${path.join(dir, 'ringhook.db')}`,
  LOG_LEVEL: 'error',
  POSTBACK_RATE_LIMIT_PER_MINUTE: '0',
})
const keys = JSON.parse(/\{[\s\S]*?\}/.exec(app.out())![0]) as { adminKey: string; publisherKey: string }

const browser = await launchChromium()
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
const errors: string[] = []
page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
await page.goto(`${app.url}/`)
await page.getByLabel('API key').fill(keys.adminKey)
await page.getByRole('button', { name: 'Sign in' }).click()
// signed in (the key checked and kept) before the next page loads
await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 10_000 })
await page.goto(`${app.url}/live`)
await page.getByText('Listening.').waitFor({ timeout: 10_000 })

// The page's own code, as text: the benchmark runs under tsx, whose transform would wrap functions written
// here in a helper the page does not have.
const WATCH = `(() => {
  const m = { longTasks: [], frames: [], last: performance.now() }
  window.__m = m
  new PerformanceObserver((list) => { for (const e of list.getEntries()) m.longTasks.push(e.duration) }).observe({ type: 'longtask' })
  const frame = (t) => { m.frames.push(t - m.last); m.last = t; requestAnimationFrame(frame) }
  requestAnimationFrame(frame)
})()`
const READ = `(() => {
  const m = window.__m
  const out = { longTasks: [...m.longTasks], frames: [...m.frames] }
  m.longTasks.length = 0
  m.frames.length = 0
  return out
})()`
/** Clicks Pause (or Resume); answers the milliseconds to the next frame after the button changed. */
const CLICK_TO_PAINT = `(async () => {
  const button = [...document.querySelectorAll('button')].find((b) => /^(Pause|Resume)$/.test(b.textContent ?? ''))
  const before = button.textContent
  const t0 = performance.now()
  button.click()
  while (button.textContent === before) await new Promise((r) => setTimeout(r, 0))
  await new Promise((r) => requestAnimationFrame(() => r(null)))
  return performance.now() - t0
})()`

/** Starts counting long tasks and frame gaps in the page. */
const watch = (p: Page) => p.evaluate(WATCH)
/** Reads and resets what was counted. */
const read = (p: Page) => p.evaluate(READ) as Promise<{ longTasks: number[]; frames: number[] }>
const clickToPaint = (p: Page) => p.evaluate(CLICK_TO_PAINT) as Promise<number>
const received = async (p: Page) => Number(/(\d+) received/.exec((await p.getByText(/\d+ received,/).textContent()) ?? '')?.[1] ?? Number.NaN)

/** One phase: `send` runs meanwhile; clicks Pause and Resume every second. */
async function phase(send: (until: number) => Promise<number>) {
  const before = await received(page)
  await read(page)
  const until = Date.now() + duration
  const clicks: number[] = []
  const sending = send(until)
  while (Date.now() < until) {
    clicks.push(await clickToPaint(page), await clickToPaint(page))
    await sleep(1000)
  }
  const sent = await sending
  // the tail draws every 250 ms: let the last events land
  await sleep(1000)
  const { longTasks, frames } = await read(page)
  return { sent, counted: (await received(page)) - before, longTasks, frames, clicks }
}

await watch(page)
const idle = await phase(async () => 0)
const busy = await phase(async (until) => {
  let sent = 0
  const started = Date.now()
  const inFlight: Promise<unknown>[] = []
  while (Date.now() < until) {
    const due = started + (sent * 1000) / rate
    if (due > Date.now()) await sleep(due - Date.now())
    const n = sent++
    inFlight.push(
      request(`${app.url}/postback?key=${keys.publisherKey}&caller_number=%2B1415555${String(n % 10_000).padStart(4, '0')}&lead=${n}`).then((r) =>
        r.body.dump(),
      ),
    )
  }
  await Promise.all(inFlight)
  return sent
})

await browser.close()
await stopProcess(app.child)
fs.rmSync(dir, { recursive: true, force: true })

const row = (name: string, r: typeof idle) =>
  `| ${name} | ${r.sent} / ${r.counted} | ${r.longTasks.length}, ${Math.round(r.longTasks.reduce((a, b) => a + b, 0))} ms, max ${Math.round(Math.max(0, ...r.longTasks))} ms | ${percentile(r.frames, 50).toFixed(1)} / ${percentile(r.frames, 99).toFixed(1)} / ${Math.max(...r.frames).toFixed(0)} | ${percentile(r.clicks, 50).toFixed(1)} / ${Math.max(...r.clicks).toFixed(1)} |`
console.log(`\nlive tail, ${rate} postbacks/s for ${duration / 1000} s beside the same page idle; chromium ${browser.version()}, 1280x900`)
console.log('| phase | events sent / counted by the page | long tasks (count, total, max) | frame gap p50 / p99 / max ms | click to paint p50 / max ms |')
console.log('| --- | --- | --- | --- | --- |')
console.log(row('idle', idle))
console.log(row(`${rate} events/s`, busy))
if (errors.length) console.log(`console errors: ${errors.join(' | ')}`)
