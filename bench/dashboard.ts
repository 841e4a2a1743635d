// Benchmark: the dashboard's reads with a large history. A database (embedded SQLite, or PostgreSQL when
// DATABASE_URL=postgres://… names a server: a database of the run's own) is filled with CALLS calls over
// the last 30 days (two tags each, a start pixel each and an end pixel every other call, one attempt a
// pixel, a postback every fifth call), then Ringhook (a child process, as `npm start`) is asked, one
// request at a time, for the call log's first page (unfiltered, by campaign and status, by caller number)
// and a call's overview, with the operations the dashboard sends (web/src/queries); beside them, in the
// same run, a bare query (the company's name) as the floor. Latencies are measured at the client.
//   npm run bench:dashboard        (CALLS=1000000 ROUNDS=100 to change; KEEP=1 keeps the database)
import { newId } from '../src/core/ids.js'
import { openHistory, startOnHistory, timeQueries, WEBHOOK_TYPES, type QueryCase } from './fill.js'
import { stopProcess } from './process.js'
import { CALL_LOG, CALL_OVERVIEW } from './dashboardQueries.js'

const calls = Number(process.env.CALLS ?? 1_000_000)
const rounds = Number(process.env.ROUNDS ?? 100)
const month = 30 * 86_400_000

const { url: databaseUrl, keys, writer, remove } = await openHistory()

const started = performance.now()
const now = Date.now()
const campaignIds = [newId(), newId()]
await writer.insert(
  'Campaign',
  ['id', 'companyId', 'name', 'createdAt', 'updatedAt'],
  campaignIds.map((id, i) => [id, keys.companyId, `campaign ${i}`, new Date(now - month), new Date(now)]),
)
const webhooks = campaignIds.flatMap((campaignId) => (['CALL_START', 'CALL_END'] as const).map((trigger) => ({ id: newId(), campaignId, trigger })))
await writer.insert(
  'Webhook',
  ['id', 'companyId', 'campaignId', 'name', 'trigger', 'matches', 'method', 'urlTemplate', 'headers', 'createdAt', 'updatedAt'],
  webhooks.map((w) => [
    w.id,
    keys.companyId,
    w.campaignId,
    `${w.trigger} hook`,
    w.trigger,
    '[]',
    'POST',
    'http://127.0.0.1:9/hook',
    '[]',
    new Date(now - month),
    new Date(now),
  ]),
  WEBHOOK_TYPES,
)
const apiKeyId = await (async () => {
  const id = newId()
  await writer.insert(
    'ApiKey',
    ['id', 'companyId', 'name', 'role', 'prefix', 'hash', 'createdAt'],
    [[id, keys.companyId, 'bench publisher', 'PUBLISHER', 'rh_pub_x', `bench-${id}`, new Date(now)]],
  )
  return id
})()
const batch = 10_000
let sampleUuid = ''
for (let done = 0; done < calls; done += batch) {
  const n = Math.min(batch, calls - done)
  const callRows: unknown[][] = []
  const tagRows: unknown[][] = []
  const pixelRows: unknown[][] = []
  const attemptRows: unknown[][] = []
  const postbackRows: unknown[][] = []
  for (let i = 0; i < n; i++) {
    const k = done + i
    const at = new Date(now - month + Math.floor((k / calls) * month))
    const ended = new Date(at.getTime() + 90_000)
    const id = newId()
    const uuid = `bench-${k}`
    if (k === Math.floor(calls / 2)) sampleUuid = uuid
    const campaignId = campaignIds[k % 2]!
    const caller = `+1415${String(5_000_000 + (k % 1_000_000)).padStart(7, '0')}`
    callRows.push([id, uuid, keys.companyId, campaignId, caller, 'ENDED', at, new Date(at.getTime() + 5000), ended, 85, ended])
    tagRows.push([newId(), id, 'caller_state', 'CA', 'POSTBACK', at, at], [newId(), id, 'lead_source', 'search', 'CALL_EVENT', at, at])
    for (const w of webhooks.filter((x) => x.campaignId === campaignId && (x.trigger === 'CALL_START' || k % 2 === 0))) {
      const pixelId = newId()
      const when = w.trigger === 'CALL_START' ? at : ended
      const ok = k % 10 !== 0
      pixelRows.push([pixelId, keys.companyId, campaignId, w.id, id, caller, w.trigger, ok ? 'SUCCEEDED' : 'FAILED', 1, when, when])
      attemptRows.push([newId(), pixelId, 1, when, 20 + (k % 200), ok ? 200 : 503, ok ? '{"ok":true}' : '{"error":"down"}'])
    }
    if (k % 5 === 0) {
      postbackRows.push([
        newId(),
        keys.companyId,
        apiKeyId,
        campaignId,
        id,
        caller,
        'REST_GET',
        `caller_number=${caller}&caller_state=CA`,
        '{"caller_state":"CA"}',
        'CALL_FOUND',
        200,
        new Date(at.getTime() + 1000),
      ])
    }
  }
  await writer.insert(
    'Call',
    ['id', 'uuid', 'companyId', 'campaignId', 'callerNumber', 'status', 'startedAt', 'answeredAt', 'endedAt', 'durationSeconds', 'updatedAt'],
    callRows,
  )
  await writer.insert('Tag', ['id', 'callId', 'key', 'value', 'source', 'createdAt', 'updatedAt'], tagRows)
  await writer.insert(
    'Pixel',
    ['id', 'companyId', 'campaignId', 'webhookId', 'callId', 'callerNumber', 'trigger', 'status', 'attemptCount', 'createdAt', 'completedAt'],
    pixelRows,
  )
  await writer.insert('PixelAttempt', ['id', 'pixelId', 'number', 'startedAt', 'durationMs', 'statusCode', 'responseBody'], attemptRows)
  await writer.insert(
    'Postback',
    ['id', 'companyId', 'apiKeyId', 'campaignId', 'callId', 'callerNumber', 'channel', 'rawBody', 'tags', 'outcome', 'httpStatus', 'createdAt'],
    postbackRows,
    ['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'jsonb', 'text', 'int', 'timestamp(3)'],
  )
}
await writer.close()
const filled = (performance.now() - started) / 1000

const app = await startOnHistory(databaseUrl)
const cases: QueryCase[] = [
  ['bare: company { name }', '{ company { name } }', {}],
  ['call log, first page of 50', CALL_LOG, { first: 50, filter: {} }],
  ['call log, a campaign and status', CALL_LOG, { first: 50, filter: { campaignId: campaignIds[1], status: 'ENDED' } }],
  ['call log, a caller number', CALL_LOG, { first: 50, filter: { callerNumber: '+14155123456' } }],
  ['call overview', CALL_OVERVIEW, { uuid: sampleUuid }],
]
const results = await timeQueries(app.url, keys.adminKey, cases, rounds)
await stopProcess(app.child)
// KEEP=1 keeps the database for a closer look (its URL printed)
if (process.env.KEEP) console.log(`kept: ${databaseUrl}`)
else await remove()

console.log(
  `\n${databaseUrl.startsWith('postgres') ? 'PostgreSQL' : 'SQLite'}: ${calls.toLocaleString('en')} calls over 30 days (tags, pixels, attempts, postbacks beside them); filled in ${filled.toFixed(0)} s`,
)
console.log(`${rounds} requests each, one at a time, latency at the client in ms:\n`)
console.log('| query | p50 | p99 | max |\n| --- | --- | --- | --- |')
for (const line of results) console.log(line)
