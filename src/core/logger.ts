import { pino, type Logger as PinoLogger } from 'pino'

export type LogLevel = 'silent' | 'error' | 'info' | 'debug'
export type Logger = PinoLogger

/** JSON lines on stderr. Never log a secret: API keys and signing secrets stay out of every entry. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: undefined }, pino.destination(2))
}
