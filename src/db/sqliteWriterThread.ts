// The SQLite writer thread (see sqliteWriter.ts): one connection for the call-event and delivery-outcome
// writes and the claims, each answered when done.
import { parentPort, workerData } from 'node:worker_threads'
import { SharedSlots } from '../jobs/sharedSlots.js'
import { SqliteCallEventWrites } from '../resolvers/callEventStoreSqlite.js'
import { SqlitePixelWrites } from '../resolvers/pixelStoreSqlite.js'
import { openFastConnection } from './sqliteRows.js'
import { toWire, type WriterRequest } from './sqliteWriter.js'

const port = parentPort!

function open() {
  const connection = openFastConnection((workerData as { file: string }).file)
  return { connection, callEvents: new SqliteCallEventWrites(connection.db), pixels: new SqlitePixelWrites(connection.db) }
}

// a database that cannot be opened is answered to `ready` (the server does not start), not thrown here
let opened: ReturnType<typeof open> | null = null
let openError: unknown = null
try {
  opened = open()
} catch (e) {
  openError = e
}
const use = () => {
  if (!opened) throw openError
  return opened
}

const ops: Record<string, (...args: never[]) => unknown> = {
  ready: () => void use(),
  useSlots: (counter: Int32Array) => use().callEvents.useSlots(new SharedSlots(counter)),
  callEvents: (...args: Parameters<SqliteCallEventWrites['write']>) => use().callEvents.write(...args),
  outcomes: (...args: Parameters<SqlitePixelWrites['writeOutcomes']>) => use().pixels.writeOutcomes(...args),
  claim: (...args: Parameters<SqlitePixelWrites['claim']>) => use().pixels.claim(...args),
  close: () => opened?.connection.close(),
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
