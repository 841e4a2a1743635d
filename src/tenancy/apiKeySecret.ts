import crypto from 'node:crypto'

export type ApiKeyRole = 'ADMIN' | 'PUBLISHER'

/** A new key secret: readable role marker plus 32 random bytes. Only its hash is stored. */
export function newApiKeySecret(role: ApiKeyRole): string {
  return `rh_${role === 'ADMIN' ? 'adm' : 'pub'}_${crypto.randomBytes(32).toString('base64url')}`
}

export function hashApiKeySecret(secret: string): string {
  return crypto.hash('sha256', secret)
}

/** What lists show of a key: enough to tell keys apart, too little to use one. */
export function apiKeyDisplayPrefix(secret: string): string {
  return secret.slice(0, 12)
}
