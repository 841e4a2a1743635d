// The SQLite writer thread's turn (writeTurn), on a real in-memory SQLite database: writes that arrive
// together share one transaction, a savepoint each.
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { writeTurn, type WriterTurn } from '../../src/store/sqlite/sqliteWriter.js'

function setUp() {
  const db = new Database(':memory:')
  db.exec('CREATE TABLE t (v TEXT NOT NULL)')
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
  const undone: string[] = []
  const writes = {
    // each write is a transaction function of its own, nested in the turn's (as the stores' are)
    put: db.transaction((turn: WriterTurn, ...values: string[]) => {
      turn.onRollback(() => undone.push(values.join(',')))
      for (const v of values) insert.run(v)
      return values.length
    }),
  } as Record<string, (turn: WriterTurn, ...args: never[]) => unknown>
  const rows = () => (db.prepare('SELECT v FROM t ORDER BY rowid').all() as { v: string }[]).map((r) => r.v)
  return { db, writes, rows, undone }
}

describe('writeTurn', () => {
  it('commits the writes of a turn together and undoes a failing one alone', async () => {
    const { db, writes, rows, undone } = setUp()
    const replies = await writeTurn(
      db,
      [
        { id: 1, op: 'put', args: ['a'] },
        // its first row is written, then the second fails (NOT NULL): both undone, with nothing else
        { id: 2, op: 'put', args: ['b', null] },
        { id: 3, op: 'put', args: ['c'] },
      ],
      writes,
    )
    expect(replies.map((r) => r.ok)).toEqual([true, false, true])
    expect(replies[1]).toMatchObject({ error: { message: expect.stringMatching(/NOT NULL/) } })
    expect(rows()).toEqual(['a', 'c'])
    // the turn committed: nothing to give back
    expect(undone).toEqual([])
  })

  it('fails the whole turn when SQLite rolled the transaction back, writing nothing after it on its own', async () => {
    const { db, writes, rows, undone } = setUp()
    // a database that cannot grow: the first write fits in the pages it has, the second needs more
    // (SQLITE_FULL rolls the whole transaction back)
    const pages = (db.pragma('page_count', { simple: true }) as number) + 1
    db.pragma(`max_page_count = ${pages}`)
    const replies = await writeTurn(
      db,
      [
        { id: 1, op: 'put', args: ['small'] },
        { id: 2, op: 'put', args: ['x'.repeat(100_000)] },
        { id: 3, op: 'put', args: ['after'] },
      ],
      writes,
    )
    expect(replies.map((r) => r.ok)).toEqual([false, false, false])
    expect(replies[0]).toMatchObject({ error: { code: 'SQLITE_FULL' } })
    expect(db.inTransaction).toBe(false)
    // nothing committed, not even the write after the failure; every write's slots given back
    expect(rows()).toEqual([])
    expect(undone).toEqual(['small', 'x'.repeat(100_000)])
  })
})
