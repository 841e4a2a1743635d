import type { Db } from '../db/client.js'
import { createApiKey } from './createApiKey.js'
import { badInput } from './errors.js'

export interface CreatedCompany {
  companyId: string
  adminKey: string
  publisherKey: string
}

/** Operator command: a company with one admin and one publisher key (secrets returned once). */
export async function createCompany(db: Db, name: string): Promise<CreatedCompany> {
  const trimmed = name.trim()
  if (!trimmed) throw badInput('name', 'must not be empty')
  const company = await db.company.create({ data: { name: trimmed } })
  const admin = await createApiKey(db, company.id, { name: 'admin', role: 'ADMIN' })
  const publisher = await createApiKey(db, company.id, { name: 'publisher', role: 'PUBLISHER' })
  return { companyId: company.id, adminKey: admin.secret, publisherKey: publisher.secret }
}
