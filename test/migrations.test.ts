import { afterAll, describe, expect, it } from 'vitest'
import { applyMigrations, schemaDrift } from '../src/store/migrate.js'
import { openDatabase } from '../src/store/client.js'
import { createTestDatabase, testProvider, type TestDatabase } from './helpers/db.js'

describe(`migrations on ${testProvider}`, () => {
  const dbs: TestDatabase[] = []
  afterAll(async () => Promise.all(dbs.map((d) => d.drop())))

  it('bring an empty database to exactly the schema (no drift), and apply once', async () => {
    const db = await createTestDatabase()
    dbs.push(db)
    const applied = await applyMigrations(db.url)
    expect(applied.length).toBeGreaterThan(0)
    expect(await schemaDrift(db.url)).toBe('')
    expect(await applyMigrations(db.url)).toEqual([])
  })

  it('detect drift when the database differs from the schema', async () => {
    const db = await createTestDatabase()
    dbs.push(db)
    await applyMigrations(db.url)
    const client = await openDatabase(db.url)
    await client.$executeRawUnsafe('DROP INDEX "Call_companyId_callerNumber_startedAt_id_idx"')
    await client.$disconnect()
    expect(await schemaDrift(db.url)).toMatch(/CREATE INDEX "Call_companyId_callerNumber_startedAt_id_idx"/)
  })
})
