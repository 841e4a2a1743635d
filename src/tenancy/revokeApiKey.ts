import type { ApiKey } from '../generated/prisma/client.js'
import { notFound } from '../core/errors.js'
import type { PubSub } from '../events/bus.js'
import type { OpenStreams } from '../events/openStreams.js'
import type { ApiKeyCache } from './apiKeyCache.js'
import type { Db } from '../core/db.js'

/**
 * Revokes a key of the company; a revoked key authenticates nothing from then on, and the live streams it
 * opened end (here at once, on other instances when the bus tells them or their next look at open keys).
 */
export async function revokeApiKey(
  { db, apiKeys, streams, pubsub }: { db: Db; apiKeys: ApiKeyCache; streams: OpenStreams; pubsub: PubSub },
  companyId: string,
  id: string,
): Promise<ApiKey> {
  const key = await db.apiKey.findFirst({ where: { id, companyId } })
  if (!key) throw notFound('API key', 'id')
  if (key.revokedAt) return key
  const revoked = await db.apiKey.update({ where: { id }, data: { revokedAt: new Date() } })
  apiKeys.forget(key.hash)
  streams.revoked(key.id)
  pubsub.publish('apiKeyRevoked', { apiKeyId: key.id })
  return revoked
}
