// The delivery thread (see createThreadedOutboundHttp in outboundHttp.ts): makes the exchanges it is sent,
// at most `maxInFlight` at once (the rest wait here, oldest first; urgent ones, test-fires, go first), and answers them in batches, a message
// per turn.
import { parentPort, workerData } from 'node:worker_threads'
import { createOutboundHttp, type AnswerBatch, type ExchangeBatch, type OutboundThreadData } from './outboundHttp.js'

const { allowedTargets, connectionsPerEndpoint, maxInFlight } = workerData as OutboundThreadData
const http = createOutboundHttp(allowedTargets, connectionsPerEndpoint)
const port = parentPort!
const queue: ExchangeBatch = []
let inFlight = 0
let answers: AnswerBatch = []

function answer(id: number, result: AnswerBatch[number]['result']): void {
  if (answers.push({ id, result }) === 1) {
    setImmediate(() => {
      port.postMessage(answers)
      answers = []
    })
  }
}

function startNext(): void {
  while (inFlight < maxInFlight && queue.length) {
    const { id, req, timeoutMs, options } = queue.shift()!
    inFlight++
    void http.exchange(req, timeoutMs, options).then((result) => {
      inFlight--
      answer(id, result)
      startNext()
    })
  }
}

port.on('message', (batch: ExchangeBatch) => {
  for (const item of batch) {
    if (item.options?.urgent) queue.unshift(item)
    else queue.push(item)
  }
  startNext()
})
