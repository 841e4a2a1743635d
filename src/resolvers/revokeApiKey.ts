import type { ApiKey } from '../generated/prisma/client.js'
import { notFound } from './errors.js'
import type { Services } from './interfaces.js'

/** Revokes a key of the company; a revoked key authenticates nothing from then on. */
export async function revokeApiKey({ db, apiKeys }: Services, companyId: string, id: string): Promise<ApiKey> {
  const key = await db.apiKey.findFirst({ where: { id, companyId } })
  if (!key) throw notFound('API key', 'id')
  if (key.revokedAt) return key
  const revoked = await db.apiKey.update({ where: { id }, data: { revokedAt: new Date() } })
  apiKeys.forget(key.hash)
  return revoked
}
