import type { ApiKey } from '../generated/prisma/client.js'
import { hashApiKeySecret } from './apiKeySecret.js'
import type { Db } from '../core/db.js'

/** `lastUsedAt` is kept to this resolution: a key in use is written at most once per interval and instance. */
export const LAST_USED_RESOLUTION_MS = 60_000

/**
 * Key lookups for every request (GraphQL and postbacks): a key is read from the database at most once per `ttlMs`.
 * A key revoked through this process is forgotten at once; one revoked through another instance
 * stops working here within `ttlMs`. A key found in use has its `lastUsedAt` written, coarsely.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { key: ApiKey | null; at: number }>()
  constructor(
    private readonly db: Db,
    private readonly ttlMs = 5000,
    private readonly onError: (e: unknown) => void = () => {},
  ) {}

  async lookup(secret: string): Promise<ApiKey | null> {
    const hash = hashApiKeySecret(secret)
    let entry = this.entries.get(hash)
    if (!entry || Date.now() - entry.at >= this.ttlMs) {
      const key = await this.db.apiKey.findUnique({ where: { hash } })
      if (this.entries.size > 10_000) this.entries.clear()
      this.entries.set(hash, (entry = { key, at: Date.now() }))
    }
    const key = entry.key
    if (key && !key.revokedAt && (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS)) {
      // the cached copy says so at once: the requests that follow do not write again
      const lastUsedAt = new Date()
      entry.key = { ...key, lastUsedAt }
      this.db.apiKey.update({ where: { id: key.id }, data: { lastUsedAt } }).catch(this.onError)
    }
    return entry.key
  }

  forget(hash: string): void {
    this.entries.delete(hash)
  }

  /** Forgets the key with this id (revoked on another instance). */
  forgetKey(apiKeyId: string): void {
    for (const [hash, entry] of this.entries) if (entry.key?.id === apiKeyId) this.entries.delete(hash)
  }
}
