import type { ApiKey } from '../generated/prisma/client.js'
import { apiKeyDisplayPrefix, hashApiKeySecret, newApiKeySecret, type ApiKeyRole } from './apiKeySecret.js'
import { badInput, notFound } from '../core/errors.js'
import { checkName } from '../core/text.js'
import type { Db } from '../core/db.js'

export interface CreateApiKeyInput {
  name: string
  role: ApiKeyRole
  campaignId?: string | null
  tagPrefix?: string | null
  pendingTtlSeconds?: number | null
  rateLimitPerMinute?: number | null
}

/** Creates a key; the secret is returned here once and never again. */
export async function createApiKey(
  db: Pick<Db, 'campaign' | 'apiKey'>,
  companyId: string,
  input: CreateApiKeyInput,
): Promise<{ apiKey: ApiKey; secret: string }> {
  const name = checkName(input.name)
  if (input.role === 'ADMIN' && (input.campaignId || input.tagPrefix)) {
    throw badInput(input.campaignId ? 'campaignId' : 'tagPrefix', 'only publisher keys pin a campaign or a tag prefix')
  }
  if (input.campaignId) {
    const campaign = await db.campaign.findFirst({ where: { id: input.campaignId, companyId }, select: { id: true } })
    if (!campaign) throw notFound('campaign', 'campaignId')
  }
  if (input.tagPrefix != null && !/^[a-z0-9_]{1,32}$/.test(input.tagPrefix)) {
    throw badInput('tagPrefix', 'use 1 to 32 characters of a-z, 0-9 and _')
  }
  if (input.pendingTtlSeconds != null && (input.pendingTtlSeconds < 60 || input.pendingTtlSeconds > 30 * 86400)) {
    throw badInput('pendingTtlSeconds', 'must be between 60 and 2592000 (30 days)')
  }
  if (input.rateLimitPerMinute != null && input.rateLimitPerMinute < 1) {
    throw badInput('rateLimitPerMinute', 'must be at least 1')
  }
  const secret = newApiKeySecret(input.role)
  const apiKey = await db.apiKey.create({
    data: {
      companyId,
      name,
      role: input.role,
      prefix: apiKeyDisplayPrefix(secret),
      hash: hashApiKeySecret(secret),
      campaignId: input.campaignId ?? null,
      tagPrefix: input.tagPrefix ?? null,
      ...(input.pendingTtlSeconds != null ? { pendingTtlSeconds: input.pendingTtlSeconds } : {}),
      rateLimitPerMinute: input.rateLimitPerMinute ?? null,
    },
  })
  return { apiKey, secret }
}
