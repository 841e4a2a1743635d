// The store backends as the contract suites meet them: a migrated database of the test's own, Prisma to set
// up and inspect, and each port's implementation of the backend, made as the server makes it.
import type { CallEventStore } from '../../src/calls/callEvents.js'
import type { Db } from '../../src/core/db.js'
import { NO_SLOTS, type DeliverySlots } from '../../src/delivery/handoff.js'
import type { PixelStore } from '../../src/delivery/pixelStore.js'
import type { SharedSlots } from '../../src/delivery/sharedSlots.js'
import type { PostbackStore } from '../../src/postbacks/postbackWriter.js'
import { openDatabase } from '../../src/store/client.js'
import { applyMigrations } from '../../src/store/migrate.js'
import { PgCallEventStore } from '../../src/store/postgres/callEventStore.js'
import { PgPixelStore } from '../../src/store/postgres/pixelStore.js'
import { openPool, type Pool } from '../../src/store/postgres/pool.js'
import { PgPostbackStore } from '../../src/store/postgres/postbackStore.js'
import { SqliteCallEventStore } from '../../src/store/sqlite/callEventStore.js'
import { SqlitePixelStore } from '../../src/store/sqlite/pixelStore.js'
import { SqlitePostbackStore } from '../../src/store/sqlite/postbackStore.js'
import { sqliteFilePath } from '../../src/store/sqlite/sqlitePath.js'
import { SqliteWriter } from '../../src/store/sqlite/sqliteWriter.js'
import { createTestDatabase, testProvider } from '../helpers/db.js'

export interface Backend {
  name: string
  db: Db
  /** a call-event store handing pixels over while `slots` (a worker's counter) has room; none: no worker */
  callEvents(slots?: SharedSlots): Promise<CallEventStore>
  /** a pixel store on a connection of its own (as a worker in another process would have) */
  pixels(): Promise<PixelStore>
  postbacks(): PostbackStore
  close(): Promise<void>
}

/** The backend of this test pass (TEST_DB): the embedded SQLite or PostgreSQL. */
export async function openBackend(): Promise<Backend> {
  const database = await createTestDatabase()
  await applyMigrations(database.url)
  const db = await openDatabase(database.url)
  const closers: (() => Promise<void>)[] = []
  const later = <T>(value: T, close: () => Promise<void>) => {
    closers.push(close)
    return value
  }
  const close = async () => {
    for (const c of closers.reverse()) await c()
    await db.$disconnect()
    await database.drop()
  }
  if (testProvider === 'sqlite') {
    const file = sqliteFilePath(database.url)
    const writer = async () => {
      const w = new SqliteWriter(file)
      await w.ready()
      return later(w, () => w.close())
    }
    return {
      name: 'SQLite',
      db,
      callEvents: async (slots) => {
        const store = new SqliteCallEventStore(await writer(), slots ? { slots, notify: () => {} } : null)
        return later(store, () => store.close())
      },
      pixels: async () => {
        const store = new SqlitePixelStore(await writer(), db)
        return later(store, () => store.close())
      },
      postbacks: () => {
        const store = new SqlitePostbackStore(file)
        return later(store, () => store.close())
      },
      close,
    }
  }
  const pool = (): Pool => {
    const p = openPool(database.url)
    return later(p, () => p.end())
  }
  return {
    name: 'PostgreSQL',
    db,
    callEvents: async (slots) => {
      const store = new PgCallEventStore(pool(), (slots as DeliverySlots | undefined) ?? NO_SLOTS)
      return later(store, () => store.close())
    },
    pixels: async () => {
      const store = new PgPixelStore(pool())
      return later(store, () => store.close())
    },
    postbacks: () => new PgPostbackStore(pool()),
    close,
  }
}
