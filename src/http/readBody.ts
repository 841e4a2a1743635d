import type { IncomingMessage, ServerResponse } from 'node:http'

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body is larger than the limit of ${limit} bytes`)
  }
}

/** Reads the whole body, refusing (before reading on) anything over `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit))
  // the client went away before we got here (say, while its key was looked up): its events have fired
  if (req.destroyed && !req.readableEnded) return Promise.reject(new Error('the request was aborted before its body was read'))
  // events, not an async iterator: the iterator's machinery shows in profiles under load
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        cleanUp()
        req.destroy()
        return reject(new BodyTooLargeError(limit))
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanUp()
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
    }
    const onError = (e: Error) => {
      cleanUp()
      reject(e)
    }
    const onClose = () => {
      if (!req.complete) onError(new Error('the request was aborted before its body was read'))
    }
    const cleanUp = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
  })
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJsonText(res, status, JSON.stringify(body), headers)
}

/** Sends JSON already serialised. */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}
