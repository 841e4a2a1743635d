import type { Db } from '../db/client.js'
import type { ApiKey } from '../generated/prisma/client.js'
import { hashApiKeySecret } from './apiKeySecret.js'

/**
 * Key lookups for every request (GraphQL and postbacks): a key is read from the database at most once per `ttlMs`.
 * A key revoked through this process is forgotten at once; one revoked through another instance
 * stops working here within `ttlMs`.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { key: ApiKey | null; at: number }>()
  constructor(
    private readonly db: Db,
    private readonly ttlMs = 5000,
  ) {}

  async lookup(secret: string): Promise<ApiKey | null> {
    const hash = hashApiKeySecret(secret)
    const hit = this.entries.get(hash)
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.key
    const key = await this.db.apiKey.findUnique({ where: { hash } })
    if (this.entries.size > 10_000) this.entries.clear()
    this.entries.set(hash, { key, at: Date.now() })
    return key
  }

  forget(hash: string): void {
    this.entries.delete(hash)
  }
}
