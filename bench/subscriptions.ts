// Benchmark: live streams. SUBSCRIBERS graphql-ws clients (in this process) subscribe to callUpdated on
// Ringhook (a child process as `npm start`, embedded SQLite); this process sends call events one at a time
// and measures, for each, the time from sending it to its arrival at every subscriber. Beside it, in the same
// run, a bare `ws` server in this process broadcasts a message of the same size to as many plain `ws`
// clients, measured the same way.
//   npm run bench:subscriptions       (SUBSCRIBERS=1000 EVENTS=40 to change)
import fs from 'node:fs'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createClient, type Client } from 'graphql-ws'
import { request } from 'undici'
import WebSocket, { WebSocketServer } from 'ws'
import { startRinghook, stopProcess } from './process.js'

const subscribers = Number(process.env.SUBSCRIBERS ?? 1000)
const events = Number(process.env.EVENTS ?? 40)
const gapMs = 150

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : Number.NaN
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** For each event: when it was sent, and when it reached each subscriber. */
type Rounds = { sentAt: number; arrivals: number[] }[]

function summary(rounds: Rounds) {
  const last = rounds.map((r) => Math.max(...r.arrivals) - r.sentAt)
  const all = rounds.flatMap((r) => r.arrivals.map((a) => a - r.sentAt))
  const complete = rounds.every((r) => r.arrivals.length === subscribers)
  return { lastP50: percentile(last, 50), lastP99: percentile(last, 99), allP50: percentile(all, 50), allP99: percentile(all, 99), complete }
}

// Ringhook and its subscribers
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringhook-bench-'))
const app = await startRinghook({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${path.join(dir, 'ringhook.db')}`, LOG_LEVEL: 'error' })
const keys = JSON.parse(/\{[\s\S]*?\}/.exec(app.out())![0]) as { adminKey: string }
async function post(pathName: string, body: object) {
  const res = await request(`${app.url}${pathName}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.adminKey}` },
    body: JSON.stringify(body),
  })
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`${pathName} answered ${res.statusCode}: ${text}`)
  return JSON.parse(text) as { data?: any; call?: any }
}
const campaignId = (await post('/graphql', { query: 'mutation { createCampaign(input:{name:"bench"}) { id } }' })).data.createCampaign.id

let round: { uuid: string; arrivals: number[] } | null = null
const clients: Client[] = []
let subscribed = 0
for (let i = 0; i < subscribers; i++) {
  const client = createClient({
    url: `${app.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${keys.adminKey}` },
    retryAttempts: 0,
  })
  clients.push(client)
  let first = true
  client.subscribe(
    { query: 'subscription { callUpdated { event call { uuid status callerNumber tags { key value } } } }' },
    {
      next: (value) => {
        const now = performance.now()
        if (first) {
          first = false
          subscribed++
        }
        const uuid = (value.data as { callUpdated: { call: { uuid: string } } } | undefined)?.callUpdated.call.uuid
        if (round && uuid === round.uuid) round.arrivals.push(now)
      },
      error: (e) => console.error('subscription error', e),
      complete: () => {},
    },
  )
}
// a subscription counts once its first event reached it
let probes = 0
while (subscribed < subscribers) {
  await post('/call-events', { event: 'start', campaignId, uuid: `probe-${probes++}`, callerNumber: '+14155550100' })
  await sleep(200)
  if (probes > 200) throw new Error(`only ${subscribed} of ${subscribers} subscribed`)
}
await sleep(500)

const ringhook: Rounds = []
let sample = ''
for (let i = 0; i < events; i++) {
  const uuid = `bench-${i}`
  round = { uuid, arrivals: [] }
  const sentAt = performance.now()
  const answer = await post('/call-events', { event: 'start', campaignId, uuid, callerNumber: '+14155550100', tags: { lead: 'fb', score: '7' } })
  sample ||= JSON.stringify({ id: 'x', type: 'next', payload: { data: { callUpdated: { event: 'STARTED', call: answer.call } } } })
  const deadline = performance.now() + 5000
  while (round.arrivals.length < subscribers && performance.now() < deadline) await sleep(1)
  ringhook.push({ sentAt, arrivals: round.arrivals })
  round = null
  await sleep(gapMs)
}
await Promise.all(clients.map((c) => c.dispose()))
await stopProcess(app.child)
fs.rmSync(dir, { recursive: true, force: true })

// the bare broadcast: the same number of plain ws clients, a message of the same size, one send per client
const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
await new Promise<void>((r) => server.once('listening', () => r()))
const bareUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
const bareClients: WebSocket[] = []
let bareRound: number[] | null = null
await Promise.all(
  Array.from({ length: subscribers }, async () => {
    const ws = new WebSocket(bareUrl)
    ws.on('message', (data) => {
      const now = performance.now()
      JSON.parse(String(data))
      bareRound?.push(now)
    })
    bareClients.push(ws)
    await new Promise((r) => ws.once('open', r))
  }),
)
const bare: Rounds = []
for (let i = 0; i < events; i++) {
  bareRound = []
  const sentAt = performance.now()
  for (const ws of server.clients) ws.send(sample)
  const deadline = performance.now() + 5000
  while (bareRound.length < subscribers && performance.now() < deadline) await sleep(1)
  bare.push({ sentAt, arrivals: bareRound })
  bareRound = null
  await sleep(gapMs)
}
for (const ws of bareClients) ws.close()
server.close()

const r = summary(ringhook)
const b = summary(bare)
const f = (n: number) => `${n.toFixed(1)} ms`
console.log(`\nlive streams: one event to ${subscribers} graphql-ws subscribers, ${events} events, ${os.cpus().length} cores, ${os.cpus()[0]?.model}`)
console.log('| measure | Ringhook (call event -> callUpdated) | bare ws broadcast |')
console.log('| --- | --- | --- |')
console.log(`| to the last subscriber: p50 / p99 | ${f(r.lastP50)} / ${f(r.lastP99)} | ${f(b.lastP50)} / ${f(b.lastP99)} |`)
console.log(`| every arrival: p50 / p99 | ${f(r.allP50)} / ${f(r.allP99)} | ${f(b.allP50)} / ${f(b.allP99)} |`)
console.log(`| every event reached every subscriber | ${r.complete ? 'yes' : 'no'} | ${b.complete ? 'yes' : 'no'} |`)
console.log(`| Ringhook / bare, p99 to the last subscriber | ${(r.lastP99 / b.lastP99).toFixed(2)}x | |`)
process.exit(0)
