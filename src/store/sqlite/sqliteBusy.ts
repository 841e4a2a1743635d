// SQLite connections of our own (the postback store, the job store) never wait for a lock synchronously:
// Prisma's interactive transactions hold the write lock across awaits in this same thread, so a
// synchronous wait would block the very thread that has to release it. A busy database is retried after a
// short asynchronous pause instead.
const BUSY_RETRY_MS = 2
const BUSY_GIVE_UP_MS = 10_000

export const isBusy = (e: unknown) => ['SQLITE_BUSY', 'SQLITE_LOCKED'].includes((e as { code?: string }).code ?? '')

export async function withBusyRetry<T>(fn: () => T, giveUpMs = BUSY_GIVE_UP_MS): Promise<T> {
  const deadline = Date.now() + giveUpMs
  for (;;) {
    try {
      return fn()
    } catch (e) {
      if (!isBusy(e) || Date.now() > deadline) throw e
      await new Promise((r) => setTimeout(r, BUSY_RETRY_MS))
    }
  }
}
