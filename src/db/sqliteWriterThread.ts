// The SQLite writer thread (see sqliteWriter.ts): one connection for the call-event and delivery-outcome
// writes and the claims, each answered when done.
import { parentPort, workerData } from 'node:worker_threads'
import { SharedSlots } from '../jobs/sharedSlots.js'
import { SqliteCallEventWrites } from '../resolvers/callEventStoreSqlite.js'
import { SqlitePixelWrites } from '../resolvers/pixelStoreSqlite.js'
import { openFastConnection } from './sqliteRows.js'
import { toWire, type WriterRequest } from './sqliteWriter.js'

const connection = openFastConnection((workerData as { file: string }).file)
const callEvents = new SqliteCallEventWrites(connection.db)
const pixels = new SqlitePixelWrites(connection.db)
const port = parentPort!

const ops: Record<string, (...args: never[]) => unknown> = {
  ready: () => {},
  useSlots: (counter: Int32Array) => callEvents.useSlots(new SharedSlots(counter)),
  callEvents: (...args: Parameters<SqliteCallEventWrites['write']>) => callEvents.write(...args),
  outcomes: (...args: Parameters<SqlitePixelWrites['writeOutcomes']>) => pixels.writeOutcomes(...args),
  claim: (...args: Parameters<SqlitePixelWrites['claim']>) => pixels.claim(...args),
  close: () => connection.close(),
}

port.on('message', async ({ id, op, args }: WriterRequest) => {
  try {
    const run = ops[op]
    if (!run) throw new Error(`unknown writer operation "${op}"`)
    port.postMessage({ id, ok: true, value: await run(...(args as never[])) })
  } catch (e) {
    port.postMessage({ id, ok: false, error: toWire(e) })
  }
})
