import type { PrismaClient } from '../generated/prisma/client.js'

/**
 * The Prisma client, the data port of everything but the hot paths (which have stores of their own). The
 * app is typed against the SQLite client; the PostgreSQL client is generated from the same schema (only
 * the provider differs) and has the same API, so it is used through the same type.
 */
export type Db = PrismaClient

/** A transaction's client. */
export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0]
