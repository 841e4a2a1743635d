// A company's settings: how long its data is kept, and the operator URL its circuit-breaker changes are
// sent to (signed like a webhook; the secret is write-only).
import type { Company, RetentionRun } from '../generated/prisma/client.js'
import { badInput } from '../core/errors.js'
import { refuseControlCharacters } from '../core/text.js'
import { checkSigningSecret } from '../webhooks/webhookConfig.js'
import type { Db } from '../core/db.js'

/** Days a company may keep data: 0 is for ever, 36500 a hundred years. */
export const RETENTION_DAYS_MAX = 36500

/** The settings updateCompany takes: a field left out is kept; null is the server default (days) or none. */
export interface CompanySettingsInput {
  postbackRetentionDays?: number | null
  pixelRetentionDays?: number | null
  callRetentionDays?: number | null
  operatorUrl?: string | null
  operatorSigningSecret?: string | null
}

/** How long one kind of data is kept: the company's days or the server's, and which. */
export interface RetentionDays {
  days: number
  isDefault: boolean
}

export interface CompanyRetention {
  postbacks: RetentionDays
  pixels: RetentionDays
  calls: RetentionDays
  defaultDays: number
}

/** The days in force for each kind of data (0: kept for ever). */
export function companyRetention(
  company: Pick<Company, 'postbackRetentionDays' | 'pixelRetentionDays' | 'callRetentionDays'>,
  defaultDays: number,
): CompanyRetention {
  const effective = (days: number | null): RetentionDays => (days == null ? { days: defaultDays, isDefault: true } : { days, isDefault: false })
  return {
    postbacks: effective(company.postbackRetentionDays),
    pixels: effective(company.pixelRetentionDays),
    calls: effective(company.callRetentionDays),
    defaultDays,
  }
}

function checkDays(field: string, days: number | null | undefined): number | null | undefined {
  if (days == null) return days
  if (!Number.isInteger(days) || days < 0 || days > RETENTION_DAYS_MAX)
    throw badInput(field, `must be a whole number of days from 0 (keep for ever) to ${RETENTION_DAYS_MAX}, or null for the server default`)
  return days
}

function checkOperatorUrl(url: string | null | undefined): string | null | undefined {
  if (url == null) return url
  const trimmed = url.trim()
  refuseControlCharacters('operatorUrl', trimmed)
  if (trimmed.length > 2048) throw badInput('operatorUrl', 'must be at most 2048 characters')
  let parsed: URL
  try {
    parsed = new URL(trimmed)
  } catch {
    throw badInput('operatorUrl', `"${url}" is not an absolute http:// or https:// URL`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw badInput('operatorUrl', `scheme "${parsed.protocol}" is not http or https`)
  return trimmed
}

/** Checks and writes the settings the input names; answers the company. */
export async function updateCompany(db: Db, companyId: string, input: CompanySettingsInput): Promise<Company> {
  const data = {
    postbackRetentionDays: checkDays('postbackRetentionDays', input.postbackRetentionDays),
    pixelRetentionDays: checkDays('pixelRetentionDays', input.pixelRetentionDays),
    callRetentionDays: checkDays('callRetentionDays', input.callRetentionDays),
    operatorUrl: checkOperatorUrl(input.operatorUrl),
    operatorSigningSecret:
      input.operatorSigningSecret == null ? input.operatorSigningSecret : checkSigningSecret(input.operatorSigningSecret, 'operatorSigningSecret'),
  }
  return db.company.update({ where: { id: companyId }, data })
}

/** The company's latest retention run, or null before the first. */
export function lastRetentionRun(db: Db, companyId: string): Promise<RetentionRun | null> {
  return db.retentionRun.findFirst({ where: { companyId }, orderBy: [{ startedAt: 'desc' }, { id: 'desc' }] })
}
