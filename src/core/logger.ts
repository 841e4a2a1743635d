import { pino, type Logger as PinoLogger } from 'pino'

export type LogLevel = 'silent' | 'error' | 'info' | 'debug'
export type Logger = PinoLogger

/** lines are written to stderr in chunks of at least this many bytes (or when the app closes) */
const LOG_CHUNK_BYTES = 4096

/** the longest a close waits for buffered lines to be written */
const FLUSH_WAIT_MS = 1000

/**
 * JSON lines on stderr, written asynchronously in chunks: a request never waits for stderr. Pino writes
 * what is buffered when the process exits; flushLogger() when an app closes. Never log a secret: API keys
 * and signing secrets stay out of every entry.
 */
export function createLogger(level: LogLevel): Logger {
  if (level === 'silent') return pino({ level, base: undefined, enabled: false })
  return pino({ level, base: undefined }, pino.destination({ dest: 2, sync: false, minLength: LOG_CHUNK_BYTES }))
}

/** Writes out what the logger has buffered; resolves when it is written (or after a moment). */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, FLUSH_WAIT_MS)
    try {
      logger.flush(() => {
        clearTimeout(timer)
        resolve()
      })
    } catch {
      // a destroyed stream has nothing left to write
      clearTimeout(timer)
      resolve()
    }
  })
}
