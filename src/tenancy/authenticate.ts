import type { ApiKey } from '../generated/prisma/client.js'
import type { ApiKeyRole } from './apiKeySecret.js'
import type { ApiKeyCache } from './apiKeyCache.js'
import { unauthenticated } from '../core/errors.js'

export interface Auth {
  companyId: string
  apiKey: ApiKey
  role: ApiKeyRole
}

/** `Bearer <key>` (or the bare key) -> the key's company and role; throws UNAUTHENTICATED otherwise. */
export async function authenticate(apiKeys: ApiKeyCache, authorization: string | null | undefined): Promise<Auth> {
  const secret = authorization?.replace(/^Bearer\s+/i, '').trim()
  if (!secret) throw unauthenticated('missing API key: send `Authorization: Bearer <key>`')
  const apiKey = await apiKeys.lookup(secret)
  if (!apiKey || apiKey.revokedAt) throw unauthenticated('unknown or revoked API key')
  return { companyId: apiKey.companyId, apiKey, role: apiKey.role as ApiKeyRole }
}
