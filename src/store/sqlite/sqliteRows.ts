// Rows read and written on embedded SQLite without Prisma, in the shapes Prisma stores and answers:
// DateTime as ISO text (`2026-11-30T03:11:29.570+00:00`), Boolean as 0/1, Json as JSON text.
import Database from 'better-sqlite3'
import type { Call, Pixel, Webhook } from '../../generated/prisma/client.js'

/** Prisma's SQLite DateTime text. */
export const sqliteTime = (d: Date) => d.toISOString().replace('Z', '+00:00')

/** A value as a SQLite parameter: dates as Prisma's text, booleans as 0/1. */
export const sqliteValue = (v: unknown) => (v instanceof Date ? sqliteTime(v) : typeof v === 'boolean' ? (v ? 1 : 0) : v)

const dateOf = (v: unknown) => (v == null ? null : new Date(v as string))
const jsonOf = (v: unknown) => (v == null ? null : JSON.parse(v as string))

type Row = Record<string, unknown>

export function callFromRow(row: Row): Call {
  return {
    ...(row as unknown as Call),
    startedAt: new Date(row.startedAt as string),
    answeredAt: dateOf(row.answeredAt),
    endedAt: dateOf(row.endedAt),
    convertedAt: dateOf(row.convertedAt),
    updatedAt: new Date(row.updatedAt as string),
    converted: Boolean(row.converted),
  }
}

export function webhookFromRow(row: Row): Webhook {
  return {
    ...(row as unknown as Webhook),
    matches: jsonOf(row.matches),
    headers: jsonOf(row.headers),
    responseMapping: jsonOf(row.responseMapping),
    circuitBreaker: jsonOf(row.circuitBreaker),
    enabled: Boolean(row.enabled),
    createdAt: new Date(row.createdAt as string),
    updatedAt: new Date(row.updatedAt as string),
    deletedAt: dateOf(row.deletedAt),
    circuitChangedAt: dateOf(row.circuitChangedAt),
    circuitProbeAt: dateOf(row.circuitProbeAt),
    failingSince: dateOf(row.failingSince),
  }
}

export function pixelFromRow(row: Row): Pixel {
  return {
    ...(row as unknown as Pixel),
    request: jsonOf(row.request),
    unresolvedTokens: jsonOf(row.unresolvedTokens),
    tagsApplied: jsonOf(row.tagsApplied),
    nextAttemptAt: dateOf(row.nextAttemptAt),
    lockedUntil: dateOf(row.lockedUntil),
    createdAt: new Date(row.createdAt as string),
    completedAt: dateOf(row.completedAt),
  }
}

/** Writes a tag on a call: one value per key, a later write replaces value and source. */
export function prepareTagUpsert(db: Database.Database) {
  const statement = db.prepare(`INSERT INTO "Tag" ("id", "callId", "key", "value", "source", "sourceId", "createdAt", "updatedAt")
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT ("callId", "key") DO UPDATE SET "value" = excluded."value", "source" = excluded."source",
      "sourceId" = excluded."sourceId", "updatedAt" = excluded."updatedAt"`)
  return (id: string, callId: string, key: string, value: string, source: string, sourceId: string | null, now: Date) =>
    statement.run(id, callId, key, value, source, sourceId, sqliteTime(now), sqliteTime(now))
}

/** A call's tags as key -> value. */
export function prepareTagsOf(db: Database.Database) {
  const statement = db.prepare(`SELECT "key", "value" FROM "Tag" WHERE "callId" = ?`)
  return (callId: string): Record<string, string> =>
    Object.fromEntries((statement.all(callId) as { key: string; value: string }[]).map((t) => [t.key, t.value]))
}

/**
 * The connection the fast paths (postbacks, call events, delivery outcomes and claims) write through: one
 * per database file and process, shared. SQLite drops a connection's page cache whenever another
 * connection has written since its last transaction, so with a connection per store each batch started
 * with a cold cache and read its index pages again. WAL, and no synchronous wait on a lock (see
 * sqliteBusy.ts); each store calls close() once, and the last one closes the connection.
 */
export function openFastConnection(file: string): FastConnection {
  let entry = shared.get(file)
  if (!entry) {
    const db = new Database(file, { timeout: 0 })
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma(`cache_size = -${FAST_CACHE_KIB}`)
    shared.set(file, (entry = { db, users: 0 }))
  }
  entry.users++
  const held = entry
  let closed = false
  return {
    db: held.db,
    close: () => {
      if (closed) return
      closed = true
      if (--held.users === 0) {
        shared.delete(file)
        held.db.close()
      }
    },
  }
}

export interface FastConnection {
  db: Database.Database
  close(): void
}

/** Page cache of the shared connection (SQLite's default is 2 MB). */
const FAST_CACHE_KIB = 64 * 1024
const shared = new Map<string, { db: Database.Database; users: number }>()
