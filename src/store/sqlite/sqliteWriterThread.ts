// The SQLite writer thread (see sqliteWriter.ts): one connection for the call-event and delivery-outcome
// writes and the claims. The batches that arrive while it is busy are written in its next turn, in one
// transaction with a savepoint each: a batch that fails is undone alone and answered with its error, the
// others commit together (a commit is a good part of a small transaction's cost). Busy database: the turn
// is tried again after a short pause. The answers of a turn go back in one message.
import { parentPort, workerData } from 'node:worker_threads'
import { SharedSlots } from '../../delivery/sharedSlots.js'
import { SqliteCallEventWrites } from './callEventStore.js'
import { SqlitePixelWrites } from './pixelStore.js'
import { openFastConnection } from './sqliteRows.js'
import { WRITE_OPS, type WriterOp, type WriterOps } from './writerOps.js'
import { failedReply, writeTurn, type WriterReply, type WriterRequest, type WriterTurn } from './sqliteWriter.js'

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

type Writes = { [K in WriterOp]?: (turn: WriterTurn, ...args: Parameters<WriterOps[K]>) => ReturnType<WriterOps[K]> }
type Others = { [K in WriterOp]?: (...args: Parameters<WriterOps[K]>) => ReturnType<WriterOps[K]> }

/** Writes (WRITE_OPS), run inside the turn's transaction. */
const writes: Writes = {
  callEvents: (turn, items) => use().callEvents.write(items, turn),
  outcomes: (_turn, outcomes) => use().pixels.writeOutcomes(outcomes),
  claim: (_turn, ...args) => use().pixels.claim(...args),
  holdPixels: (_turn, ...args) => use().pixels.holdPixels(...args),
  releasePixels: (_turn, ...args) => use().pixels.releasePixels(...args),
  endPixels: (_turn, ...args) => use().pixels.endPixels(...args),
  takeProbe: (_turn, ...args) => use().pixels.takeProbe(...args),
}

/** The rest, run in order between writes. */
const others: Others = {
  ready: () => void use(),
  useSlots: (counter) => use().callEvents.useSlots(new SharedSlots(counter)),
  close: () => opened?.connection.close(),
}

/** Consecutive writes in one transaction (see writeTurn). */
async function writeTogether(requests: WriterRequest[]): Promise<WriterReply[]> {
  let db: ReturnType<typeof use>['connection']['db']
  try {
    db = use().connection.db
  } catch (e) {
    return requests.map(({ id }) => failedReply(id, e))
  }
  return writeTurn(db, requests, writes)
}

async function runOther({ id, op, args }: WriterRequest): Promise<WriterReply> {
  try {
    const run = others[op]
    if (!run) throw new Error(`unknown writer operation "${op}"`)
    return { id, ok: true, value: await run(...(args as never[])) }
  } catch (e) {
    return failedReply(id, e)
  }
}

let queue: WriterRequest[] = []
let running = false

async function turn(): Promise<void> {
  running = true
  const requests = queue
  queue = []
  const replies: WriterReply[] = []
  for (let i = 0; i < requests.length; ) {
    if (!WRITE_OPS.has(requests[i]!.op)) {
      replies.push(await runOther(requests[i++]!))
      continue
    }
    let end = i
    while (end < requests.length && WRITE_OPS.has(requests[end]!.op)) end++
    replies.push(...(await writeTogether(requests.slice(i, end))))
    i = end
  }
  try {
    port.postMessage(replies)
  } catch {
    // an answer that cannot cross (not expected): each on its own, the one that cannot as its error
    for (const reply of replies) {
      try {
        port.postMessage([reply])
      } catch (e) {
        port.postMessage([failedReply(reply.id, e)])
      }
    }
  }
  running = false
  if (queue.length) setImmediate(turn)
}

port.on('message', (request: WriterRequest) => {
  queue.push(request)
  // what arrives before the turn starts (messages come in bursts) shares it
  if (queue.length === 1 && !running) setImmediate(turn)
})
